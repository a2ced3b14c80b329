"""A chat over Flush Spread: every member sees the same views, and each
line is delivered in the view it was sent in.

    python examples/flush_chat.py 4803 alice room
"""

from __future__ import annotations

import sys
import threading

import spread
from spread import FlushDataMessage, FlushRequestMessage, FlushSession, FlushViewMessage, Service


def show(fl: FlushSession) -> None:
    for msg in fl:
        if isinstance(msg, FlushRequestMessage):
            fl.flush(msg.group)  # ready for the next view
        elif isinstance(msg, FlushViewMessage):
            print(f"* {msg.group}: {', '.join(msg.members)} ({msg.cause.name}); I am #{msg.my_index}")
        elif isinstance(msg, FlushDataMessage):
            print(f"<{msg.sender}> {msg.data.decode(errors='replace')}")


def main(daemon: str, name: str, room: str) -> int:
    try:
        with FlushSession(daemon, name) as fl:
            fl.join(room)
            threading.Thread(target=show, args=(fl,), daemon=True).start()
            for line in sys.stdin:
                try:
                    fl.multicast(room, line.rstrip("\n"), service=Service.AGREED)
                except spread.IllegalStateError:
                    print("(a view change is under way: try again)", file=sys.stderr)
    except spread.CouldNotConnectError as e:
        print(f"no daemon at {daemon}: {e.message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    daemon, name, room = (sys.argv[1:4] + ["4803", "guest", "room"][len(sys.argv) - 1 :])[:3]
    sys.exit(main(daemon, name, room))
