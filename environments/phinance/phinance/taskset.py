"""The taskset: every task of an AWM data folder written by ``phinance-env export --out DIR``
(``gen_tasks.jsonl``, with ``gen_task_meta.jsonl`` for template, tier, the time split and the
base subset), as verifiers tasks whose reward is the task's own verifier.

A task's tools and verifier run in the gateway; :class:`~phinance.env.PhinanceEnv` opens a
gateway episode per rollout and hands the task that episode (:meth:`PhinanceTask.for_episode`):
its MCP URL becomes the task's toolset (a remote MCP server attached by URL, as verifiers'
``ToolsetConfig(url=...)`` does), and its reward submits the final reply for the verdict.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from pydantic import PrivateAttr

import verifiers.v1 as vf
from phinance.gateway import GatewayEpisode

DATA_DIR_ENV = "PHINANCE_AWM_DATA_DIR"
SYSTEM_PROMPT = (
    "You are an analyst on a market-research desk. Use the tools to carry out the request; "
    "when you are done, reply with your final answer as plain text, without calling a tool."
)


class PhinanceData(vf.TaskData):
    scenario: str
    task_id: int
    """The task's index in its scenario (``task_idx`` in the AWM files)."""
    template: str | None = None
    tier: int | None = None
    split: Literal["train", "test"] | None = None
    """The time split: test tasks depend only on dates after every train task's dates."""
    base: bool = False
    """Whether the task is in the stratified quick-evaluation subset."""


class PhinanceTaskConfig(vf.TaskConfig):
    _mcp_url: str | None = PrivateAttr(None)  # the rollout's episode, set by PhinanceEnv, never by users


class PhinanceToolset(vf.Toolset[vf.ToolsetConfig]):
    """The scenario's tools, served by the gateway episode at ``config.url`` (no local tools);
    the model sees them as ``phinance_<tool>``."""

    TOOL_PREFIX = "phinance"


class PhinanceTask(vf.Task[PhinanceData, vf.State, PhinanceTaskConfig]):
    _episode: GatewayEpisode | None = None

    @property
    def key(self) -> str:
        """``scenario/task_id``: stable across runs and selections (``idx`` is not)."""
        return f"{self.data.scenario}/{self.data.task_id}"

    def for_episode(self, episode: GatewayEpisode) -> PhinanceTask:
        """This task bound to one gateway episode: a copy, so concurrent rollouts of one task
        never share an episode (each has its own state DB)."""
        clone = copy.copy(self)
        clone.config = self.config.model_copy()
        clone.config._mcp_url = episode.mcp_url
        clone._episode = episode
        return clone

    @classmethod
    def toolsets(cls, config: PhinanceTaskConfig) -> list[vf.Toolset]:
        url = config._mcp_url
        return [PhinanceToolset(vf.ToolsetConfig(url=url))] if url else []

    async def setup(self, trace: vf.Trace) -> None:
        if self._episode is None:
            raise vf.TaskError("a phinance task runs under the phinance env, which opens its gateway episode "
                               "(leave --env.id unset)")

    @vf.reward
    async def verifier(self, trace: vf.Trace) -> float:
        """The task's own verifier on the episode's initial and final state DBs and the final
        reply, run by the gateway: 1.0 when complete, else 0.0. Its checks go to ``trace.info``."""
        if self._episode is None:
            raise vf.TaskError("no gateway episode to score")
        verdict = await self._episode.submit(trace.last_reply)
        trace.info["phinance"] = {k: verdict[k] for k in ("result", "checks", "error_kind", "error", "truncated")}
        trace.record_metrics({"tool_calls": verdict["tool_calls"], "tool_errors": verdict["tool_errors"]})
        return float(verdict["reward"])


class PhinanceTasksetConfig(vf.TasksetConfig):
    data_dir: Path | None = None
    """The AWM data folder (``phinance-env export --out DIR``); default ``$PHINANCE_AWM_DATA_DIR``.
    The gateway must serve the same export (each episode checks its task text)."""
    scenario: str | None = None
    """Only this scenario's tasks (default: every scenario in the folder)."""
    split: Literal["train", "test"] | None = None
    """Only the train or the test split (the time split at generation)."""
    base: bool = False
    """Only the stratified base subset."""
    task: PhinanceTaskConfig = PhinanceTaskConfig()


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


class PhinanceTaskset(vf.Taskset[PhinanceTask, PhinanceTasksetConfig]):
    def folder(self) -> Path:
        folder = self.config.data_dir or os.environ.get(DATA_DIR_ENV)
        if not folder:
            raise ValueError(f"say where the AWM data folder is: --env.taskset.data-dir DIR or ${DATA_DIR_ENV} "
                             "(write one with `phinance-env export --out DIR`)")
        folder = Path(folder)
        if not (folder / "gen_tasks.jsonl").is_file():
            raise ValueError(f"{folder} has no gen_tasks.jsonl: not an AWM data folder")
        return folder

    def load(self) -> Iterator[PhinanceTask]:
        folder = self.folder()
        meta_file = folder / "gen_task_meta.jsonl"
        meta = {(r["scenario"], r["task_idx"]): r for r in _jsonl(meta_file)} if meta_file.is_file() else {}
        if (self.config.split or self.config.base) and not meta:
            raise ValueError(f"{folder} has no gen_task_meta.jsonl: splits and the base subset need it")
        for row in _jsonl(folder / "gen_tasks.jsonl"):
            scenario = row["scenario"]
            if self.config.scenario not in (None, scenario):
                continue
            for task_id, text in enumerate(row["tasks"]):
                m = meta.get((scenario, task_id), {})
                if self.config.split and m.get("split") != self.config.split:
                    continue
                if self.config.base and not m.get("base"):
                    continue
                data = PhinanceData(id=f"{scenario}/{task_id}", name=m.get("template"), prompt=text,
                                    system_prompt=SYSTEM_PROMPT, scenario=scenario, task_id=task_id,
                                    template=m.get("template"), tier=m.get("tier"), split=m.get("split"),
                                    base=bool(m.get("base")))
                yield PhinanceTask(data, self.config.task)
