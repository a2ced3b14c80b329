"""``spread.Session``: a blocking, thread-safe session with ``str`` names
and dataclass messages."""

from __future__ import annotations

from types import TracebackType
from typing import Iterable, Iterator, Optional, Type, Union, overload

from . import _spread
from ._errors import IllegalSessionError
from ._messages import Message, Service

Data = Union[bytes, bytearray, memoryview, str]
Groups = Union[str, Iterable[str]]


def _connect(daemon: str, name: Optional[str], membership: bool, priority: Union[bool, int]) -> _spread.Mailbox:
    return _spread.connect(daemon, name or "", int(priority), int(bool(membership)))


class _Mailbox:
    """What the blocking and the asyncio sessions share: every call that
    does not wait for the daemon."""

    def __init__(self, mbox: _spread.Mailbox) -> None:
        self._mbox = mbox
        self.private_group: str = mbox.private_group.decode("latin-1")

    def join(self, group: str) -> None:
        self._mbox.join(group)

    def leave(self, group: str) -> None:
        self._mbox.leave(group)

    def send(
        self,
        groups: Groups,
        data: Data,
        *,
        service: Service = Service.AGREED,
        msg_type: int = 0,
        self_discard: bool = False,
    ) -> int:
        return self._mbox._send(service, groups, data, msg_type, self_discard)

    def poll(self) -> int:
        return self._mbox.poll()

    def fileno(self) -> int:
        return self._mbox.fileno()

    @property
    def closed(self) -> bool:
        return self._mbox._closed

    def close(self) -> None:
        self._mbox.disconnect()


class Session(_Mailbox):
    """A connection to a Spread daemon.

    ``daemon`` is any of Spread's forms ("4803", "4803@host", "host:4803");
    ``name`` the private name (None: the daemon picks one). One thread may
    block in :meth:`receive` while others send; blocking calls release the
    GIL and Ctrl-C interrupts them.
    """

    def __init__(
        self,
        daemon: str = "4803",
        name: Optional[str] = None,
        *,
        membership: bool = True,
        priority: Union[bool, int] = False,
    ) -> None:
        super().__init__(_connect(daemon, name, membership, priority))

    @overload
    def receive(self, timeout: None = None) -> Message: ...

    @overload
    def receive(self, timeout: float) -> Optional[Message]: ...

    def receive(self, timeout: Optional[float] = None) -> Optional[Message]:
        """The next message; with a ``timeout`` in seconds, None when none
        arrives in time."""
        return self._mbox._receive(timeout)

    def __iter__(self) -> Iterator[Message]:
        return self

    def __next__(self) -> Message:
        if self.closed:
            raise StopIteration
        try:
            return self.receive()
        except IllegalSessionError:
            # Closed by this process (another thread): the end of the stream.
            raise StopIteration from None

    def __enter__(self) -> Session:
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<spread.Session {self.private_group} {state}>"
