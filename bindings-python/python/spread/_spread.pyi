"""Type stubs of the extension module ``spread._spread`` (written by hand;
``tests/test_stubs.py`` checks them against the built module)."""

import os
from types import TracebackType
from typing import (
    Any,
    Dict,
    Iterable,
    Iterator,
    List,
    Optional,
    Sequence,
    Tuple,
    Type,
    TypeVar,
    Union,
    final,
    overload,
)

from ._messages import Cause, FlushMessage, Message, Service

_Name = Union[bytes, str]
_Data = Union[bytes, bytearray, memoryview, str]
# A Flush send's data: one piece, or a list or tuple of pieces sent as one
# message (FL_scat_multicast).
_Parts = Union[_Data, List[_Data], Tuple[_Data, ...]]

LOW_PRIORITY: int
MEDIUM_PRIORITY: int
HIGH_PRIORITY: int
DEFAULT_SPREAD_PORT: int
SPREAD_VERSION: int
MAX_GROUP_NAME: int
MAX_PRIVATE_NAME: int
MAX_PROC_NAME: int
MAX_CLIENT_SCATTER_ELEMENTS: int
UNRELIABLE_MESS: int
RELIABLE_MESS: int
FIFO_MESS: int
CAUSAL_MESS: int
AGREED_MESS: int
SAFE_MESS: int
REGULAR_MESS: int
SELF_DISCARD: int
DROP_RECV: int
REG_MEMB_MESS: int
TRANSITION_MESS: int
CAUSED_BY_JOIN: int
CAUSED_BY_LEAVE: int
CAUSED_BY_DISCONNECT: int
CAUSED_BY_NETWORK: int
MEMBERSHIP_MESS: int
ENDIAN_RESERVED: int
RESERVED: int
REJECT_MESS: int
ACCEPT_SESSION: int
ILLEGAL_SPREAD: int
COULD_NOT_CONNECT: int
REJECT_QUOTA: int
REJECT_NO_NAME: int
REJECT_ILLEGAL_NAME: int
REJECT_NOT_UNIQUE: int
REJECT_VERSION: int
CONNECTION_CLOSED: int
REJECT_AUTH: int
ILLEGAL_SESSION: int
ILLEGAL_SERVICE: int
ILLEGAL_MESSAGE: int
ILLEGAL_GROUP: int
BUFFER_TOO_SHORT: int
GROUPS_TOO_SHORT: int
MESSAGE_TOO_LONG: int
NET_ERROR_ON_SESSION: int
SP_BUG: int
ILLEGAL_TIME: int
ILLEGAL_PARAM: int
WOULD_BLOCK: int
ILLEGAL_MESSAGE_TYPE: int
ILLEGAL_STATE: int
ILLEGAL_RECEIVERS: int
FL_MIN_LEGAL_MESS_TYPE: int
DEFAULT_BUFFER_SIZE: int
DEFAULT_GROUPS_SIZE: int

@final
class Auth:
    """An authentication method for ``auth=`` (one, or a sequence run in order)."""

    name: str
    @staticmethod
    def null() -> Auth: ...
    @staticmethod
    def peercred() -> Auth: ...
    @staticmethod
    def secret(identity: str, secret: Union[bytes, str]) -> Auth: ...
    @staticmethod
    def secret_file(identity: str, path: Union[str, os.PathLike[str]]) -> Auth: ...

_AuthArg = Union[None, Auth, Sequence[Auth]]

@final
class Tls:
    """TLS to a daemon's TlsAddress, for ``tls=``."""

    def __new__(
        cls,
        ca_file: Union[str, os.PathLike[str]],
        *,
        cert_file: Optional[Union[str, os.PathLike[str]]] = None,
        key_file: Optional[Union[str, os.PathLike[str]]] = None,
        server_name: Optional[str] = None,
    ) -> Tls: ...

def connect(
    daemon: Optional[_Name] = None,
    name: Optional[_Name] = None,
    priority: int = 0,
    membership: int = 1,
    *,
    auth: _AuthArg = None,
    tls: Optional[Tls] = None,
) -> Mailbox: ...
def version() -> Tuple[int, int, int]: ...
def strerror(code: int) -> str: ...
def _bind_types(
    classes: Tuple[type, type, type, type, type],
    services: Dict[int, Service],
    causes: Dict[int, Cause],
) -> None: ...
def _bind_flush_types(classes: Tuple[type, type, type, type, type, type]) -> None: ...
@final
class GroupId:
    proc_id: int
    time: int
    index: int
    def __new__(cls, proc_id: int, time: int, index: int) -> GroupId: ...
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...
    def __reduce__(self) -> Tuple[Any, Tuple[int, int, int]]: ...

