"""Flush Spread: spread.FlushSession and spread.aio.FlushSession against a
real daemon (views agreed by flushing, data in its view, subgroupcast and
unicast, leaves, timeouts, the fl.h error codes)."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Dict, List, Sequence

import pytest

import spread
from spread import (
    Cause,
    FlushDataMessage,
    FlushMessage,
    FlushRequestMessage,
    FlushSelfLeaveMessage,
    FlushSession,
    FlushViewMessage,
    Service,
    aio,
)


def pg(name: str) -> str:
    return f"#{name}#localhost"


def settle(sessions: Sequence[FlushSession], group: str, n: int, timeout: float = 10.0) -> List[List[FlushMessage]]:
    """Receives on every session in turn, flushing each flush request of
    `group`, until each has a view of `group` with `n` members; returns
    what each received, that view last."""
    seen: List[List[FlushMessage]] = [[] for _ in sessions]
    done = [False] * len(sessions)
    deadline = time.monotonic() + timeout
    while not all(done):
        assert time.monotonic() < deadline, f"no views of {n} within {timeout} s; saw {seen}"
        for i, s in enumerate(sessions):
            if done[i]:
                continue
            m = s.receive(timeout=0.01)
            if m is None:
                continue
            seen[i].append(m)
            if isinstance(m, FlushRequestMessage) and m.group == group:
                s.flush(group)
            elif isinstance(m, FlushViewMessage) and m.group == group and len(m.members) == n:
                done[i] = True
    return seen


def last_view(seen: List[FlushMessage]) -> FlushViewMessage:
    v = seen[-1]
    assert isinstance(v, FlushViewMessage), seen
    return v


def kinds(seen: List[FlushMessage]) -> List[str]:
    return [type(m).__name__ for m in seen]


def data(s: FlushSession, timeout: float = 5.0) -> FlushDataMessage:
    m = s.receive(timeout=timeout)
    assert isinstance(m, FlushDataMessage), m
    return m


def test_join_flush_view_and_data_in_the_view(daemon, group) -> None:
    with FlushSession(daemon.name, "fa") as a, FlushSession(daemon.name, "fb") as b:
        assert a.private_group == pg("fa")
        a.join(group)
        # Alone: a view of one, caused by the join, with no flush request.
        (alone,) = settle([a], group, 1)
        assert kinds(alone) == ["FlushViewMessage"]
        v = last_view(alone)
        assert v.members == (pg("fa"),) and v.my_index == 0 and v.cause is Cause.JOIN
        assert v.vs_set == (pg("fa"),) and isinstance(v.group_id, spread.GroupId)
        # b joins: a is asked to flush, and only then do both install the view.
        b.join(group)
        req = a.receive(timeout=5)
        assert req == FlushRequestMessage(group)
        assert b.receive(timeout=0.3) is None, "b had a view before a flushed"
        a.flush(group)
        with pytest.raises(spread.IllegalStateError):
            a.flush(group)  # once per request
        va, vb = (last_view(s) for s in settle([a, b], group, 2))
        assert va.members == vb.members == (pg("fa"), pg("fb"))
        assert (va.my_index, vb.my_index) == (0, 1)
        assert va.group_id == vb.group_id != v.group_id
        assert va.cause is vb.cause is Cause.JOIN
        assert va.vs_set == vb.vs_set == (pg("fb"),)
        # Data in the view: both members, FL_receive's fields.
        assert a.multicast(group, b"hello", msg_type=3) == 5
        assert b.multicast(group, "text", service=Service.FIFO) == 4
        for s in (a, b):
            # Two senders: the daemon may take either first.
            got = {m.sender: m for m in (data(s), data(s))}
            assert got[pg("fa")] == FlushDataMessage(pg("fa"), (group,), b"hello", 3, Service.AGREED, False)
            m = got[pg("fb")]
            assert (m.groups, m.data, m.msg_type, m.service) == ((group,), b"text", 0, Service.FIFO)
            assert isinstance(m.more, int) and s.more_msgs() == 0
        # Scattered data (FL_scat_multicast) arrives as one message.
        assert a.multicast(group, [b"scat", bytearray(b"te"), "red"], service=Service.SAFE) == 9
        assert data(b).data == b"scattered"
        assert data(a).data == b"scattered"
    assert a.closed and b.closed


def test_subgroupcast_and_unicast_reach_only_their_receivers(daemon, group) -> None:
    with FlushSession(daemon.name, "sa") as a, FlushSession(daemon.name, "sb") as b, FlushSession(
        daemon.name, "sc"
    ) as c:
        for i, s in enumerate((a, b, c)):
            s.join(group)
            settle([a, b, c][: i + 1], group, i + 1)
        assert a.unicast(group, pg("sb"), b"just b", msg_type=4, service=Service.FIFO) == 6
        assert a.subgroupcast(group, [pg("sb"), pg("sc")], b"b and c", msg_type=5) == 7
        assert c.unicast(group, pg("sa"), [b"scat", b"tered"], service=Service.RELIABLE) == 9
        m = data(b)
        assert (m.sender, m.groups, m.data, m.msg_type) == (pg("sa"), (pg("sb"), group), b"just b", 4)
        m = data(b)
        assert (m.groups, m.data, m.msg_type) == ((pg("sb"), pg("sc"), group), b"b and c", 5)
        # c's first message is the subgroupcast: the unicast to b never came.
        m = data(c)
        assert (m.groups, m.data) == ((pg("sb"), pg("sc"), group), b"b and c")
        m = data(a)
        assert (m.sender, m.groups, m.data, m.service) == (pg("sc"), (pg("sa"), group), b"scattered", Service.RELIABLE)
        for s in (a, b, c):
            assert s.receive(timeout=0.2) is None


def test_a_leave_gives_the_others_a_flush_request_then_a_view_without_it(daemon, group) -> None:
    with FlushSession(daemon.name, "la") as a, FlushSession(daemon.name, "lb") as b, FlushSession(
        daemon.name, "lc"
    ) as c:
        for i, s in enumerate((a, b, c)):
            s.join(group)
            settle([a, b, c][: i + 1], group, i + 1)
        c.leave(group)
        with pytest.raises(spread.IllegalGroupError):
            c.leave(group)  # already leaving
        assert c.receive(timeout=5) == FlushSelfLeaveMessage(group)
        seen = settle([a, b], group, 2)
        for i, got in enumerate(seen):
            # A member is gone: the flush request comes with the transitional
            # signal right behind it (its `more`), then the view.
            assert kinds(got) == ["FlushRequestMessage", "FlushTransitionalMessage", "FlushViewMessage"], got
            assert [m.more for m in got] == [1, 0, 0]
            v = last_view(got)
            assert v.members == (pg("la"), pg("lb")) and v.my_index == i
            assert v.cause is Cause.LEAVE and v.vs_set == (pg("lc"),)
        with pytest.raises(spread.IllegalGroupError):
            c.multicast(group, b"gone")
        a.multicast(group, b"after")
        assert data(b).data == b"after"
        assert data(a).data == b"after"
        assert c.receive(timeout=0.2) is None
        # b disconnects: a's view of one, caused by the disconnect.
        b.close()
        (got,) = settle([a], group, 1)
        v = last_view(got)
        assert v.members == (pg("la"),) and v.cause is Cause.DISCONNECT and v.vs_set == (pg("lb"),)


def test_receive_timeouts_and_non_blocking_receive(daemon, group) -> None:
    with FlushSession(daemon.name, "ta") as a:
        t0 = time.monotonic()
        assert a.receive(timeout=0.2) is None
        assert time.monotonic() - t0 >= 0.19
        assert a.receive(timeout=0) is None
        assert a._try_receive() is None
        assert a.more_msgs() == 0 and a.poll() == 0 and a.fileno() >= 0
        a.join(group)
        # Non-blocking receives until the view (the protocol's own messages
        # go back and forth meanwhile, inside those receives).
        v = without_blocking(a)
        assert isinstance(v, FlushViewMessage) and v.members == (pg("ta"),)
        a.multicast(group, b"to self")
        m = without_blocking(a)
        assert isinstance(m, FlushDataMessage) and m.data == b"to self"
        assert a.receive(timeout=0) is None


def without_blocking(s: FlushSession) -> FlushMessage:
    """The next message by non-blocking receives (both forms) only."""
    deadline = time.monotonic() + 5
    tries = 0
    while True:
        m = s.receive(timeout=0) if tries % 2 else s._try_receive()
        if m is not None:
            return m
        tries += 1
        assert time.monotonic() < deadline, "nothing within 5 s"
        time.sleep(0.005)


def test_the_error_codes_of_fl_h(daemon, group) -> None:
    a = FlushSession(daemon.name, "ea")
    b = FlushSession(daemon.name, "eb")
    c = FlushSession(daemon.name, "ec")
    # Not joined: flush, leave and sends are refused with ILLEGAL_GROUP.
    with pytest.raises(spread.IllegalGroupError) as g:
        a.multicast(group, b"x")
    assert g.value.code == spread.ILLEGAL_GROUP == -14
    with pytest.raises(spread.IllegalGroupError):
        a.flush(group)
    with pytest.raises(spread.IllegalGroupError):
        a.leave(group)
    with pytest.raises(spread.IllegalGroupError):
        a.join("bad name")
    a.join(group)
    settle([a], group, 1)
    with pytest.raises(spread.IllegalGroupError):
        a.join(group)  # already a member
    # A flush with no flush request pending.
    with pytest.raises(spread.IllegalStateError) as st:
        a.flush(group)
    assert st.value.code == spread.ILLEGAL_STATE == -27 and st.value.name == "ILLEGAL_STATE"
    assert isinstance(st.value, spread.error) and st.value.args[0] == -27
    # A receiver outside the view.
    with pytest.raises(spread.IllegalReceiversError) as r:
        a.unicast(group, pg("nobody"), b"x")
    assert r.value.code == spread.ILLEGAL_RECEIVERS == -28
    with pytest.raises(spread.IllegalReceiversError):
        a.subgroupcast(group, [pg("ea"), pg("eb")], b"x")
    # Message types below FL_MIN_LEGAL_MESS_TYPE are Flush's own.
    with pytest.raises(spread.IllegalMessageTypeError) as t:
        a.multicast(group, b"x", msg_type=spread.FL_MIN_LEGAL_MESS_TYPE - 1)
    assert t.value.code == spread.ILLEGAL_MESSAGE_TYPE == -26
    assert a.multicast(group, b"ok", msg_type=spread.FL_MIN_LEGAL_MESS_TYPE) == 2
    assert data(a).msg_type == spread.FL_MIN_LEGAL_MESS_TYPE
    with pytest.raises(spread.IllegalServiceError):
        a.multicast(group, b"x", service=0x2000_0000)  # FLUSH_REQ_MESS
    with pytest.raises(ValueError):
        a.multicast(group, b"x", msg_type=40000)
    with pytest.raises(TypeError):
        a.multicast(group, 3)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        a.subgroupcast(group, pg("ea"), b"x")  # one name is not a list of them
    # Between its flush and the view it agreed to, a member may not send.
    b.join(group)
    settle([a, b], group, 2)
    c.join(group)
    assert a.receive(timeout=5) == FlushRequestMessage(group)
    a.flush(group)
    with pytest.raises(spread.IllegalStateError):
        a.multicast(group, b"too early")
    settle([a, b, c], group, 3)
    assert a.multicast(group, b"in the view") == 11
    # After close: ILLEGAL_SESSION for everything.
    for s in (a, b, c):
        s.close()
        s.close()  # idempotent
    for call in (
        lambda: a.join(group),
        lambda: a.leave(group),
        lambda: a.flush(group),
        lambda: a.multicast(group, b"x"),
        lambda: a.unicast(group, pg("eb"), b"x"),
        lambda: a.receive(timeout=0),
        lambda: a.more_msgs(),
        lambda: a.poll(),
        lambda: a.fileno(),
    ):
        with pytest.raises(spread.IllegalSessionError) as e:
            call()
        assert e.value.code == spread.ILLEGAL_SESSION == -11
    with pytest.raises(spread.CouldNotConnectError):
        FlushSession("1@127.0.0.1")


def test_iteration_ends_when_closed_from_another_thread(daemon, group) -> None:
    s = FlushSession(daemon.name, "it")
    s.join(group)
    seen: List[FlushMessage] = []

    def consume() -> None:
        for msg in s:
            seen.append(msg)

    t = threading.Thread(target=consume)
    t.start()
    time.sleep(0.3)
    s.close()
    t.join(5)
    assert not t.is_alive()
    assert len(seen) == 1 and isinstance(seen[0], FlushViewMessage)
    assert "closed" in repr(s)


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(asyncio.wait_for(coro, 60))


def test_asyncio_flush_sessions(daemon, group) -> None:
    async def until_view(s: aio.FlushSession, n: int) -> Dict[str, int]:
        counts: Dict[str, int] = {}
        while True:
            m = await s.receive(timeout=10)
            assert m is not None, counts
            counts[type(m).__name__] = counts.get(type(m).__name__, 0) + 1
            if isinstance(m, FlushRequestMessage):
                await s.flush(m.group)
            if isinstance(m, FlushViewMessage) and len(m.members) == n:
                return counts

    async def main() -> None:
        async with aio.FlushSession(daemon.name, "xa") as a, aio.FlushSession(daemon.name, "xb") as b:
            assert a.private_group == pg("xa")
            await a.join(group)
            assert await until_view(a, 1) == {"FlushViewMessage": 1}
            await b.join(group)
            ca, cb = await asyncio.gather(until_view(a, 2), until_view(b, 2))
            assert ca == {"FlushRequestMessage": 1, "FlushViewMessage": 1}
            assert cb == {"FlushViewMessage": 1}
            assert await a.multicast(group, b"one", msg_type=1) == 3
            assert await b.unicast(group, pg("xa"), "two") == 3
            assert await b.subgroupcast(group, [pg("xb")], [b"th", b"ree"]) == 5
            got = []
            async for m in a:
                assert isinstance(m, FlushDataMessage)
                got.append((m.sender, m.groups, m.data))
                if len(got) == 2:
                    break
            # Two senders: the daemon may take either first.
            assert sorted(got) == [(pg("xa"), (group,), b"one"), (pg("xb"), (pg("xa"), group), b"two")]
            got = []
            for _ in range(2):
                m = await b.receive(timeout=5)
                assert isinstance(m, FlushDataMessage)
                got.append(m.data)
            assert sorted(got) == [b"one", b"three"]
            assert await a.receive(timeout=0.1) is None
            assert a.more_msgs() == 0 and a.poll() == 0
            with pytest.raises(spread.IllegalReceiversError):
                await a.unicast(group, pg("nobody"), b"x")
            pending = asyncio.ensure_future(a.receive())
            await asyncio.sleep(0.1)
            await a.close()
            with pytest.raises(spread.IllegalSessionError):
                await pending
            with pytest.raises(spread.IllegalSessionError):
                await a.multicast(group, b"x")
        assert a.closed and b.closed
        fl = await aio.connect_flush(daemon.name, "xc")
        assert repr(fl) == "<spread.aio.FlushSession #xc#localhost open>"
        await fl.close()

    run(main())
