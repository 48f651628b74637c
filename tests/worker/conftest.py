"""The reconciler's tests (test_reconcile, test_reconcile_queries) ask one simulator the same way:
with fixed outcome rates and no natural duplicates or late callbacks."""

from __future__ import annotations

import pytest

from tests.support import pointed_at
from tracker.simulator import SimSettings, start_in_thread


@pytest.fixture
def sim():
    running = start_in_thread(
        SimSettings(
            seed=11,
            speed=0.0,
            natural_duplicate_rate=0.0,
            natural_late_rate=0.0,
            delivered_rate=0.5,
            failed_rate=0.3,
            rejected_rate=0.2,
        )
    )
    yield running
    running.stop()


@pytest.fixture
def sim_settings(settings, sim):
    return pointed_at(settings, sim, "k", "s", reconcile_after=60)
