"""SpreadModule's API, as programs written for SpreadModule 1.6 use it."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import pytest

import spread

HERE = Path(__file__).parent


def membership(mbox: spread.Mailbox) -> spread.MembershipMsg:
    msg = mbox.receive()
    assert isinstance(msg, spread.MembershipMsg), msg
    return msg


def regular(mbox: spread.Mailbox) -> spread.RegularMsg:
    msg = mbox.receive()
    assert isinstance(msg, spread.RegularMsg), msg
    return msg


def test_module_surface() -> None:
    assert spread.version() == (5, 0, 1)
    assert spread.MailboxType is spread.Mailbox
    assert spread.RegularMsgType is spread.RegularMsg
    assert spread.MembershipMsgType is spread.MembershipMsg
    assert spread.DEFAULT_BUFFER_SIZE == 10000 and spread.DEFAULT_GROUPS_SIZE == 10
    # Every sp.h number, with sp.h's values.
    expected = {
        "LOW_PRIORITY": 0, "MEDIUM_PRIORITY": 1, "HIGH_PRIORITY": 2, "DEFAULT_SPREAD_PORT": 4803,
        "SPREAD_VERSION": 0x05000001, "MAX_GROUP_NAME": 32, "MAX_PRIVATE_NAME": 10, "MAX_PROC_NAME": 20,
        "UNRELIABLE_MESS": 0x1, "RELIABLE_MESS": 0x2, "FIFO_MESS": 0x4, "CAUSAL_MESS": 0x8,
        "AGREED_MESS": 0x10, "SAFE_MESS": 0x20, "REGULAR_MESS": 0x3F, "SELF_DISCARD": 0x40,
        "DROP_RECV": 0x01000000, "REG_MEMB_MESS": 0x1000, "TRANSITION_MESS": 0x2000,
        "CAUSED_BY_JOIN": 0x100, "CAUSED_BY_LEAVE": 0x200, "CAUSED_BY_DISCONNECT": 0x400,
        "CAUSED_BY_NETWORK": 0x800, "MEMBERSHIP_MESS": 0x3F00, "ENDIAN_RESERVED": 0x80000080,
        "RESERVED": 0x003FC000, "REJECT_MESS": 0x00400000, "ACCEPT_SESSION": 1,
        "ILLEGAL_SPREAD": -1, "COULD_NOT_CONNECT": -2, "REJECT_QUOTA": -3, "REJECT_NO_NAME": -4,
        "REJECT_ILLEGAL_NAME": -5, "REJECT_NOT_UNIQUE": -6, "REJECT_VERSION": -7,
        "CONNECTION_CLOSED": -8, "REJECT_AUTH": -9, "ILLEGAL_SESSION": -11, "ILLEGAL_SERVICE": -12,
        "ILLEGAL_MESSAGE": -13, "ILLEGAL_GROUP": -14, "BUFFER_TOO_SHORT": -15,
        "GROUPS_TOO_SHORT": -16, "MESSAGE_TOO_LONG": -17, "NET_ERROR_ON_SESSION": -18,
        "SP_BUG": -19, "ILLEGAL_TIME": -20, "MAX_CLIENT_SCATTER_ELEMENTS": 100,
    }
    for name, value in expected.items():
        assert getattr(spread, name) == value, name
    assert issubclass(spread.error, Exception)


def test_connect_arguments(daemon) -> None:
    m = spread.connect(daemon.name.encode(), b"pos1", 0, 1)
    assert m.private_group == b"#pos1#localhost"
    m.disconnect()
    m = spread.connect(daemon=daemon.name.encode(), name=b"kw1", priority=0, membership=0)
    assert m.private_group == b"#kw1#localhost"
    m.disconnect()
    m = spread.connect(daemon.name, "str1")  # str is accepted too
    assert m.private_group == b"#str1#localhost"
    m.disconnect()
    m = spread.connect(daemon.name)  # no name: the daemon picks one
    assert m.private_group.startswith(b"#") and m.private_group.endswith(b"#localhost")
    m.disconnect()
    with pytest.raises(TypeError):
        spread.connect(daemon.name, bogus=1)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        spread.connect(daemon.name, b"x", "high")  # type: ignore[arg-type]


def test_connect_errors_carry_code_and_message(daemon) -> None:
    first = spread.connect(daemon.name, b"dup1")
    with pytest.raises(spread.error) as e:
        spread.connect(daemon.name, b"dup1")
    assert e.value.args[0] == spread.REJECT_NOT_UNIQUE
    assert isinstance(e.value.args[1], str) and "unique" in e.value.args[1]
    first.disconnect()
    with pytest.raises(spread.error) as e:
        spread.connect(b"4803@")
    assert e.value.args[0] == spread.ILLEGAL_SPREAD


def test_join_multicast_receive(daemon, group) -> None:
    a = spread.connect(daemon.name, b"ca")
    b = spread.connect(daemon.name, b"cb")
    a.join(group.encode())
    m = membership(a)
    assert m.reason == spread.CAUSED_BY_JOIN
    assert m.group == group.encode()
    assert m.members == (b"#ca#localhost",)
    assert m.extra == (b"#ca#localhost",)
    assert m.changed_member == b"#ca#localhost"
    assert m.msg_subtype == spread.REG_MEMB_MESS
    assert m.orig_members == ((b"#ca#localhost",),)
    assert isinstance(m.group_id, spread.GroupId)
    first_gid = m.group_id
    b.join(group)
    for mbox in (a, b):
        m = membership(mbox)
        assert m.reason == spread.CAUSED_BY_JOIN
        assert m.members == (b"#ca#localhost", b"#cb#localhost")
        assert m.changed_member == b"#cb#localhost"
    assert m.group_id != first_gid
    assert m.group_id == pickle.loads(pickle.dumps(m.group_id))
    assert repr(m.group_id).startswith("<group_id ")

    n = a.multicast(spread.SAFE_MESS, group.encode(), b"hello", 7)
    assert n == 5
    for mbox in (a, b):
        r = regular(mbox)
        assert (r.sender, r.groups, r.message, r.msg_type, r.endian) == (
            b"#ca#localhost", (group.encode(),), b"hello", 7, 0)
        assert r.service_type & spread.SAFE_MESS
    # Default message_type is 0; str data is sent as UTF-8.
    assert a.multicast(spread.AGREED_MESS, group, "héllo") == len("héllo".encode())
    assert regular(b).message == "héllo".encode() and regular(a).msg_type == 0

    # SELF_DISCARD: the sender does not get its own message.
    a.multicast(spread.FIFO_MESS | spread.SELF_DISCARD, group.encode(), b"not for a")
    assert regular(b).message == b"not for a"
    assert a.poll() == 0

    b.leave(group.encode())
    gone = membership(b)
    assert gone.reason == spread.CAUSED_BY_LEAVE and gone.msg_subtype == 0 and gone.group_id is None
    m = membership(a)
    assert m.reason == spread.CAUSED_BY_LEAVE and m.members == (b"#ca#localhost",)
    assert m.changed_member == b"#cb#localhost"
    b.disconnect()
    a.disconnect()


def test_disconnect_shows_up_as_disconnect(daemon, group) -> None:
    a = spread.connect(daemon.name, b"da")
    b = spread.connect(daemon.name, b"db")
    a.join(group)
    membership(a)
    b.join(group)
    membership(a), membership(b)
    b.disconnect()
    m = membership(a)
    assert m.reason == spread.CAUSED_BY_DISCONNECT and m.extra == (b"#db#localhost",)
    a.disconnect()


def test_multigroup_multicast(daemon, group) -> None:
    a = spread.connect(daemon.name, b"mg", membership=0)
    groups = tuple(f"{group[:20]}_{i}".encode() for i in range(3))
    for g in groups:
        a.join(g)
    # Membership messages are off: the first thing received is data.
    assert a.multigroup_multicast(spread.AGREED_MESS, groups, b"to three", 3) == 8
    r = regular(a)
    assert r.groups == groups and r.msg_type == 3
    with pytest.raises(TypeError):
        a.multigroup_multicast(spread.AGREED_MESS, list(groups), b"x")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        a.multigroup_multicast(spread.AGREED_MESS, (), b"x")
    a.disconnect()


def test_buffers_grow_for_large_messages_and_groups(daemon, group) -> None:
    a = spread.connect(daemon.name, b"big", membership=0)
    a.join(group)
    body = bytes(range(256)) * 400  # 102,400 bytes
    assert a.multicast(spread.RELIABLE_MESS, group, body) == len(body)
    assert regular(a).message == body
    groups = tuple(f"{group[:20]}-{i}".encode() for i in range(100))
    for g in groups:
        a.join(g)
    a.multigroup_multicast(spread.AGREED_MESS, groups, b"to a hundred")
    r = regular(a)
    assert r.groups == groups and len(r.groups) == 100
    a.disconnect()


def test_a_hundred_members(daemon, group) -> None:
    watcher = spread.connect(daemon.name, b"w100")
    watcher.join(group)
    membership(watcher)
    members = [spread.connect(daemon.name, f"m{i}".encode(), membership=0) for i in range(100)]
    for m in members:
        m.join(group)
    last = None
    for _ in members:
        last = membership(watcher)
    assert last is not None and len(last.members) == 101
    assert b"#m99#localhost" in last.members
    for m in members:
        m.disconnect()
    watcher.disconnect()


def test_disconnect_is_idempotent_then_calls_raise(daemon) -> None:
    m = spread.connect(daemon.name, b"idem")
    fd = m.fileno()
    assert isinstance(fd, int) and fd >= 0
    m.disconnect()
    m.disconnect()
    for call in (
        lambda: m.join(b"g"),
        lambda: m.leave(b"g"),
        lambda: m.multicast(spread.AGREED_MESS, b"g", b"x"),
        lambda: m.multigroup_multicast(spread.AGREED_MESS, (b"g",), b"x"),
        m.receive,
        m.poll,
        m.fileno,
    ):
        with pytest.raises(spread.error) as e:
            call()
        assert e.value.args[0] == spread.ILLEGAL_SESSION
        assert "called on closed mbox" in e.value.args[1]


def test_invalid_service_types(daemon) -> None:
    m = spread.connect(daemon.name, b"svc")
    for bad in (spread.REG_MEMB_MESS, 0x10000, -1):
        with pytest.raises(ValueError):
            m.multicast(bad, b"g", b"x")
    # Two levels at once pass SpreadModule's check but not Spread's.
    with pytest.raises(spread.IllegalServiceError):
        m.multicast(spread.AGREED_MESS | spread.SAFE_MESS, b"g", b"x")
    m.disconnect()


def test_an_unchanged_spreadmodule_era_script_runs(daemon) -> None:
    out = subprocess.run(
        [sys.executable, str(HERE / "spreadmodule_era.py"), daemon.name],
        capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "joined: (b'#alice#localhost',)",
        "joined: (b'#alice#localhost', b'#bob#localhost')",
        "bob got: b'hello from alice' from b'#alice#localhost' type 1",
        "alice saw bob leave: b'#bob#localhost'",
        "done",
    ]
