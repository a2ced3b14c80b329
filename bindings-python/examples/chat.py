"""A small chat over Spread with the modern blocking API.

    python examples/chat.py 4803 alice room
"""

from __future__ import annotations

import sys
import threading

import spread
from spread import Cause, DataMessage, MembershipMessage, Service


def show(session: spread.Session) -> None:
    for msg in session:
        if isinstance(msg, DataMessage):
            print(f"<{msg.sender}> {msg.data.decode(errors='replace')}")
        elif isinstance(msg, MembershipMessage):
            verb = {Cause.JOIN: "joined", Cause.LEAVE: "left", Cause.DISCONNECT: "left"}.get(msg.cause, "changed")
            print(f"* {msg.group}: {msg.changed_member or 'network'} {verb}; now {len(msg.members)}")
        elif isinstance(msg, spread.TransitionalMessage):
            print(f"* {msg.group}: the network is changing")


def main(daemon: str, name: str, room: str) -> int:
    try:
        with spread.Session(daemon, name) as s:
            s.join(room)
            threading.Thread(target=show, args=(s,), daemon=True).start()
            for line in sys.stdin:
                s.send(room, line.rstrip("\n"), service=Service.AGREED)
    except spread.CouldNotConnectError as e:
        print(f"no daemon at {daemon}: {e.message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    daemon, name, room = (sys.argv[1:4] + ["4803", "guest", "room"][len(sys.argv) - 1 :])[:3]
    sys.exit(main(daemon, name, room))
