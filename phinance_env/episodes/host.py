"""Where an episode's tools live: one app per worker, reused across episodes, with the
episode's state DB swapped in. ``asgi`` talks MCP in memory to fastapi-mcp, which calls the
app through httpx's ASGI transport (no sockets); ``mcp`` runs a real uvicorn server on a
free 127.0.0.1 port and a real MCP client over streamable HTTP."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Literal

from sqlalchemy.util import LRUCache

from phinance_env.episodes.protocol import ToolCatalog

Transport = Literal["asgi", "mcp"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_host(data, transport: Transport = "asgi"):
    """The host for a data folder: our in-process one when a registered desk serves its
    scenario, else the folder's own code (:class:`AwmCodeHost`, one server per episode)."""
    return EpisodeHost(data.scenario, transport) if data.served_by_desk else AwmCodeHost(data.full_code)


class EpisodeHost:
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
        self.mcp = FastApiMCP(self.app)
        self.url: str | None = None
        self._server = None
        self._compiled_sql = LRUCache(1_000)  # shared by the episodes' engines
        self._catalog: ToolCatalog | None = None
        if transport == "mcp":
            # The MCP server logs a closed SSE stream at every client disconnect: noise here.
            logging.getLogger("mcp.server.streamable_http").setLevel(logging.CRITICAL)
            self.mcp.mount_http()
            self._start_server()

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
        if self.pid != os.getpid():
            return False  # inherited through fork: its server thread did not come along
        return self.transport == "asgi" or (self._server is not None and self._server.started and not self._server.should_exit)

    @asynccontextmanager
    async def session(self, db_path: Path) -> AsyncIterator:
        """An MCP client session whose tools act on ``db_path`` for the episode's duration."""
        from mcp import ClientSession

        from phinance_env.state import state_engine

        engine = state_engine(db_path, synchronous="OFF", compiled_cache=self._compiled_sql)  # a disposable copy
        previous = self.app.state.ctx.use_engine(engine)
        previous.dispose()
        try:
            if self.transport == "asgi":
                from mcp.shared.memory import create_connected_server_and_client_session

                async with create_connected_server_and_client_session(self.mcp.server) as session:
                    yield session
            else:
                from mcp.client.streamable_http import streamablehttp_client

                async with streamablehttp_client(self.url) as (read, write, _):
                    async with ClientSession(read, write) as session:
                        await session.initialize()
                        yield session
        finally:
            engine.dispose()  # closes the file before the episode's final.db is read

    async def catalog(self, session) -> ToolCatalog:
        """The tools, listed once: this app's tools are the same in every episode."""
        if self._catalog is None:
            self._catalog = await ToolCatalog.fetch(session)
        return self._catalog

    def close(self) -> None:
        if self._server is not None:
            self._server.should_exit = True


class AwmCodeHost:
    """Any stock AWM environment (Option 2): its ``full_code`` rewritten the way
    ``awm env start`` does, run as a subprocess on a free 127.0.0.1 port per episode (the
    DB path is baked into the code), reached by a real MCP client, killed as a group."""

    transport = "mcp"

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
            deadline = time.time() + 60
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"environment server exited with code {proc.returncode}")
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                        break
                except OSError:
                    if time.time() > deadline:
                        raise RuntimeError("environment server did not start within 60 s") from None
                    await asyncio.sleep(0.05)
            async with streamablehttp_client(f"http://127.0.0.1:{port}/mcp") as (read, write, _):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    yield session
        finally:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=10)

    def close(self) -> None:
        pass
