"""An openenv-core ``Environment`` over the episode engine: one instance per OpenEnv session.

``reset(task_id=k)`` (or ``seed``, ``split``, ``base``, ``scenario``) starts an
:class:`~phinance_env.episodes.engine.Episode` on the process's shared tool host for the
scenario (each episode on its own copy of the state DB) and returns the task and the tools.
``step(ListToolsAction())`` lists the desk's tools plus ``submit_answer``;
``step(CallToolAction(...))`` runs one tool (one turn); ``submit_answer(answer)`` ends the
episode and returns the verifier's reward and checks. Scoring is never a tool: nothing
mid-episode can tell the policy how close it is.

Why the async hooks: openenv-core's WebSocket and HTTP handlers await ``reset_async`` /
``step_async`` on the server's event loop when an environment overrides them (and run the
sync methods in a thread otherwise). The engine is async and its MCP session lives in a task
on the loop that opened it, so every session runs on uvicorn's one loop, no thread hops.
The sync ``reset``/``step`` (for use without a server) drive a private loop of their own.

``close()`` is sync in openenv-core and is called both on the loop (HTTP handlers) and from
worker threads (a WebSocket that closed, the idle-session reaper): it schedules the release
on the episode's loop, or waits for it from another thread.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

from openenv.core.env_server.interfaces import Environment
from openenv.core.env_server.mcp_types import (
    RESERVED_TOOL_NAMES, CallToolAction, ListToolsAction, ListToolsObservation, Tool, ToolErrorType,
)
from openenv.core.env_server.types import Action, EnvironmentMetadata
from pydantic import ValidationError

from phinance_env.errors import PhinanceError
from phinance_env.episodes.engine import Episode, ToolReply
from phinance_env.openenv.config import ServerConfig
from phinance_env.openenv.models import (
    SUBMIT_ANSWER, SUBMIT_ANSWER_TOOL, EpisodeStateError, PhinanceObservation, PhinanceState, ResetOptions,
    ToolObservation, ToolResult, Verdict, tool_error,
)

log = logging.getLogger(__name__)
_RELEASING: set[asyncio.Task] = set()  # releases scheduled from close(): held until they finish
_STATUS = re.compile(r"Status code: (\d{3})")


def tool_host(data):
    """The tool host episodes of ``data`` share: the process's one host for a desk's
    scenario (``shared_host``), a folder's own code server otherwise."""
    from phinance_env.episodes.host import make_host

    return make_host(data, "asgi")


@functools.lru_cache(maxsize=16)
def scenario(name: str, data_dir: str | None):
    """(data, host) for a scenario; loaded once per process. Unknown names raise
    :class:`~phinance_env.errors.UnknownScenario`, which names the registered ones."""
    from phinance_env.episodes.data import load_scenario_data

    data = load_scenario_data(name, data_dir)
    tools = tool_host(data)
    return data, tools


def error_kind(reply: ToolReply) -> ToolErrorType:
    """Sort a failed call the way OpenEnv's MCP environments do: a 4xx or a schema error is
    the caller's (``invalid_args``), a timeout is ``timeout``, anything else the tool's."""
    if reply.text.startswith("Tool call timed out"):
        return ToolErrorType.TIMEOUT
    status = _STATUS.search(reply.text)
    if reply.text.startswith("Input validation error") or (status and 400 <= int(status.group(1)) < 500):
        return ToolErrorType.INVALID_ARGS
    return ToolErrorType.EXECUTION_ERROR


def agent_tools(catalog) -> list[Tool]:
    tools = [Tool(**t) for t in catalog.tools]
    clash = {t.name for t in tools} & (RESERVED_TOOL_NAMES | {SUBMIT_ANSWER})
    if clash:
        raise RuntimeError(f"the desk's tools use names OpenEnv reserves: {sorted(clash)}")
    return [*tools, SUBMIT_ANSWER_TOOL]


