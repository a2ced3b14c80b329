"""``spread.aio``: the modern API for asyncio.

Receiving is driven by the event loop: a session waits for its descriptor
to turn readable (``loop.add_reader``) and then takes one message without
blocking; no thread is used per session. A send is written at once when
the socket has room for it, and otherwise waits in the loop's executor.
"""

from __future__ import annotations

import asyncio
import collections
import functools
from types import TracebackType
from typing import AsyncIterator, Deque, Iterable, Optional, Type, Union

from . import _spread
from ._errors import IllegalSessionError, _from_code
from ._messages import Message, Service
from ._spread import Session as _Blocking

Data = Union[bytes, bytearray, memoryview, str]
Groups = Union[str, Iterable[str]]

__all__ = ["Session", "connect"]


class Session:
    """An asyncio session: ``async with spread.aio.Session(...) as s``."""

    def __init__(
        self,
        daemon: str = "4803",
        name: Optional[str] = None,
        *,
        membership: bool = True,
        priority: Union[bool, int] = False,
    ) -> None:
        self._args = (daemon, name, membership, priority)
        self._box: Optional[_Blocking] = None
        # Messages taken from the socket for a receive that was cancelled
        # before it could return them: the next receive returns them first.
        self._stash: Deque[Message] = collections.deque()
        self._waiter: Optional[asyncio.Future[Message]] = None
        self._lock: Optional[asyncio.Lock] = None
        self._sending: Optional[asyncio.Lock] = None

    async def connect(self) -> Session:
        """Connects (the handshake runs in the loop's executor)."""
        if self._box is None:
            daemon, name, membership, priority = self._args
            connect = functools.partial(_Blocking, daemon, name, membership=membership, priority=priority)
            self._box = await asyncio.get_running_loop().run_in_executor(None, connect)
        return self

    @property
    def _open(self) -> _Blocking:
        if self._box is None:
            raise _from_code(_spread.ILLEGAL_SESSION, "the session is not connected")
        return self._box

    @property
    def private_group(self) -> str:
        return self._open.private_group

    @property
    def closed(self) -> bool:
        return self._box is not None and self._box.closed

    async def join(self, group: str) -> None:
        self._open.join(group)

    async def leave(self, group: str) -> None:
        self._open.leave(group)

    async def send(
        self,
        groups: Groups,
        data: Data,
        *,
        service: Service = Service.AGREED,
        msg_type: int = 0,
        self_discard: bool = False,
    ) -> int:
        """Sends; returns the bytes sent. Written at once when the socket has
        room for it; otherwise (a daemon that does not keep up) the write
        waits in the loop's executor, and later sends wait behind it."""
        box = self._open
        if self._sending is None:
            self._sending = asyncio.Lock()
        async with self._sending:
            n = box._try_send(groups, data, service=service, msg_type=msg_type, self_discard=self_discard)
            if n is not None:
                return n
            send = functools.partial(
                box.send, groups, data, service=service, msg_type=msg_type, self_discard=self_discard
            )
            return await asyncio.get_running_loop().run_in_executor(None, send)

    def poll(self) -> int:
        return self._open.poll()

    def fileno(self) -> int:
        return self._open.fileno()

    async def receive(self, timeout: Optional[float] = None) -> Optional[Message]:
        """The next message; with a ``timeout`` in seconds, None when none
        arrives in time. A cancelled receive loses no message."""
        box = self._open
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            msg = self._stash.popleft() if self._stash else box._try_receive()
            if msg is None:
                msg = await self._wait(box, timeout)
            return msg

    async def _wait(self, box: _Blocking, timeout: Optional[float]) -> Optional[Message]:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Message] = loop.create_future()

        def readable() -> None:
            if fut.done():
                return
            try:
                msg = box._try_receive()
            except BaseException as e:  # delivered to the awaiting task
                fut.set_exception(e)
                return
            if msg is not None:
                fut.set_result(msg)

        fd = box.fileno()
        loop.add_reader(fd, readable)
        self._waiter = fut
        try:
            if timeout is None:
                return await fut
            try:
                return await asyncio.wait_for(asyncio.shield(fut), timeout)
            except asyncio.TimeoutError:
                if fut.done() and not fut.cancelled():
                    return fut.result()
                return None
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled() and fut.exception() is None:
                self._stash.append(fut.result())
            raise
        finally:
            self._waiter = None
            if not fut.done():
                fut.cancel()
            loop.remove_reader(fd)

    def __aiter__(self) -> AsyncIterator[Message]:
        return self

    async def __anext__(self) -> Message:
        if self.closed:
            raise StopAsyncIteration
        try:
            msg = await self.receive()
        except IllegalSessionError:
            raise StopAsyncIteration from None
        assert msg is not None
        return msg

    async def close(self) -> None:
        """Disconnects; a receive in progress raises IllegalSessionError."""
        box = self._box
        if box is None or box.closed:
            return
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(_from_code(_spread.ILLEGAL_SESSION, "the session was closed"))
            loop = asyncio.get_running_loop()
            loop.remove_reader(box.fileno())
        box.close()

    async def __aenter__(self) -> Session:
        return await self.connect()

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        if self._box is None:
            return "<spread.aio.Session (not connected)>"
        state = "closed" if self.closed else "open"
        return f"<spread.aio.Session {self._box.private_group} {state}>"


async def connect(
    daemon: str = "4803",
    name: Optional[str] = None,
    *,
    membership: bool = True,
    priority: Union[bool, int] = False,
) -> Session:
    """Connects and returns an asyncio session."""
    return await Session(daemon, name, membership=membership, priority=priority).connect()
