"""A Python flooder, as spflooder: send N messages of B bytes to a group and
read them back, with at most W of its own in flight.

    python flooder.py DAEMON {classic,session,aio} [N] [B] [W]

Prints one line: ``api msgs/s MB/s``.
"""

from __future__ import annotations

import asyncio
import sys
import time

import spread
from spread import DataMessage, Service, aio


def classic(daemon: str, n: int, size: int, window: int) -> float:
    m = spread.connect(daemon, b"pyflood")
    m.join(b"pyflood")
    me = m.private_group
    while not isinstance(m.receive(), spread.MembershipMsg):
        pass
    body = bytes(size)
    mine = 0
    t0 = time.perf_counter()
    for i in range(1, n + 1):
        m.multicast(spread.AGREED_MESS, b"pyflood", body)
        if i > window:
            while True:
                r = m.receive()
                if type(r) is spread.RegularMsg and r.sender == me:
                    mine += 1
                    break
    while mine < n:
        r = m.receive()
        if type(r) is spread.RegularMsg and r.sender == me:
            mine += 1
    elapsed = time.perf_counter() - t0
    m.disconnect()
    return elapsed


def session(daemon: str, n: int, size: int, window: int) -> float:
    with spread.Session(daemon, "pyflood2") as s:
        s.join("pyflood2")
        me = s.private_group
        s.receive()
        body = bytes(size)
        mine = 0
        t0 = time.perf_counter()
        for i in range(1, n + 1):
            s.send("pyflood2", body, service=Service.AGREED)
            if i > window:
                while True:
                    r = s.receive()
                    if type(r) is DataMessage and r.sender == me:
                        mine += 1
                        break
        while mine < n:
            r = s.receive()
            if type(r) is DataMessage and r.sender == me:
                mine += 1
        return time.perf_counter() - t0


async def _aio(daemon: str, n: int, size: int, window: int) -> float:
    async with aio.Session(daemon, "pyflood3") as s:
        await s.join("pyflood3")
        me = s.private_group
        await s.receive()
        body = bytes(size)
        mine = 0
        t0 = time.perf_counter()
        for i in range(1, n + 1):
            await s.send("pyflood3", body, service=Service.AGREED)
            if i > window:
                while True:
                    r = await s.receive()
                    if type(r) is DataMessage and r.sender == me:
                        mine += 1
                        break
        while mine < n:
            r = await s.receive()
            if type(r) is DataMessage and r.sender == me:
                mine += 1
        return time.perf_counter() - t0


def main() -> None:
    daemon, api = sys.argv[1], sys.argv[2]
    n, size, window = (int(x) for x in (sys.argv[3:6] + ["100000", "1000", "200"][len(sys.argv) - 3 :])[:3])
    if api == "classic":
        elapsed = classic(daemon, n, size, window)
    elif api == "session":
        elapsed = session(daemon, n, size, window)
    else:
        elapsed = asyncio.run(_aio(daemon, n, size, window))
    print(f"{api} {n / elapsed:.0f} {n * size / elapsed / 1e6:.1f}")


if __name__ == "__main__":
    main()
