"""``spread.aio``: the modern API for asyncio.

Receiving is driven by the event loop: a session waits for its descriptor
to turn readable (``loop.add_reader``) and then takes one message without
blocking; no thread is used per session. A send is written at once when
the socket has room for it, and otherwise waits in the loop's executor.
``FlushSession`` (Flush Spread) receives the same way; its sends always go
through the executor, one at a time.
"""

from __future__ import annotations

import asyncio
import collections
import functools
from types import TracebackType
from typing import Any, AsyncIterator, Deque, Generic, Iterable, List, Optional, Sequence, Tuple, Type, TypeVar, Union

from . import _spread
from ._errors import IllegalSessionError, _from_code
from ._messages import FlushMessage, Message, Service
from ._spread import Auth, FlushSession as _FlushBlocking, Session as _Blocking, Tls

Data = Union[bytes, bytearray, memoryview, str]
Groups = Union[str, Iterable[str]]
Parts = Union[Data, List[Data], Tuple[Data, ...]]

__all__ = ["Session", "FlushSession", "connect", "connect_flush"]

_B = TypeVar("_B", _Blocking, _FlushBlocking)
_M = TypeVar("_M")
_S = TypeVar("_S", bound="_Receiving[Any, Any]")


class _Receiving(Generic[_B, _M]):
    """What both asyncio sessions share: the connection over a blocking
    session ``_B`` and event-loop receives of messages ``_M``."""

    _kind = "Session"

    def __init__(self) -> None:
        self._box: Optional[_B] = None
        # Messages taken from the socket for a receive that was cancelled
        # before it could return them: the next receive returns them first.
        self._stash: Deque[_M] = collections.deque()
        self._waiter: Optional[asyncio.Future[_M]] = None
        self._lock: Optional[asyncio.Lock] = None
        self._sending: Optional[asyncio.Lock] = None

    def _make(self) -> _B:
        raise NotImplementedError

    def _take(self, box: _B) -> Optional[_M]:
        raise NotImplementedError

    async def connect(self: _S) -> _S:
        """Connects (the handshake runs in the loop's executor)."""
        if self._box is None:
            self._box = await asyncio.get_running_loop().run_in_executor(None, self._make)
        return self

    @property
    def _open(self) -> _B:
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

    def poll(self) -> int:
        return self._open.poll()

    def fileno(self) -> int:
        return self._open.fileno()

    async def receive(self, timeout: Optional[float] = None) -> Optional[_M]:
        """The next message; with a ``timeout`` in seconds, None when none
        arrives in time. A cancelled receive loses no message."""
        box = self._open
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            msg = self._stash.popleft() if self._stash else self._take(box)
            if msg is None:
                msg = await self._wait(box, timeout)
            return msg

    async def _wait(self, box: _B, timeout: Optional[float]) -> Optional[_M]:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[_M] = loop.create_future()

        def readable() -> None:
            if fut.done():
                return
            try:
                msg = self._take(box)
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

    def __aiter__(self) -> AsyncIterator[_M]:
        return self

    async def __anext__(self) -> _M:
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

    async def __aenter__(self: _S) -> _S:
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
            return f"<spread.aio.{self._kind} (not connected)>"
        state = "closed" if self.closed else "open"
        return f"<spread.aio.{self._kind} {self._box.private_group} {state}>"


class Session(_Receiving[_Blocking, Message]):
    """An asyncio session: ``async with spread.aio.Session(...) as s``."""

    def __init__(
        self,
        daemon: str = "4803",
        name: Optional[str] = None,
        *,
        membership: bool = True,
        priority: Union[bool, int] = False,
        auth: Union[None, Auth, Sequence[Auth]] = None,
        tls: Optional[Tls] = None,
    ) -> None:
        super().__init__()
        self._args = (daemon, name, membership, priority, auth, tls)

    def _make(self) -> _Blocking:
        daemon, name, membership, priority, auth, tls = self._args
        return _Blocking(
            daemon, name, membership=membership, priority=priority, auth=auth, tls=tls
        )

    def _take(self, box: _Blocking) -> Optional[Message]:
        return box._try_receive()

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


class FlushSession(_Receiving[_FlushBlocking, FlushMessage]):
    """Flush Spread for asyncio: ``async with spread.aio.FlushSession(...)``.
    The methods of ``spread.FlushSession``, as coroutines where they talk to
    the daemon; a flush request is answered with ``await s.flush(group)``."""

    _kind = "FlushSession"

    def __init__(self, daemon: str = "4803", name: Optional[str] = None, *, priority: int = 0) -> None:
        super().__init__()
        self._args = (daemon, name, priority)

    def _make(self) -> _FlushBlocking:
        daemon, name, priority = self._args
        return _FlushBlocking(daemon, name, priority=priority)

    def _take(self, box: _FlushBlocking) -> Optional[FlushMessage]:
        return box._try_receive()

    async def flush(self, group: str) -> None:
        """Consents to the next view of ``group`` (once per flush request)."""
        self._open.flush(group)

    def more_msgs(self) -> int:
        """Messages already queued for this session (FL_more_msgs)."""
        return self._open.more_msgs()

    async def _send(self, call: functools.partial[int]) -> int:
        # A Flush send checks and writes under the session's protocol lock,
        # with no way to ask first whether the write would block: each goes
        # to the executor, in order.
        if self._sending is None:
            self._sending = asyncio.Lock()
        async with self._sending:
            return await asyncio.get_running_loop().run_in_executor(None, call)

    async def multicast(
        self,
        group: str,
        data: Parts,
        *,
        service: Service = Service.AGREED,
        msg_type: int = 0,
        self_discard: bool = False,
    ) -> int:
        """Sends to every member of the view of ``group``; the bytes sent."""
        box = self._open
        return await self._send(
            functools.partial(
                box.multicast, group, data, service=service, msg_type=msg_type, self_discard=self_discard
            )
        )

    async def subgroupcast(
        self,
        group: str,
        receivers: Iterable[str],
        data: Parts,
        *,
        service: Service = Service.AGREED,
        msg_type: int = 0,
        self_discard: bool = False,
    ) -> int:
        """Sends to the ``receivers`` (members of the view of ``group``)."""
        box = self._open
        receivers = list(receivers)
        return await self._send(
            functools.partial(
                box.subgroupcast,
                group,
                receivers,
                data,
                service=service,
                msg_type=msg_type,
                self_discard=self_discard,
            )
        )

    async def unicast(
        self,
        group: str,
        receiver: str,
        data: Parts,
        *,
        service: Service = Service.AGREED,
        msg_type: int = 0,
        self_discard: bool = False,
    ) -> int:
        """Sends to one member of the view of ``group``."""
        box = self._open
        return await self._send(
            functools.partial(
                box.unicast, group, receiver, data, service=service, msg_type=msg_type, self_discard=self_discard
            )
        )


async def connect(
    daemon: str = "4803",
    name: Optional[str] = None,
    *,
    membership: bool = True,
    priority: Union[bool, int] = False,
) -> Session:
    """Connects and returns an asyncio session."""
    return await Session(daemon, name, membership=membership, priority=priority).connect()


async def connect_flush(daemon: str = "4803", name: Optional[str] = None, *, priority: int = 0) -> FlushSession:
    """Connects and returns an asyncio Flush session."""
    return await FlushSession(daemon, name, priority=priority).connect()
