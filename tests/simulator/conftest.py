"""Fixtures of the simulator's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.simulator.support import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook recording every callback the simulator makes."""
    r = Receiver()
    yield r
    r.close()