class PhinanceEnvironment(Environment):
    """One OpenEnv session's episodes, one at a time. Cheap to create: openenv-core builds
    one per HTTP request too; data and hosts are the process's, loaded once."""

    SUPPORTS_CONCURRENT_SESSIONS = True  # each episode has its own DB copy and run folder

    def __init__(self, config: ServerConfig | None = None):
        super().__init__()
        self.config = config or ServerConfig()
        self._episode: Episode | None = None
        self._loop: asyncio.AbstractEventLoop | None = None  # where the episode's session lives
        self._sync_loop: asyncio.AbstractEventLoop | None = None
        self._own_work_dir: Path | None = None
        self._closed = False
        self._state = PhinanceState(max_turns=self.config.max_turns)

    # -- reset ------------------------------------------------------------------------

    async def reset_async(self, seed: int | None = None, episode_id: str | None = None, **options: Any):
        request = _options(seed=seed, episode_id=episode_id, **options)
        self._check_open()
        await self._release_current()
        data, host = await asyncio.to_thread(scenario, request.scenario or self.config.scenario,
                                             _str(self.config.data_dir))
        task_id = _pick_task(data, request)
        run_dir = self._run_dir(data.scenario, task_id)
        episode = Episode(host, data, task_id, run_dir, max_turns=self.config.max_turns,
                          record=self.config.keep_runs is not None, policy="openenv")
        if not await episode.start():
            shutil.rmtree(run_dir, ignore_errors=True)
            raise RuntimeError(f"the episode could not start: {episode.result.error}")
        self._episode, self._loop = episode, asyncio.get_running_loop()
        episode_id = request.episode_id or uuid.uuid4().hex
        self._state = PhinanceState(episode_id=episode_id, scenario=data.scenario, task_id=task_id,
                                    max_turns=self.config.max_turns)
        return PhinanceObservation(scenario=data.scenario, task_id=task_id, task=episode.task,
                                   tools=agent_tools(episode.tools), max_turns=self.config.max_turns,
                                   episode_id=episode_id)

    def _run_dir(self, scenario_name: str, task_id: int) -> Path:
        if self.config.keep_runs is not None:
            return self.config.keep_runs / f"{scenario_name}-task{task_id:05d}-{uuid.uuid4().hex[:12]}"
        return self._work_dir() / uuid.uuid4().hex

    def _work_dir(self) -> Path:
        if self.config.work_dir is not None:
            return self.config.work_dir
        if self._own_work_dir is None:  # used without a server: a folder of its own, removed at close
            self._own_work_dir = Path(tempfile.mkdtemp(prefix="phinance-openenv-"))
        return self._own_work_dir

    # -- step -------------------------------------------------------------------------

    async def step_async(self, action: Action, timeout_s: float | None = None, **kwargs: Any):
        """``timeout_s`` is not used: the engine bounds every tool call (60 s)."""
        self._check_open()
        if isinstance(action, ListToolsAction):
            return ListToolsObservation(tools=await self._tools(), reward=0.0)
        if not isinstance(action, CallToolAction):
            raise PhinanceError(f"unknown action {type(action).__name__}: send list_tools or call_tool")
        episode = self._live_episode()
        self._state.step_count += 1
        if action.tool_name == SUBMIT_ANSWER:
            return await self._submit(episode, action.arguments)
        return await self._call(episode, action.tool_name, action.arguments)

    async def _tools(self) -> list[Tool]:
        """The tools, before reset too (OpenEnv's MCP contract): the host lists them once."""
        if self._episode is not None:
            return agent_tools(self._episode.tools)
        data, host = await asyncio.to_thread(scenario, self.config.scenario, _str(self.config.data_dir))
        if host.known_tools is None:
            async with host.session(data.initial_db) as session:  # listing only: no call touches the DB
                await host.catalog(session)
        return agent_tools(host.known_tools)

    def _check_open(self) -> None:
        """A closed session stays closed: its slot is free, so it must not start episodes."""
        if self._closed:
            raise EpisodeStateError("this session was closed (idle past the server's timeout, or closed): "
                                    "connect again for a new session")

    def _live_episode(self) -> Episode:
        episode = self._episode
        if episode is None:
            raise EpisodeStateError("no episode is running: call reset() first")
        if episode.done:
            raise EpisodeStateError("this episode has ended (submit_answer or the turn limit): call reset() "
                                    "to start another")
        if self._loop is not asyncio.get_running_loop():
            raise EpisodeStateError("this episode runs on another event loop: step it where it was reset")
        return episode

    async def _call(self, episode: Episode, name: str, arguments: dict[str, Any]) -> ToolObservation:
        known = name in episode.tools.names
        reply = await episode.call_tool(name, arguments)  # an unknown tool still counts a turn
        self._state.turns = episode.result.turns
        if not known:
            obs = ToolObservation(tool_name=name, error=tool_error(
                ToolErrorType.TOOL_NOT_FOUND, f"unknown tool {name!r}: list_tools gives the tools"), reward=0.0)
        elif reply.is_error:
            obs = ToolObservation(tool_name=name, error=tool_error(error_kind(reply), reply.text), reward=0.0)
        else:
            obs = ToolObservation(tool_name=name, result=ToolResult.of_text(reply.text), reward=0.0)
        if episode.done:  # the turn limit (or a dead session) ended it: scored as it stands
            verdict = self._finish(episode)
            obs.verdict, obs.reward, obs.done = verdict, verdict.reward, True
        return obs

    async def _submit(self, episode: Episode, arguments: dict[str, Any]) -> ToolObservation:
        answer = arguments.get("answer")
        if set(arguments) != {"answer"} or not isinstance(answer, str):
            return ToolObservation(tool_name=SUBMIT_ANSWER, reward=0.0, error=tool_error(
                ToolErrorType.INVALID_ARGS, 'submit_answer takes {"answer": "<your final answer>"} (a string)'))
        await episode.submit(answer)
        self._state.turns = episode.result.turns
        verdict = self._finish(episode)
        return ToolObservation(tool_name=SUBMIT_ANSWER, result=ToolResult.of_verdict(verdict), verdict=verdict,
                               reward=verdict.reward, done=True)

    def _finish(self, episode: Episode) -> Verdict:
        """The episode is verified: its files go now unless runs are kept."""
        self._state.done = True
        if self.config.keep_runs is None:
            shutil.rmtree(episode.run_dir, ignore_errors=True)
        return Verdict.of(episode.result)

    @property
    def state(self) -> PhinanceState:
        return self._state

    def get_metadata(self) -> EnvironmentMetadata:
        from importlib.metadata import version

        return EnvironmentMetadata(
            name="phinance_env",
            description=("Finance desks (market projections, walk-forward backtests, watchlists, alerts) "
                         f"as tool-use tasks scored by code verifiers; scenario {self.config.scenario}. "
                         "Reset with task_id, seed or split; end with submit_answer(answer)."),
            version=version("phinance-env"), author="phinance-env")

    # -- release ----------------------------------------------------------------------

    async def _release_current(self) -> None:
        episode, self._episode = self._episode, None
        if episode is not None:
            await self._release(episode)

    async def _release(self, episode: Episode) -> None:
        """Close an episode; an unfinished one is abandoned (never scored) and its files go."""
        finished = episode.done
        try:
            await episode.close()
        finally:
            if not (finished and self.config.keep_runs is not None):
                shutil.rmtree(episode.run_dir, ignore_errors=True)

    def close(self) -> None:
        self._closed = True
        episode, loop, self._episode = self._episode, self._loop, None
        if episode is not None:
            _run_on(loop, self._release(episode))
        if self._own_work_dir is not None:
            shutil.rmtree(self._own_work_dir, ignore_errors=True)
        if self._sync_loop is not None and not self._sync_loop.is_running():
            self._sync_loop.close()
            self._sync_loop = None

    # -- sync face (no server) --------------------------------------------------------

    def reset(self, seed: int | None = None, episode_id: str | None = None, **options: Any):
        return self._run_sync(self.reset_async(seed=seed, episode_id=episode_id, **options))

    def step(self, action: Action, timeout_s: float | None = None, **kwargs: Any):
        return self._run_sync(self.step_async(action, timeout_s=timeout_s))

    def _run_sync(self, coroutine):
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            coroutine.close()
            raise EpisodeStateError("called from a running event loop: use reset_async/step_async")
        if self._sync_loop is None:
            self._sync_loop = asyncio.new_event_loop()
        return self._sync_loop.run_until_complete(coroutine)


