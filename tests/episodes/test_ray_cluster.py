"""``rollout --backend ray --address`` against an existing cluster with token authentication:
a head from ``ray start --head`` held to 127.0.0.1 (make test-ray; needs the ray extra).

The head gets ``RAY_AUTH_MODE=token`` and a token file of its own (never ``~/.ray``), and
``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``, which makes Ray take 127.0.0.1 as the node address:
without it ``ray start`` swaps ``--node-ip-address 127.0.0.1`` for the machine's network
address and its servers listen on every interface. It runs in a session of its own and is
stopped by that session's process group (``ray stop`` would stop every Ray on the machine)."""

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

pytest.importorskip("ray")
pytestmark = [pytest.mark.ray, pytest.mark.slow, pytest.mark.integration]

BIN = Path(sys.executable).parent
CLI = str(BIN / "phinance-env")
START_TIMEOUT_S = 90
RAY_ENV = ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH", "RAY_ADDRESS", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without any Ray setting of the caller's, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in RAY_ENV}
    return env | extra


def session_pids(sid: int) -> set[int]:
    pids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getsid(int(entry.name)) == sid:
                    pids.add(int(entry.name))
            except OSError:
                pass
    return pids


def listening(pids: set[int]) -> list[tuple[str, int]]:
    """(address, port) of every TCP socket the processes listen on, from /proc."""
    inodes = set()
    for pid in pids:
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                link = os.readlink(fd)
                if link.startswith("socket:["):
                    inodes.add(link[8:-1])
        except OSError:
            pass
    found = []
    for table, width in (("/proc/net/tcp", 4), ("/proc/net/tcp6", 16)):
        for line in Path(table).read_text().splitlines()[1:]:
            cols = line.split()
            if cols[3] == "0A" and cols[9] in inodes:  # 0A: LISTEN
                addr, port = cols[1].split(":")
                raw = bytes.fromhex(addr)
                if width == 4:
                    ip = socket.inet_ntop(socket.AF_INET, raw[::-1])
                else:  # four little-endian 32-bit words
                    ip = socket.inet_ntop(socket.AF_INET6, b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4)))
                found.append((ip, int(port, 16)))
    return found


def is_loopback(ip: str) -> bool:
    return ip.startswith("127.") or ip in ("::1", "::ffff:127.0.0.1") or ip.startswith("::ffff:127.")


@contextmanager
def ray_head():
    """A Ray head on 127.0.0.1 with token authentication: (address, token file, session id)."""
    root = Path(tempfile.mkdtemp(prefix="phray", dir="/tmp"))  # short: Ray's socket paths are length-limited
    token = root / "auth_token"
    token.write_text(secrets.token_hex(16))
    token.chmod(0o600)
    port = free_port()
    log = (root / "head.log").open("w")
    env = clean_env(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN_PATH=str(token), RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0",
                    RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S="0", RAY_USAGE_STATS_ENABLED="0")
    proc = subprocess.Popen([str(BIN / "ray"), "start", "--head", "--block", "--node-ip-address", "127.0.0.1",
                             "--port", str(port), "--include-dashboard", "false", "--dashboard-host", "127.0.0.1",
                             "--temp-dir", str(root / "ray"), "--num-cpus", "2", "--disable-usage-stats"],
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while "Ray runtime started" not in (root / "head.log").read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"ray start --head did not come up:\n{(root / 'head.log').read_text()[-3000:]}")
            time.sleep(0.5)
        yield f"127.0.0.1:{port}", token, proc.pid
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)  # the head's session: its GCS, raylet and workers
            proc.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
        deadline = time.monotonic() + 15
        while session_pids(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.5)
        for pid in session_pids(proc.pid):  # whatever did not stop on SIGTERM
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        log.close()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def head():
    with ray_head() as running:
        yield running


def cli_rollout(address: str, out: Path, data_dir: str, *args: str, env: dict | None = None, timeout: float = 240):
    return subprocess.run([CLI, "rollout", "--backend", "ray", "--address", address, "--data-dir", data_dir,
                           "--out", str(out), *args], env=env or clean_env(), capture_output=True, text=True,
                          timeout=timeout)


def one_line(text: str) -> str:
    return " ".join(text.split())


def test_the_head_listens_on_loopback_only(head):
    _, _, sid = head
    sockets = listening(session_pids(sid))
    assert sockets, "no listening sockets found for the head's processes"
    assert all(is_loopback(ip) for ip, _ in sockets), sockets


