"""Fixtures of the dashboard tests: English and Vietnamese readers, an app behind the sign-in form, small pages."""

from __future__ import annotations

import pytest

from tests.dashboard.support import PASSWORD, english
from tests.support import make_settings, replace_settings
from tracker import create_app


@pytest.fixture
def client(app):
    """The dashboard in English: most tests check its English words (conftest's client asks for nothing)."""
    return english(app.test_client())


@pytest.fixture
def reader(app):
    """A browser stating no language: the dashboard's default, Vietnamese."""
    return app.test_client()


@pytest.fixture
def locked_app(db_url, tmp_path, engine):
    """The app with TRACKER_DASHBOARD_PASSWORD set: the dashboard needs a sign-in."""
    settings = make_settings(db_url, tmp_path / "instance", TRACKER_DASHBOARD_PASSWORD=PASSWORD)
    app = create_app(settings, engine=engine)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def locked(locked_app):
    return english(locked_app.test_client())


@pytest.fixture
def small_pages(settings, engine):
    app = create_app(replace_settings(settings, dashboard_page_size=5), engine=engine)
    app.config["TESTING"] = True
    return english(app.test_client())
