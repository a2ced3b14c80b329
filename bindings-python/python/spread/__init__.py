"""Spread Toolkit client for Python, over the spread-rs Rust core.

Two APIs share one connection type:

* SpreadModule's (``spread.connect``, ``Mailbox``, ``RegularMsg``,
  ``MembershipMsg``, ``spread.error``, the sp.h constants): programs
  written for SpreadModule run unchanged. Names and data are ``bytes``
  (``str`` is accepted on input).
* The modern one: ``spread.Session`` (blocking, thread-safe) and
  ``spread.aio.Session`` (asyncio), with ``str`` names, dataclass messages,
  ``Service`` and ``Cause`` enums and one exception class per Spread code.

``spread.FlushSession`` (and ``spread.aio.FlushSession``) is Flush Spread,
5.0.1's fl.h: view synchrony for closed groups, in the modern API's style.
"""

from __future__ import annotations

from . import _spread, aio as aio
from ._errors import (
    BufferTooShortError as BufferTooShortError,
    ConnectionClosedError as ConnectionClosedError,
    CouldNotConnectError as CouldNotConnectError,
    GroupsTooShortError as GroupsTooShortError,
    IllegalGroupError as IllegalGroupError,
    IllegalMessageError as IllegalMessageError,
    IllegalMessageTypeError as IllegalMessageTypeError,
    IllegalParamError as IllegalParamError,
    IllegalReceiversError as IllegalReceiversError,
    IllegalServiceError as IllegalServiceError,
    IllegalSessionError as IllegalSessionError,
    IllegalSpreadError as IllegalSpreadError,
    IllegalStateError as IllegalStateError,
    IllegalTimeError as IllegalTimeError,
    MessageTooLongError as MessageTooLongError,
    NetErrorOnSessionError as NetErrorOnSessionError,
    RejectAuthError as RejectAuthError,
    RejectIllegalNameError as RejectIllegalNameError,
    RejectNoNameError as RejectNoNameError,
    RejectNotUniqueError as RejectNotUniqueError,
    RejectQuotaError as RejectQuotaError,
    RejectVersionError as RejectVersionError,
    SpBugError as SpBugError,
    SpreadError as SpreadError,
    WouldBlockError as WouldBlockError,
    error as error,
)
from ._messages import (
    Cause as Cause,
    DataMessage as DataMessage,
    FlushDataMessage as FlushDataMessage,
    FlushMessage as FlushMessage,
    FlushRejectMessage as FlushRejectMessage,
    FlushRequestMessage as FlushRequestMessage,
    FlushSelfLeaveMessage as FlushSelfLeaveMessage,
    FlushTransitionalMessage as FlushTransitionalMessage,
    FlushViewMessage as FlushViewMessage,
    MembershipMessage as MembershipMessage,
    Message as Message,
    RejectMessage as RejectMessage,
    SelfLeaveMessage as SelfLeaveMessage,
    Service as Service,
    TransitionalMessage as TransitionalMessage,
)
from ._spread import *  # noqa: F401,F403  (SpreadModule's constants)
from ._spread import (
    Auth as Auth,
    Tls as Tls,
    FlushSession as FlushSession,
    GroupId as GroupId,
    Mailbox as Mailbox,
    MembershipMsg as MembershipMsg,
    RegularMsg as RegularMsg,
    Session as Session,
    connect as connect,
    strerror as strerror,
    version as version,
)

# SpreadModule's names for its types.
MailboxType = Mailbox
RegularMsgType = RegularMsg
MembershipMsgType = MembershipMsg
GroupIdType = GroupId

__version__ = "0.1.0"
