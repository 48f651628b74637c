"""Fixtures of the simulator's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.simulator.support import Receiver, quiet_settings
from tracker.simulator import start_in_thread
from tracker.simulator.server import RunningSimulator


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook recording every callback the simulator makes."""
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def sim() -> Iterator[RunningSimulator]:
    """A simulator at speed 0 with no natural duplicate, late or lost callbacks (quiet_settings)."""
    running = start_in_thread(quiet_settings())
    yield running
    running.stop()
