"""Wire building blocks every desk's tools share: checked text fields, the error model
every tool answers with, list pages (``{data, count, total}``) and real example answers."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema

from phinance_env.errors import PhinanceError


def text(max_len: int, *, min_len: int = 1, multiline: bool = False, strip: bool = True) -> AfterValidator:
    """A length and character check done by the app, not written into the JSON schema: an
    MCP layer refusing a schema violation echoes the whole value back (1 MB in, 1 MB out),
    while the app answers with one short message naming the field and the limit."""
    bad = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]" if multiline else r"[\x00-\x1f\x7f]")

    def check(value: str) -> str:
        value = value.strip() if strip else value
        if len(value) < min_len:
            raise ValueError("must not be empty")
        if len(value) > max_len:
            raise ValueError(f"at most {max_len} characters allowed (got {len(value):,})")
        if bad.search(value):
            raise ValueError("control characters are not allowed" + ("" if multiline else " (no newlines or tabs)"))
        return value

    return AfterValidator(check)


Name = Annotated[str, text(64)]
ShortText = Annotated[str, text(500, min_len=0, strip=False)]
Title = Annotated[str, text(200)]
Body = Annotated[str, text(10_000, multiline=True, strip=False)]
TickerText = Annotated[str, text(40), Field(description="ticker symbol, e.g. ^GSPC or NOVA (case-insensitive)")]
DateText = Annotated[str, text(10), Field(description="date YYYY-MM-DD")]
Model = Literal["ewma", "garch"]
# Tool schemas say "string": fastapi-mcp turns an anyOf into its first type, so a declared
# str | list union would reach MCP clients as a string anyway. The HTTP API still takes a
# real list, and a JSON list written as a string ('["^GSPC", "^IXIC"]') works everywhere.
TickerList_ = Annotated[str | list[str], WithJsonSchema({"type": "string"})]


def ticker_list(tickers: str | list[str]) -> str | list[str]:
    """Accept 'A,B', ['A', 'B'] and also a JSON list sent as a string ('["A","B"]')."""
    if isinstance(tickers, str) and tickers.strip().startswith("["):
        try:
            parsed = json.loads(tickers)
        except (json.JSONDecodeError, RecursionError):  # nested past Python's limit
            raise PhinanceError("tickers looks like a JSON list but does not parse; "
                                "use 'A,B' or [\"A\", \"B\"]") from None
        if not isinstance(parsed, list) or not all(isinstance(t, str) for t in parsed):
            raise PhinanceError("tickers must be a list of strings, e.g. [\"^GSPC\", \"^IXIC\"]")
        return parsed
    return tickers

class Wire(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Problem(Wire):
    """Every error answer: one message naming what was wrong and what is accepted. A 4xx
    (the caller's mistake) starts with :data:`INVALID_ARGUMENT`; a 5xx never does."""

    detail: str


INVALID_ARGUMENT = "invalid argument: "
"""How every 4xx answer of a tool begins. Harnesses sort a failed call by words in its text
(OpenEnv's AWM wrapper: "invalid", "argument", ... = the policy's bad arguments, anything
else = an environment fault); the messages themselves say what was wrong in plain words."""


def refusal(detail: str) -> str:
    """``detail`` as a 4xx answer says it: prefixed once with :data:`INVALID_ARGUMENT`."""
    return detail if detail.startswith(INVALID_ARGUMENT) else INVALID_ARGUMENT + detail


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "unknown ticker, run, watchlist, alert or item"},
    409: {"model": Problem, "description": "conflicts with existing state (duplicate name, already tracked ...)"},
    422: {"model": Problem, "description": "invalid input: the message names the field and the accepted values"},
    503: {"model": Problem, "description": "the state database is unavailable"},
}


class Page(Wire):
    count: int = Field(description="number of items in data")
    total: int = Field(description="number of items matching, before limit/offset")


@lru_cache(maxsize=None)
def _examples(path: Path) -> dict[str, dict[str, Any]]:
    return {e["tool"]: e for e in json.loads(path.read_text())}


def add_examples(router: Any, path: Path) -> None:
    """Give each of ``router``'s tools the real example answer kept for it in ``path`` (a JSON
    list of ``{tool, arguments, answer}``, replayed in order by the tests to keep it true).

    fastapi-mcp ends every tool's description with the 200 response's example; without one
    it makes one up from the schema, with placeholders ("Symbol", 1.0, ``{}`` for a dict) and
    without any nullable field. The response's description names the call. FastAPI
    drops nulls from the OpenAPI schema, so pick calls whose answers hold none."""
    examples = _examples(path)
    for route in router.routes:
        example = examples.get(getattr(route, "operation_id", None))
        if example is None:
            continue
        args = ", ".join(f"{k}={json.dumps(v)}" for k, v in example["arguments"].items())
        route.responses = {**route.responses, 200: {
            "description": f"the answer; the example is the real answer to {route.operation_id}({args})",
            "content": {"application/json": {"example": example["answer"]}}}}