def _run_on(loop: asyncio.AbstractEventLoop | None, coroutine) -> None:
    """Run a release on the loop its episode lives on, from wherever close() was called."""
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if loop is None or loop.is_closed():
        coroutine.close()
    elif running is loop:  # an HTTP handler, on the loop: it cannot wait here, so schedule
        task = loop.create_task(coroutine)
        _RELEASING.add(task)
        task.add_done_callback(_RELEASING.discard)
    elif loop.is_running():  # a worker thread (closed WebSocket, idle reaper): wait, so the slot frees with the files
        try:
            asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout=120)
        except Exception as exc:  # noqa: BLE001 - best effort, as openenv-core's own cleanup
            log.warning("releasing an episode failed: %s", exc)
    else:
        loop.run_until_complete(coroutine)  # the sync face's private loop


def _options(**given: Any) -> ResetOptions:
    try:
        return ResetOptions.model_validate({k: v for k, v in given.items() if v is not None})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'options'}: {e['msg']}" for e in exc.errors())
        raise PhinanceError(f"bad reset options ({problems}); reset takes task_id, seed, split "
                            "('train' or 'test'), base, scenario, episode_id") from None


def _pick_task(data, request: ResetOptions) -> int:
    import numpy as np

    try:
        if request.task_id is not None:
            data.task(request.task_id)  # raises, naming the valid range
            return request.task_id
        pool = data.select(request.split, request.base)
    except ValueError as exc:
        raise PhinanceError(str(exc)) from None
    if not pool:
        raise PhinanceError(f"no task in split {request.split!r} (base={request.base})")
    return pool[int(np.random.default_rng(request.seed).integers(len(pool)))]


def _str(path: Path | None) -> str | None:
    return str(path) if path is not None else None
