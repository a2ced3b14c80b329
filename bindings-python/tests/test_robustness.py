"""Bad input, signals and threads: a clear exception, never a crash."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time

import pytest

import spread
from spread import Session

BLOCKER = """
import sys, spread
api, daemon = sys.argv[1], sys.argv[2]
if api == "classic":
    m = spread.connect(daemon, b"blk", membership=0)
    print("ready", flush=True)
    m.receive()
else:
    s = spread.Session(daemon, "blk2", membership=False)
    print("ready", flush=True)
    s.receive()
"""


@pytest.mark.parametrize("api", ["classic", "session"])
def test_ctrl_c_interrupts_a_blocking_receive(daemon, api) -> None:
    p = subprocess.Popen(
        [sys.executable, "-c", BLOCKER, api, daemon.name],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert p.stdout is not None and p.stdout.readline() == "ready\n"
    time.sleep(0.2)
    t0 = time.monotonic()
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=10)
    assert time.monotonic() - t0 < 2.0  # the receive looks for signals every 0.1 s
    assert "KeyboardInterrupt" in err and p.returncode != 0


def test_disconnect_from_another_thread_wakes_a_receive(daemon) -> None:
    m = spread.connect(daemon.name, b"wake", membership=0)
    errors = []

    def receive() -> None:
        try:
            m.receive()
        except spread.error as e:
            errors.append(e)

    t = threading.Thread(target=receive)
    t.start()
    time.sleep(0.2)
    m.disconnect()
    t.join(5)
    assert not t.is_alive()
    assert len(errors) == 1 and errors[0].args[0] == spread.ILLEGAL_SESSION


def test_wrong_types_raise_type_errors(daemon) -> None:
    m = spread.connect(daemon.name, b"types")
    with pytest.raises(TypeError):
        m.join(5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        m.join(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        m.multicast("agreed", b"g", b"x")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        m.multicast(spread.AGREED_MESS, b"g", 12)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        m.multicast(spread.AGREED_MESS, b"g", object())  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        m.multigroup_multicast(spread.AGREED_MESS, (b"g", 3), b"x")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        m.multicast(spread.AGREED_MESS, b"g", b"x", 1 << 20)
    with pytest.raises(TypeError):
        spread.connect(4803)  # type: ignore[arg-type]
    s = Session(daemon.name, "types2")
    with pytest.raises(ValueError):
        s.receive(timeout=-1)
    with pytest.raises(TypeError):
        s.send(None, b"x")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        s.send([], b"x")
    s.close()
    # After all that the mailbox still works.
    m.join(b"types_ok")
    assert isinstance(m.receive(), spread.MembershipMsg)
    m.disconnect()


@pytest.mark.parametrize(
    "name", [b"", b"has space", b"x" * 32, b"nul\x00byte", "caf\u00e9", b"caf\xe9", b"tab\tname"]
)
def test_illegal_group_names(daemon, name) -> None:
    m = spread.connect(daemon.name, b"illegal", membership=0)
    with pytest.raises(spread.error) as e:
        m.join(name)
    assert e.value.args[0] == spread.ILLEGAL_GROUP
    with pytest.raises(spread.IllegalGroupError):
        m.leave(name)
    m.disconnect()


def test_illegal_private_names(daemon) -> None:
    for bad in (b"a b", b"#x", "\u00e9t\u00e9", b"\xe9t\xe9", b"nul\x00"):
        with pytest.raises(spread.RejectIllegalNameError):
            spread.connect(daemon.name, bad)
    with pytest.raises(spread.IllegalSpreadError):
        spread.connect(daemon.name + "\x00")


def test_no_daemon_there() -> None:
    with pytest.raises(spread.CouldNotConnectError):
        spread.connect(b"1@127.0.0.1")
    with pytest.raises(spread.CouldNotConnectError):
        Session("/nonexistent/socket/4803")
    with pytest.raises(spread.IllegalSpreadError):
        Session("4803@no.such.host.invalid")


def test_a_dead_daemon_is_an_error_not_a_crash(fresh_daemon) -> None:
    s = Session(fresh_daemon.name, "dead")
    m = spread.connect(fresh_daemon.name, b"dead2")
    fresh_daemon.kill9()
    with pytest.raises(spread.ConnectionClosedError):
        s.receive(timeout=5)
    with pytest.raises(spread.error):
        m.receive()
    with pytest.raises(spread.error):
        for _ in range(100):  # the first sends may still fit the socket
            s.send("g", b"x")
    with pytest.raises(spread.error):
        m.receive()
