"""verifiers' own evaluation (``vf-eval``) end to end: the phinance taskset, each rollout on
its own gateway episode with the tools over MCP, scored by the task's verifier. The scripted
endpoint plays the oracle (reward 1.0) or answers at once (0.0)."""

from __future__ import annotations

import httpx


def _reward(trace: dict) -> float:
    return sum(r["score"] * r["weight"] for r in trace["rewards"].values())


def test_oracle_earns_one_on_the_test_split_each_rollout_on_its_own_state(vf_eval, gateway):
    traces = vf_eval("-m", "oracle", "--env.taskset.split", "test", "-n", "3", "-r", "2")
    assert len(traces) == 6
    assert {t["task"]["data"]["split"] for t in traces} == {"test"}
    keys = [t["task"]["key"] for t in traces]
    assert len(set(keys)) == 3 and all(keys.count(k) == 2 for k in keys)
    for trace in traces:
        assert trace["ok"], trace["errors"]
        assert _reward(trace) == 1.0, trace["info"]
        verdict = trace["info"]["phinance"]
        assert verdict["result"] == "complete" and all(verdict["checks"].values())
        assert trace["metrics"]["tool_calls"] >= 1
    # Two rollouts of one task changed the state twice (a note, a tracked ticker): each
    # passed, so each had its own DB. Every episode was released afterwards.
    assert httpx.get(f"{gateway}/health").json()["episodes"] == 0


def test_null_script_earns_zero(vf_eval, gateway):
    traces = vf_eval("-m", "null", "--env.taskset.split", "train", "-n", "3")
    assert len(traces) == 3
    assert {t["task"]["data"]["split"] for t in traces} == {"train"}
    for trace in traces:
        assert trace["ok"], trace["errors"]
        assert _reward(trace) == 0.0
        verdict = trace["info"]["phinance"]
        assert verdict["result"] == "others" and not all(verdict["checks"].values())
        assert trace["metrics"]["tool_calls"] == 0
    assert httpx.get(f"{gateway}/health").json()["episodes"] == 0


def test_tasks_are_picked_by_id_too(vf_eval):
    traces = vf_eval("-m", "oracle", "--select.include.ids", '["phinance_01/3"]')
    assert [t["task"]["key"] for t in traces] == ["phinance_01/3"]
    assert _reward(traces[0]) == 1.0
