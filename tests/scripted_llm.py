"""A scripted OpenAI-compatible chat endpoint that replays an oracle solution in AWM's
agent protocol (one ``<tool_call>`` per turn, ``call_tool`` with JSON-string arguments,
then the final answer). It reads earlier tool results from the request to fill $refs."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request


def scripted_llm(solution) -> FastAPI:
    from phinance_env.awm.solution import resolve

    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def complete(request: Request) -> dict[str, Any]:
        body = await request.json()
        messages = body["messages"]
        turn = sum(1 for m in messages if m["role"] == "assistant")
        results = []
        for m in messages:
            if m["role"] == "tool":
                try:
                    results.append(json.loads(m["content"]))
                except (json.JSONDecodeError, TypeError):
                    results.append({})
        if turn == 0:
            content = '<tool_call>\n{"name": "list_tools", "arguments": null}\n</tool_call>'
        elif turn <= len(solution.calls):
            step = solution.calls[turn - 1]
            args = resolve(step.arguments, results[1:])  # results[0] is list_tools
            call = {"name": "call_tool", "arguments": {"tool_name": step.tool, "arguments": json.dumps(args)}}
            content = f"I will call {step.tool}.\n<tool_call>\n{json.dumps(call)}\n</tool_call>"
        else:
            content = solution.answer
        return {
            "id": f"scripted-{turn}", "object": "chat.completion", "created": 0, "model": body.get("model", "oracle"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        }

    return app
