"""status queries and sandbox: messages.sms_type, messages.delivered_to_phone_at, two partial indexes

Revision ID: 5e3c1a7d9b20
Revises: 8ae9335a6b53
Create Date: 2026-11-30 16:30:00

sms_type is eSMS's message type as a callback's TypeId named it (24, 25, 27), so the
reconciler asks QueryZnsStatus with the message's own SmsType. delivered_to_phone_at is
when GetZaloMessageStatus says the message reached the phone. ix_messages_sandbox finds the
(few) sandbox rows of a range, which the counts keep apart from real traffic;
ix_messages_phone_unknown the delivered messages GetZaloMessageStatus is still to be asked about.

Plain ADD COLUMN on both databases: a batch rebuild on SQLite would drop the count and
outbox triggers that live on messages.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.db

revision: str = "5e3c1a7d9b20"
down_revision: str | Sequence[str] | None = "8ae9335a6b53"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SANDBOX = "sandbox"
_PHONE_UNKNOWN = "status = 'delivered' AND delivered_to_phone_at IS NULL AND zalo_msg_id IS NOT NULL"


def upgrade() -> None:
    op.add_column("messages", sa.Column("sms_type", sa.String(length=4), nullable=True))
    op.add_column("messages", sa.Column("delivered_to_phone_at", tracker.db.UTCDateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_messages_sandbox",
        "messages",
        ["created_at"],
        unique=False,
        postgresql_where=sa.text(_SANDBOX),
        sqlite_where=sa.text(_SANDBOX),
    )
    op.create_index(
        "ix_messages_phone_unknown",
        "messages",
        ["created_at"],
        unique=False,
        postgresql_where=sa.text(_PHONE_UNKNOWN),
        sqlite_where=sa.text(_PHONE_UNKNOWN),
    )


def downgrade() -> None:
    op.drop_index("ix_messages_phone_unknown", table_name="messages")
    op.drop_index("ix_messages_sandbox", table_name="messages")
    # Plain DDL (SQLite 3.35+ has DROP COLUMN): no rebuild, so no trigger is touched.
    op.execute("ALTER TABLE messages DROP COLUMN delivered_to_phone_at")
    op.execute("ALTER TABLE messages DROP COLUMN sms_type")
