"""Real servers on 127.0.0.1 for the end-to-end tests: an AWM export and the episode gateway
from the main package (its own venv: phinance-env is never imported here), and a scripted
OpenAI-compatible endpoint in this process."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

PACKAGE = Path(__file__).resolve().parents[1]
REPO = PACKAGE.parents[1]
BIN = Path(sys.executable).parent  # this package's venv: vf-eval, uv


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, proc: subprocess.Popen | None = None, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with code {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).is_success:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not come up in {timeout:.0f} s")
        time.sleep(0.2)


@pytest.fixture(scope="session")
def phinance_env_bin() -> Path:
    path = Path(os.environ.get("PHINANCE_ENV_BIN", REPO / ".venv" / "bin" / "phinance-env"))
    if not path.is_file():
        pytest.fail(f"no {path}: install the main package first (make install), or set PHINANCE_ENV_BIN")
    return path


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory, phinance_env_bin) -> Path:
    """A quick AWM export (2% of the tasks: one or two per template, both splits)."""
    out = tmp_path_factory.mktemp("awm") / "outputs"
    env = {**os.environ, "PHINANCE_GENERATE_SCALE": "0.02"}
    subprocess.run([str(phinance_env_bin), "export", "--out", str(out)], env=env, check=True,
                   stdout=subprocess.DEVNULL, timeout=900)
    return out


@pytest.fixture(scope="session")
def gateway_key() -> str:
    return secrets.token_urlsafe(16)


@pytest.fixture(scope="session")
def gateway(phinance_env_bin, data_dir, gateway_key, tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("gateway") / "gateway.log"
    env = {**os.environ, "PHINANCE_GATEWAY_API_KEY": gateway_key}
    with log.open("w") as out:
        proc = subprocess.Popen([str(phinance_env_bin), "gateway", "serve", "--port", str(port), "--data-dir",
                                 str(data_dir)], env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/health", proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def llm(data_dir):
    """The scripted endpoint (``tests/scripted_llm.py``) on a free 127.0.0.1 port."""
    import uvicorn
    from scripted_llm import scripted_llm

    port = free_port()
    app = scripted_llm(data_dir)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    wait_until_up(f"{url}/v1/models")
    yield url, app.state.scripts
    server.should_exit = True
    thread.join(timeout=30)


@pytest.fixture
def vf_eval(tmp_path, data_dir, gateway, gateway_key, llm):
    """Run verifiers' own evaluation entry point (the ``vf-eval`` console script) on the
    phinance taskset against the gateway and the scripted endpoint; returns the traces of
    its ``traces.jsonl``."""

    def run(*args: str) -> list[dict]:
        out = tmp_path / f"run{len(list(tmp_path.iterdir()))}"
        env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
               "PHINANCE_GATEWAY_API_KEY": gateway_key, "PRIME_RUNS_MODE": "disabled"}
        cmd = [str(BIN / "vf-eval"), "phinance", "--env.taskset.data-dir", str(data_dir),
               "--env.gateway-url", gateway, "--client.base-url", f"{llm[0]}/v1",
               "--client.api-key-var", "SCRIPTED_LLM_API_KEY", "--no-push", "--no-rich",
               "--output-dir", str(out), *args]
        proc = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=900)
        if proc.returncode != 0:
            raise AssertionError(f"vf-eval exited {proc.returncode}:\n{proc.stderr[-4000:]}")
        (traces_file,) = out.glob("*/traces.jsonl")
        return [t for line in traces_file.read_text().splitlines() if line.strip()
                for t in json.loads(line)["traces"]]

    return run
