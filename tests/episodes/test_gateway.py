"""The episode gateway (what the verifiers environment talks to): real uvicorn servers on
127.0.0.1 and a real MCP client. Each episode has its own state DB and MCP URL, its tools
run through the episode engine, the verifier's reward comes only from the keyed submit
route (never an MCP tool), and nothing outlives a release, a turn limit or an idle client."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from phinance_env.episodes.data import load_scenario_data
from phinance_env.episodes.gateway import Gateway
from tests.support import free_port, mcp_calls, mcp_list_tools, mcp_play, served

pytestmark = pytest.mark.integration
KEY = "test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture(scope="module")
def data(data_dir):
    return load_scenario_data("phinance_01", data_dir)


def gateway(data_dir, tmp_path, **knobs):
    return served(Gateway(KEY, data_dir, work_dir=tmp_path / "work", **knobs).app)


def create(url: str, task_id: int) -> dict:
    resp = httpx.post(f"{url}/episodes", json={"task_id": task_id}, headers=AUTH)
    assert resp.status_code == 201, resp.text
    return resp.json()


def submit(url: str, episode: dict, answer: str) -> httpx.Response:
    return httpx.post(f"{url}/episodes/{episode['episode_id']}/submit", json={"answer": answer}, headers=AUTH)


def test_an_oracle_episode_over_mcp_earns_the_verifiers_reward_and_leaves_nothing(data, data_dir, tmp_path):
    with gateway(data_dir, tmp_path) as url:
        ep = create(url, 1)  # projection_note: a projection, then a note linked to its run
        assert ep["task"] == data.tasks[1] and ep["mcp_url"] == f"{url}/episodes/{ep['episode_id']}/mcp"
        tools = {t.name for t in mcp_list_tools(ep["mcp_url"])}
        assert tools == {t["name"] for t in _catalog(data)}
        assert not tools & {"submit_answer", "create_episode", "release_episode", "health"}  # control is no tool
        answer = mcp_play(ep["mcp_url"], data.solutions[1])
        verdict = submit(url, ep, answer).json()
        assert verdict["reward"] == 1.0 and verdict["result"] == "complete" and all(verdict["checks"].values())
        assert verdict["tool_calls"] == len(data.solutions[1].calls) and verdict["tool_errors"] == 0
        assert submit(url, ep, answer).status_code == 409  # one answer per episode
        [after] = mcp_calls(ep["mcp_url"], [("list_tickers", {})])
        assert after.is_error and "ended" in after.text
        assert httpx.delete(f"{url}/episodes/{ep['episode_id']}", headers=AUTH).status_code == 204
        assert httpx.post(ep["mcp_url"], json={}).status_code == 404
        assert httpx.get(f"{url}/health").json()["episodes"] == 0
        assert not any((tmp_path / "work").iterdir())  # its DB copy is gone


def _catalog(data):
    """The tool list every episode's engine gives (the scenario's app, listed over MCP)."""
    import asyncio

    from phinance_env.episodes.host import shared_host
    from phinance_env.episodes.protocol import ToolCatalog

    async def fetch():
        async with shared_host(data.scenario).session(data.initial_db) as session:
            return await ToolCatalog.fetch(session)
    return asyncio.run(fetch()).tools


def test_concurrent_episodes_of_one_task_each_change_their_own_state(data, data_dir, tmp_path):
    with gateway(data_dir, tmp_path) as url:
        first, second = create(url, 3), create(url, 3)  # create_watchlist: a duplicate name is refused
        answers = [mcp_play(ep["mcp_url"], data.solutions[3]) for ep in (first, second)]
        for ep, answer in zip((first, second), answers, strict=False):
            assert submit(url, ep, answer).json()["reward"] == 1.0
        null = create(url, 3)
        assert submit(url, null, "I could not complete this task.").json()["reward"] == 0.0


def test_control_routes_need_the_key_and_unknown_things_are_404(data_dir, tmp_path):
    with gateway(data_dir, tmp_path) as url:
        assert httpx.post(f"{url}/episodes", json={"task_id": 0}).status_code == 401
        wrong = {"Authorization": "Bearer no"}
        assert httpx.post(f"{url}/episodes", json={"task_id": 0}, headers=wrong).status_code == 401
        ep = create(url, 0)
        assert httpx.post(f"{url}/episodes/{ep['episode_id']}/submit", json={"answer": "x"}).status_code == 401
        assert httpx.delete(f"{url}/episodes/{ep['episode_id']}").status_code == 401
        assert httpx.post(f"{url}/episodes", json={"task_id": 10**6}, headers=AUTH).status_code == 404
        assert httpx.post(f"{url}/episodes", json={"scenario": "nope", "task_id": 0}, headers=AUTH).status_code == 404
        assert httpx.post(f"{url}/episodes/not-an-episode/mcp", json={}).status_code == 404
        assert httpx.get(f"{url}/episodes/not-an-episode", headers=AUTH).status_code == 404


def test_the_turn_limit_ends_an_episode_and_its_verdict_stands(data, data_dir, tmp_path):
    calls = data.solutions[3].calls  # state only: right once the watchlist exists
    with gateway(data_dir, tmp_path, max_turns=len(calls)) as url:
        ep = create(url, 3)
        mcp_play(ep["mcp_url"], data.solutions[3])
        [late] = mcp_calls(ep["mcp_url"], [("list_watchlists", {})])
        assert late.is_error and "turn limit" in late.text
        verdict = submit(url, ep, "done").json()
        assert verdict["truncated"] and verdict["error_kind"] == "max_turns" and verdict["reward"] == 1.0
        status = httpx.get(f"{url}/episodes/{ep['episode_id']}", headers=AUTH).json()
        assert status["done"] and status["submitted"] and status["tool_calls"] == len(calls)


def test_capacity_is_refused_clearly_and_idle_episodes_are_released(data_dir, tmp_path):
    with gateway(data_dir, tmp_path, max_episodes=1, idle_timeout=0.2) as url:
        create(url, 0)
        full = httpx.post(f"{url}/episodes", json={"task_id": 0}, headers=AUTH)
        assert full.status_code == 503 and "limit" in full.json()["detail"]
        for _ in range(200):  # an abandoned episode is released by the reaper, bounded wait
            if httpx.get(f"{url}/health").json()["episodes"] == 0:
                break
            time.sleep(0.05)
        assert httpx.get(f"{url}/health").json()["episodes"] == 0
        create(url, 0)  # room again


def test_gateway_serve_binds_loopback_and_makes_up_a_key_when_none_is_given(data_dir, tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "PHINANCE_GATEWAY_API_KEY"}
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen([str(Path(sys.executable).parent / "phinance-env"), "gateway", "serve", "--port",
                                 str(port), "--data-dir", data_dir], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        for _ in range(600):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).is_success:
                    break
            except httpx.TransportError:
                assert proc.poll() is None, log.read_text()
                time.sleep(0.1)
        key = log.read_text().split("PHINANCE_GATEWAY_API_KEY=")[1].split()[0]
        resp = httpx.post(f"http://127.0.0.1:{port}/episodes", json={"task_id": 0},
                          headers={"Authorization": f"Bearer {key}"})
        assert resp.status_code == 201 and json.loads(resp.text)["task"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
