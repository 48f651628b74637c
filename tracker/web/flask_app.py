"""The Flask the tracker runs on: Flask, with two per-request costs trimmed at the extension
points Flask documents for it (``ensure_sync`` and the JSON provider), answers unchanged.

Measured on the API's lookups (bench/README.md, issue 14): Flask asks
``inspect.iscoroutinefunction`` about every hook, view and handler on every request (nine times
a lookup), and ``jsonify`` built a new ``json.JSONEncoder`` for every answer.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from inspect import iscoroutinefunction
from typing import Any

from flask import Flask, Response
from flask.json.provider import DefaultJSONProvider


@lru_cache(maxsize=1024)
def _is_coroutine_function(func: Callable[..., Any]) -> bool:
    # Bounded: a closure made per request (after_this_request) only churns it.
    return iscoroutinefunction(func)


class JsonAnswers(DefaultJSONProvider):
    """Flask's JSON provider (same text: compact outside debug, keys in the order given,
    Vietnamese unescaped), encoding with one encoder made once rather than one per answer."""

    ensure_ascii = False
    sort_keys = False

    def __init__(self, app: Flask) -> None:
        super().__init__(app)
        self._encoder = json.JSONEncoder(
            ensure_ascii=False, sort_keys=False, separators=(",", ":"), default=DefaultJSONProvider.default
        )

    def response(self, *args: Any, **kwargs: Any) -> Response:
        if self.ensure_ascii or self.sort_keys or self.compact is False or (self.compact is None and self._app.debug):
            # Indented for people, or settings changed since: Flask's own path.
            return super().response(*args, **kwargs)
        return self._app.response_class(self.text(self._prepare_response_obj(args, kwargs)), mimetype=self.mimetype)

    def text(self, obj: Any) -> str:
        """The body ``jsonify`` answers for ``obj`` outside debug (tracker.web.read_path writes it too)."""
        return f"{self._encoder.encode(obj)}\n"


class TrackerFlask(Flask):
    """Flask with ``ensure_sync``'s answer remembered per function, answering with :class:`JsonAnswers`."""

    json_provider_class = JsonAnswers

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        try:
            is_async = _is_coroutine_function(func)
        except TypeError:  # an unhashable callable: ask every time, as Flask does
            is_async = iscoroutinefunction(func)
        return super().ensure_sync(func) if is_async else func
