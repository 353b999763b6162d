"""One episode: an isolated copy of the initial DB, the policy in AWM's agent protocol
against the tools, then the task's code verifier gives the reward (1.0 complete, else 0).

It writes what upstream ``awm agent`` writes, so ``awm verify`` can re-score it:
``trajectory.json``, ``initial.db``, ``final.db``, plus ``verify.code.json``."""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from phinance_env.episodes.data import ScenarioData
from phinance_env.episodes.host import EpisodeHost
from phinance_env.episodes.policies import Policy, PolicyError
from phinance_env.episodes.protocol import (
    SYSTEM_PROMPT, ProtocolError, ToolCatalog, call_tool_arguments, parse_tool_calls,
)

TOOL_TIMEOUT_S = 60.0
FATAL = {"policy_error", "server_error", "worker_died", "verifier_error"}


@dataclass
class EpisodeResult:
    scenario: str
    task_id: int
    repeat: int
    policy: str
    reward: float = 0.0
    result: str = "others"
    checks: dict[str, bool] = field(default_factory=dict)
    turns: int = 0
    tool_calls: int = 0
    tool_errors: int = 0
    protocol_errors: int = 0
    error_kind: str | None = None
    error: str | None = None
    seconds: float = 0.0
    run_dir: str | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


async def run_episode(host: EpisodeHost, data: ScenarioData, task_id: int, policy: Policy, run_dir: Path,
                      repeat: int = 0, max_turns: int = 30, sql_facts: bool = False) -> EpisodeResult:
    started = time.perf_counter()
    task = data.task(task_id)
    res = EpisodeResult(data.scenario, task_id, repeat, policy.name)
    run_dir.mkdir(parents=True, exist_ok=True)
    initial, final = run_dir / "initial.db", run_dir / "final.db"
    shutil.copyfile(data.initial_db, initial)
    shutil.copyfile(data.initial_db, final)  # the working DB: never the shared file
    messages: list[dict[str, Any]] = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": task}]
    trajectory: list[dict[str, Any]] = []
    answer = ""
    try:
        async with host.session(final) as session:
            tools = await host.catalog(session)
            for turn in range(1, max_turns + 1):
                res.turns = turn
                try:
                    content = await policy.act(messages)
                except PolicyError as exc:
                    res.error_kind, res.error = "policy_error", str(exc)
                    break
                messages.append({"role": "assistant", "content": content})
                try:
                    calls = parse_tool_calls(content)
                except ProtocolError as exc:
                    res.protocol_errors += 1
                    reply = f"Error: {exc}"
                    messages.append({"role": "tool", "tool_call_id": f"call_{turn}", "content": reply})
                    trajectory.append({"iteration": turn, "role": "assistant", "content": content, "tool_calls": [],
                                       "tool_response": {"tool_call_id": f"call_{turn}", "content": reply}})
                    continue
                if not calls:
                    answer = content
                    trajectory.append({"iteration": turn, "role": "assistant", "content": content,
                                       "tool_calls": [], "is_final": True})
                    break
                reply = await _execute(session, calls[0], tools, res)
                messages.append({"role": "tool", "tool_call_id": f"call_{turn}", "content": reply})
                trajectory.append({"iteration": turn, "role": "assistant", "content": content, "tool_calls": calls[:1],
                                   "tool_response": {"tool_call_id": f"call_{turn}", "content": reply}})
            else:
                res.error_kind, res.error = "max_turns", f"no final answer within {max_turns} turns"
    except _ServerDown as exc:
        res.error_kind, res.error = "server_error", str(exc)
    except Exception as exc:  # noqa: BLE001 - the MCP session or server failed under us
        res.error_kind, res.error = "server_error", f"{type(exc).__name__}: {exc}"[:500]
    verify_result = _verify(data, task_id, initial, final, answer, res)
    if sql_facts:
        _record_sql_facts(data, task_id, initial, final, run_dir)
    res.messages = messages
    res.seconds = round(time.perf_counter() - started, 4)
    res.run_dir = str(run_dir)
    _write(run_dir, data, task, policy, messages, trajectory, res, verify_result)
    return res


class _ServerDown(RuntimeError):
    pass


def rescore(run_dir: Path, data: ScenarioData) -> dict[str, Any]:
    """Score a written run directory again, the way upstream ``awm verify --mode code`` does:
    the final answer is the last assistant message of ``trajectory.json``'s messages."""
    from phinance_env.awm.verifiers import run_code_string

    trajectory = json.loads((run_dir / "trajectory.json").read_text())
    answer = next((m.get("content", "") for m in reversed(trajectory["messages"]) if m.get("role") == "assistant"), "")
    return run_code_string(data.verifiers[trajectory["task_id"]], "code", str(run_dir / "initial.db"),
                           str(run_dir / "final.db"), answer)


