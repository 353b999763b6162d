"""The README's trainer loops, run as written: each ``<!-- loop: NAME -->`` block is read
from README.md and executed, then driven with the oracle (reward 1.0) and a null answer
(0.0) against real servers on 127.0.0.1 and the shared host."""

from __future__ import annotations

import asyncio
import functools
import json
import re
from pathlib import Path

import pytest

from phinance_env.awm.solution import resolve
from phinance_env.episodes.data import load_scenario_data
from phinance_env.episodes.policies import NullPolicy, OraclePolicy

pytestmark = pytest.mark.integration
README = Path(__file__).resolve().parents[2] / "README.md"


def loop(name: str) -> dict:
    """The README block after ``<!-- loop: name -->``, executed: its functions by name."""
    match = re.search(rf"<!-- loop: {name} -->\n```python\n(.*?)```", README.read_text(), re.S)
    assert match, f"README.md has no loop {name!r}"
    namespace: dict = {}
    exec(compile(match.group(1), f"README.md:loop:{name}", "exec"), namespace)  # noqa: S102 - our own README
    return namespace


@pytest.fixture(scope="module")
def data(exported):
    return load_scenario_data("phinance_01", str(exported))


def first_tasks(exported: Path, count: int) -> list[int]:
    """The first task of each of ``count`` templates."""
    first: dict[str, int] = {}
    for line in (Path(exported) / "gen_solutions.jsonl").read_text().splitlines():
        row = json.loads(line)
        if row["scenario"] == "phinance_01":
            first.setdefault(row["template"], row["task_idx"])
    return sorted(first.values())[::max(1, len(first) // count)][:count]


def test_the_openenv_loop(exported, tmp_path, data):
    pytest.importorskip("openenv")
    from tests.openenv.conftest import openenv_server

    openenv_episode = loop("openenv")["openenv_episode"]
    task_ids = first_tasks(exported, 4)

    def oracle(task_id: int):
        solution, results = data.solutions[task_id], []

        async def policy(observation):
            if getattr(observation, "task", None) is not None:
                assert observation.task == data.tasks[task_id]  # reset: the task, the tools
            else:
                assert observation.error is None, observation.error
                results.append(observation.result.data)
            if len(results) < len(solution.calls):
                step = solution.calls[len(results)]
                return step.tool, resolve(step.arguments, results)
            return "submit_answer", {"answer": solution.answer}

        return policy

    async def null(observation):
        return "submit_answer", {"answer": "I could not complete this task."}

    with openenv_server(exported, tmp_path / "work") as (url, _):
        rewards = [asyncio.run(openenv_episode(url, t, oracle(t))) for t in task_ids]
        nulls = [asyncio.run(openenv_episode(url, t, null)) for t in task_ids]
    assert rewards == [1.0] * len(task_ids) and nulls == [0.0] * len(task_ids)


def test_the_slots_loop(exported, data):
    namespace = loop("slots")
    namespace["AsyncPhinanceEnv"] = functools.partial(namespace["AsyncPhinanceEnv"], data_dir=str(exported))
    by_task = {text: k for k, text in enumerate(data.tasks)}
    task_ids = [k for k in first_tasks(exported, 48) if by_task[data.tasks[k]] == k]  # a task text names one task

    async def oracle(messages):  # the oracle of whichever task this slot is on
        task = next(by_task[m["content"]] for m in messages if m["role"] == "user" and m["content"] in by_task)
        return await OraclePolicy(data.solutions[task]).act(messages)

    assert len(task_ids) >= 16
    rewards = asyncio.run(namespace["rollouts"](task_ids, oracle, slots=16))
    nulls = asyncio.run(namespace["rollouts"](task_ids[:16], NullPolicy().act, slots=16))
    assert rewards == [1.0] * len(task_ids)
    assert len(nulls) == 16 and set(nulls) == {0.0}
