"""spread.aio: the asyncio API, driven by the event loop."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import threading
import time

import pytest

import spread
from spread import Cause, DataMessage, MembershipMessage, Service, aio


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(asyncio.wait_for(coro, 60))


def test_async_round_trip(daemon, group) -> None:
    async def main() -> None:
        async with aio.Session(daemon.name, "aa") as a, aio.Session(daemon.name, "ab") as b:
            assert a.private_group == "#aa#localhost"
            await a.join(group)
            v = await a.receive()
            assert isinstance(v, MembershipMessage) and v.cause is Cause.JOIN
            await b.join(group)
            await a.receive()
            await b.receive()
            assert await a.send(group, b"one", msg_type=1) == 3
            await a.send(group, "two", service=Service.SAFE)
            got = []
            async for m in b:
                assert isinstance(m, DataMessage)
                got.append((m.data, m.msg_type, m.service))
                if len(got) == 2:
                    break
            assert got == [(b"one", 1, Service.AGREED), (b"two", 0, Service.SAFE)]
            assert await b.receive(timeout=0.05) is None
        assert a.closed and b.closed

    run(main())


def test_two_hundred_sessions_at_once(daemon, group) -> None:
    async def main() -> None:
        sessions = await asyncio.gather(
            *(aio.connect(daemon.name, f"x{i}", membership=False) for i in range(200))
        )
        for s in sessions:
            await s.join(group)
        # Each of the 200 sends once; each receives all 200, in one order.
        await asyncio.sleep(0.2)
        for i, s in enumerate(sessions):
            await s.send(group, i.to_bytes(2, "little"))

        async def drain(s: aio.Session) -> list:
            out = []
            while len(out) < 200:
                m = await s.receive(timeout=20)
                assert isinstance(m, DataMessage), m
                out.append(m.data)
            return out

        orders = await asyncio.gather(*(drain(s) for s in sessions))
        assert all(o == orders[0] for o in orders)
        assert sorted(orders[0]) == sorted(i.to_bytes(2, "little") for i in range(200))
        await asyncio.gather(*(s.close() for s in sessions))

    run(main())


def test_cancelled_receives_lose_no_message(daemon, group) -> None:
    async def main() -> None:
        async with aio.Session(daemon.name, "canc", membership=False) as r:
            await r.join(group)
            sender = spread.Session(daemon.name, "cs", membership=False)
            total = 300
            stop = threading.Event()

            def send() -> None:
                for i in range(total):
                    sender.send(group, i.to_bytes(4, "little"))
                    if i % 10 == 0:
                        stop.wait(0.001)

            # Receives cancelled while nothing has arrived.
            cancelled = 0
            for _ in range(20):
                task = asyncio.ensure_future(r.receive(timeout=10))
                await asyncio.sleep(0.002)
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
                cancelled += 1
            t = threading.Thread(target=send)
            t.start()
            got = []
            while len(got) < total:
                # Cancel every other receive right away, at random points
                # of its wait; nothing it took may be lost.
                task = asyncio.ensure_future(r.receive(timeout=10))
                if len(got) % 2 == 0:
                    await asyncio.sleep(0)
                    task.cancel()
                try:
                    m = await task
                except asyncio.CancelledError:
                    cancelled += 1
                    continue
                assert isinstance(m, DataMessage)
                got.append(int.from_bytes(m.data, "little"))
            t.join()
            sender.close()
            assert got == list(range(total))
            assert cancelled >= 20

    run(main())


def test_timeouts_and_close_while_receiving(daemon, group) -> None:
    async def main() -> None:
        s = await aio.connect(daemon.name, "tclose", membership=False)
        assert await s.receive(timeout=0.1) is None
        pending = asyncio.ensure_future(s.receive())
        await asyncio.sleep(0.1)
        await s.close()
        with pytest.raises(spread.IllegalSessionError):
            await pending
        with pytest.raises(spread.IllegalSessionError):
            await s.receive()
        with pytest.raises(spread.IllegalSessionError):
            await s.send(group, b"x")
        # A session that never connected says so.
        with pytest.raises(spread.IllegalSessionError):
            await aio.Session(daemon.name).join(group)

    run(main())


def test_async_errors(daemon) -> None:
    async def main() -> None:
        with pytest.raises(spread.CouldNotConnectError):
            await aio.connect("1@127.0.0.1")
        async with aio.Session(daemon.name, "aerr") as s:
            with pytest.raises(spread.IllegalGroupError):
                await s.join("no spaces")
            with pytest.raises(TypeError):
                await s.send(3, b"x")  # type: ignore[arg-type]

    run(main())


@pytest.mark.parametrize("via", ["tcp", "unix"])
def test_sends_to_a_stalled_daemon_do_not_block_the_loop(fresh_daemon, group, via) -> None:
    where = fresh_daemon.name if via == "tcp" else str(fresh_daemon.directory / str(fresh_daemon.port))

    async def main() -> None:
        async with aio.Session(where, "stall", membership=False) as s:
            fresh_daemon.proc.send_signal(signal.SIGSTOP)
            # Should a send block the loop, nothing in it could resume the
            # daemon: a process of its own does, so the test fails, not hangs.
            watchdog = subprocess.Popen(["sh", "-c", f"sleep 3; kill -CONT {fresh_daemon.proc.pid}"])
            gaps = []
            try:
                async def ticker() -> None:
                    last = time.monotonic()
                    while True:
                        await asyncio.sleep(0.005)
                        now = time.monotonic()
                        gaps.append(now - last)
                        last = now

                tick = asyncio.ensure_future(ticker())
                # 20 MB: far more than the socket buffers hold.
                sends = [asyncio.ensure_future(s.send(group, bytes(1000))) for _ in range(20000)]
                await asyncio.sleep(0.5)
                tick.cancel()
                assert not all(f.done() for f in sends), "the stopped daemon took everything?"
                assert max(gaps) < 0.25, f"the event loop stalled for {max(gaps):.3f} s"
            finally:
                fresh_daemon.proc.send_signal(signal.SIGCONT)
                watchdog.kill()
            assert await asyncio.gather(*sends) == [1000] * 20000

    run(main())


def test_a_receive_cancelled_after_it_took_a_message_hands_it_on(daemon, group) -> None:
    async def main() -> None:
        async with aio.Session(daemon.name, "stash", membership=False) as r:
            await r.join(group)
            sender = spread.Session(daemon.name, "stashs", membership=False)
            task = asyncio.ensure_future(r.receive())
            await asyncio.sleep(0.05)  # the task waits on the descriptor
            sender.send(group, b"taken")
            time.sleep(0.05)  # the message is in r's socket; the loop has not looked
            await asyncio.sleep(0)  # the loop's reader takes it for the task...
            await asyncio.sleep(0)
            task.cancel()  # ...which is cancelled before it could return it
            with pytest.raises(asyncio.CancelledError):
                await task
            assert len(r._stash) == 1, "the cancellation came before the message was taken"
            m = await r.receive(timeout=5)
            assert isinstance(m, DataMessage) and m.data == b"taken"
            sender.close()

    run(main())
