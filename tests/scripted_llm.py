"""A scripted OpenAI-compatible chat endpoint: it replays an oracle solution in AWM's
agent protocol (``OraclePolicy`` decides each turn from the messages it is sent)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request


def scripted_llm(solution) -> FastAPI:
    from phinance_env.episodes.policies import OraclePolicy

    policy = OraclePolicy(solution)
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def complete(request: Request) -> dict[str, Any]:
        body = await request.json()
        content = await policy.act(body["messages"])
        return {
            "id": "scripted", "object": "chat.completion", "created": 0, "model": body.get("model", "oracle"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        }

    return app
