"""The messages and what hangs off them: Message (current status row), Event (append-only log
with the raw payload), DailyCount and daily_count_changes (trigger-kept counters) and
ForwardDelivery (the forwarding outbox). The counters and ForwardDelivery are written by
triggers on ``messages`` that the migrations install, so no Python write path has to
remember them.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    FetchedValue,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker import status as st
from tracker.db import Base, BigIntPK, UTCDateTime, iso, utcnow
from tracker.esms import codes

SOURCES = ("api", "cli", "csv", "external")
EVENT_KINDS = ("queue", "send", "callback", "reconcile")

_DUE = "status IN ('queued', 'sending')"
_OPEN = "status IN ('accepted', 'pending_approval', 'waiting', 'sent')"
_PHONE_UNKNOWN = "status = 'delivered' AND delivered_to_phone_at IS NULL AND zalo_msg_id IS NOT NULL"


class Message(Base):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(20), default=st.QUEUED)
    smsid: Mapped[str | None] = mapped_column(String(64), unique=True)
    request_id: Mapped[str | None] = mapped_column(String(50), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    # What eSMS reported as the recipient when it is not a phone (a Zalo user id).
    recipient: Mapped[str | None] = mapped_column(String(64))
    template_id: Mapped[str | None] = mapped_column(String(64))
    oa_id: Mapped[str | None] = mapped_column(String(64))
    params: Mapped[list[str]] = mapped_column(JSON, default=list)
    order_id: Mapped[str | None] = mapped_column(String(128), index=True)
    campaign_id: Mapped[str | None] = mapped_column(String(254))
    sandbox: Mapped[bool] = mapped_column(Boolean, default=False)
    error_code: Mapped[str | None] = mapped_column(String(32))
    error_message: Mapped[str | None] = mapped_column(Text)
    price: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    telco: Mapped[str | None] = mapped_column(String(32))
    zalo_msg_id: Mapped[str | None] = mapped_column(String(64))
    # eSMS's message type as a callback's TypeId named it ("24", "25", "27"): the SmsType
    # QueryZnsStatus is asked with. Null until a callback says; our sends are journeys.
    sms_type: Mapped[str | None] = mapped_column(String(4))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # For queued rows: when to (re)try; for sending rows: when the claim's lease ends.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    final_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When Zalo put a delivered message on the phone (GetZaloMessageStatus's delivery_time).
    delivered_to_phone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the reconciler last asked eSMS about this message, so it asks at most once per period.
    reconciled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The failed message this one resends (POST /api/messages/<id>/resend); unique: one resend
    # per message, so a retried resend finds the first. No foreign key: the migration says why.
    resent_from: Mapped[int | None] = mapped_column(BigInteger)
    # Callbacks after the message became final that were counted here instead of being stored
    # as events (issue 12: a leaked callback URL must not grow the event log without bound).
    duplicates: Mapped[int] = mapped_column(Integer, server_default=text("0"))

    events: Mapped[list[Event]] = relationship(back_populates="message", order_by="Event.id", lazy="raise_on_sql")

    __table_args__ = (
        Index("ix_messages_status_created", "status", "created_at"),
        Index("ix_messages_created_at", "created_at"),
        Index("ix_messages_resent_from", "resent_from", unique=True),
        # The worker's claim scans only rows that still need sending.
        Index("ix_messages_due", "due_at", postgresql_where=text(_DUE), sqlite_where=text(_DUE)),
        # The reconciler scans only accepted-but-not-final rows.
        Index("ix_messages_open", "updated_at", postgresql_where=text(_OPEN), sqlite_where=text(_OPEN)),
        # Sandbox rows are few: the counts read them through this to keep them apart.
        Index("ix_messages_sandbox", "created_at", postgresql_where=text("sandbox"), sqlite_where=text("sandbox")),
        # Delivered messages the reconciler still asks GetZaloMessageStatus about.
        Index(
            "ix_messages_phone_unknown",
            "created_at",
            postgresql_where=text(_PHONE_UNKNOWN),
            sqlite_where=text(_PHONE_UNKNOWN),
        ),
    )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "final": st.is_final(self.status),
            "smsid": self.smsid,
            "phone": self.phone,
            "recipient": self.recipient,
            "template_id": self.template_id,
            "oa_id": self.oa_id,
            "params": list(self.params or []),
            "order_id": self.order_id,
            "campaign_id": self.campaign_id,
            "request_id": self.request_id,
            "sandbox": self.sandbox,
            "source": self.source,
            "error_code": self.error_code,
            "error_message": self.error_message,
            # What kind of problem error_code is, and what a person should do (tracker/esms/codes.py).
            "error_class": codes.error_class(self.error_code),
            "error_advice": codes.advice(self.error_code),
            "price": str(self.price) if self.price is not None else None,
            "telco": self.telco,
            "zalo_msg_id": self.zalo_msg_id,
            "sms_type": self.sms_type,
            "attempts": self.attempts,
            "created_at": iso(self.created_at),
            "sent_at": iso(self.sent_at),
            "final_at": iso(self.final_at),
            "delivered_to_phone_at": iso(self.delivered_to_phone_at),
            "updated_at": iso(self.updated_at),
            "resent_from": self.resent_from,
        }


class Event(Base):
    """One send attempt, callback or reconciliation answer; never updated."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    # Null for a callback that named no message we could find (kept all the same).
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    kind: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(16))
    status: Mapped[str | None] = mapped_column(String(20))
    smsid: Mapped[str | None] = mapped_column(String(64))
    error_code: Mapped[str | None] = mapped_column(String(32))
    error_message: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    raw: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    message: Mapped[Message | None] = relationship(back_populates="events", lazy="raise_on_sql")

    __table_args__ = (
        Index("ix_events_message_id", "message_id", "id"),
        Index("ix_events_smsid", "smsid"),
        Index("ix_events_created_at", "created_at"),
    )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": iso(self.created_at),
            "kind": self.kind,
            "outcome": self.outcome,
            "status": self.status,
            "smsid": self.smsid,
            "error_code": self.error_code,
            "error_message": self.error_message,
            "data": self.data,
            "raw": self.raw,
        }


