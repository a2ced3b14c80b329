"""What a modern ``Session`` receives: frozen dataclasses, one per kind of
message, and the enums of service levels and membership causes."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Optional, Tuple, Union

from . import _spread
from ._spread import GroupId


class Service(enum.IntFlag):
    """Delivery guarantees of a message (sp.h's service bits)."""

    UNRELIABLE = _spread.UNRELIABLE_MESS
    RELIABLE = _spread.RELIABLE_MESS
    FIFO = _spread.FIFO_MESS
    CAUSAL = _spread.CAUSAL_MESS
    AGREED = _spread.AGREED_MESS
    SAFE = _spread.SAFE_MESS


class Cause(enum.IntEnum):
    """Why a group's membership changed."""

    JOIN = _spread.CAUSED_BY_JOIN
    LEAVE = _spread.CAUSED_BY_LEAVE
    DISCONNECT = _spread.CAUSED_BY_DISCONNECT
    NETWORK = _spread.CAUSED_BY_NETWORK



@dataclass(frozen=True)
class DataMessage:
    """An application message."""

    sender: str
    groups: Tuple[str, ...]
    data: bytes
    msg_type: int
    service: Service
    endian_mismatch: bool


@dataclass(frozen=True)
class MembershipMessage:
    """A new view of ``group``: who is in it now, why it changed, and the
    members that came through the change together with this receiver
    (``vs_set``, one of ``vs_sets``)."""

    group: str
    cause: Cause
    members: Tuple[str, ...]
    group_id: GroupId
    vs_set: Tuple[str, ...]
    vs_sets: Tuple[Tuple[str, ...], ...]
    changed_member: Optional[str]


@dataclass(frozen=True)
class TransitionalMessage:
    """The transitional signal: the network is changing under ``group``;
    messages until its next view come from the members that stay."""

    group: str
    group_id: GroupId


@dataclass(frozen=True)
class SelfLeaveMessage:
    """This session's own leave of ``group`` took effect."""

    group: str


@dataclass(frozen=True)
class RejectMessage:
    """A message of this session that the daemon refused and sent back."""

    sender: str
    groups: Tuple[str, ...]
    data: bytes
    msg_type: int
    service: int
    endian_mismatch: bool


Message = Union[DataMessage, MembershipMessage, TransitionalMessage, SelfLeaveMessage, RejectMessage]


# The extension builds these dataclasses itself when it receives.
_spread._bind_types(
    (DataMessage, MembershipMessage, TransitionalMessage, SelfLeaveMessage, RejectMessage),
    {int(s): s for s in Service},
    {int(c): c for c in Cause},
)
