"""A fake eSMS speaking eSMS's HTTP, with seeded outcomes, realistic callbacks and fault injection."""

from __future__ import annotations

from tracker.simulator.app import BASE, create_simulator_app
from tracker.simulator.fake_esms import FakeEsms
from tracker.simulator.server import RunningSimulator, run_simulator, start_in_thread
from tracker.simulator.settings import SimSettings

__all__ = [
    "BASE",
    "FakeEsms",
    "RunningSimulator",
    "SimSettings",
    "create_simulator_app",
    "run_simulator",
    "start_in_thread",
]
