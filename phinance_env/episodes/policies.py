"""Policies speak AWM's agent protocol: given the chat so far, return the next assistant
message. ``oracle`` replays a task's solution, ``null`` answers at once, ``random`` makes
valid but aimless calls (seeded), ``openai`` asks any OpenAI-compatible endpoint."""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any, Protocol

from phinance_env.awm.solution import Solution, resolve
from phinance_env.episodes.protocol import LIST_TOOLS_MESSAGE, tool_call_message


class PolicyError(RuntimeError):
    """The policy could not produce a message (endpoint down, slow, or garbage)."""


class Policy(Protocol):
    name: str

    async def act(self, messages: list[dict[str, Any]]) -> str: ...


def _turn(messages: list[dict]) -> int:
    return sum(1 for m in messages if m["role"] == "assistant")


TOOL_RESPONSE_PREFIX = "Tool response:\n"  # how upstream `awm agent` relays results to non-vLLM endpoints


def _tool_results(messages: list[dict]) -> list[Any]:
    """Tool results in order: ``tool`` messages, or the user messages upstream ``awm agent``
    sends in their place to a standard OpenAI endpoint."""
    out = []
    for m in messages:
        content = m.get("content")
        if m["role"] == "user" and isinstance(content, str) and content.startswith(TOOL_RESPONSE_PREFIX):
            content = content.removeprefix(TOOL_RESPONSE_PREFIX)
        elif m["role"] != "tool":
            continue
        try:
            out.append(json.loads(content))
        except (json.JSONDecodeError, TypeError):
            out.append({})
    return out


class OraclePolicy:
    name = "oracle"

    def __init__(self, solution: Solution):
        self.solution = solution

    async def act(self, messages):
        turn = _turn(messages)
        if turn == 0:
            return LIST_TOOLS_MESSAGE
        if turn <= len(self.solution.calls):
            step = self.solution.calls[turn - 1]
            results = _tool_results(messages)[1:] if step.refers_back else []
            return tool_call_message(step.tool, resolve(step.arguments, results))
        return self.solution.answer


class NullPolicy:
    name = "null"

    async def act(self, messages):
        return "I could not complete this task."


class RandomPolicy:
    """Valid calls with random arguments, 1-4 of them, then a vague answer. Seeded."""

    name = "random"
    TICKERS = ["^GSPC", "^IXIC", "NOVA", "QBIT", "PTRX", "BNKA", "MEDI", "RETL"]

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.calls = self.rng.randint(1, 4)

    def _call(self) -> tuple[str, dict]:
        r, t = self.rng, self.rng.choice(self.TICKERS)
        day = f"{r.randint(2010, 2018)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}"
        return r.choice([
            ("list_tickers", {}), ("get_ticker", {"ticker": t}), ("list_watchlists", {}),
            ("get_projection", {"ticker": t, "as_of_date": day}), ("list_alerts", {}),
            ("get_price_history", {"ticker": t, "end": day, "limit": 5}),
            ("create_watchlist", {"name": f"Random {r.randint(0, 999)}", "tickers": t}),
            ("create_note", {"title": "Random thought", "body": f"{t} looked interesting on {day}."}),
        ])

    async def act(self, messages):
        turn = _turn(messages)
        if turn == 0:
            return LIST_TOOLS_MESSAGE
        if turn <= self.calls:
            return tool_call_message(*self._call())
        return "I looked around; the projections are close to a coin flip."


class OpenAIPolicy:
    """Any OpenAI-compatible chat endpoint (vLLM serving an AWM model, ...)."""

    name = "openai"

    def __init__(self, api_url: str, model: str, max_tokens: int = 2048, temperature: float = 0.6,
                 timeout: float = 60.0, retries: int = 3, backoff: float = 0.5, api_key: str = "EMPTY"):
        self.url = api_url.rstrip("/") + "/chat/completions"
        self.model, self.max_tokens, self.temperature = model, max_tokens, temperature
        self.timeout, self.retries, self.backoff, self.api_key = timeout, retries, backoff, api_key

    async def act(self, messages):
        import httpx

        payload = {"model": self.model, "messages": messages, "max_tokens": self.max_tokens,
                   "temperature": self.temperature}
        last = "no attempt"
        async with httpx.AsyncClient(timeout=self.timeout) as client:
            for attempt in range(self.retries + 1):
                try:
                    response = await client.post(self.url, json=payload,
                                                 headers={"Authorization": f"Bearer {self.api_key}"})
                    if response.status_code < 500 and response.status_code != 429:
                        return self._content(response)
                    last = f"HTTP {response.status_code}"
                except (httpx.TransportError, httpx.TimeoutException) as exc:
                    last = f"{type(exc).__name__}: {exc}"
                if attempt < self.retries:
                    await asyncio.sleep(self.backoff * 2**attempt)
        raise PolicyError(f"policy endpoint failed after {self.retries + 1} attempts: {last}")

    @staticmethod
    def _content(response) -> str:
        if response.status_code >= 400:
            raise PolicyError(f"policy endpoint refused the request: HTTP {response.status_code}: {response.text[:200]}")
        try:
            content = response.json()["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise PolicyError(f"policy endpoint returned no chat completion: {response.text[:200]!r}") from None
        if not isinstance(content, str):
            raise PolicyError("policy endpoint returned a non-text message")
        return content


def make_policy(kind: str, solution: Solution | None = None, seed: int = 0, **openai: Any) -> Policy:
    if kind == "oracle":
        if solution is None:
            raise ValueError("the oracle policy needs the task's solution")
        return OraclePolicy(solution)
    if kind == "null":
        return NullPolicy()
    if kind == "random":
        return RandomPolicy(seed)
    if kind == "openai":
        return OpenAIPolicy(**openai)
    raise ValueError(f"unknown policy {kind!r}: use oracle, null, random or openai")
