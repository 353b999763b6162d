"""An HTTP gateway for harnesses that reach an environment's tools over MCP by URL (the
verifiers environment in ``environments/phinance``): one process holds many concurrent
episodes, each on its own copy of the state DB, each with its own MCP endpoint.

    POST   /episodes                 {scenario, task_id} -> episode id, task text, mcp_url
    *      /episodes/{id}/mcp        the episode's tools (MCP streamable HTTP)
    POST   /episodes/{id}/submit     {answer} -> the verifier's reward and checks
    GET    /episodes/{id}            where the episode stands
    DELETE /episodes/{id}            release it (its files are removed)

Why an outer app and not routes on the tool app: every route of the tool app becomes an MCP
tool, so scoring there would be a tool the policy could call. Here the MCP endpoint lists the
scenario's tools only; creating, scoring and releasing episodes need the gateway's key
(``Authorization: Bearer <key>``), which the verifiers environment reads from
``PHINANCE_GATEWAY_API_KEY`` (verifiers keeps variables named ``*API_KEY*`` out of the
agent's processes). An episode's MCP URL is its capability: its id is random.

Every tool call goes through the episode engine (:class:`~phinance_env.episodes.engine.Episode`,
``call_tool``), as in the gym envs and rollouts, so turns, tool errors, the turn limit and
the verifier's reward mean the same here as everywhere else. The engine's tools run on the
process's shared host (:func:`~phinance_env.episodes.host.shared_host`, in memory); stock AWM
data folders run their own code (one server per episode), as ``rollout --data-dir`` does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from phinance_env.episodes.engine import Episode, EpisodeResult, ToolReply

logger = logging.getLogger(__name__)

KEY_ENV = "PHINANCE_GATEWAY_API_KEY"
MAX_ANSWER_CHARS = 100_000


class EpisodeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scenario: str = "phinance_01"
    task_id: int = Field(ge=0)


class EpisodeCreated(BaseModel):
    model_config = ConfigDict(extra="forbid")
    episode_id: str
    scenario: str
    task_id: int
    task: str
    mcp_url: str
    max_turns: int


class SubmitAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    answer: str = Field(max_length=MAX_ANSWER_CHARS)


class EpisodeVerdict(BaseModel):
    """The verifier's word on an episode: ``reward`` 1.0 for "complete", else 0.0."""

    model_config = ConfigDict(extra="forbid")
    episode_id: str
    reward: float
    result: str
    checks: dict[str, bool]
    truncated: bool
    error_kind: str | None
    error: str | None
    turns: int
    tool_calls: int
    tool_errors: int


class EpisodeStatus(BaseModel):
    model_config = ConfigDict(extra="forbid")
    episode_id: str
    scenario: str
    task_id: int
    done: bool
    submitted: bool
    turns: int
    tool_calls: int


