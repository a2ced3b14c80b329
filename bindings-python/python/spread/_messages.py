"""What a modern ``Session`` receives: frozen dataclasses, one per kind of
message, and the enums of service levels and membership causes."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Optional, Tuple, Union

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


_LEVELS = int(_spread.REGULAR_MESS)


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


def _service(bits: int) -> Service:
    try:
        return Service(bits & _LEVELS)
    except ValueError:  # pragma: no cover - the daemon sends one level
        return Service(0)


def _convert(raw: Any) -> Message:
    """Turns the extension's raw tuple into its dataclass."""
    kind = raw[0]
    if kind == _spread._KIND_DATA:
        _, st, sender, groups, data, mtype, mismatch = raw
        return DataMessage(sender, groups, data, mtype, _service(st), mismatch)
    if kind == _spread._KIND_MEMBERSHIP:
        _, cause, group, members, gid, sets, local, changed = raw
        vs_set = sets[local] if local < len(sets) else ()
        return MembershipMessage(group, Cause(cause), members, gid, vs_set, sets, changed)
    if kind == _spread._KIND_TRANSITION:
        return TransitionalMessage(raw[1], raw[2])
    if kind == _spread._KIND_SELF_LEAVE:
        return SelfLeaveMessage(raw[1])
    _, st, sender, groups, data, mtype, mismatch = raw
    return RejectMessage(sender, groups, data, mtype, st, mismatch)
