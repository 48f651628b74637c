"""reconcile and forward outbox: messages.reconciled_at, forward_outbox and its trigger

Revision ID: 955626b20dbc
Revises: d1bf3ac21353
Create Date: 2026-11-27 14:34:54.026041

A row-level trigger writes one forward_outbox row per status change (to anything
but queued/sending) in the transaction that made the change, whatever code path
made it; the worker delivers the rows (tracker/forwarding.py).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.db

revision: str = "955626b20dbc"
down_revision: str | Sequence[str] | None = "d1bf3ac21353"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_COLUMNS = (
    "message_id, order_id, request_id, smsid, status, error_code, error_message, "
    "sent_at, final_at, changed_at, state, attempts, next_at"
)
_VALUES = (
    "NEW.id, NEW.order_id, NEW.request_id, NEW.smsid, NEW.status, NEW.error_code, NEW.error_message, "
    "NEW.sent_at, NEW.final_at, NEW.updated_at, 'pending', 0, NEW.updated_at"
)
_INSERT = f"INSERT INTO forward_outbox ({_COLUMNS}) VALUES ({_VALUES});"
_NEWS = "NEW.status NOT IN ('queued', 'sending')"

_PG_FUNCTION = f"""
CREATE FUNCTION tracker_forward_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {_INSERT}
    RETURN NULL;
END
$$
"""
_PG_TRIGGER = (
    "CREATE TRIGGER messages_forward AFTER UPDATE OF status ON messages FOR EACH ROW "
    f"WHEN (OLD.status IS DISTINCT FROM NEW.status AND {_NEWS}) EXECUTE FUNCTION tracker_forward_outbox()"
)
_SQLITE_TRIGGER = (
    "CREATE TRIGGER messages_forward AFTER UPDATE OF status ON messages "
    f"WHEN OLD.status IS NOT NEW.status AND {_NEWS} BEGIN {_INSERT} END"
)


def upgrade() -> None:
    op.create_table(
        "forward_outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("message_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("order_id", sa.String(length=128), nullable=True),
        sa.Column("request_id", sa.String(length=50), nullable=True),
        sa.Column("smsid", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("error_code", sa.String(length=32), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("sent_at", tracker.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("final_at", tracker.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("changed_at", tracker.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", tracker.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("forward_outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_forward_outbox_due",
            ["next_at"],
            unique=False,
            postgresql_where=sa.text("state = 'pending'"),
            sqlite_where=sa.text("state = 'pending'"),
        )
        batch_op.create_index("ix_forward_outbox_message", ["message_id", "id"], unique=False)

    # Not batch mode: on SQLite that would copy the table and lose its triggers.
    op.add_column("messages", sa.Column("reconciled_at", tracker.db.UTCDateTime(timezone=True), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        op.execute(_PG_TRIGGER)
    else:
        op.execute(_SQLITE_TRIGGER)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.execute("DROP TRIGGER IF EXISTS messages_forward" + (" ON messages" if postgres else ""))
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS tracker_forward_outbox()")
    # Plain DDL (SQLite 3.35+ has DROP COLUMN): batch mode would copy messages and lose its triggers.
    op.execute("ALTER TABLE messages DROP COLUMN reconciled_at")

    with op.batch_alter_table("forward_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_forward_outbox_message")
        batch_op.drop_index(
            "ix_forward_outbox_due",
            postgresql_where=sa.text("state = 'pending'"),
            sqlite_where=sa.text("state = 'pending'"),
        )

    op.drop_table("forward_outbox")
