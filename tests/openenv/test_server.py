"""The native OpenEnv server, driven as trainers drive it: openenv-core's own CLI
(``openenv validate``) and its own generic ``MCPToolClient`` over WebSocket sessions, against
real uvicorn servers on 127.0.0.1. An episode ends only at ``submit_answer`` (or the turn
limit) with the verifier's reward; every misuse gets a clear error; nothing outlives a
session (its files go at submit, close, disconnect or idle timeout)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from openenv.core.env_server.mcp_types import CallToolAction, ListToolsObservation, ToolErrorType
from openenv.core.mcp_client import MCPToolClient
from websockets.exceptions import ConnectionClosed

from phinance_env.episodes.data import load_scenario_data
from phinance_env.openenv import PhinanceEnvClient
from tests.openenv.conftest import openenv_server
from tests.openenv.play import call, play_oracle, submit
from tests.support import free_port, wait_until_up

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
NULL_ANSWER = "I could not complete this task."


@pytest.fixture(scope="module")
def data(data_dir):
    return load_scenario_data("phinance_01", data_dir)


def leftovers(work: Path) -> list[Path]:
    return sorted(work.iterdir()) if work.exists() else []


def settled(work: Path, timeout: float = 15.0) -> list[Path]:
    """What is left in ``work`` once the server has released closed sessions (it does so
    after the client's close message, asynchronously): polled, bounded."""
    deadline = time.monotonic() + timeout
    while leftovers(work) and time.monotonic() < deadline:
        time.sleep(0.1)
    return leftovers(work)


def run(coroutine):
    return asyncio.run(coroutine)


def test_the_cli_server_passes_openenv_validate_and_the_env_folder_is_deployable(data_dir, tmp_path):
    port = free_port()
    log = tmp_path / "server.log"  # a file, not a pipe: a full pipe would block the server
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/phinance-env"), "openenv", "serve", "--port", str(port), "--data-dir",
         str(data_dir), "--work-dir", str(tmp_path / "work")], stdout=subprocess.DEVNULL, stderr=log.open("w"))
    try:
        url = f"http://127.0.0.1:{port}"
        assert wait_until_up(f"{url}/health", server), log.read_text()[-2000:]
        report = json.loads(subprocess.run([str(ROOT / ".venv/bin/openenv"), "validate", "--url", url],
                                           capture_output=True, text=True, timeout=60).stdout)
        failed = [c["id"] for c in report["criteria"] if not c["passed"]]
        assert report["passed"] and not failed and report["mode"] == "simulation", failed
        assert len(leftovers(tmp_path / "work")) == 1  # the server's own work folder, while it runs
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    assert leftovers(tmp_path / "work") == []  # removed at shutdown

    local = subprocess.run([str(ROOT / ".venv/bin/openenv"), "validate", str(ROOT / "envs/phinance_env")],
                           capture_output=True, text=True, timeout=60, env={**os.environ, "NO_COLOR": "1"})
    assert local.returncode == 0 and "Ready for multi-mode deployment" in local.stdout, local.stdout + local.stderr


def test_oracle_episodes_through_openenvs_generic_client_earn_one_and_a_null_answer_zero(
        server, data, oracle_tasks):
    url, work = server

    async def episode(task_id: int, oracle: bool):
        async with MCPToolClient(base_url=url) as env:
            started = await env.reset(task_id=task_id)
            assert isinstance(started.observation, ListToolsObservation) and not started.done
            names = {t.name for t in started.observation.tools}
            assert "submit_answer" in names and not names & {"verify", "verify_episode", "reward"}
            assert len(leftovers(work)) == 1  # this episode's DB copy, while it runs
            answer = await play_oracle(env, data.solutions[task_id]) if oracle else NULL_ANSWER
            return await submit(env, answer)

    for task_id in oracle_tasks:
        ended = run(episode(task_id, oracle=True))
        verdict = ended.observation.result["data"]
        assert ended.done and ended.reward == 1.0, verdict
        assert verdict["result"] == "complete" and verdict["checks"] and all(verdict["checks"].values())
        assert verdict["tool_calls"] == len(data.solutions[task_id].calls) and not verdict["truncated"]
        assert settled(work) == []  # submitted: its files went
        null = run(episode(task_id, oracle=False))
        assert null.done and null.reward == 0.0 and not all(null.observation.result["data"]["checks"].values())
    assert settled(work) == []


def test_our_typed_client_keeps_the_task_and_the_verdict(server, data, oracle_tasks):
    url, _ = server
    task_id = oracle_tasks[0]

    async def episode():
        async with PhinanceEnvClient(base_url=url) as env:
            started = (await env.reset(task_id=task_id)).observation
            assert (started.task, started.task_id, started.scenario) == (data.tasks[task_id], task_id, "phinance_01")
            assert started.max_turns == 30 and started.episode_id
            answer = await play_oracle(env, data.solutions[task_id])
            ended = (await submit(env, answer)).observation
            state = await env.state()
            return started, ended, state

    started, ended, state = run(episode())
    assert ended.verdict.reward == 1.0 and ended.done and ended.verdict.turns == len(data.solutions[task_id].calls) + 1
    assert state.episode_id == started.episode_id


