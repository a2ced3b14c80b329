"""Messages above 5.0.1's limit, through a daemon whose MaxMessageSize
allows them (the binding sets no limit of its own)."""

from __future__ import annotations

import pytest

import spread
from spread import DataMessage, MembershipMessage, Session

from conftest import start_ring, stop_all


def test_a_one_megabyte_message_with_max_message_size() -> None:
    ds = start_ring(1, "MaxMessageSize = 2097152")
    try:
        with Session(ds[0].name, "la") as a, Session(ds[0].name, "lb") as b:
            a.join("large")
            assert isinstance(a.receive(timeout=5), MembershipMessage)
            body = bytes((i * 7 + i // 4096) % 256 for i in range(1 << 20))
            assert b.send("large", body) == len(body)
            got = a.receive(timeout=20)
            assert isinstance(got, DataMessage)
            assert got.sender == "#lb#localhost" and got.data == body
            with pytest.raises(spread.MessageTooLongError):
                b.send("large", bytes((2 << 20) + 1))
    finally:
        stop_all(ds)