async def _execute(session, call: dict, tools: ToolCatalog, res: EpisodeResult) -> str:
    if call["name"] == "list_tools":
        return tools.text
    if call["name"] != "call_tool":
        res.protocol_errors += 1
        return f"Error: Unknown tool '{call['name']}'. Only 'list_tools' and 'call_tool' are available."
    try:
        name, args = call_tool_arguments(call["arguments"])
    except ProtocolError as exc:
        res.protocol_errors += 1
        return f"Error: {exc}"
    res.tool_calls += 1
    if name not in tools.names:
        res.tool_errors += 1
        return f"Error: Unknown tool: {name}"
    try:
        result = await asyncio.wait_for(session.call_tool(name, args), timeout=TOOL_TIMEOUT_S)
    except TimeoutError:
        res.tool_errors += 1
        return f"Error: Tool call timed out after {TOOL_TIMEOUT_S}s"
    except Exception as exc:  # noqa: BLE001 - transport failure: the server is gone
        raise _ServerDown(f"{name}: {type(exc).__name__}: {exc}") from None
    text = "\n".join(getattr(c, "text", str(c)) for c in result.content)
    if result.isError:
        res.tool_errors += 1
        return f"Error: {text}"
    return text


def _verify(data: ScenarioData, task_id: int, initial: Path, final: Path, answer: str,
            res: EpisodeResult) -> dict[str, Any]:
    """Score the episode into ``res``; returns upstream ``awm verify``'s ``verify_result``."""
    from phinance_env.awm.verifiers import run_code_string

    code = data.verifiers.get(task_id)
    if code is None:
        res.error_kind, res.error = res.error_kind or "verifier_error", f"no code verifier for task {task_id}"
        return {"result": "others", "execution_status": "error", "error_message": res.error}
    try:
        verdict = run_code_string(code, "code", str(initial), str(final), answer)
    except Exception as exc:  # noqa: BLE001 - a foreign verifier may raise
        res.error_kind, res.error = res.error_kind or "verifier_error", f"{type(exc).__name__}: {exc}"[:500]
        return {"result": "others", "execution_status": "error", "error_message": res.error}
    if not isinstance(verdict, dict) or "result" not in verdict:
        res.error_kind, res.error = res.error_kind or "verifier_error", f"verifier returned {type(verdict).__name__}"
        return {"result": "others", "execution_status": "error", "error_message": res.error}
    res.result = "complete" if verdict.get("result") == "complete" else "others"
    res.checks = dict(verdict.get("checks", {}))
    res.reward = 1.0 if res.result == "complete" and res.error_kind not in FATAL else 0.0
    return {"result": res.result, "execution_status": "success", "raw_result": verdict}


def _record_sql_facts(data: ScenarioData, task_id: int, initial: Path, final: Path, run_dir: Path) -> None:
    """The sql-mode verifier's facts (what an LLM judge reads), in ``verify.sql.json``."""
    from phinance_env.awm.verifiers import run_code_string

    code = data.sql_verifiers.get(task_id)
    try:
        facts = run_code_string(code, "sql", str(initial), str(final)) if code else {"error": "no sql verifier"}
    except Exception as exc:  # noqa: BLE001 - a foreign verifier may raise
        facts = {"error": f"{type(exc).__name__}: {exc}"[:500]}
    (run_dir / "verify.sql.json").write_text(json.dumps(facts, indent=1, default=str))


def _write(run_dir: Path, data: ScenarioData, task: str, policy: Policy, messages, trajectory, res: EpisodeResult,
           verify_result: dict[str, Any]) -> None:
    (run_dir / "trajectory.json").write_text(json.dumps({
        "scenario": data.scenario, "task_id": res.task_id, "task": task, "model": policy.name,
        "total_iterations": res.turns, "trajectory": trajectory, "messages": messages,
    }, ensure_ascii=False))  # no indent: json's indenting encoder is pure Python, ~10x slower
    # Upstream ``awm verify --mode code``'s file, plus the episode's reward and error.
    failed = verify_result["execution_status"] == "error"
    (run_dir / "verify.code.json").write_text(json.dumps({
        "scenario": data.scenario, "task_id": res.task_id, "task": task, "mode": "code",
        "reward_type": "judge_error" if failed else res.result, "verify_result": verify_result,
        "reward": res.reward, "checks": res.checks, "error_kind": res.error_kind, "error": res.error,
    }, indent=1, default=str))
