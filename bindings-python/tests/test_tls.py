"""TLS to a daemon's TlsAddress from Python (``tls=spread.Tls(...)``),
with a client certificate the daemon requires; certificates made by
scripts/test-certs.sh (openssl). The TLS is the Rust client's."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator, Tuple

import pytest

import spread
import spread.aio
from conftest import REPO, Daemon, free_port, start_ring, stop_all


@pytest.fixture(scope="module")
def tls_daemon() -> Iterator[Tuple[Daemon, str, Path]]:
    if shutil.which("openssl") is None:
        pytest.skip("no openssl command to make certificates")
    files = Path(tempfile.mkdtemp(prefix="spread-py-tls-"))
    subprocess.run([str(REPO / "scripts" / "test-certs.sh"), str(files), "alice"], check=True)
    port = free_port()
    ds = start_ring(
        1,
        f"TlsAddress = 127.0.0.1:{port}\nTlsCertificateFile = {files / 'server.crt'}\n"
        f"TlsKeyFile = {files / 'server.key'}\nTlsClientCAFile = {files / 'ca.pem'}\n",
    )
    yield ds[0], f"{port}@127.0.0.1", files
    stop_all(ds)
    shutil.rmtree(files, ignore_errors=True)


def test_a_session_over_tls(tls_daemon: Tuple[Daemon, str, Path]) -> None:
    d, name, f = tls_daemon
    tls = spread.Tls(f / "ca.pem", cert_file=f / "alice.crt", key_file=f / "alice.key")
    with spread.Session(name, "py", tls=tls) as s, spread.Session(d.name, "plain") as plain:
        s.join("tls")
        plain.join("tls")
        # Both in the group before the message: it reaches both.
        while True:
            v = s.receive(timeout=5)
            assert v is not None
            if isinstance(v, spread.MembershipMessage) and len(v.members) == 2:
                break
        s.send("tls", b"over TLS")
        for who in (s, plain):
            while True:
                m = who.receive(timeout=5)
                assert m is not None
                if isinstance(m, spread.DataMessage):
                    assert m.data == b"over TLS"
                    break
    # SpreadModule's connect takes it too.
    m = spread.connect(name.encode(), b"classic", tls=tls)
    m.disconnect()


def test_asyncio_session_over_tls(tls_daemon: Tuple[Daemon, str, Path]) -> None:
    _, name, f = tls_daemon
    tls = spread.Tls(f / "ca.pem", cert_file=f / "alice.crt", key_file=f / "alice.key")

    async def run() -> None:
        async with spread.aio.Session(name, "aio", tls=tls) as s:
            await s.join("atls")
            await s.send("atls", b"x")
            while True:
                m = await s.receive(timeout=5)
                assert m is not None
                if isinstance(m, spread.DataMessage):
                    assert m.data == b"x"
                    return

    import asyncio

    asyncio.run(run())


def test_refusals_are_clear(tls_daemon: Tuple[Daemon, str, Path]) -> None:
    _, name, f = tls_daemon
    # No client certificate: the daemon requires one.
    with pytest.raises(spread.CouldNotConnectError) as e:
        spread.Session(name, "anon", tls=spread.Tls(f / "ca.pem"))
    assert "CertificateRequired" in str(e.value)
    # Another name than the certificate's.
    other = spread.Tls(f / "ca.pem", cert_file=f / "alice.crt", key_file=f / "alice.key", server_name="spread.example.org")
    with pytest.raises(spread.CouldNotConnectError) as e:
        spread.Session(name, "other", tls=other)
    assert "certificate" in str(e.value)
    # Bad files: at once, with their names.
    with pytest.raises(spread.CouldNotConnectError) as e:
        spread.Tls(f / "missing.pem")
    assert "missing.pem" in str(e.value)
    with pytest.raises(spread.CouldNotConnectError):
        spread.Tls(f / "ca.pem", cert_file=f / "alice.crt")
    with pytest.raises(TypeError):
        spread.Session(name, "bad", tls="yes")  # type: ignore[arg-type]
