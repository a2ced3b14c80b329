"""The chat with asyncio: one task prints what arrives, another sends.

    python examples/chat_async.py 4803 bob room
"""

from __future__ import annotations

import asyncio
import sys
from typing import Optional

from spread import DataMessage, MembershipMessage, aio


async def printer(session: aio.Session) -> None:
    async for msg in session:
        if isinstance(msg, DataMessage):
            print(f"<{msg.sender}> {msg.data.decode(errors='replace')}")
        elif isinstance(msg, MembershipMessage):
            print(f"* {msg.group}: {', '.join(msg.members)}")


async def main(daemon: str, name: str, room: str, lines: int = 3) -> None:
    async with aio.Session(daemon, name) as s:
        await s.join(room)
        task = asyncio.create_task(printer(s))
        for i in range(lines):
            await s.send(room, f"line {i} from {s.private_group}")
            await asyncio.sleep(0.1)
        last: Optional[object] = await s.receive(timeout=0.5)
        print("last:", last)
        task.cancel()


if __name__ == "__main__":
    daemon, name, room = (sys.argv[1:4] + ["4803", "guest", "room"][len(sys.argv) - 1 :])[:3]
    asyncio.run(main(daemon, name, room))
