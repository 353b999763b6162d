"""A Gymnasium-style environment over the tools, for RL trainers.

Observation: ``{"messages": [...]}`` — the chat so far in OpenAI format (system prompt with
the protocol, the task, tool results), plus ``task``/``tools`` in ``info`` at reset. Action:
the next assistant message (a ``<tool_call>`` or the final answer). A final answer ends the
episode (``terminated``); ``max_turns`` ends it as ``truncated``. Either way the episode is
verified and the verifier's reward comes back on that last step: a truncated episode whose
state is already right (a state-only task) earns 1.0, one that owed an answer earns 0.

How trainers call it: a verl / TRL / SkyRL-style loop keeps one env per rollout slot,
``obs, info = env.reset(options={"task_id": k})``, renders ``obs["messages"]`` with the
model's chat template, samples an action and ``env.step(action)`` until ``terminated`` or
``truncated``, then uses ``reward`` (0 or 1) for the trajectory. ``AsyncPhinanceEnv`` offers
``await reset/step`` for many concurrent rollouts in one process: every env of a scenario
shares the process's tool host (:func:`~phinance_env.episodes.host.shared_host`), each
episode on its own copy of the state DB.

Each step runs on the same engine as ``run_episode`` and rollouts (:class:`Episode`).
``keep_runs=True`` keeps every finished episode's run directory under ``work_dir`` with the
files upstream AWM writes (``trajectory.json``, ``initial.db``, ``final.db``,
``verify.code.json``); by default one folder serves every episode in turn (its DB copy is
replaced at each reset, so a million episodes take the disk of one), and ``close()``
removes it, and ``work_dir`` too if the env created it.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path
from typing import Any

from phinance_env.episodes.data import load_scenario_data
from phinance_env.episodes.engine import Episode
from phinance_env.episodes.host import make_host


class AsyncPhinanceEnv:
    metadata = {"render_modes": []}

    def __init__(self, scenario: str = "phinance_01", max_turns: int = 30, transport: str = "asgi",
                 data_dir: str | None = None, work_dir: str | Path | None = None, keep_runs: bool = False):
        self.data = load_scenario_data(scenario, data_dir)
        self.max_turns, self.keep_runs = max_turns, keep_runs
        self.host = make_host(self.data, transport)
        self._work_dir = Path(work_dir) if work_dir is not None else None
        self._own_work_dir = work_dir is None
        self._episode: Episode | None = None
        self._count = 0

    @property
    def work_dir(self) -> Path:
        """Made at first use: a mkdir costs most of a millisecond here, and a trainer makes
        its envs by the hundred before the first reset."""
        if self._work_dir is None:
            self._work_dir = Path(tempfile.mkdtemp(prefix="phinance-gym-"))
        return self._work_dir

    async def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Start a task: ``options={"task_id": k}``; without it, ``seed`` picks one, from
        ``options["split"]`` ("train"/"test") and/or the base subset (``options["base"]``)
        when given (a trainer samples train, an evaluation test)."""
        await self._abandon()
        options = options or {}
        if "task_id" in options:
            task_id = int(options["task_id"])
        else:
            import numpy as np

            pool = self.data.select(options.get("split"), bool(options.get("base", False)))
            if not pool:
                raise ValueError(f"no task in split {options.get('split')!r} (base={options.get('base', False)})")
            task_id = pool[int(np.random.default_rng(seed).integers(len(pool)))]
        self._count += 1
        # Without keep_runs one folder serves every episode in turn: nothing piles up.
        run_dir = self.work_dir / (f"episode{self._count:06d}" if self.keep_runs else "episode")
        if self.keep_runs and run_dir.exists():
            shutil.rmtree(run_dir)
        episode = Episode(self.host, self.data, task_id, run_dir, max_turns=self.max_turns, record=self.keep_runs)
        episode.open()  # the session comes up while the caller's model writes its first turn
        catalog = self.host.known_tools or (await episode.ready() and episode.tools)
        if not catalog:
            raise RuntimeError(f"the episode could not start: {episode.result.error}")
        self._episode = episode
        info = {"task_id": task_id, "task": episode.task, "tools": [t["name"] for t in catalog.tools]}
        return {"messages": list(episode.messages)}, info

    async def step(self, action: str):
        episode = self._episode
        if episode is None or episode.done:
            raise RuntimeError("call reset() before step(), and again after the episode ended")
        await episode.step(action)
        reward = episode.result.reward if episode.done else 0.0
        return {"messages": list(episode.messages)}, reward, episode.terminated, episode.truncated, self._info()

    def _info(self) -> dict[str, Any]:
        r = self._episode.result
        info = {"task_id": r.task_id, "result": r.result, "checks": r.checks, "turns": r.turns,
                "tool_calls": r.tool_calls, "tool_errors": r.tool_errors, "truncated": r.truncated,
                "error_kind": r.error_kind, "error": r.error}
        if r.run_dir:
            info["run_dir"] = r.run_dir
        return info

    async def _abandon(self) -> None:
        """An unfinished episode (reset or close mid-way) is neither verified nor kept."""
        if self._episode is not None and not self._episode.done:
            await self._episode.close()
            if self.keep_runs:
                shutil.rmtree(self._episode.run_dir, ignore_errors=True)

    async def close(self) -> None:
        await self._abandon()
        self._episode = None  # the host is the process's, shared with other envs: it stays
        if self._work_dir is None:
            return  # never reset: nothing was made
        if self._own_work_dir:
            shutil.rmtree(self._work_dir, ignore_errors=True)
        elif not self.keep_runs:
            shutil.rmtree(self._work_dir / "episode", ignore_errors=True)


class PhinanceEnv:
    """The synchronous face (Gymnasium's signatures) over :class:`AsyncPhinanceEnv`."""

    metadata = AsyncPhinanceEnv.metadata

    def __init__(self, *args, **kwargs):
        self._loop = asyncio.new_event_loop()
        self._env = AsyncPhinanceEnv(*args, **kwargs)

    @property
    def work_dir(self) -> Path:
        return self._env.work_dir

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        return self._loop.run_until_complete(self._env.reset(seed=seed, options=options))

    def step(self, action: str):
        return self._loop.run_until_complete(self._env.step(action))

    def close(self) -> None:
        if not self._loop.is_closed():
            self._loop.run_until_complete(self._env.close())
            self._loop.close()
