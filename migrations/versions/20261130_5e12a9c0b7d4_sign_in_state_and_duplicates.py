"""sign-in state and duplicate counts: login_attempts, dashboard_sessions, phone_searches, messages.duplicates

Revision ID: 5e12a9c0b7d4
Revises: 5e1a7c0b9d42
Create Date: 2026-11-30 16:40:00

Issue 12. Sign-in failures, sessions and phone searches move from each process's memory
and the session cookie into the database, so every worker and host shares them and a
session can be ended on the server. ``messages.duplicates`` counts callbacks that arrived
after a message was final and were not stored as events.

``messages`` carries triggers (daily counts, forwarding outbox): its column is added with a
plain ALTER TABLE on both databases, never a SQLite batch rebuild, which would drop them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.db

revision: str = "5e12a9c0b7d4"
down_revision: str | Sequence[str] | None = "5e1a7c0b9d42"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_attempts",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", tracker.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_at", tracker.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "dashboard_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("created_at", tracker.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_dashboard_sessions_created_at"), "dashboard_sessions", ["created_at"], unique=False)
    op.create_table(
        "phone_searches",
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("created_at", tracker.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token"),
    )
    op.create_index(op.f("ix_phone_searches_created_at"), "phone_searches", ["created_at"], unique=False)
    # A constant default: PostgreSQL 11+ and SQLite add it without rewriting the table.
    op.add_column("messages", sa.Column("duplicates", sa.Integer(), server_default=sa.text("0"), nullable=False))


def downgrade() -> None:
    # Plain DDL (SQLite 3.35+ has DROP COLUMN): no rebuild, so no trigger on messages is touched.
    op.execute("ALTER TABLE messages DROP COLUMN duplicates")
    op.drop_index(op.f("ix_phone_searches_created_at"), table_name="phone_searches")
    op.drop_table("phone_searches")
    op.drop_index(op.f("ix_dashboard_sessions_created_at"), table_name="dashboard_sessions")
    op.drop_table("dashboard_sessions")
    op.drop_table("login_attempts")
