"""The modern blocking API: spread.Session."""

from __future__ import annotations

import dataclasses
import threading
import time

import pytest

import spread
from spread import Cause, DataMessage, MembershipMessage, Service, Session


def expect(s: Session, kind: type, timeout: float = 5.0):  # type: ignore[no-untyped-def]
    msg = s.receive(timeout=timeout)
    assert isinstance(msg, kind), msg
    return msg


def test_session_round_trip(daemon, group) -> None:
    with Session(daemon.name, "sa") as a, Session(daemon.name, "sb") as b:
        assert a.private_group == "#sa#localhost"
        a.join(group)
        v = expect(a, MembershipMessage)
        assert v.cause is Cause.JOIN and v.members == ("#sa#localhost",)
        assert v.vs_set == ("#sa#localhost",) and v.changed_member == "#sa#localhost"
        b.join(group)
        for s in (a, b):
            v = expect(s, MembershipMessage)
            assert v.group == group and v.members == ("#sa#localhost", "#sb#localhost")
            assert v.vs_sets == (("#sb#localhost",),) and v.vs_set == ("#sb#localhost",)
            assert isinstance(v.group_id, spread.GroupId)
        assert a.send(group, b"bytes", msg_type=5) == 5
        assert a.send([group], "text", service=Service.SAFE) == 4
        assert a.send(group, bytearray(b"ba"), service=Service.FIFO) == 2
        assert a.send(group, memoryview(b"mv"), service=Service.RELIABLE) == 2
        got = [expect(b, DataMessage) for _ in range(4)]
        assert [m.data for m in got] == [b"bytes", b"text", b"ba", b"mv"]
        assert [m.service for m in got] == [Service.AGREED, Service.SAFE, Service.FIFO, Service.RELIABLE]
        assert got[0] == DataMessage("#sa#localhost", (group,), b"bytes", 5, Service.AGREED, False)
        with pytest.raises(dataclasses.FrozenInstanceError):
            got[0].data = b"x"  # type: ignore[misc]
        a.send(group, b"quiet", self_discard=True)
        assert expect(b, DataMessage).data == b"quiet"
        for _ in range(4):
            expect(a, DataMessage)
        assert a.receive(timeout=0.05) is None
        assert a.poll() == 0 and a.fileno() >= 0

        b.leave(group)
        assert expect(b, spread.SelfLeaveMessage) == spread.SelfLeaveMessage(group)
        v = expect(a, MembershipMessage)
        assert v.cause is Cause.LEAVE and v.changed_member == "#sb#localhost"
    assert a.closed and b.closed


def test_several_groups_and_disconnect_cause(daemon, group) -> None:
    a = Session(daemon.name, "ma")
    b = Session(daemon.name, "mb", membership=False)
    groups = [f"{group[:20]}.{i}" for i in range(3)]
    for g in groups:
        a.join(g)
        expect(a, MembershipMessage)
        b.join(g)
        expect(a, MembershipMessage)
    b.send(groups, b"to three")
    m = expect(a, DataMessage)
    assert m.groups == tuple(groups) and m.sender == "#mb#localhost"
    # b asked for no membership messages: its first message is the data.
    assert expect(b, DataMessage).data == b"to three"
    b.close()
    for _ in groups:
        v = expect(a, MembershipMessage)
        assert v.cause is Cause.DISCONNECT and v.changed_member == "#mb#localhost"
    a.close()
    a.close()  # idempotent


def test_iteration_ends_when_closed_from_another_thread(daemon, group) -> None:
    s = Session(daemon.name, "it")
    s.join(group)
    seen = []

    def consume() -> None:
        for msg in s:
            seen.append(msg)

    t = threading.Thread(target=consume)
    t.start()
    time.sleep(0.3)
    s.close()
    t.join(5)
    assert not t.is_alive()
    assert len(seen) == 1 and isinstance(seen[0], MembershipMessage)


def test_one_thread_receives_while_others_send(daemon, group) -> None:
    r = Session(daemon.name, "rcv", membership=False)
    r.join(group)
    senders = [Session(daemon.name, f"snd{i}", membership=False) for i in range(4)]
    time.sleep(0.1)
    per = 500

    def send(s: Session) -> None:
        for i in range(per):
            s.send(group, i.to_bytes(4, "little"))

    threads = [threading.Thread(target=send, args=(s,)) for s in senders]
    for t in threads:
        t.start()
    counts: dict = {}
    last: dict = {}
    for _ in range(per * len(senders)):
        m = r.receive(timeout=10)
        assert isinstance(m, DataMessage)
        n = int.from_bytes(m.data, "little")
        # FIFO per sender, whatever the interleaving.
        assert n == last.get(m.sender, -1) + 1
        last[m.sender] = n
        counts[m.sender] = counts.get(m.sender, 0) + 1
    for t in threads:
        t.join()
    assert sorted(counts.values()) == [per] * len(senders)
    for s in [r, *senders]:
        s.close()


def test_errors_have_one_class_per_code(daemon, group) -> None:
    with pytest.raises(spread.CouldNotConnectError) as e:
        Session("1@127.0.0.1")
    assert e.value.code == -2 and e.value.name == "COULD_NOT_CONNECT"
    assert isinstance(e.value, spread.error) and e.value.args[0] == -2
    s = Session(daemon.name, "errs")
    with pytest.raises(spread.IllegalGroupError) as g:
        s.join("bad group")  # a space is not a legal name character
    assert g.value.code == spread.ILLEGAL_GROUP and "bad group" in str(g.value)
    with pytest.raises(spread.IllegalServiceError):
        s.send(group, b"x", service=Service.AGREED | Service.SAFE)
    with pytest.raises(spread.MessageTooLongError):
        s.send(group, bytes(200_000))
    # The session still works after refused requests.
    s.join(group)
    assert isinstance(s.receive(timeout=5), MembershipMessage)
    s.close()
    with pytest.raises(spread.IllegalSessionError):
        s.send(group, b"x")
    with pytest.raises(spread.IllegalSessionError):
        s.receive()