def test_a_rollout_runs_on_the_cluster_with_its_token(head, data_dir, tmp_path):
    address, token, sid = head
    driver = subprocess.Popen([CLI, "rollout", "--backend", "ray", "--address", address, "--data-dir", data_dir,
                               "--out", str(tmp_path / "oracle"), "--tasks", "0,3,10", "--repeats", "2",
                               "--ray-token-file", str(token)],
                              env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen: set[tuple[str, int]] = set()
    driver_seen: set[tuple[str, int]] = set()
    deadline = time.monotonic() + 240
    while driver.poll() is None and time.monotonic() < deadline:  # every socket opened while it runs
        mine = listening({driver.pid})
        driver_seen |= set(mine)
        seen |= set(mine) | set(listening(session_pids(sid)))
        time.sleep(0.2)
    stdout, stderr = driver.communicate(timeout=10)
    assert driver.returncode == 0, stderr[-3000:]
    assert driver_seen and seen and all(is_loopback(ip) for ip, _ in seen), (driver_seen, seen)
    print(f"listening while the rollout ran: driver {sorted(driver_seen)}, head {len(seen - driver_seen)} sockets")
    rows = [json.loads(line) for line in (tmp_path / "oracle" / "rollouts.jsonl").read_text().splitlines()]
    assert sorted((r["task_id"], r["repeat"], r["reward"]) for r in rows) == \
           [(t, r, 1.0) for t in (0, 3, 10) for r in (0, 1)], [r["error"] for r in rows]
    assert "6 episodes: success 1.000" in stdout
    # The episodes ran in the cluster's workers: Ray marks each task a worker runs in the
    # worker's log, in the head's own temp dir.
    logs = token.parent / "ray" / "session_latest" / "logs"
    marked = [p for p in logs.glob("worker-*.out") if ":task_name:episode_job" in p.read_text()]
    assert marked, sorted(p.name for p in logs.iterdir())
    # The token also arrives through Ray's own variables, and the null policy scores 0.
    null = cli_rollout(address, tmp_path / "null", data_dir, "--tasks", "0,3", "--policy", "null", "--keep", "none",
                       env=clean_env(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN_PATH=str(token)))
    assert null.returncode == 0, null.stderr[-3000:]
    assert "2 episodes: success 0.000" in null.stdout
    assert [p.name for p in (tmp_path / "null").iterdir()] == ["rollouts.jsonl"]


@pytest.mark.parametrize("token", ["missing", "wrong"])
def test_a_refused_token_is_a_clear_error(head, data_dir, tmp_path, token):
    address, _, _ = head
    args = []
    if token == "wrong":
        (tmp_path / "wrong_token").write_text(secrets.token_hex(16))
        args = ["--ray-token-file", str(tmp_path / "wrong_token")]
    started = time.monotonic()
    failed = cli_rollout(address, tmp_path / "out", data_dir, "--tasks", "0", *args, timeout=120)
    seconds = time.monotonic() - started
    message = one_line(failed.stderr)
    assert failed.returncode == 2, failed.stderr[-3000:]
    assert f"error: could not connect to the Ray cluster at {address}" in message
    assert "--ray-token-file" in message and "ray get-auth-token" in message
    if token == "missing":
        assert "this client sent no token" in message
    else:
        assert "sent the token from $RAY_AUTH_TOKEN_PATH (is it the head's?)" in message
    assert "Traceback" not in failed.stderr
    print(f"{token} token refused after {seconds:.1f} s: {message}")


def test_no_cluster_at_the_address_fails_fast(data_dir, tmp_path):
    started = time.monotonic()
    failed = cli_rollout(f"127.0.0.1:{free_port()}", tmp_path / "out", data_dir, "--tasks", "0", timeout=120)
    message = one_line(failed.stderr)
    assert failed.returncode == 2 and "error: no Ray cluster answers at 127.0.0.1:" in message, failed.stderr[-3000:]
    assert "check the address" in message and time.monotonic() - started < 60
    missing = cli_rollout("127.0.0.1:1", tmp_path / "out", data_dir, "--ray-token-file", str(tmp_path / "nope"))
    assert missing.returncode == 2 and "--ray-token-file" in one_line(missing.stderr) and "no such file" in missing.stderr
