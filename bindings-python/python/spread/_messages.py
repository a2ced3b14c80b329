"""What a modern ``Session`` and a ``FlushSession`` receive: frozen
dataclasses, one per kind of message, and the enums of service levels and
membership causes."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
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


# What a FlushSession receives. ``more`` is how many messages are queued
# behind this one (FL_receive's ``more_messages``); it is left out of
# comparisons, so a message compares equal to one built without it.


@dataclass(frozen=True)
class FlushDataMessage:
    """An application message, delivered in the view it was sent in. For a
    subgroupcast or unicast, ``groups`` is the receivers, then the group."""

    sender: str
    groups: Tuple[str, ...]
    data: bytes
    msg_type: int
    service: Service
    endian_mismatch: bool
    more: int = field(default=0, compare=False)


@dataclass(frozen=True)
class FlushRequestMessage:
    """The view of ``group`` is about to change: call ``flush(group)`` once
    this member is ready (it may still send until then)."""

    group: str
    more: int = field(default=0, compare=False)


@dataclass(frozen=True)
class FlushViewMessage:
    """A new view of ``group``, installed once every member flushed.
    ``my_index`` is this session's place in ``members``; ``vs_set`` is the
    member that joined, left or disconnected, or for a network change the
    members of the last view that came along into this one."""

    group: str
    cause: Cause
    members: Tuple[str, ...]
    my_index: int
    group_id: GroupId
    vs_set: Tuple[str, ...]
    more: int = field(default=0, compare=False)


@dataclass(frozen=True)
class FlushTransitionalMessage:
    """Members of the view of ``group`` are gone: messages from here until
    the next view are delivered in a transitional view."""

    group: str
    more: int = field(default=0, compare=False)


@dataclass(frozen=True)
class FlushSelfLeaveMessage:
    """This session's own leave of ``group`` took effect."""

    group: str
    more: int = field(default=0, compare=False)


@dataclass(frozen=True)
class FlushRejectMessage:
    """A message of this session that the daemon refused and sent back."""

    sender: str
    groups: Tuple[str, ...]
    data: bytes
    msg_type: int
    service: int
    endian_mismatch: bool
    more: int = field(default=0, compare=False)


FlushMessage = Union[
    FlushDataMessage,
    FlushRequestMessage,
    FlushViewMessage,
    FlushTransitionalMessage,
    FlushSelfLeaveMessage,
    FlushRejectMessage,
]


# The extension builds these dataclasses itself when it receives.
_spread._bind_types(
    (DataMessage, MembershipMessage, TransitionalMessage, SelfLeaveMessage, RejectMessage),
    {int(s): s for s in Service},
    {int(c): c for c in Cause},
)
_spread._bind_flush_types(
    (
        FlushDataMessage,
        FlushRequestMessage,
        FlushViewMessage,
        FlushTransitionalMessage,
        FlushSelfLeaveMessage,
        FlushRejectMessage,
    )
)