class Health(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: str
    episodes: int
    max_episodes: int


@dataclass
class _Held:
    """One episode the gateway holds: the engine's episode plus what the HTTP side needs."""

    id: str
    episode: Episode
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # one call at a time, in order
    used: float = field(default_factory=time.monotonic)
    verdict: EpisodeVerdict | None = None  # set once the answer was submitted


def _verdict(episode_id: str, res: EpisodeResult) -> EpisodeVerdict:
    return EpisodeVerdict(episode_id=episode_id, reward=res.reward, result=res.result, checks=res.checks,
                          truncated=res.truncated, error_kind=res.error_kind, error=res.error, turns=res.turns,
                          tool_calls=res.tool_calls, tool_errors=res.tool_errors)


class Gateway:
    """Many episodes behind one HTTP app (:attr:`app`). ``data_dir`` is an AWM data folder
    (default: our export of each scenario); episodes beyond ``max_episodes`` are refused
    (503), and an episode nobody touched for ``idle_timeout`` seconds is released, so a
    client that dies mid-episode leaks nothing."""

    def __init__(self, key: str, data_dir: str | Path | None = None, *, max_turns: int = 30,
                 max_episodes: int = 1024, idle_timeout: float = 1800.0, work_dir: str | Path | None = None):
        if not key:
            raise ValueError("the gateway needs a key: its control routes must not be open to the policy")
        self.key, self.max_turns, self.max_episodes, self.idle_timeout = key, max_turns, max_episodes, idle_timeout
        self.data_dir = str(data_dir) if data_dir is not None else None
        self._own_work_dir = work_dir is None
        self.work_dir = Path(work_dir or tempfile.mkdtemp(prefix="phinance-gateway-"))
        self.episodes: dict[str, _Held] = {}
        # An unknown tool is the agent's mistake, answered as a tool error: no log line each time.
        logging.getLogger("mcp.server.lowlevel.server").setLevel(logging.ERROR)
        self.mcp = self._mcp_server()
        self.app = self._build_app()

    # --- episodes -------------------------------------------------------------------------

    async def create(self, scenario: str, task_id: int) -> _Held:
        from phinance_env.episodes.data import load_scenario_data
        from phinance_env.episodes.host import make_host

        if len(self.episodes) >= self.max_episodes:
            raise HTTPException(503, f"the gateway holds {self.max_episodes} episodes, its limit: release some first")
        try:
            data = load_scenario_data(scenario, self.data_dir)
            data.task(task_id)
        except ValueError as exc:
            raise HTTPException(404, str(exc)) from None
        episode_id = secrets.token_urlsafe(16)
        episode = Episode(make_host(data, "asgi"), data, task_id, self.work_dir / episode_id, policy="gateway",
                          max_turns=self.max_turns, record=False)
        held = self.episodes[episode_id] = _Held(episode_id, episode)
        episode.open()
        if not await episode.ready():
            await self.release(episode_id)
            raise HTTPException(503, f"the tools did not come up: {episode.result.error}")
        return held

    def get(self, episode_id: str) -> _Held:
        held = self.episodes.get(episode_id)
        if held is None:
            raise HTTPException(404, "no such episode: it was released, timed out, or never existed")
        held.used = time.monotonic()
        return held

    async def call(self, held: _Held, name: str, arguments: dict[str, Any]) -> ToolReply:
        async with held.lock:
            if held.episode.done:
                res = held.episode.result
                why = (f"the turn limit of {self.max_turns} tool calls was reached" if res.truncated
                       else "the answer was submitted" if held.verdict is not None else res.error_kind)
                return ToolReply(f"this episode has ended ({why}): reply with your final answer", True)
            return await held.episode.call_tool(name, arguments)

    async def submit(self, held: _Held, answer: str) -> EpisodeVerdict:
        """Verify the episode with ``answer``. An episode the turn limit already ended was
        verified then (without an answer): that verdict stands. A second submit is refused."""
        async with held.lock:
            if held.verdict is not None:
                raise HTTPException(409, "this episode's answer was already submitted")
            res = held.episode.result if held.episode.done else await held.episode.submit(answer)
            held.verdict = _verdict(held.id, res)
            return held.verdict

    async def release(self, episode_id: str) -> bool:
        held = self.episodes.pop(episode_id, None)
        if held is None:
            return False
        async with held.lock:
            await held.episode.close()
        await asyncio.to_thread(shutil.rmtree, held.episode.run_dir, True)
        return True

    async def _reap(self) -> None:
        while True:
            await asyncio.sleep(min(30.0, self.idle_timeout))
            cutoff = time.monotonic() - self.idle_timeout
            for episode_id in [k for k, h in self.episodes.items() if h.used < cutoff and not h.lock.locked()]:
                logger.info("releasing idle episode %s", episode_id)
                await self.release(episode_id)

    async def close(self) -> None:
        for episode_id in list(self.episodes):
            await self.release(episode_id)
        if self._own_work_dir:
            shutil.rmtree(self.work_dir, ignore_errors=True)

    # --- MCP: one server for every episode, the episode read from the URL -----------------

    def _mcp_server(self):
        from mcp import types
        from mcp.server.lowlevel import Server

        server = Server("phinance")

        def current() -> _Held:
            request = server.request_context.request
            return self.get(request.path_params["episode_id"])

        @server.list_tools()
        async def list_tools() -> list[types.Tool]:
            tools = current().episode.tools
            return [types.Tool(name=t["name"], description=t["description"], inputSchema=t["input_schema"])
                    for t in tools.tools]

        # The app checks arguments itself and answers with short messages (see the reliability
        # tests); schema validation here would echo whole arguments back.
        @server.call_tool(validate_input=False)
        async def call_tool(name: str, arguments: dict[str, Any]) -> types.CallToolResult:
            reply = await self.call(current(), name, arguments or {})
            return types.CallToolResult(content=[types.TextContent(type="text", text=reply.text)],
                                        isError=reply.is_error)

        return server

    # --- HTTP ----------------------------------------------------------------------------

    def _build_app(self) -> FastAPI:
        from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
        from starlette.routing import Route

        sessions = StreamableHTTPSessionManager(app=self.mcp, json_response=True, stateless=True)

        @contextlib.asynccontextmanager
        async def lifespan(_app):
            async with sessions.run():
                reaper = asyncio.create_task(self._reap())
                try:
                    yield
                finally:
                    reaper.cancel()
                    await self.close()

        app = FastAPI(title="phinance-env gateway", lifespan=lifespan)

        def authorized(authorization: Annotated[str | None, Header()] = None) -> None:
            scheme, _, token = (authorization or "").partition(" ")
            if scheme.lower() != "bearer" or not secrets.compare_digest(token.encode(), self.key.encode()):
                raise HTTPException(401, "the gateway's control routes need 'Authorization: Bearer <key>'")

        Control = Depends(authorized)

        @app.get("/health", operation_id="health")
        async def health() -> Health:
            return Health(status="ok", episodes=len(self.episodes), max_episodes=self.max_episodes)

        @app.post("/episodes", operation_id="create_episode", status_code=201, dependencies=[Control])
        async def create_episode(body: EpisodeCreate, request: Request) -> EpisodeCreated:
            """Start a task on a fresh copy of the scenario's state DB."""
            held = await self.create(body.scenario, body.task_id)
            ep = held.episode
            base = str(request.base_url).rstrip("/")
            return EpisodeCreated(episode_id=held.id, scenario=ep.data.scenario, task_id=body.task_id, task=ep.task,
                                  mcp_url=f"{base}/episodes/{held.id}/mcp", max_turns=self.max_turns)

        @app.get("/episodes/{episode_id}", operation_id="get_episode", dependencies=[Control])
        async def get_episode(episode_id: str) -> EpisodeStatus:
            held = self.get(episode_id)
            res = held.episode.result
            return EpisodeStatus(episode_id=episode_id, scenario=res.scenario, task_id=res.task_id,
                                 done=held.episode.done, submitted=held.verdict is not None, turns=res.turns,
                                 tool_calls=res.tool_calls)

        @app.post("/episodes/{episode_id}/submit", operation_id="submit_answer", dependencies=[Control])
        async def submit_answer(episode_id: str, body: SubmitAnswer) -> EpisodeVerdict:
            """End the episode with its final answer; the task's verifier scores the final state."""
            return await self.submit(self.get(episode_id), body.answer)

        @app.delete("/episodes/{episode_id}", operation_id="release_episode", status_code=204,
                    response_class=Response, response_model=None, dependencies=[Control])
        async def release_episode(episode_id: str) -> Response:
            """Release the episode: its session closes and its files are removed."""
            if not await self.release(episode_id):
                raise HTTPException(404, "no such episode: it was released, timed out, or never existed")
            return Response(status_code=204)

        app.router.routes.append(Route("/episodes/{episode_id}/mcp", _EpisodeMCP(self, sessions),
                                       methods=["GET", "POST", "DELETE"], include_in_schema=False))
        return app


class _EpisodeMCP:
    """The ASGI endpoint of every episode's MCP URL (a class: Starlette wraps plain functions
    as request handlers). An unknown episode gets a 404 before any MCP session opens."""

    def __init__(self, gateway: Gateway, sessions):
        self.gateway, self.sessions = gateway, sessions

    async def __call__(self, scope, receive, send) -> None:
        from starlette.responses import JSONResponse

        if scope["path_params"]["episode_id"] not in self.gateway.episodes:
            detail = "no such episode: it was released, timed out, or never existed"
            return await JSONResponse({"detail": detail}, status_code=404)(scope, receive, send)
        await self.sessions.handle_request(scope, receive, send)


def serve(key: str, host: str = "127.0.0.1", port: int = 8765, **kwargs: Any) -> None:
    """Run the gateway with uvicorn (blocking)."""
    import uvicorn

    gateway = Gateway(key, **kwargs)
    uvicorn.run(gateway.app, host=host, port=port, log_level="warning")
