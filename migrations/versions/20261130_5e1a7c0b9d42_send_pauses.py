"""send pauses: the account/OA circuit breaker's state, shared by every worker process

Revision ID: 5e1a7c0b9d42
Revises: 5e3c1a7d9b20
Create Date: 2026-11-30 16:40:00

One row per paused scope ("account" or "oa:<OAID>"); a tiny table every claim reads, so
a pause opened by one worker holds every worker on every host (issue 11, part 5).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tracker.db

revision: str = "5e1a7c0b9d42"
down_revision: str | Sequence[str] | None = "5e3c1a7d9b20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "send_pauses",
        sa.Column("scope", sa.String(length=80), nullable=False),
        sa.Column("oa_id", sa.String(length=64), nullable=True),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("since", tracker.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("probe_at", tracker.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("probes", sa.Integer(), nullable=False),
        sa.Column("refused", sa.Integer(), nullable=False),
        sa.Column("updated_at", tracker.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope"),
    )


def downgrade() -> None:
    op.drop_table("send_pauses")
