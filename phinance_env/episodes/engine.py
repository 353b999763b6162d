"""The episode engine: one step machine that every way in drives (``run_episode``'s policy
loop, rollouts, the gym-style envs, servers), so a turn means the same thing everywhere.

``start()`` copies the initial DB into the run dir (never the shared file), opens the MCP
session on the host and lists the tools; ``step(message)`` takes one assistant message in
AWM's ``<tool_call>`` protocol (one call executed, or the final answer); when the episode
ends (final answer, turn limit, fatal error) the task's code verifier scores it and the
run artifacts upstream ``awm agent``/``awm verify`` write are saved: ``trajectory.json``,
``initial.db``, ``final.db``, ``verify.code.json`` (and ``verify.sql.json`` on request).

A truncated episode (``max_turns`` reached) is verified too: its state may already be
right, so the verifier's reward counts (a state-only task can be complete; a task that
asks for an answer fails, as there is none). ``error_kind`` stays ``"max_turns"`` and
``truncated`` is set. A verifier that breaks is ``verifier_error``, never a wrong answer.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from phinance_env.episodes.data import ScenarioData
from phinance_env.episodes.protocol import (
    SYSTEM_PROMPT, ProtocolError, ToolCatalog, call_tool_arguments, parse_tool_calls, tool_call_message,
)

TOOL_TIMEOUT_S = 60.0
FATAL = frozenset({"policy_error", "server_error", "worker_died", "verifier_error"})  # reward 0 whatever the state


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
    truncated: bool = False
    error_kind: str | None = None
    error: str | None = None
    seconds: float = 0.0
    run_dir: str | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ToolReply:
    """What one turn's call gave back: the text and whether it was an error (a tool's 4xx,
    an unknown tool, a malformed call). ``message`` is the text the agent's chat shows."""

    text: str
    is_error: bool = False

    @property
    def message(self) -> str:
        return f"Error: {self.text}" if self.is_error else self.text


class _ServerDown(RuntimeError):
    """The MCP transport failed: the episode cannot go on."""


class _SessionOwner:
    """Holds the episode's MCP session inside one task of its own: anyio scopes must be
    entered and left by the same task, while a gym env's ``reset``/``step`` each run as a
    different task. Steps hand it work through a queue."""

    def __init__(self, host, db: Path):
        self.host, self.db = host, db
        self.requests: asyncio.Queue = asyncio.Queue()
        self.task: asyncio.Task | None = None
        self.current: asyncio.Future | None = None

    def start(self) -> asyncio.Future:
        """Open the session in a task of its own; the future gives the tool catalog."""
        ready = asyncio.get_running_loop().create_future()
        self.task = asyncio.create_task(self._run(ready))
        return ready

    async def _run(self, ready: asyncio.Future) -> None:
        try:
            async with self.host.session(self.db) as session:
                ready.set_result(await self.host.catalog(session))
                while (item := await self.requests.get()) is not None:
                    work, self.current = item
                    try:  # the caller may have been cancelled meanwhile: then nobody listens
                        value = await work(session)
                        if not self.current.done():
                            self.current.set_result(value)
                    except Exception as exc:  # noqa: BLE001 - handed to the caller
                        if not self.current.done():
                            self.current.set_exception(exc)
        except Exception as exc:  # noqa: BLE001 - session setup, a transport crash, or teardown
            if not ready.done():
                ready.set_exception(exc)
        finally:  # a session that died under a call must not leave its caller waiting
            gone = _ServerDown("the MCP session ended")
            if not ready.done():
                ready.set_exception(gone)
            if self.current is not None and not self.current.done():
                self.current.set_exception(gone)
            while not self.requests.empty():
                if (item := self.requests.get_nowait()) is not None and not item[1].done():
                    item[1].set_exception(gone)

    async def call(self, work):
        if self.task is None or self.task.done():
            raise _ServerDown("the MCP session ended")
        done = asyncio.get_running_loop().create_future()
        self.requests.put_nowait((work, done))
        return await done

    async def close(self) -> None:
        if self.task is not None and not self.task.done():
            self.requests.put_nowait(None)
            await self.task


