"""Fixtures that start real ``spread`` daemons (the workspace's build) on
loopback for the tests, and stop them afterwards."""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Iterator, List, Optional

import pytest

REPO = Path(__file__).resolve().parents[2]

# The fast membership profile: a lost daemon is noticed in about 0.5 s.
FAST = (
    "TokenTimeout = 200\nHurryTimeout = 80\nAliveTimeout = 40\nJoinTimeout = 40\n"
    "RepTimeout = 120\nSegTimeout = 80\nGatherTimeout = 150\nFormTimeout = 200\n"
    "LookupTimeout = 5000\n"
)


def daemon_binary() -> Path:
    env = os.environ.get("SPREAD_DAEMON_BIN")
    if env:
        return Path(env)
    for profile in ("debug", "release"):
        p = REPO / "target" / profile / "spread"
        if p.exists():
            return p
    message = "no spread daemon binary: run `cargo build -p spread-daemon --bins` or set SPREAD_DAEMON_BIN"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_listening(host: str, port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"daemon exited with {proc.returncode}: {log.read_text()}")
        try:
            socket.create_connection((host, port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"daemon did not start: {log.read_text()}")


class Daemon:
    """One daemon process; ``name`` is what clients pass as ``daemon``."""

    def __init__(self, binary: Path, directory: Path, name: str, ip: str, port: int) -> None:
        self.directory = directory
        self.log = directory / "daemon.log"
        self.ip = ip
        self.port = port
        self.name = f"{port}@{ip}"
        with open(self.log, "ab") as log:
            # The socket in the daemon's own directory, not /tmp/<port>;
            # like /tmp it is sticky and writable by all, so that a daemon
            # started as root (which then becomes DaemonUser) removes it.
            directory.chmod(0o1777)
            self.proc: subprocess.Popen[bytes] = subprocess.Popen(
                [str(binary), "-n", name, "-c", "spread.conf"],
                cwd=directory,
                env={**os.environ, "SPREAD_SOCKET_DIR": str(directory)},
                stdout=subprocess.DEVNULL,
                stderr=log,
            )

    def wait(self) -> None:
        wait_listening(self.ip, self.port, self.proc, self.log)

    def kill9(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.kill9()


def start_ring(n: int, extra: str = "") -> List[Daemon]:
    binary = daemon_binary()
    root = Path(tempfile.mkdtemp(prefix="spread-py-"))
    port = free_port()
    if n == 1:
        ips = ["127.0.0.1"]
        names = ["localhost"]
        segment = "127.0.0.255"
    else:
        subnet = random.randint(10, 250)
        ips = [f"127.0.{subnet}.{i}" for i in range(1, n + 1)]
        names = [f"d{i}" for i in range(1, n + 1)]
        segment = f"127.0.{subnet}.255"
    members = "".join(
        f"\t{name} {ip} {{ D {ip} C {ip} }}\n" if n > 1 else f"\t{name} {ip}\n" for name, ip in zip(names, ips)
    )
    daemons = []
    for name, ip in zip(names, ips):
        d = root / name
        d.mkdir()
        (d / "spread.conf").write_text(
            f"Spread_Segment {segment}:{port} {{\n{members}}}\nRuntimeDir = {d}\n{extra}\n"
        )
        daemons.append(Daemon(binary, d, name, ip, port))
    try:
        for d in daemons:
            d.wait()
    except Exception:
        for d in daemons:
            d.stop()
        raise
    return daemons


def stop_all(daemons: List[Daemon]) -> None:
    for d in daemons:
        d.stop()
    shutil.rmtree(daemons[0].directory.parent, ignore_errors=True)


@pytest.fixture(scope="session")
def daemon() -> Iterator[Daemon]:
    """One daemon for the whole run; tests use groups of their own."""
    ds = start_ring(1)
    yield ds[0]
    stop_all(ds)


@pytest.fixture
def fresh_daemon() -> Iterator[Daemon]:
    ds = start_ring(1)
    yield ds[0]
    stop_all(ds)


@pytest.fixture
def ring3() -> Iterator[List[Daemon]]:
    ds = start_ring(3, FAST)
    yield ds
    stop_all(ds)


_counter = 0


@pytest.fixture
def group(request: pytest.FixtureRequest) -> str:
    """A group name no other test uses."""
    global _counter
    _counter += 1
    return f"g{_counter}_{request.node.name[:16]}".replace("[", "_").replace("]", "_")


def wait_for(predicate, timeout: float = 5.0, what: str = "condition") -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


