"""Where an episode's tools live: one app per scenario and process (:func:`shared_host`),
serving any number of concurrent episodes, each bound to its own state DB. ``asgi`` talks
MCP in memory to fastapi-mcp, which calls the app through httpx's ASGI transport (no
sockets); ``mcp`` runs a real uvicorn server on a free 127.0.0.1 port and a real MCP client
over streamable HTTP.

How a call finds its episode's DB: an ``asgi`` session sets the app's episode engine (a
context variable) in the task that runs it, and the in-memory server's tasks inherit it; an
HTTP session sends ``x-phinance-episode: <key>``, which fastapi-mcp forwards to every tool
call, and a middleware binds the DB registered under that key (:meth:`EpisodeHost.bind`).
"""

from __future__ import annotations

import datetime as dt

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Literal

from phinance_env.episodes.protocol import ToolCatalog

Transport = Literal["asgi", "mcp"]
EPISODE_HEADER = "x-phinance-episode"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_host(data, transport: Transport = "asgi"):
    """The host for a data folder: the process's shared one when a registered desk serves
    its scenario, else the folder's own code (:class:`AwmCodeHost`, one server per episode)."""
    return shared_host(data.scenario, transport) if data.served_by_desk else AwmCodeHost(data.full_code)


_SHARED: dict[tuple, "EpisodeHost"] = {}
_SHARED_LOCK = threading.Lock()


def shared_host(scenario: str, transport: Transport = "asgi", bar_store_path: str | Path | None = None) -> "EpisodeHost":
    """This process's host for ``scenario``: built once (an app, its model caches), then
    handed to every episode, env and server that asks. Episodes stay isolated: each binds
    its own state DB."""
    key = (scenario, transport, str(bar_store_path))
    host = _SHARED.get(key)
    if host is None or not host.alive:
        with _SHARED_LOCK:
            host = _SHARED.get(key)
            if host is None or not host.alive:  # none yet, closed, or inherited through fork
                host = _SHARED[key] = EpisodeHost(scenario, transport, bar_store_path)
    return host


class _BindEpisode:
    """ASGI middleware: a request carrying the episode header acts on that episode's DB.
    An unknown key is refused: falling back to another DB would mix episodes."""

    def __init__(self, app, bound: dict):
        self.app, self.bound = app, bound

    async def __call__(self, scope, receive, send):
        from phinance_env.app.context import EPISODE_DB

        if scope["type"] == "http":
            key = next((v for k, v in scope["headers"] if k == EPISODE_HEADER.encode()), None)
            if key is not None:
                db = self.bound.get(key.decode("latin-1"))
                if db is None:
                    from starlette.responses import JSONResponse

                    detail = "this episode has ended or never existed: start a new one"
                    return await JSONResponse({"detail": detail}, status_code=410)(scope, receive, send)
                token = EPISODE_DB.set(db)
                try:
                    return await self.app(scope, receive, send)
                finally:
                    EPISODE_DB.reset(token)
        await self.app(scope, receive, send)


class EpisodeHost:
    """One scenario's app, MCP server and caches, shared by concurrent episodes."""

    def __init__(self, scenario: str, transport: Transport = "asgi", bar_store_path: str | Path | None = None):
        from fastapi_mcp import FastApiMCP
        from sqlalchemy import create_engine

        from phinance_env.app.factory import create_app

        if transport not in ("asgi", "mcp"):
            raise ValueError(f"transport {transport!r}: use asgi or mcp")
        self.transport = transport
        self.pid = os.getpid()  # a forked worker must not reuse its parent's host
        logging.getLogger("fastapi_mcp.server").setLevel(logging.CRITICAL)  # tool errors are data here
        self.app = create_app(create_engine("sqlite://"), scenario, bar_store_path)
        self.scenario = self.app.state.desk.name
        self._bound: dict[str, str] = {}  # episode key -> its state DB file
        self.app.add_middleware(_BindEpisode, bound=self._bound)
        from phinance_env.app.offload import Offload

        self.app.state.ctx.offload = Offload()  # a seconds-long backtest must not stall the other episodes
        self.mcp = FastApiMCP(self.app, headers=["authorization", EPISODE_HEADER])
        self.url: str | None = None
        self._server = None
        self._closed = False
        self._catalog: ToolCatalog | None = None
        if transport == "mcp":
            # The MCP server logs a closed SSE stream at every client disconnect: noise here.
            logging.getLogger("mcp.server.streamable_http").setLevel(logging.CRITICAL)
            from phinance_env.app.serve import mount_mcp

            mount_mcp(self.app, self.mcp)  # its session manager starts with the server: many first clients at once
            self._start_server()

    def bind(self, db_path: str | Path) -> str:
        """Register ``db_path`` for HTTP sessions; requests with ``x-phinance-episode: <key>``
        act on it until :meth:`unbind`. The key is random: one client cannot guess another's."""
        key = secrets.token_urlsafe(16)
        self._bound[key] = str(db_path)
        return key

    def unbind(self, key: str) -> None:
        self._bound.pop(key, None)

    @property
    def bound(self) -> int:
        """Episodes bound over HTTP right now."""
        return len(self._bound)

    def _start_server(self) -> None:
        import uvicorn

        port = free_port()
        self._server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=port, log_level="error"))
        thread = threading.Thread(target=self._server.run, daemon=True, name="phinance-episode-server")
        thread.start()
        deadline = time.time() + 60
        while not self._server.started:
            if time.time() > deadline or not thread.is_alive():
                raise RuntimeError("episode server did not start")
            time.sleep(0.01)
        self.url = f"http://127.0.0.1:{port}/mcp"

    @property
    def alive(self) -> bool:
        if self.pid != os.getpid() or self._closed:
            return False  # closed, or inherited through fork: its server thread did not come along
        return self.transport == "asgi" or (self._server is not None and self._server.started and not self._server.should_exit)

    @asynccontextmanager
    async def session(self, db_path: Path) -> AsyncIterator:
        """An MCP client session whose tools act on ``db_path`` while it is open; other
        sessions on this host run at the same time on their own DBs."""
        from mcp import ClientSession

        from phinance_env.app.context import EPISODE_DB

        if self.transport == "asgi":
            from mcp.shared.memory import create_connected_server_and_client_session

            token = EPISODE_DB.set(str(db_path))  # the server's tasks start below and inherit it
            try:
                async with create_connected_server_and_client_session(self.mcp.server) as session:
                    yield session
            finally:
                EPISODE_DB.reset(token)
        else:
            from mcp.client.streamable_http import streamablehttp_client

            key = self.bind(db_path)
            try:
                async with streamablehttp_client(self.url, headers={EPISODE_HEADER: key}) as (read, write, _):
                    async with ClientSession(read, write) as session:
                        await session.initialize()
                        yield session
            finally:
                self.unbind(key)

    @property
    def known_tools(self) -> ToolCatalog | None:
        """The tool catalog once a session has listed it (the same in every episode)."""
        return self._catalog

    async def catalog(self, session) -> ToolCatalog:
        """The tools, listed once: this app's tools are the same in every episode."""
        if self._catalog is None:
            self._catalog = await ToolCatalog.fetch(session)
        return self._catalog

    def close(self) -> None:
        """Stop the server (``mcp``); the process's shared host registry forgets this one."""
        self._closed = True
        self.app.state.ctx.offload.close()
        if self._server is not None:
            self._server.should_exit = True


