"""Our daemon's authentication methods from Python (``auth=``): PEERCRED
on the Unix socket, SECRET from bytes and from a file. The exchanges are
the Rust client's; Python only names the methods."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator, Tuple

import pytest

import spread
import spread.aio
from conftest import Daemon, start_ring, stop_all

SECRET = b"the shared secret of the backup service"


@pytest.fixture(scope="module")
def auth_daemon() -> Iterator[Tuple[Daemon, Path]]:
    files = Path(tempfile.mkdtemp(prefix="spread-py-auth-"))
    secrets = files / "secrets"
    secrets.write_bytes(b"backup " + SECRET + b"\n")
    secrets.chmod(0o600)
    ds = start_ring(
        1,
        f'AllowedAuthMethods = "NULL PEERCRED SECRET"\nAllowUsers = {os.getuid()}\n'
        f"AuthSecretFile = {secrets}\n",
    )
    yield ds[0], files
    stop_all(ds)
    shutil.rmtree(files, ignore_errors=True)


def unix_name(d: Daemon, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SPREAD_SOCKET_DIR", str(d.directory))
    return str(d.port)


def test_peercred_on_the_unix_socket_only(auth_daemon: Tuple[Daemon, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    d, _ = auth_daemon
    assert spread.Auth.peercred().name == "PEERCRED"
    with spread.Session(unix_name(d, monkeypatch), "pc", auth=spread.Auth.peercred()) as s:
        assert s.private_group == "#pc#localhost"
    with pytest.raises(spread.RejectAuthError) as e:
        spread.Session(d.name, "pctcp", auth=spread.Auth.peercred())
    assert e.value.code == -9


def test_secret_from_bytes_and_from_a_file(auth_daemon: Tuple[Daemon, Path]) -> None:
    d, files = auth_daemon
    with spread.Session(d.name, "sec", auth=spread.Auth.secret("backup", SECRET)):
        pass
    with pytest.raises(spread.RejectAuthError):
        spread.Session(d.name, "wrong", auth=spread.Auth.secret("backup", "not the secret at all"))
    key = files / "client-secret"
    key.write_bytes(SECRET + b"\n")
    key.chmod(0o644)
    with pytest.raises(spread.RejectAuthError, match="chmod 600"):
        spread.Auth.secret_file("backup", key)
    key.chmod(0o600)
    # SpreadModule's connect, with two methods run in order.
    m = spread.connect(d.name, b"classic", auth=[spread.Auth.null(), spread.Auth.secret_file("backup", key)])
    m.disconnect()
    with pytest.raises(spread.RejectAuthError):
        spread.Auth.secret("not an identity", SECRET)
    with pytest.raises(TypeError):
        spread.Session(d.name, "bad", auth=["SECRET"])  # type: ignore[list-item]


def test_aio_session_takes_auth(auth_daemon: Tuple[Daemon, Path]) -> None:
    d, _ = auth_daemon

    async def main() -> str:
        async with spread.aio.Session(d.name, "aio", auth=spread.Auth.secret("backup", SECRET)) as s:
            return s.private_group

    assert asyncio.run(main()) == "#aio#localhost"
