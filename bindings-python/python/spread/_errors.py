"""Spread's errors: ``spread.error`` (SpreadModule's exception, whose args
are ``(code, message)``) and one subclass per Spread code, fl.h's five
included."""

from __future__ import annotations

from typing import Dict, Type


class error(Exception):
    """A Spread error. ``args`` is ``(code, message)`` as in SpreadModule;
    ``code`` is Spread's (negative) number and ``name`` its sp.h name."""

    code: int = 0
    name: str = "UNKNOWN"

    def __init__(self, code: int, message: str) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.message} ({self.name} {self.code})"


SpreadError = error


class IllegalSpreadError(error):
    code = -1
    name = "ILLEGAL_SPREAD"


class CouldNotConnectError(error):
    code = -2
    name = "COULD_NOT_CONNECT"


class RejectQuotaError(error):
    code = -3
    name = "REJECT_QUOTA"


class RejectNoNameError(error):
    code = -4
    name = "REJECT_NO_NAME"


class RejectIllegalNameError(error):
    code = -5
    name = "REJECT_ILLEGAL_NAME"


class RejectNotUniqueError(error):
    code = -6
    name = "REJECT_NOT_UNIQUE"


class RejectVersionError(error):
    code = -7
    name = "REJECT_VERSION"


class ConnectionClosedError(error):
    code = -8
    name = "CONNECTION_CLOSED"


class RejectAuthError(error):
    code = -9
    name = "REJECT_AUTH"


class IllegalSessionError(error):
    code = -11
    name = "ILLEGAL_SESSION"


class IllegalServiceError(error):
    code = -12
    name = "ILLEGAL_SERVICE"


class IllegalMessageError(error):
    code = -13
    name = "ILLEGAL_MESSAGE"


class IllegalGroupError(error):
    code = -14
    name = "ILLEGAL_GROUP"


class BufferTooShortError(error):
    code = -15
    name = "BUFFER_TOO_SHORT"


class GroupsTooShortError(error):
    code = -16
    name = "GROUPS_TOO_SHORT"


class MessageTooLongError(error):
    code = -17
    name = "MESSAGE_TOO_LONG"


class NetErrorOnSessionError(error):
    code = -18
    name = "NET_ERROR_ON_SESSION"


class SpBugError(error):
    code = -19
    name = "SP_BUG"


class IllegalTimeError(error):
    code = -20
    name = "ILLEGAL_TIME"


# fl.h's codes (FlushSession).


class IllegalParamError(error):
    code = -24
    name = "ILLEGAL_PARAM"


class WouldBlockError(error):
    code = -25
    name = "WOULD_BLOCK"


class IllegalMessageTypeError(error):
    """A message type below FL_MIN_LEGAL_MESS_TYPE (reserved for Flush)."""

    code = -26
    name = "ILLEGAL_MESSAGE_TYPE"


class IllegalStateError(error):
    """A flush with no flush request pending, or a send between a flush and
    the view it agreed to."""

    code = -27
    name = "ILLEGAL_STATE"


class IllegalReceiversError(error):
    """A receiver of a subgroupcast or unicast not in the group's view."""

    code = -28
    name = "ILLEGAL_RECEIVERS"


_BY_CODE: Dict[int, Type[error]] = {cls.code: cls for cls in error.__subclasses__()}

# They are spread's exceptions wherever they are defined.
for _cls in (error, *_BY_CODE.values()):
    _cls.__module__ = "spread"


def _from_code(code: int, message: str) -> error:
    """The exception for a Spread code (the extension raises through it)."""
    cls = _BY_CODE.get(code)
    return (cls or error)(code, message)
