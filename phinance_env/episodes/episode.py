"""One episode driven by a policy: the engine's step machine (:class:`Episode`) fed by
``policy.act`` until it ends, then the task's code verifier gives the reward (1.0 complete,
else 0). The run directory holds what upstream ``awm agent`` writes, so ``awm verify`` can
re-score it: ``trajectory.json``, ``initial.db``, ``final.db``, plus ``verify.code.json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from phinance_env.episodes.data import ScenarioData
from phinance_env.episodes.engine import Episode, EpisodeResult
from phinance_env.episodes.policies import Policy, PolicyError

__all__ = ["Episode", "EpisodeResult", "rescore", "run_episode"]


async def run_episode(host, data: ScenarioData, task_id: int, policy: Policy, run_dir: Path,
                      repeat: int = 0, max_turns: int = 30, sql_facts: bool = False) -> EpisodeResult:
    episode = Episode(host, data, task_id, run_dir, repeat=repeat, policy=policy.name, max_turns=max_turns,
                      sql_facts=sql_facts)
    await episode.start()
    while not episode.done:
        try:
            content = await policy.act(episode.messages)
        except PolicyError as exc:
            await episode.fail("policy_error", str(exc))
            break
        await episode.step(content)
    return episode.result


def rescore(run_dir: Path, data: ScenarioData) -> dict[str, Any]:
    """Score a written run directory again, the way upstream ``awm verify --mode code`` does:
    the final answer is the last assistant message of ``trajectory.json``'s messages. A
    truncated episode has no final answer (its last message is a tool call): it gets ``""``,
    as the engine gave it, where upstream would pass that tool call as the answer."""
    from phinance_env.awm.verifiers import run_code_string

    trajectory = json.loads((run_dir / "trajectory.json").read_text())
    answer = "" if trajectory.get("truncated") else next(
        (m.get("content", "") for m in reversed(trajectory["messages"]) if m.get("role") == "assistant"), "")
    return run_code_string(data.verifiers[trajectory["task_id"]], "code", str(run_dir / "initial.db"),
                           str(run_dir / "final.db"), answer)
