"""The delivery dashboard: overview, message list, message and journey pages, CSV upload, sign-in."""

from __future__ import annotations

from flask import Flask

from tracker.dashboard import auth, forward_panel, i18n, upload, views
from tracker.dashboard.blueprint import bp
from tracker.web import login_throttle

# Every dashboard route is a decorator on ``bp`` in the module that serves it: importing these
# modules is what puts their routes on the blueprint, so each one is named here.
ROUTE_MODULES = (views, upload, forward_panel, i18n)


def init_app(app: Flask) -> None:
    auth.configure(app)
    # Language and time zone of every page (Flask-Babel).
    i18n.init_app(app)
    # Wrong sign-in passwords are counted per client address (the login view asks it).
    login_throttle.init_app(app)
    app.register_blueprint(bp)
