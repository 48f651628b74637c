"""Resending a failed message: a new message in the same journey, linked to the old one.

Which messages deserve a resend: those that ended ``failed`` or ``rejected`` (final and not
delivered). A delivered message needs none, and one still on its way may yet be delivered, so
both are refused (409). Until the codes table classes each failure (issue 11: ``retry_later``,
``template`` ...), every failed or rejected message may be resent; the caller judges.

The resend is queued through the one builder (queue.py) with a new RequestId (eSMS refuses a
RequestId it saw in the last 24 hours, 124) and ``resent_from`` naming the old message. A
message is resent at most once (a unique index): the same resend asked again, by a client
retrying its POST, returns the first. To try once more after a resend failed, resend the resend.
"""

from __future__ import annotations

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import status as st
from tracker.config import Settings
from tracker.models import Message
from tracker.schemas import NewMessage, field_errors
from tracker.sending.queue import new_request_id, queue

RESENDABLE = frozenset({st.FAILED, st.REJECTED})
SOURCE = "api"


class NotFound(LookupError):
    """No message has that id."""


class Refused(Exception):
    """This message may not be resent; the text says why."""


def resend(session: Session, settings: Settings, message_id: int) -> tuple[Message, bool]:
    """Queue a resend of ``message_id``; returns (the resend, created).

    Raises NotFound, Refused (not failed or rejected; nothing left to send, e.g. purged), or
    the QueueError ``queue`` raises (parameters that do not fit the template).
    """
    old = session.get(Message, message_id)
    if old is None:
        raise NotFound(message_id)
    earlier = session.scalar(select(Message).where(Message.resent_from == message_id))
    if earlier is not None:
        return earlier, False
    if old.status == st.DELIVERED:
        raise Refused(f"message {message_id} was delivered: there is nothing to resend")
    if old.status not in RESENDABLE:
        raise Refused(f"message {message_id} is {old.status}, not final yet: it may still be delivered")
    try:
        data = NewMessage.model_validate(
            {
                "phone": old.phone,
                "template_id": old.template_id,
                "oa_id": old.oa_id,
                "params": list(old.params or []),
                "order_id": old.order_id,
                "campaign_id": old.campaign_id,
                "request_id": new_request_id(),
                "sandbox": old.sandbox,
            }
        )
    except ValidationError as exc:
        # A purged message (no phone, no params) or one eSMS reported that we never sent.
        missing = ", ".join(field_errors(exc))
        raise Refused(f"message {message_id} lacks what a send needs ({missing})") from None
    return queue(session, settings, data, SOURCE, resent_from=message_id)
