"""portfolio_risk_01 as users run it: stock ``awm env start`` from the one data folder,
every template's oracle through a real MCP client, rollouts (oracle 100%, null 0%) over both
transports, and the gym env, all scored by the exported verifier."""

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from phinance_env.awm import run_code_string
from phinance_env.awm.scenario import Scenario, exported_tasks
from phinance_env.desks import get_desk
from phinance_env.episodes.rollout import RolloutConfig, rollout, summarize
from tests.support import awm_env_start, fresh_db, mcp_calls, mcp_list_tools, mcp_play, phinance_app, served

pytestmark = pytest.mark.integration
SCENARIO = "portfolio_risk_01"
BIN = Path(sys.executable).parent
TEMPLATES = sorted(get_desk(SCENARIO).templates)


@pytest.fixture(scope="module")
def tasks(exported):
    return exported_tasks(Scenario.load(SCENARIO), exported)


@pytest.fixture(scope="module")
def first_of_each(tasks) -> tuple[int, ...]:
    first: dict[str, int] = {}
    for t in tasks:
        first.setdefault(t.spec.template, t.index)
    return tuple(sorted(first.values()))


def verdict(exported, task, final_db, answer):
    rows = [json.loads(x) for x in (exported / "gen_verifier.pure_code.jsonl").read_text().splitlines()]
    code = next(r for r in rows if r["scenario"] == SCENARIO and r["task_idx"] == task.index)["verification"]["code"]
    return run_code_string(code, "code", str(exported / "databases" / f"{SCENARIO}.db"), str(final_db), answer)


def test_stock_awm_env_start_serves_the_desk_and_an_oracle_scores(exported, cache_dir, tmp_path, tasks):
    workdir = tmp_path / "awm"
    shutil.copytree(exported, workdir / "outputs")
    shutil.copy(exported.parent / "gen_envs_finance.jsonl", workdir)
    task = next(t for t in tasks if t.spec.template == "limit_order")
    with awm_env_start(workdir, SCENARIO, {**os.environ, "PHINANCE_CACHE_DIR": str(cache_dir)}) as url:
        check = subprocess.run([str(BIN / "awm"), "env", "check", "--url", url], capture_output=True, text=True, timeout=120)
        assert check.returncode == 0 and "Tools count: 16" in check.stdout + check.stderr
        tools = {t.name: t for t in mcp_list_tools(url)}
        assert set(tools) == set(get_desk(SCENARIO).tool_names) and len(tools) == 16
        assert all(len(t.description) > 60 and t.inputSchema["type"] == "object" for t in tools.values())
        bad = mcp_calls(url, [("place_trade", {"portfolio": "Nope", "ticker": "NOVA", "side": "buy", "shares": 1,
                                               "date": "2016-01-04"})])[0]
        assert bad.is_error and "invalid argument: no portfolio named 'Nope'" in bad.text
        answer = mcp_play(url, task.oracle)
    assert verdict(exported, task, workdir / "outputs" / "databases" / f"{SCENARIO}.db", answer)["result"] == "complete"


@pytest.mark.parametrize("template", TEMPLATES)
def test_oracle_through_mcp_completes(exported, tasks, tmp_path, template):
    task = next(t for t in tasks if t.spec.template == template)
    db = fresh_db(exported / "databases" / f"{SCENARIO}.db", tmp_path)
    with served(phinance_app(db, scenario=SCENARIO)) as url:
        answer = mcp_play(f"{url}/mcp", task.oracle)
    result = verdict(exported, task, db, answer)
    assert result["result"] == "complete", result


@pytest.mark.parametrize("transport", ["asgi", "mcp"])
def test_rollouts_oracle_full_marks_null_zero(exported, tmp_path, first_of_each, transport):
    cfg = dict(scenario=SCENARIO, data_dir=str(exported), transport=transport, tasks=first_of_each)
    oracle = summarize(rollout(RolloutConfig(out=tmp_path / "oracle", **cfg)))
    assert oracle["episodes"] == len(TEMPLATES) and oracle["success_rate"] == 1.0, oracle
    null = summarize(rollout(RolloutConfig(out=tmp_path / "null", policy="null", **cfg)))
    assert null["success_rate"] == 0.0, null


def test_gym_env_plays_the_desk(exported, tmp_path, tasks):
    from phinance_env.episodes.data import load_scenario_data
    from phinance_env.episodes.gym import PhinanceEnv
    from phinance_env.episodes.policies import OraclePolicy

    task = next(t for t in tasks if t.spec.template == "buy_and_value")
    env = PhinanceEnv(scenario=SCENARIO, data_dir=str(exported), max_turns=12, work_dir=tmp_path)
    try:
        obs, info = env.reset(options={"task_id": task.index})
        assert obs["messages"][1]["content"] == task.text and len(info["tools"]) == 16
        oracle = OraclePolicy(load_scenario_data(SCENARIO, str(exported)).solutions[task.index])
        done = False
        while not done:
            action = asyncio.new_event_loop().run_until_complete(oracle.act(obs["messages"]))
            obs, reward, terminated, truncated, info = env.step(action)
            done = terminated or truncated
        assert terminated and reward == 1.0 and info["result"] == "complete"
    finally:
        env.close()
