"""The openai policy against OpenAI-compatible endpoints on 127.0.0.1: scripted, down,
slow, garbage, and a model that emits malformed tool calls."""

import asyncio

import pytest
from fastapi import FastAPI

from phinance_env.episodes.data import load_scenario_data
from phinance_env.episodes.episode import run_episode
from phinance_env.episodes.host import EpisodeHost
from phinance_env.episodes.policies import OpenAIPolicy
from tests.scripted_llm import scripted_llm
from tests.support import free_port, served


@pytest.fixture(scope="module")
def host():
    h = EpisodeHost("phinance_01", "asgi")
    yield h
    h.close()


def episode(host, data_dir, tmp_path, task_id, policy):
    data = load_scenario_data("phinance_01", data_dir)
    return asyncio.run(run_episode(host, data, task_id, policy, tmp_path / "run"))


def completion(content):
    return {"id": "x", "object": "chat.completion", "created": 0, "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}]}


def test_scripted_endpoint_completes_the_task(host, data_dir, tmp_path):
    data = load_scenario_data("phinance_01", data_dir)
    with served(scripted_llm(data.solutions[4])) as url:
        res = episode(host, data_dir, tmp_path, 4, OpenAIPolicy(f"{url}/v1", "oracle"))
    assert res.reward == 1.0 and res.error_kind is None and res.tool_calls == 3


def test_endpoint_down_is_a_policy_error_with_reward_zero(host, data_dir, tmp_path):
    policy = OpenAIPolicy(f"http://127.0.0.1:{free_port()}/v1", "m", retries=2, backoff=0.01)
    res = episode(host, data_dir, tmp_path, 0, policy)
    assert res.error_kind == "policy_error" and res.reward == 0.0 and "3 attempts" in res.error


def test_slow_and_garbage_endpoints(host, data_dir, tmp_path):
    app = FastAPI()

    @app.post("/slow/v1/chat/completions")
    async def slow():
        await asyncio.sleep(2)
        return completion("late")

    @app.post("/garbage/v1/chat/completions")
    async def garbage():
        return {"nothing": "here"}

    with served(app) as url:
        slow_res = episode(host, data_dir, tmp_path / "s", 0, OpenAIPolicy(f"{url}/slow/v1", "m", timeout=0.3, retries=1, backoff=0.01))
        bad_res = episode(host, data_dir, tmp_path / "g", 0, OpenAIPolicy(f"{url}/garbage/v1", "m"))
    assert slow_res.error_kind == "policy_error" and "Timeout" in slow_res.error
    assert bad_res.error_kind == "policy_error" and "no chat completion" in bad_res.error


def test_malformed_calls_and_unknown_tools_are_answered_and_the_episode_goes_on(host, data_dir, tmp_path):
    script = iter([
        "<tool_call>{not json</tool_call>",
        '<tool_call>{"name": "call_tool", "arguments": {"tool_name": "drop_database", "arguments": "{}"}}</tool_call>',
        '<tool_call>{"name": "rm_rf", "arguments": {}}</tool_call>',
        '<tool_call>{"name": "call_tool", "arguments": {"tool_name": "get_ticker", "arguments": "{bad"}}</tool_call>',
        "I give up.",
    ])
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat():
        return completion(next(script))

    with served(app) as url:
        res = episode(host, data_dir, tmp_path, 0, OpenAIPolicy(f"{url}/v1", "m"))
    assert res.turns == 5 and res.error_kind is None and res.reward == 0.0
    assert res.protocol_errors == 3 and res.tool_errors == 1
    replies = [m["content"] for m in res.messages if m["role"] == "tool"]
    assert "not valid JSON" in replies[0] and "Unknown tool: drop_database" in replies[1]
