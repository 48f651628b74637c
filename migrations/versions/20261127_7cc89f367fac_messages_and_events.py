"""messages and events

Revision ID: 7cc89f367fac
Revises:
Create Date: 2026-11-27 14:25:29.434113
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.db

revision: str = "7cc89f367fac"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "messages",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("smsid", sa.String(length=64), nullable=True),
        sa.Column("request_id", sa.String(length=50), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("recipient", sa.String(length=64), nullable=True),
        sa.Column("template_id", sa.String(length=64), nullable=True),
        sa.Column("oa_id", sa.String(length=64), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("order_id", sa.String(length=128), nullable=True),
        sa.Column("campaign_id", sa.String(length=254), nullable=True),
        sa.Column("sandbox", sa.Boolean(), nullable=False),
        sa.Column("error_code", sa.String(length=32), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("price", sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column("telco", sa.String(length=32), nullable=True),
        sa.Column("zalo_msg_id", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", tracker.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", tracker.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", tracker.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", tracker.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("final_at", tracker.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_id"),
        sa.UniqueConstraint("smsid"),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index("ix_messages_created_at", ["created_at"], unique=False)
        batch_op.create_index(
            "ix_messages_due",
            ["due_at"],
            unique=False,
            postgresql_where=sa.text("status IN ('queued', 'sending')"),
            sqlite_where=sa.text("status IN ('queued', 'sending')"),
        )
        batch_op.create_index(
            "ix_messages_open",
            ["updated_at"],
            unique=False,
            postgresql_where=sa.text("status IN ('accepted', 'pending_approval', 'waiting', 'sent')"),
            sqlite_where=sa.text("status IN ('accepted', 'pending_approval', 'waiting', 'sent')"),
        )
        batch_op.create_index(batch_op.f("ix_messages_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_messages_phone"), ["phone"], unique=False)
        batch_op.create_index("ix_messages_status_created", ["status", "created_at"], unique=False)

    op.create_table(
        "events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("message_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=True),
        sa.Column("smsid", sa.String(length=64), nullable=True),
        sa.Column("error_code", sa.String(length=32), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=True),
        sa.Column("created_at", tracker.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index("ix_events_created_at", ["created_at"], unique=False)
        batch_op.create_index("ix_events_message_id", ["message_id", "id"], unique=False)
        batch_op.create_index("ix_events_smsid", ["smsid"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_smsid")
        batch_op.drop_index("ix_events_message_id")
        batch_op.drop_index("ix_events_created_at")

    op.drop_table("events")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_status_created")
        batch_op.drop_index(batch_op.f("ix_messages_phone"))
        batch_op.drop_index(batch_op.f("ix_messages_order_id"))
        batch_op.drop_index(
            "ix_messages_open",
            postgresql_where=sa.text("status IN ('accepted', 'pending_approval', 'waiting', 'sent')"),
            sqlite_where=sa.text("status IN ('accepted', 'pending_approval', 'waiting', 'sent')"),
        )
        batch_op.drop_index(
            "ix_messages_due",
            postgresql_where=sa.text("status IN ('queued', 'sending')"),
            sqlite_where=sa.text("status IN ('queued', 'sending')"),
        )
        batch_op.drop_index("ix_messages_created_at")

    op.drop_table("messages")
