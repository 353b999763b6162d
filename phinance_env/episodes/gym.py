"""A Gymnasium-style environment over the tools, for RL trainers.

Observation: ``{"messages": [...]}`` — the chat so far in OpenAI format (system prompt with
the protocol, the task, tool results), plus ``task``/``tools`` in ``info`` at reset. Action:
the next assistant message (a ``<tool_call>`` or the final answer). A final answer ends the
episode (``terminated``) and the verifier's reward comes back; ``max_turns`` truncates.

How trainers call it: a verl / TRL / SkyRL-style loop keeps one env per rollout slot,
``obs, info = env.reset(options={"task_id": k})``, renders ``obs["messages"]`` with the
model's chat template, samples an action and ``env.step(action)`` until ``terminated`` or
``truncated``, then uses ``reward`` (0 or 1) for the trajectory. ``AsyncPhinanceEnv`` offers
``await reset/step`` for many concurrent rollouts in one process (one app per env).
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path
from typing import Any

from phinance_env.episodes.data import load_scenario_data
from phinance_env.episodes.episode import EpisodeResult, _execute, _ServerDown, _verify
from phinance_env.episodes.host import EpisodeHost
from phinance_env.episodes.protocol import SYSTEM_PROMPT, ProtocolError, ToolCatalog, parse_tool_calls


class _SessionOwner:
    """Owns an episode's MCP session inside one task (anyio scopes must be entered and left
    by the same task); steps hand it work through a queue."""

    def __init__(self, host: EpisodeHost, db: Path):
        self.host, self.db = host, db
        self.requests: asyncio.Queue = asyncio.Queue()
        self.task: asyncio.Task | None = None

    async def start(self) -> ToolCatalog:
        ready = asyncio.get_running_loop().create_future()
        self.task = asyncio.create_task(self._run(ready))
        return await ready

    async def _run(self, ready: asyncio.Future) -> None:
        try:
            async with self.host.session(self.db) as session:
                ready.set_result(await self.host.catalog(session))
                while (item := await self.requests.get()) is not None:
                    work, done = item
                    try:
                        done.set_result(await work(session))
                    except Exception as exc:  # noqa: BLE001 - handed to the caller
                        done.set_exception(exc)
        except Exception as exc:  # noqa: BLE001 - session setup or teardown failed
            if not ready.done():
                ready.set_exception(exc)

    async def call(self, work):
        done = asyncio.get_running_loop().create_future()
        await self.requests.put((work, done))
        return await done

    async def close(self) -> None:
        if self.task is not None and not self.task.done():
            await self.requests.put(None)
            await self.task


class AsyncPhinanceEnv:
    metadata = {"render_modes": []}

    def __init__(self, scenario: str = "phinance_01", max_turns: int = 30, transport: str = "asgi",
                 data_dir: str | None = None, work_dir: str | Path | None = None):
        self.data = load_scenario_data(scenario, data_dir)
        self.max_turns = max_turns
        self.host = EpisodeHost(self.data.scenario, transport)
        self.work_dir = Path(work_dir or tempfile.mkdtemp(prefix="phinance-gym-"))
        self._owner: _SessionOwner | None = None
        self._episode = 0

    async def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Start a task: ``options={"task_id": k}``; without it, ``seed`` picks one."""
        await self._close_session()
        options = options or {}
        if "task_id" in options:
            task_id = int(options["task_id"])
        else:
            import numpy as np

            task_id = int(np.random.default_rng(seed).integers(len(self.data.tasks)))
        task = self.data.task(task_id)
        self._episode += 1
        run_dir = self.work_dir / f"episode{self._episode:06d}"
        if run_dir.exists():
            shutil.rmtree(run_dir)
        run_dir.mkdir(parents=True)
        self._initial, self._final = run_dir / "initial.db", run_dir / "final.db"
        shutil.copyfile(self.data.initial_db, self._initial)
        shutil.copyfile(self.data.initial_db, self._final)
        self._owner = _SessionOwner(self.host, self._final)
        self._tools = await self._owner.start()
        self._result = EpisodeResult(self.data.scenario, task_id, 0, "agent")
        self._messages = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": task}]
        info = {"task_id": task_id, "task": task, "tools": [t["name"] for t in self._tools.tools]}
        return {"messages": list(self._messages)}, info

    async def step(self, action: str):
        if self._owner is None:
            raise RuntimeError("call reset() before step(), and again after the episode ended")
        res = self._result
        res.turns += 1
        self._messages.append({"role": "assistant", "content": action})
        try:
            calls = parse_tool_calls(action)
        except ProtocolError as exc:
            res.protocol_errors += 1
            calls, reply = None, f"Error: {exc}"
        if calls == []:  # a final answer: verify and end
            await self._close_session()
            _verify(self.data, res.task_id, self._initial, self._final, action, res)
            return {"messages": list(self._messages)}, res.reward, True, False, self._info()
        if calls:
            try:
                reply = await self._owner.call(lambda session: _execute(session, calls[0], self._tools, res))
            except _ServerDown as exc:  # the episode cannot go on: reward 0, error recorded
                res.error_kind, res.error = "server_error", str(exc)
                await self._close_session()
                return {"messages": list(self._messages)}, 0.0, True, False, self._info()
        self._messages.append({"role": "tool", "tool_call_id": f"call_{res.turns}", "content": reply})
        truncated = res.turns >= self.max_turns
        if truncated:
            await self._close_session()
            res.error_kind = "max_turns"
        return {"messages": list(self._messages)}, 0.0, False, truncated, self._info()

    def _info(self) -> dict[str, Any]:
        r = self._result
        return {"task_id": r.task_id, "result": r.result, "checks": r.checks, "turns": r.turns,
                "tool_calls": r.tool_calls, "tool_errors": r.tool_errors, "error_kind": r.error_kind}

    async def _close_session(self) -> None:
        if self._owner is not None:
            owner, self._owner = self._owner, None
            await owner.close()

    async def close(self) -> None:
        await self._close_session()
        self.host.close()


class PhinanceEnv:
    """The synchronous face (Gymnasium's signatures) over :class:`AsyncPhinanceEnv`."""

    metadata = AsyncPhinanceEnv.metadata

    def __init__(self, *args, **kwargs):
        self._loop = asyncio.new_event_loop()
        self._env = AsyncPhinanceEnv(*args, **kwargs)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        return self._loop.run_until_complete(self._env.reset(seed=seed, options=options))

    def step(self, action: str):
        return self._loop.run_until_complete(self._env.step(action))

    def close(self) -> None:
        self._loop.run_until_complete(self._env.close())
        self._loop.close()
