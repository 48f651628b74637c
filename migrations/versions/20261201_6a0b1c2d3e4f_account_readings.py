"""account readings: the latest eSMS balance and each OA's ZNS quota, for the overview

Revision ID: 6a0b1c2d3e4f
Revises: 5e12a9c0b7d4
Create Date: 2026-12-01 10:00:00

Issue 11, part 8. The worker asks GetBalance_json and ZNS/GetQuota every few minutes and
keeps one row per reading here (web and worker are separate processes); when eSMS cannot
be reached the row keeps its last values and records the failed ask. A new small table:
nothing on ``messages`` changes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.db

revision: str = "6a0b1c2d3e4f"
down_revision: str | Sequence[str] | None = "5e12a9c0b7d4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "account_readings",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("oa_id", sa.String(length=64), nullable=True),
        sa.Column("balance", sa.Numeric(precision=16, scale=2), nullable=True),
        sa.Column("daily_quota", sa.Integer(), nullable=True),
        sa.Column("remaining_quota", sa.Integer(), nullable=True),
        sa.Column("read_at", tracker.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("checked_at", tracker.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("error", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("account_readings")
