"""Fixtures of the callback tests."""

import pytest

from tests.callbacks.support import DOWN_URL
from tracker import create_app
from tracker.db import make_engine


@pytest.fixture
def down_app(settings):
    """The web app while its database is unreachable."""
    down = make_engine(DOWN_URL)
    app = create_app(settings, engine=down)
    app.config["TESTING"] = True
    yield app
    down.dispose()