class Episode:
    """One task from start to reward. ``await start()``, then ``await step(message)`` until it
    returns True (``done``); ``result`` then holds the reward, checks and counters.

    ``record=False`` writes no trajectory or verify files (the DB copies still live in
    ``run_dir``: the tools and the verifier need files); ``policy`` is only a label."""

    def __init__(self, host, data: ScenarioData, task_id: int, run_dir: Path, *, repeat: int = 0,
                 policy: str = "agent", max_turns: int = 30, record: bool = True, sql_facts: bool = False):
        self.host, self.data, self.run_dir = host, data, Path(run_dir)
        self.initial, self.final = self.run_dir / "initial.db", self.run_dir / "final.db"
        self.task = data.task(task_id)
        self.max_turns, self.record, self.sql_facts = max_turns, record, sql_facts
        self.result = EpisodeResult(data.scenario, task_id, repeat, policy)
        self.messages: list[dict[str, Any]] = [{"role": "system", "content": SYSTEM_PROMPT},
                                               {"role": "user", "content": self.task}]
        self.trajectory: list[dict[str, Any]] = []
        self.tools: ToolCatalog | None = None
        self.done = False
        self._answer = ""
        self.last_reply: ToolReply | None = None  # the last turn's call result
        self._owner: _SessionOwner | None = None
        self._ready: asyncio.Future | None = None
        self._started = 0.0

    @property
    def terminated(self) -> bool:
        """Ended by the agent (final answer) or by a fatal error, not by the turn limit."""
        return self.done and not self.result.truncated

    @property
    def truncated(self) -> bool:
        return self.result.truncated

    async def start(self) -> bool:
        """Isolated DB copy, MCP session, tool list. False when the server could not be
        reached: the episode then ends at once as ``server_error``."""
        self.open()
        return await self.ready()

    def open(self) -> None:
        """Copy the DB and start opening the MCP session in the background, without waiting
        for it: a trainer's reset returns at once and the session comes up while its model
        writes the first turn (:meth:`ready` and every step wait for it)."""
        self._started = time.perf_counter()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        if self.record or not self.data.served_by_desk:
            shutil.copyfile(self.data.initial_db, self.initial)
        else:  # our verifiers open it read-only: a copy per episode would only cost time and disk
            self.initial = self.data.initial_db
        shutil.copyfile(self.data.initial_db, self.final)  # the working DB: never the shared file
        self._owner = _SessionOwner(self.host, self.final)
        self._ready = self._owner.start()

    async def ready(self) -> bool:
        """Wait for the session and the tool list; False (and the episode ended as
        ``server_error``) when they did not come up."""
        if self.tools is not None:
            return True
        if self.done:
            return False
        try:
            self.tools = await self._ready
        except Exception as exc:  # noqa: BLE001 - the server or the session failed to come up
            await self.fail("server_error", f"{type(exc).__name__}: {exc}"[:500])
            return False
        return True

    async def step(self, content: str) -> bool:
        """Take the next assistant message; True when the episode has ended."""
        self._check_open()
        if not await self.ready():
            return True
        res = self.result
        res.turns += 1
        turn = res.turns
        self.messages.append({"role": "assistant", "content": content})
        try:
            calls = parse_tool_calls(content)
        except ProtocolError as exc:
            res.protocol_errors += 1
            calls, reply = [], ToolReply(str(exc), True)
        else:
            if not calls:  # the final answer
                await self._final(content, turn)
                return True
            try:
                reply = await self._owner.call(lambda session: self._execute(session, calls[0]))
            except Exception as exc:  # noqa: BLE001 - transport or session failure
                await self.fail("server_error", str(exc) if isinstance(exc, _ServerDown)
                                else f"{type(exc).__name__}: {exc}"[:500])
                return True
        self.last_reply = reply
        self.messages.append({"role": "tool", "tool_call_id": f"call_{turn}", "content": reply.message})
        self.trajectory.append({"iteration": turn, "role": "assistant", "content": content, "tool_calls": calls[:1],
                                "tool_response": {"tool_call_id": f"call_{turn}", "content": reply.message}})
        if turn >= self.max_turns:
            res.truncated = True
            res.error_kind, res.error = "max_turns", f"no final answer within {self.max_turns} turns"
            await self._end()
            return True
        return False

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> ToolReply:
        """One tool call as a structured action (an OpenEnv ``CallToolAction``): the same turn
        as an assistant message calling it through ``call_tool``, recorded the same way."""
        await self.step(tool_call_message(name, arguments))
        if self.last_reply is None:  # the episode ended on a transport failure
            return ToolReply(self.result.error or "the episode ended", True)
        return self.last_reply

    async def submit(self, answer: str) -> EpisodeResult:
        """End the episode with ``answer`` as the final answer (even one that quotes a
        ``<tool_call>``: a submitted answer is never executed) and verify it."""
        self._check_open()
        if not await self.ready():
            return self.result
        self.result.turns += 1
        self.messages.append({"role": "assistant", "content": answer})
        await self._final(answer, self.result.turns)
        return self.result

    def _check_open(self) -> None:
        if self.done or self._owner is None:
            raise RuntimeError("the episode has not started or has already ended")
        self.last_reply = None

    async def _final(self, content: str, turn: int) -> None:
        self._answer = content
        self.trajectory.append({"iteration": turn, "role": "assistant", "content": content,
                                "tool_calls": [], "is_final": True})
        await self._end()

    async def fail(self, kind: str, error: str) -> None:
        """End the episode with an error (``policy_error``, ``server_error``): still verified,
        for its checks, but the reward is 0."""
        if not self.done:
            self.result.error_kind, self.result.error = kind, error
            await self._end()

    async def close(self) -> None:
        """Abandon an unfinished episode: the session closes, nothing is verified or written."""
        self.done = True
        await self._close_session()

    async def _close_session(self) -> None:
        if self._owner is not None:
            owner, self._owner = self._owner, None
            await owner.close()
        if self._ready is not None and self._ready.done() and not self._ready.cancelled():
            self._ready.exception()  # retrieved: a session that never came up is already reported

    async def _execute(self, session, call: dict) -> ToolReply:
        res, tools = self.result, self.tools
        if call["name"] == "list_tools":
            return ToolReply(tools.text)
        if call["name"] != "call_tool":
            res.protocol_errors += 1
            return ToolReply(f"Unknown tool '{call['name']}'. Only 'list_tools' and 'call_tool' are available.", True)
        try:
            name, args = call_tool_arguments(call["arguments"])
        except ProtocolError as exc:
            res.protocol_errors += 1
            return ToolReply(str(exc), True)
        res.tool_calls += 1
        if name not in tools.names:
            res.tool_errors += 1
            return ToolReply(f"Unknown tool: {name}", True)
        try:
            result = await asyncio.wait_for(session.call_tool(name, args), timeout=TOOL_TIMEOUT_S)
        except TimeoutError:
            res.tool_errors += 1
            return ToolReply(f"Tool call timed out after {TOOL_TIMEOUT_S}s", True)
        except Exception as exc:  # noqa: BLE001 - transport failure: the server is gone
            raise _ServerDown(f"{name}: {type(exc).__name__}: {exc}") from None
        text = "\n".join(getattr(c, "text", str(c)) for c in result.content)
        if result.isError:
            res.tool_errors += 1
        return ToolReply(text, bool(result.isError))

    async def _end(self) -> None:
        self.done = True
        await self._close_session()  # the host releases final.db before the verifier reads it
        # On a thread: a foreign verifier may take its time, and the loop serves other episodes.
        verify_result = await asyncio.to_thread(self._verify)
        res = self.result
        res.messages = self.messages
        if self.record and self.sql_facts:
            self._record_sql_facts()
        res.seconds = round(time.perf_counter() - self._started, 4)
        if self.record:
            res.run_dir = str(self.run_dir)
            self._write(verify_result)

    def _verify(self) -> dict[str, Any]:
        """Score into ``result``; returns upstream ``awm verify``'s ``verify_result``."""
        from phinance_env.awm.verifiers import run_code_string

        res = self.result
        code = self.data.verifiers.get(res.task_id)
        try:
            if code is None:
                raise LookupError(f"no code verifier for task {res.task_id}")
            verdict = run_code_string(code, "code", str(self.initial), str(self.final), self._answer)
            if not isinstance(verdict, dict) or "result" not in verdict:
                raise TypeError(f"verifier returned {type(verdict).__name__}, not a dict with 'result'")
        except Exception as exc:  # noqa: BLE001 - a foreign verifier may raise
            self._verifier_error(f"{type(exc).__name__}: {exc}"[:500])
            return {"result": "others", "execution_status": "error", "error_message": res.error}
        res.result = "complete" if verdict.get("result") == "complete" else "others"
        res.checks = dict(verdict.get("checks") or {})
        if verdict.get("error_kind") == "verifier_error":  # the check broke and said so
            self._verifier_error(str(verdict.get("error") or "the verifier reported an error"))
        res.reward = 1.0 if res.result == "complete" and res.error_kind not in FATAL else 0.0
        return {"result": res.result, "execution_status": "success", "raw_result": verdict}

    def _verifier_error(self, error: str) -> None:
        """An earlier fatal error stays the episode's kind; ``max_turns`` gives way (the
        episode stays ``truncated``), so a broken verifier is always counted as such."""
        res = self.result
        if res.error_kind not in FATAL:
            res.error_kind, res.error = "verifier_error", error
        res.result = "others"

    def _record_sql_facts(self) -> None:
        """The sql-mode verifier's facts (what an LLM judge reads), in ``verify.sql.json``."""
        from phinance_env.awm.verifiers import run_code_string

        code = self.data.sql_verifiers.get(self.result.task_id)
        try:
            facts = run_code_string(code, "sql", str(self.initial), str(self.final)) if code else {"error": "no sql verifier"}
        except Exception as exc:  # noqa: BLE001 - a foreign verifier may raise
            facts = {"error": f"{type(exc).__name__}: {exc}"[:500]}
        (self.run_dir / "verify.sql.json").write_text(json.dumps(facts, indent=1, default=str))

    def _write(self, verify_result: dict[str, Any]) -> None:
        res = self.result
        (self.run_dir / "trajectory.json").write_text(json.dumps({
            "scenario": res.scenario, "task_id": res.task_id, "task": self.task, "model": res.policy,
            "total_iterations": res.turns, "truncated": res.truncated, "trajectory": self.trajectory,
            "messages": self.messages,
        }, ensure_ascii=False))  # no indent: json's indenting encoder is pure Python, ~10x slower
        # Upstream ``awm verify --mode code``'s file, plus the episode's reward and error.
        failed = verify_result["execution_status"] == "error"
        (self.run_dir / "verify.code.json").write_text(json.dumps({
            "scenario": res.scenario, "task_id": res.task_id, "task": self.task, "mode": "code",
            "reward_type": "judge_error" if failed else res.result, "verify_result": verify_result,
            "reward": res.reward, "checks": res.checks, "truncated": res.truncated,
            "error_kind": res.error_kind, "error": res.error,
        }, indent=1, default=str))