class AwmCodeHost:
    """Any stock AWM environment (Option 2): its ``full_code`` rewritten the way
    ``awm env start`` does, run as a subprocess on a free 127.0.0.1 port per episode (the
    DB path is baked into the code), reached by a real MCP client, killed as a group."""

    transport = "mcp"
    known_tools = None  # a foreign environment: listed by every session

    def __init__(self, full_code: str):
        self.full_code = full_code
        self.pid = os.getpid()

    @property
    def alive(self) -> bool:
        return self.pid == os.getpid()

    async def catalog(self, session) -> ToolCatalog:
        return await ToolCatalog.fetch(session)  # a foreign environment: ask every time

    def code_for(self, db_path: Path, port: int) -> str:
        out = ["import warnings", 'warnings.filterwarnings("ignore", category=DeprecationWarning)']
        for line in self.full_code.split("\n"):
            if "create_engine(" in line:
                left = line.split("create_engine(")[0]
                line = f"{left}create_engine('sqlite:///{db_path}', connect_args={{'check_same_thread': False}})"
            if "uvicorn.run(app" in line:
                out += ["    from fastapi_mcp import FastApiMCP", "    FastApiMCP(app).mount_http()"]
                line = f"    uvicorn.run(app, host='127.0.0.1', port={port}, log_level='error')"
            out.append(line)
        return "\n".join(out)

    @asynccontextmanager
    async def session(self, db_path: Path) -> AsyncIterator:
        import asyncio
        import signal
        import subprocess
        import sys

        from mcp import ClientSession
        from mcp.client.streamable_http import streamablehttp_client

        port = free_port()
        script = Path(db_path).with_name("server.py")
        script.write_text(self.code_for(Path(db_path).resolve(), port))
        proc = subprocess.Popen([sys.executable, str(script)], cwd=script.parent, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            await _until_serving(proc, port)
            async with streamablehttp_client(f"http://127.0.0.1:{port}/mcp", timeout=30) as (read, write, _):
                async with ClientSession(read, write, read_timeout_seconds=dt.timedelta(seconds=READ_TIMEOUT_S)) as session:
                    await asyncio.wait_for(session.initialize(), READ_TIMEOUT_S)
                    yield session
        finally:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=10)

    def close(self) -> None:
        pass


READ_TIMEOUT_S = 60  # no MCP request to a foreign server waits longer (a stuck server fails the episode)


async def _until_serving(proc, port: int, timeout: float = 60) -> None:
    """Wait until the server subprocess answers HTTP on ``port``. An HTTP answer, not a bare
    TCP connect: connecting to a loopback port nobody listens on yet can succeed against
    itself (a TCP self-connect when the kernel picks that same port as the local one), and a
    client then waits on a server that is not there."""
    import asyncio

    import httpx

    deadline = time.time() + timeout
    async with httpx.AsyncClient(timeout=2) as client:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"environment server exited with code {proc.returncode}")
            try:
                await client.get(f"http://127.0.0.1:{port}/openapi.json")
                return
            except httpx.HTTPError:
                if time.time() > deadline:
                    raise RuntimeError(f"environment server did not answer within {timeout:.0f} s") from None
                await asyncio.sleep(0.05)