def test_every_misuse_gets_a_clear_error_and_the_session_goes_on(server, data, oracle_tasks):
    url, work = server
    task_id = oracle_tasks[0]

    async def misuse():
        async with MCPToolClient(base_url=url) as env:
            errors = {}
            for name, attempt in {
                "step before reset": call(env, "list_tickers"),
                "bad reset option": env.reset(task_id=-1),
                "unknown reset option": env.reset(tsk_id=1),
                "task out of range": env.reset(task_id=10**6),
                "unknown split": env.reset(split="holdout"),
            }.items():
                with pytest.raises(RuntimeError) as raised:
                    await attempt
                errors[name] = str(raised.value)
            await env.reset(task_id=task_id)
            unknown = (await call(env, "verify")).observation
            bad_ticker = (await call(env, "get_ticker", ticker="NOPE_NOT_A_TICKER")).observation
            bad_type = (await call(env, "get_ticker", ticker=["a", "list"])).observation
            bad_submit = (await call(env, "submit_answer", text="an answer")).observation
            first = await submit(env, NULL_ANSWER)
            with pytest.raises(RuntimeError) as twice:
                await submit(env, NULL_ANSWER)
            with pytest.raises(RuntimeError) as after_end:
                await call(env, "list_tickers")
            again = await env.reset(task_id=task_id)  # the session still works
            return errors, unknown, bad_ticker, bad_type, bad_submit, first, str(twice.value), str(after_end.value), again

    errors, unknown, bad_ticker, bad_type, bad_submit, first, twice, after_end, again = run(misuse())
    assert "call reset() first" in errors["step before reset"]
    assert "task_id" in errors["bad reset option"] and "task_id" in errors["unknown reset option"]
    assert "task" in errors["task out of range"] and str(len(data.tasks) - 1) in errors["task out of range"]
    assert "split" in errors["unknown split"]
    assert unknown.error.error_type == ToolErrorType.TOOL_NOT_FOUND and "list_tools" in unknown.error.message
    assert bad_ticker.error.error_type == ToolErrorType.INVALID_ARGS and "NOPE_NOT_A_TICKER" in bad_ticker.error.message
    assert bad_type.error.error_type == ToolErrorType.INVALID_ARGS
    assert bad_submit.error.error_type == ToolErrorType.INVALID_ARGS and not bad_submit.done
    assert first.done and first.reward == 0.0
    assert "ended" in twice and "reset" in twice and "ended" in after_end
    assert isinstance(again.observation, ListToolsObservation)
    assert settled(work) == []  # the last episode went with its session


def test_the_turn_limit_ends_and_scores_the_episode(data_dir, tmp_path, oracle_tasks):
    with openenv_server(data_dir, tmp_path / "work", max_turns=2) as (url, work):
        async def episode():
            async with PhinanceEnvClient(base_url=url) as env:
                await env.reset(task_id=oracle_tasks[0])
                first = await call(env, "list_tickers")
                last = await call(env, "list_tickers")
                with pytest.raises(RuntimeError) as after:
                    await call(env, "list_tickers")
                return first, last, str(after.value)

        first, last, after = run(episode())
        assert not first.done and last.done and last.reward == 0.0
        assert last.observation.verdict.truncated and last.observation.verdict.error_kind == "max_turns"
        assert "ended" in after
        assert settled(work) == []


def test_capacity_disconnects_and_idle_clients_release_their_sessions_and_files(data_dir, tmp_path, oracle_tasks):
    task_id = oracle_tasks[0]
    with openenv_server(data_dir, tmp_path / "work", max_sessions=2, idle_timeout=1.0) as (url, work):
        async def scenario():
            dropped, idle = MCPToolClient(base_url=url), MCPToolClient(base_url=url)
            for env in (dropped, idle):
                await env.connect()
                await env.reset(task_id=task_id)
                await call(env, "list_tickers")
            assert len(leftovers(work)) == 2
            third = await MCPToolClient(base_url=url).connect()
            try:
                await third.reset(task_id=task_id)
                refused = "reset was accepted beyond capacity"
            except RuntimeError as exc:
                refused = str(exc)
            except ConnectionClosed:  # the server sent its refusal and closed before reset was sent
                refused = str(await third._ws.recv())  # the refusal is still in the receive buffer
            with contextlib.suppress(ConnectionClosed):  # the server closes a refused socket itself
                await third.close()
            dropped._ws.transport.abort()  # the client dies mid-episode: no close message
            idle_since = time.monotonic()
            while leftovers(work) and time.monotonic() - idle_since < 30:  # the reaper runs every 5 s
                await asyncio.sleep(0.2)
            released = leftovers(work)
            with pytest.raises(RuntimeError) as reaped:
                await call(idle, "list_tickers")
            await idle.close()
            async with MCPToolClient(base_url=url) as fresh:  # both slots free again
                after = await fresh.reset(task_id=task_id)
            return refused, released, str(reaped.value), after

        refused, released, reaped, after = run(scenario())
        assert "CAPACITY_REACHED" in refused
        assert released == []
        assert "closed" in reaped and "connect again" in reaped
        assert isinstance(after.observation, ListToolsObservation)
        assert httpx.get(f"{url}/health").status_code == 200


def test_the_environment_runs_without_a_server_and_removes_its_own_folder(data_dir, data, oracle_tasks):
    from phinance_env.openenv import PhinanceEnvironment, ServerConfig

    task_id = oracle_tasks[0]
    env = PhinanceEnvironment(ServerConfig(data_dir=data_dir))
    started = env.reset(task_id=task_id)
    assert started.task == data.tasks[task_id]
    first = data.solutions[task_id].calls[0]
    assert first.arguments == {} or not any(str(v).startswith("$") for v in first.arguments.values())
    reply = env.step(CallToolAction(tool_name=first.tool, arguments=first.arguments))
    assert reply.error is None and reply.result.data is not None
    ended = env.step(CallToolAction(tool_name="submit_answer", arguments={"answer": NULL_ANSWER}))
    own = env._own_work_dir
    assert ended.done and ended.reward == 0.0 and own is not None and own.exists()
    env.close()
    assert not own.exists()
