"""options_vol_01 as users run it: stock ``awm env start`` from the one data folder, every
template's oracle through a real MCP client, rollouts (oracle 100%, null 0%) and the gym env."""

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
SCENARIO = "options_vol_01"
BIN = Path(sys.executable).parent
TEMPLATES = sorted(get_desk(SCENARIO).templates)


@pytest.fixture(scope="module")
def tasks(exported):
    return exported_tasks(Scenario.load(SCENARIO), exported)


def verdict(exported, task, final_db, answer):
    rows = [json.loads(x) for x in (exported / "gen_verifier.pure_code.jsonl").read_text().splitlines()]
    code = next(r for r in rows if r["scenario"] == SCENARIO and r["task_idx"] == task.index)["verification"]["code"]
    return run_code_string(code, "code", str(exported / "databases" / f"{SCENARIO}.db"), str(final_db), answer)


def test_stock_awm_env_start_serves_the_desk_and_an_oracle_scores(exported, cache_dir, tmp_path, tasks):
    workdir = tmp_path / "awm"
    shutil.copytree(exported, workdir / "outputs")
    shutil.copy(exported.parent / "gen_envs_finance.jsonl", workdir)
    task = next(t for t in tasks if t.spec.template == "spread_build")
    with awm_env_start(workdir, SCENARIO, {**os.environ, "PHINANCE_CACHE_DIR": str(cache_dir)}) as url:
        check = subprocess.run([str(BIN / "awm"), "env", "check", "--url", url], capture_output=True, text=True, timeout=120)
        assert check.returncode == 0 and f"Tools count: {len(get_desk(SCENARIO).tool_names)}" in check.stdout + check.stderr
        tools = {t.name: t for t in mcp_list_tools(url)}
        assert set(tools) == set(get_desk(SCENARIO).tool_names) and len(tools) >= 12
        assert "SYNTHETIC" in tools["get_option_chain"].description
        bad = mcp_calls(url, [("price_option", {"ticker": "^GSPC", "as_of_date": "2018-06-29", "expiry": "2018-06-15",
                                                "strike": 2700, "kind": "put"})])[0]
        assert bad.is_error and "invalid argument: expiry 2018-06-15 is not after" in bad.text
        answer = mcp_play(url, task.oracle)
    assert verdict(exported, task, workdir / "outputs" / "databases" / f"{SCENARIO}.db", answer)["result"] == "complete"


@pytest.mark.parametrize("template", TEMPLATES)
def test_oracle_through_mcp_completes(exported, tasks, tmp_path, template):
    task = next(t for t in tasks if t.spec.template == template)
    db = fresh_db(exported / "databases" / f"{SCENARIO}.db", tmp_path)
    with served(phinance_app(db, scenario=SCENARIO)) as url:
        answer = mcp_play(f"{url}/mcp", task.oracle)
    assert verdict(exported, task, db, answer)["result"] == "complete"


def test_rollouts_oracle_full_marks_null_zero_and_the_gym(exported, tmp_path, tasks):
    from phinance_env.episodes.data import load_scenario_data
    from phinance_env.episodes.gym import PhinanceEnv
    from phinance_env.episodes.policies import OraclePolicy

    first = tuple(sorted({t.spec.template: t.index for t in reversed(tasks)}.values()))
    cfg = dict(scenario=SCENARIO, data_dir=str(exported), tasks=first)
    assert summarize(rollout(RolloutConfig(out=tmp_path / "o", transport="mcp", **cfg)))["success_rate"] == 1.0
    assert summarize(rollout(RolloutConfig(out=tmp_path / "n", policy="null", **cfg)))["success_rate"] == 0.0
    task = next(t for t in tasks if t.spec.template == "delta_put_spread")
    env = PhinanceEnv(scenario=SCENARIO, data_dir=str(exported), max_turns=8, work_dir=tmp_path / "gym")
    try:
        obs, info = env.reset(options={"task_id": task.index})
        oracle = OraclePolicy(load_scenario_data(SCENARIO, str(exported)).solutions[task.index])
        done = False
        while not done:
            obs, reward, terminated, truncated, info = env.step(asyncio.new_event_loop().run_until_complete(oracle.act(obs["messages"])))
            done = terminated or truncated
        assert terminated and reward == 1.0
    finally:
        env.close()
