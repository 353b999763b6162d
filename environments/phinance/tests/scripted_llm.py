"""A scripted OpenAI-compatible chat endpoint for verifiers' harnesses (native tool calls,
streamed or not), as ``tests/scripted_llm.py`` is for AWM's text protocol. The model name
picks the script: ``oracle`` replays the task's solution from ``gen_solutions.jsonl`` (one
tool call per turn, ``$<step>.<key>`` arguments read from earlier results, then the answer);
``null`` answers at once without any call."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

REF = re.compile(r"^\$(\d+)\.([\w.]+)$")
NULL_ANSWER = "I could not complete this task."
TOOL_PREFIX = "phinance_"


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _resolve(arguments: dict[str, Any], results: list[Any]) -> dict[str, Any]:
    def one(value):
        m = REF.match(value) if isinstance(value, str) else None
        if not m:
            return value
        node = results[int(m.group(1))]
        for key in m.group(2).split("."):
            node = node[int(key)] if isinstance(node, list) else node[key]
        return node
    return {k: one(v) for k, v in arguments.items()}


class Scripts:
    def __init__(self, data_dir: Path):
        texts = {(r["scenario"], i): t for r in _jsonl(data_dir / "gen_tasks.jsonl") for i, t in enumerate(r["tasks"])}
        solutions = {(r["scenario"], r["task_idx"]): r["solution"] for r in _jsonl(data_dir / "gen_solutions.jsonl")}
        self.by_prompt = {text: solutions[key] for key, text in texts.items() if key in solutions}
        self.requests = 0

    def next_message(self, model: str, messages: list[dict]) -> dict[str, Any]:
        """The assistant message the script says next."""
        if model == "null":
            return {"role": "assistant", "content": NULL_ANSWER}
        prompt = next(m["content"] for m in messages if m["role"] == "user")
        if isinstance(prompt, list):  # content parts
            prompt = "".join(p.get("text", "") for p in prompt)
        solution = self.by_prompt[prompt]
        turn = sum(1 for m in messages if m["role"] == "assistant")
        if turn >= len(solution["calls"]):
            return {"role": "assistant", "content": solution["answer"]}
        step = solution["calls"][turn]
        results = [json.loads(m["content"]) for m in messages if m["role"] == "tool"]
        call = {"id": f"call_{turn}", "type": "function",
                "function": {"name": TOOL_PREFIX + step["tool"],
                             "arguments": json.dumps(_resolve(step["arguments"], results))}}
        return {"role": "assistant", "content": None, "tool_calls": [call]}


def _chunk(model: str, delta: dict, finish: str | None) -> bytes:
    body = {"id": "scripted", "object": "chat.completion.chunk", "created": 0, "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return f"data: {json.dumps(body)}\n\n".encode()


def scripted_llm(data_dir: str | Path) -> Starlette:
    scripts = Scripts(Path(data_dir))
    usage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}

    async def complete(request: Request) -> Response:
        body = await request.json()
        scripts.requests += 1
        model = body.get("model", "oracle")
        message = scripts.next_message(model, body["messages"])
        finish = "tool_calls" if message.get("tool_calls") else "stop"
        if not body.get("stream"):
            return JSONResponse({"id": "scripted", "object": "chat.completion", "created": 0, "model": model,
                                 "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                                 "usage": usage})
        delta: dict[str, Any] = {"role": "assistant", "content": message["content"] or ""}
        events = [_chunk(model, delta, None)]
        for i, call in enumerate(message.get("tool_calls") or []):
            events.append(_chunk(model, {"tool_calls": [{"index": i, **call}]}, None))
        events.append(_chunk(model, {}, finish))
        tail = {"id": "scripted", "object": "chat.completion.chunk", "created": 0, "model": model, "choices": [],
                "usage": usage}
        events += [f"data: {json.dumps(tail)}\n\n".encode(), b"data: [DONE]\n\n"]
        return Response(b"".join(events), media_type="text/event-stream")

    async def models(request: Request) -> Response:
        return JSONResponse({"object": "list", "data": [{"id": m, "object": "model"} for m in ("oracle", "null")]})

    app = Starlette(routes=[Route("/v1/chat/completions", complete, methods=["POST"]),
                            Route("/v1/models", models, methods=["GET"])])
    app.state.scripts = scripts
    return app
