"""tracker.dashboard (the package's init_app): sessions, Flask-Babel, the login limiter, the blueprint, and
every route module's routes registered on it."""

from __future__ import annotations

from flask import Flask

import tracker.dashboard as dashboard
from tracker.dashboard import auth, forward_panel, i18n, upload, views
from tracker.dashboard.blueprint import bp


def test_route_modules_are_the_ones_with_routes():
    assert set(dashboard.ROUTE_MODULES) == {views, upload, forward_panel, i18n}


def test_init_app_registers_the_blueprint_and_its_helpers(app):
    assert app.blueprints["dashboard"] is bp
    # auth.configure: the signed-cookie sessions, under their own name.
    assert isinstance(app.session_interface, auth.SessionInterface)
    assert app.config["SESSION_COOKIE_NAME"] == "tracker_session"
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    # i18n.init_app and login_throttle.init_app.
    assert "babel" in app.extensions
    assert "login_limiter" in app.extensions


def test_every_route_module_has_its_routes_on_the_app(app):
    endpoints = {name: fn for name, fn in app.view_functions.items() if name.startswith("dashboard.")}
    modules = {fn.__module__ for fn in endpoints.values()}
    for module in dashboard.ROUTE_MODULES:
        assert module.__name__ in modules, f"no route of {module.__name__} on the app"
    # And no dashboard route comes from a module that init_app does not name.
    assert modules <= {m.__name__ for m in dashboard.ROUTE_MODULES}


def test_the_routes_answer_at_their_paths(app):
    rules = {rule.endpoint: rule.rule for rule in app.url_map.iter_rules()}
    assert rules["dashboard.index"] == "/"
    assert rules["dashboard.messages"] == "/messages"
    assert rules["dashboard.messages_csv"] == "/messages.csv"
    assert rules["dashboard.overview_data"] == "/dashboard/data/overview"
    assert rules["dashboard.forwarding_retry"] == "/forwarding/retry"
    assert "dashboard.login" in rules and "dashboard.set_language" in rules


def test_init_app_on_a_bare_app(settings):
    bare = Flask("bare")
    bare.config["SETTINGS"] = settings
    dashboard.init_app(bare)
    assert "dashboard" in bare.blueprints and "babel" in bare.extensions and "login_limiter" in bare.extensions
    assert {"dashboard.index", "dashboard.upload", "dashboard.forwarding_retry", "dashboard.set_language"} <= set(
        bare.view_functions
    )
