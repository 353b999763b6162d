"""A client for ``phinance-env gateway serve`` (the main package's episode gateway): it holds
the episodes, their state DBs, the tools and the verifiers; this package only talks HTTP to
it, so it never imports phinance-env (whose mcp 1.x pin verifiers' mcp 2.0.0 excludes)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

KEY_ENV = "PHINANCE_GATEWAY_API_KEY"
"""Where the gateway's key is read. verifiers keeps variables named like ``*API_KEY*`` out
of the agent's processes, so a policy cannot create or score episodes with it."""


class GatewayError(RuntimeError):
    """The gateway refused or could not be reached; the message says which and why."""


def _raise_for(resp: httpx.Response, what: str) -> None:
    if resp.is_success:
        return
    try:
        detail = resp.json().get("detail", resp.text)
    except ValueError:
        detail = resp.text
    raise GatewayError(f"{what}: gateway answered {resp.status_code}: {detail}")


@dataclass
class GatewayEpisode:
    """One episode held by the gateway: the task text it serves and the MCP URL of its tools."""

    client: httpx.AsyncClient
    id: str
    scenario: str
    task_id: int
    task: str
    mcp_url: str

    async def submit(self, answer: str) -> dict[str, Any]:
        """End the episode with ``answer``; the verifier's verdict: ``reward`` (1.0 when
        complete), ``result``, ``checks``, ``error_kind``, counters."""
        resp = await self.client.post(f"/episodes/{self.id}/submit", json={"answer": answer})
        _raise_for(resp, f"submitting episode {self.id}")
        return resp.json()


class Gateway:
    def __init__(self, url: str, key: str | None = None, timeout: float = 120.0):
        self.url = url.rstrip("/")
        self.key = key if key is not None else os.environ.get(KEY_ENV, "")
        if not self.key:
            raise GatewayError(f"set {KEY_ENV} to the key `phinance-env gateway serve` uses")
        self.timeout = timeout

    @contextlib.asynccontextmanager
    async def episode(self, scenario: str, task_id: int) -> AsyncIterator[GatewayEpisode]:
        """A fresh episode of ``task_id`` for the duration of the block, released after it."""
        headers = {"Authorization": f"Bearer {self.key}"}
        async with httpx.AsyncClient(base_url=self.url, headers=headers, timeout=self.timeout) as client:
            try:
                resp = await client.post("/episodes", json={"scenario": scenario, "task_id": task_id})
            except httpx.TransportError as exc:
                raise GatewayError(f"no episode gateway at {self.url} ({exc}): "
                                   "start `phinance-env gateway serve`") from exc
            _raise_for(resp, f"creating an episode of {scenario} task {task_id}")
            body = resp.json()
            episode = GatewayEpisode(client, body["episode_id"], body["scenario"], body["task_id"], body["task"],
                                     body["mcp_url"])
            try:
                yield episode
            finally:
                with contextlib.suppress(httpx.HTTPError):
                    await client.delete(f"/episodes/{episode.id}")
