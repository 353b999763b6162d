"""Test helpers: free ports, real uvicorn servers in a thread, a real MCP client, the
scripted OpenAI-compatible endpoint, and playing solutions through any of them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import socket
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def served(app, port: int | None = None):
    """Serve ``app`` with a real uvicorn server on 127.0.0.1 in a thread; yields the base URL."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started:
        if time.time() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def phinance_app(db: Path, mcp: bool = True, scenario: str = "phinance_01"):
    from phinance_env.app import create_app, mount_mcp
    from phinance_env.state import state_engine

    app = create_app(state_engine(db), scenario)
    return mount_mcp(app) if mcp else app


def fresh_db(initial: Path, directory: Path, name: str = "final.db") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    shutil.copyfile(initial, path)
    return path


class McpResult:
    def __init__(self, is_error: bool, text: str):
        self.is_error, self.text = is_error, text

    def json(self) -> Any:
        return json.loads(self.text)


async def _mcp_session(url: str, work):
    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client

    async with streamablehttp_client(url) as (read, write, _):
        async with ClientSession(read, write) as session:
            await session.initialize()
            return await work(session)


def mcp_list_tools(url: str) -> list:
    async def work(session):
        return (await session.list_tools()).tools
    return asyncio.run(_mcp_session(url, work))


def mcp_calls(url: str, calls: list[tuple[str, dict]]) -> list[McpResult]:
    """Run calls in one MCP session (a real client over streamable HTTP)."""
    async def work(session):
        out = []
        for tool, args in calls:
            result = await session.call_tool(tool, args)
            out.append(McpResult(bool(result.isError), "\n".join(c.text for c in result.content if hasattr(c, "text"))))
        return out
    return asyncio.run(_mcp_session(url, work))


def mcp_play(url: str, solution) -> str:
    """Play an oracle solution through a real MCP client, resolving $refs from results."""
    from phinance_env.awm.solution import resolve

    async def work(session):
        results: list[Any] = []
        for step in solution.calls:
            result = await session.call_tool(step.tool, resolve(step.arguments, results))
            text = "\n".join(c.text for c in result.content if hasattr(c, "text"))
            results.append({} if result.isError else json.loads(text))
        return solution.answer
    return asyncio.run(_mcp_session(url, work))


def dump(db: Path, skip: tuple[str, ...] = ()) -> list[str]:
    """A full SQL dump of a DB (to compare states)."""
    with sqlite3.connect(db) as conn:
        return [line for line in conn.iterdump() if not any(f'"{t}"' in line for t in skip)]


@contextlib.contextmanager
def serve_process(db: Path, cache_dir: Path, preexec_fn=None, args: tuple[str, ...] = (), env: dict | None = None):
    """``phinance-env serve`` as a real subprocess on a free port; yields (process, base URL)."""
    import os
    import signal
    import subprocess
    import sys

    import httpx

    port = free_port()
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "phinance-env"), "serve", "--port", str(port), "--db", str(db), *args],
        env={**os.environ, "PHINANCE_CACHE_DIR": str(cache_dir), **(env or {})}, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, start_new_session=True, preexec_fn=preexec_fn)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            httpx.get(f"{url}/openapi.json", timeout=1)
            break
        except httpx.HTTPError:
            if time.time() > deadline or proc.poll() is not None:
                os.killpg(proc.pid, signal.SIGKILL)
                raise RuntimeError(f"serve did not start: {proc.stderr.read().decode()[-2000:] if proc.poll() is not None else ''}")
            time.sleep(0.1)
    try:
        yield proc, url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=20)


def wait_until_up(url: str, proc, timeout: float = 120) -> bool:
    """Poll ``url`` until it answers 200 (True), or ``proc`` exits or time runs out (False)."""
    import httpx

    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    return False


@contextlib.contextmanager
def awm_env_start(workdir: Path, scenario: str, env: dict[str, str], envs_file: str = "gen_envs_finance.jsonl"):
    """``awm env start --scenario S --envs_load_path F`` as a user runs it, in ``workdir``,
    on a free port; yields the MCP URL and checks on exit that no server is left behind."""
    import os
    import signal
    import subprocess
    import sys

    import httpx

    port = free_port()
    log = Path(workdir) / f"awm-env-{scenario}.log"  # a file, not a pipe: a full pipe would block the server
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "awm"), "env", "start", "--scenario", scenario,
         "--envs_load_path", envs_file, "--port", str(port)],
        cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=log.open("w"), start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    if not wait_until_up(f"{url}/openapi.json", proc):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        raise RuntimeError(f"awm env start did not come up: {log.read_text()[-2000:]}")
    try:
        yield f"{url}/mcp"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # awm runs the server via os.system: kill the group
        proc.wait(timeout=20)
        time.sleep(0.5)
        pids = subprocess.run(["pgrep", "-f", f"temp_server_{scenario}.py"], capture_output=True, text=True).stdout.split()
        leaked = [p for p in pids if os.path.exists(f"/proc/{p}") and os.readlink(f"/proc/{p}/cwd") == str(workdir)]
        assert not leaked, f"awm env start left its server running: {leaked}"
