"""Faults: a rollout worker killed mid-episode, and a server killed mid-episode. The
scripted model endpoint does the killing (it finds the process behind a socket with ss)."""

import os
import re
import signal
import subprocess

import pytest
from fastapi import FastAPI, Request

from phinance_env.awm.solution import Solution, ToolStep
from phinance_env.episodes.data import load_scenario_data
from phinance_env.episodes.rollout import RolloutConfig, rollout
from tests.scripted_llm import scripted_llm
from tests.support import served

pytestmark = pytest.mark.integration


def pid_of(port: int, listening: bool) -> int:
    out = subprocess.run(["ss", "-ltnp" if listening else "-tnp"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        cols = line.split()
        if len(cols) > 3 and cols[3].endswith(f":{port}") and "pid=" in line:  # local address
            return int(re.search(r"pid=(\d+)", line).group(1))
    raise LookupError(port)


def test_a_killed_worker_loses_only_its_episode_and_a_rerun_finishes_it(exported, tmp_path):
    data = load_scenario_data("phinance_01", str(exported))
    oracle = scripted_llm(data.solutions[3])
    killed = []
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        body = await request.json()
        if not killed and "Healthcare" in body["messages"][1]["content"]:
            killed.append(pid_of(request.client.port, listening=False))
            os.kill(killed[0], signal.SIGKILL)  # the rollout worker asking for a completion
        return await oracle.router.routes[-1].endpoint(request)

    with served(app) as url:
        cfg = RolloutConfig(data_dir=str(exported), policy="openai", tasks=(3,), repeats=4, workers=2,
                            out=tmp_path / "runs", openai={"api_url": f"{url}/v1", "model": "m", "retries": 0})
        first = rollout(cfg)
        assert killed and os.getpid() != killed[0]
        kinds = [r["error_kind"] for r in first]
        assert len(first) == 4 and "worker_died" in kinds
        assert all(r["reward"] == (0.0 if r["error_kind"] else 1.0) for r in first)
        second = rollout(cfg)  # the rerun finishes what the dead worker lost
    assert len(second) == 4 and all(r["reward"] == 1.0 for r in second), [r["error"] for r in second]


def test_a_server_killed_mid_episode_ends_it_with_server_error(tmp_path):
    import json
    import sqlite3

    from tests.episodes.test_stock_awm_folder import FULL_CODE, VERIFIER  # the toy AWM env

    folder = tmp_path / "outputs"
    (folder / "databases").mkdir(parents=True)
    with sqlite3.connect(folder / "databases" / "toy_notes_1.db") as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT NOT NULL)")
    rows = {
        "gen_envs.jsonl": {"scenario": "toy_notes_1", "db_path": "outputs/databases/toy_notes_1.db", "full_code": FULL_CODE},
        "gen_tasks.jsonl": {"scenario": "toy_notes_1", "tasks": ["Create a note titled 'hello'."]},
        "gen_verifier.pure_code.jsonl": {"scenario": "toy_notes_1", "task_idx": 0, "task": "t",
                                         "verification": {"code": VERIFIER, "raw_response": ""}},
    }
    for name, row in rows.items():
        (folder / name).write_text(json.dumps(row) + "\n")
    solution = Solution(calls=[ToolStep(tool="list_notes", arguments={}), ToolStep(tool="create_note", arguments={"title": "hello"})],
                        answer="Created.")
    oracle = scripted_llm(solution)
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        body = await request.json()
        if sum(m["role"] == "assistant" for m in body["messages"]) == 2:  # before create_note
            script = next(p for p in (tmp_path / "runs").rglob("server.py"))
            out = subprocess.run(["pgrep", "-f", str(script)], capture_output=True, text=True).stdout.split()
            for pid in out:
                os.kill(int(pid), signal.SIGKILL)
        return await oracle.router.routes[-1].endpoint(request)

    with served(app) as url:
        (row,) = rollout(RolloutConfig(scenario="toy_notes_1", data_dir=str(folder), policy="openai", out=tmp_path / "runs",
                                       openai={"api_url": f"{url}/v1", "model": "m"}))
    assert row["error_kind"] == "server_error" and row["reward"] == 0.0
