"""TrackerFlask and JsonAnswers: Flask's answers, byte for byte, for less work per request (issue 14)."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from flask.json.provider import DefaultJSONProvider

from tracker.web.flask_app import JsonAnswers, TrackerFlask


@dataclasses.dataclass
class Point:
    x: int
    label: str


BODIES = [
    {},
    [],
    {"status": "delivered", "final": True, "price": None, "attempts": 3},
    {"params": ["Nguyễn Văn An", "DH000123", "đã giao"], "note": "Đơn hàng của bạn đã được giao 🎉"},
    {"z": 1, "a": 2, "m": {"b": 1, "a": [1.5, -0.0, 10**20]}},  # keys keep the order given
    {"price": Decimal("12500.50"), "at": datetime(2026, 11, 30, 7, 5, tzinfo=UTC), "day": date(2026, 11, 30)},
    {"id": uuid.UUID("12345678-1234-5678-1234-567812345678"), "point": Point(1, "Hà Nội")},
    {"quote": 'a "b" \\ c\n\t</script>', "ctrl": "\u0000\u001f\u2028"},
]


def flask_own(app: TrackerFlask) -> DefaultJSONProvider:
    own = DefaultJSONProvider(app)
    own.ensure_ascii = False  # what the tracker asked of Flask's own provider before
    own.sort_keys = False
    return own


@pytest.mark.parametrize("body", BODIES)
def test_answers_are_flask_s_own_byte_for_byte(body):
    app = TrackerFlask(__name__)
    assert isinstance(app.json, JsonAnswers)
    with app.app_context():
        ours, flask = app.json.response(body), flask_own(app).response(body)
    assert ours.get_data() == flask.get_data()
    assert ours.mimetype == flask.mimetype == "application/json"


@pytest.mark.parametrize("body", BODIES)
def test_in_debug_mode_answers_are_indented_as_flask_s(body):
    app = TrackerFlask(__name__)
    app.debug = True
    with app.app_context():
        text = app.json.response(body).get_data()
    with app.app_context():
        assert text == flask_own(app).response(body).get_data()
    if body:
        assert b"\n  " in text


def test_a_setting_changed_after_start_is_followed():
    app = TrackerFlask(__name__)
    app.json.ensure_ascii = True  # type: ignore[attr-defined]
    app.json.sort_keys = True  # type: ignore[attr-defined]
    body = {"b": "đã giao", "a": 1}
    with app.app_context():
        assert app.json.response(body).get_data() == b'{"a":1,"b":"\\u0111\\u00e3 giao"}\n'


def test_keyword_arguments_and_several_values_are_taken_as_jsonify_takes_them():
    app = TrackerFlask(__name__)
    with app.app_context():
        assert app.json.response(items=[1], next_cursor=None).get_data() == b'{"items":[1],"next_cursor":null}\n'
        assert app.json.response(1, 2).get_data() == b"[1,2]\n"


def test_plain_functions_are_run_as_they_are():
    app = TrackerFlask(__name__)

    def view():
        return "ok"

    assert app.ensure_sync(view) is view
    assert app.ensure_sync(view) is view  # asked twice: the remembered answer


def test_coroutine_functions_still_go_to_flask_s_async_support():
    app = TrackerFlask(__name__)

    async def view():
        return "ok"

    try:
        wrapped = app.ensure_sync(view)
    except RuntimeError as exc:  # Flask without its "async" extra says so, as it always did
        assert "async" in str(exc)
    else:
        assert wrapped is not view


def test_a_callable_that_cannot_be_remembered_is_still_answered():
    app = TrackerFlask(__name__)

    class Unhashable:
        __hash__ = None  # type: ignore[assignment]

        def __call__(self):
            return "ok"

    view = Unhashable()
    assert app.ensure_sync(view) is view