class DailyCount(Base):
    """How many messages created on ``day`` (UTC) have ``status`` now, and their summed price.

    ``shard`` (message id % 8) spreads concurrent writers over several rows, so
    a burst of inserts on one day does not queue on a single counter row.
    Written only by the triggers the ``daily_counts`` migration installs on ``messages``.
    """

    __tablename__ = "daily_counts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    status: Mapped[str] = mapped_column(String(20), primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)
    price: Mapped[Decimal] = mapped_column(Numeric(18, 4))


# PostgreSQL: status changes not yet folded into daily_counts (tracker/queries/counters.py fold).
# Appended by a row trigger, read whole and deleted by the fold: no key, no index (issue 14).
daily_count_changes = Table(
    "daily_count_changes",
    Base.metadata,
    Column("day", Date, nullable=False),
    Column("status", String(20), nullable=False),
    Column("shard", SmallInteger, nullable=False),
    Column("n", Integer, nullable=False),
    Column("price", Numeric(18, 4), nullable=False),
)


# A ForwardDelivery's state: waiting (or being tried), or given up on. Delivered rows are deleted.
FORWARD_PENDING, FORWARD_FAILED = "pending", "failed"


class ForwardDelivery(Base):
    """One status change waiting to be forwarded (delivered rows are deleted).

    Inserted only by the trigger the ``forward_outbox`` migration installs on ``messages``.
    """

    __tablename__ = "forward_outbox"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    # What receivers dedupe on (X-Tracker-Delivery): unlike ``id``, which SQLite reuses once
    # delivered rows are deleted, never the same twice. The migration's column default makes
    # it (a random UUID) for every row the trigger inserts, so the database is its only source.
    delivery_id: Mapped[uuid.UUID] = mapped_column(Uuid, server_default=FetchedValue())
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    order_id: Mapped[str | None] = mapped_column(String(128))
    request_id: Mapped[str | None] = mapped_column(String(50))
    smsid: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))
    error_code: Mapped[str | None] = mapped_column(String(32))
    error_message: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    final_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(12), default=FORWARD_PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_forward_outbox_message", "message_id", "id"),
        Index("ix_forward_outbox_delivery_id", "delivery_id", unique=True),
        # The deliverer's claim scans only rows still waiting.
        Index(
            "ix_forward_outbox_due",
            "next_at",
            postgresql_where=text("state = 'pending'"),
            sqlite_where=text("state = 'pending'"),
        ),
    )
