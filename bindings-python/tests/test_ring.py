"""Membership across a ring of three real daemons when one is killed."""

from __future__ import annotations

import spread
from spread import Cause, MembershipMessage, Session, TransitionalMessage


def next_view(s: Session, timeout: float = 10.0):  # type: ignore[no-untyped-def]
    msg = s.receive(timeout=timeout)
    assert msg is not None, "no message in time"
    return msg


def test_killed_daemon_gives_transitional_then_network_view(ring3, group) -> None:
    d1, d2, d3 = ring3
    sessions = [Session(d.name, f"r{i}") for i, d in enumerate(ring3, 1)]
    classic = spread.connect(d2.name, b"old")
    for s in sessions:
        s.join(group)
    classic.join(group)
    # Wait until every session sees all four members.
    for s in sessions:
        while True:
            v = next_view(s)
            if isinstance(v, MembershipMessage) and len(v.members) == 4:
                break
    while len(classic.receive().members) != 4:
        pass
    before = v.group_id
    members = set(v.members)

    d3.kill9()
    for s in sessions[:2]:
        t = next_view(s)
        assert isinstance(t, TransitionalMessage), t
        assert t.group == group and t.group_id == before
        v = next_view(s)
        assert isinstance(v, MembershipMessage), v
        assert v.cause is Cause.NETWORK and v.changed_member is None
        assert set(v.members) == members - {"#r3#d3"}
        assert set(v.vs_set) == set(v.members) and len(v.vs_sets) == 1
        assert v.group_id != before

    t = classic.receive()
    assert isinstance(t, spread.MembershipMsg) and t.msg_subtype == spread.TRANSITION_MESS
    assert t.group == group.encode() and t.group_id is None and t.members == ()
    n = classic.receive()
    assert isinstance(n, spread.MembershipMsg)
    assert n.reason == spread.CAUSED_BY_NETWORK and n.msg_subtype == spread.REG_MEMB_MESS
    assert set(n.members) == {m.encode() for m in members - {"#r3#d3"}}
    assert n.orig_members is not None and set(n.orig_members[0]) == set(n.members)
    assert set(n.extra) == set(n.members) and n.changed_member is None

    # The survivors still talk, in one order.
    sessions[0].send(group, b"after")
    for s in sessions[:2]:
        m = next_view(s)
        assert isinstance(m, spread.DataMessage) and m.data == b"after"
    assert classic.receive().message == b"after"
    # The session on the dead daemon has lost its connection.
    try:
        while True:
            sessions[2].receive(timeout=5)
    except spread.error as e:
        assert e.code in (spread.CONNECTION_CLOSED, spread.NET_ERROR_ON_SESSION)
    for s in sessions:
        s.close()
    classic.disconnect()