@final
class RegularMsg:
    sender: bytes
    groups: Tuple[bytes, ...]
    message: bytes
    msg_type: int
    endian: int
    service_type: int

@final
class MembershipMsg:
    reason: int
    group: bytes
    group_id: Optional[GroupId]
    members: Tuple[bytes, ...]
    orig_members: Optional[Tuple[Tuple[bytes, ...], ...]]
    extra: Tuple[bytes, ...]
    msg_subtype: int
    changed_member: Optional[bytes]
    service_type: int

@final
class Mailbox:
    private_group: bytes
    def disconnect(self) -> None: ...
    def fileno(self) -> int: ...
    def join(self, group: _Name) -> None: ...
    def leave(self, group: _Name) -> None: ...
    def multicast(self, service_type: int, group: _Name, message: _Data, message_type: int = 0) -> int: ...
    def multigroup_multicast(
        self, service_type: int, groups: Tuple[_Name, ...], message: _Data, message_type: int = 0
    ) -> int: ...
    def receive(self) -> Union[RegularMsg, MembershipMsg]: ...
    def poll(self) -> int: ...

_S = TypeVar("_S", bound="Session")

class Session:
    """A connection to a Spread daemon with str names and dataclass messages."""

    private_group: str
    def __new__(
        cls,
        daemon: _Name = "4803",
        name: Optional[_Name] = None,
        *,
        membership: bool = True,
        priority: int = 0,
        auth: _AuthArg = None,
        tls: Optional[Tls] = None,
    ) -> Session: ...
    def join(self, group: _Name) -> None: ...
    def leave(self, group: _Name) -> None: ...
    def send(
        self,
        groups: Union[_Name, Iterable[_Name]],
        data: _Data,
        *,
        service: int = 16,
        msg_type: int = 0,
        self_discard: bool = False,
    ) -> int: ...
    @overload
    def receive(self, timeout: None = None) -> Message: ...
    @overload
    def receive(self, timeout: Optional[float] = None) -> Optional[Message]: ...
    def _try_send(
        self,
        groups: Union[_Name, Iterable[_Name]],
        data: _Data,
        *,
        service: int = 16,
        msg_type: int = 0,
        self_discard: bool = False,
    ) -> Optional[int]: ...
    def _try_receive(self) -> Optional[Message]: ...
    def poll(self) -> int: ...
    def fileno(self) -> int: ...
    @property
    def closed(self) -> bool: ...
    def close(self) -> None: ...
    def __enter__(self: _S) -> _S: ...
    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None: ...
    def __iter__(self: _S) -> _S: ...
    def __next__(self) -> Message: ...

_F = TypeVar("_F", bound="FlushSession")

class FlushSession:
    """A Flush Spread connection (fl.h): view synchrony for closed groups."""

    private_group: str
    def __new__(cls, daemon: _Name = "4803", name: Optional[_Name] = None, *, priority: int = 0) -> FlushSession: ...
    def join(self, group: _Name) -> None: ...
    def leave(self, group: _Name) -> None: ...
    def flush(self, group: _Name) -> None: ...
    def multicast(
        self, group: _Name, data: _Parts, *, service: int = 16, msg_type: int = 0, self_discard: bool = False
    ) -> int: ...
    def subgroupcast(
        self,
        group: _Name,
        receivers: Iterable[_Name],
        data: _Parts,
        *,
        service: int = 16,
        msg_type: int = 0,
        self_discard: bool = False,
    ) -> int: ...
    def unicast(
        self,
        group: _Name,
        receiver: _Name,
        data: _Parts,
        *,
        service: int = 16,
        msg_type: int = 0,
        self_discard: bool = False,
    ) -> int: ...
    @overload
    def receive(self, timeout: None = None) -> FlushMessage: ...
    @overload
    def receive(self, timeout: Optional[float] = None) -> Optional[FlushMessage]: ...
    def _try_receive(self) -> Optional[FlushMessage]: ...
    def more_msgs(self) -> int: ...
    def poll(self) -> int: ...
    def fileno(self) -> int: ...
    @property
    def closed(self) -> bool: ...
    def close(self) -> None: ...
    def __enter__(self: _F) -> _F: ...
    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None: ...
    def __iter__(self: _F) -> _F: ...
    def __next__(self) -> FlushMessage: ...
