"""The banner every dashboard page shows while the circuit breaker holds sending (tracker/sending/pause.py).

One line per standing pause, in the reader's language: what is paused (the whole account or
one OA), eSMS's code with its meaning and what to do, since when, and when the next probe
goes out. It is read when a page is rendered (one small query on ``send_pauses``); a
database that cannot be read shows no banner rather than no page.
"""

from __future__ import annotations

import logging

from flask_babel import gettext as _
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from tracker.dashboard import reasons
from tracker.dashboard.formats import when
from tracker.sending import pause

log = logging.getLogger("tracker.dashboard")


def line(p: pause.Pause) -> str:
    """One pause in words."""
    values = {
        "code": p.code,
        "meaning": reasons.meaning(p.code),
        "advice": reasons.advice(p.code),
        "since": when(p.since),
        "probe": when(p.probe_at),
    }
    if p.scope == pause.ACCOUNT:
        return _(
            "Sending is paused for the whole eSMS account since %(since)s: eSMS answered %(code)s (%(meaning)s). "
            "%(advice)s Messages stay queued; next probe at %(probe)s.",
            **values,
        )
    return _(
        "Sending is paused for OA %(oa)s since %(since)s: eSMS answered %(code)s (%(meaning)s). %(advice)s "
        "Its messages stay queued; next probe at %(probe)s.",
        oa=p.oa_id or "—",
        **values,
    )


def lines(engine: Engine) -> list[str]:
    """Every standing pause in words, the account's first; none when the table cannot be read."""
    try:
        pauses = pause.current(engine)
    except SQLAlchemyError:
        log.warning("pause banner: the database did not answer", exc_info=True)
        return []
    return [line(p) for p in pauses]
