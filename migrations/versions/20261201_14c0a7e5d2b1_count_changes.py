"""count changes: status changes logged for the worker to fold into daily_counts (PostgreSQL)

Revision ID: 14c0a7e5d2b1
Revises: 6a0b1c2d3e4f
Create Date: 2026-11-30 19:00:00

Issue 14. On PostgreSQL every UPDATE of ``messages`` ran a statement-level trigger with
transition tables that upserted ``daily_counts`` in the same transaction: about a fifth
of the webhook's database time (bench/README.md), paid even by an UPDATE that changed no
row. Now a row-level trigger, fired only when a row's status, price or day really changes,
appends the change to ``daily_count_changes`` (no index, no conflict, no lock on a shared
counter row), and the worker folds those rows into ``daily_counts`` every second
(tracker/queries/counters.py ``fold``). Readers add the few rows not folded yet, so the
counts stay exact in every transaction, as before.

Inserts, deletes and TRUNCATE keep their statement-level triggers (they are not on the
webhook's path). SQLite keeps its row triggers, which write ``daily_counts`` directly
(one writer at a time there); its ``daily_count_changes`` stays empty.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "14c0a7e5d2b1"
down_revision: str | Sequence[str] | None = "6a0b1c2d3e4f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SHARDS = 8
_DAY = "CAST({r}.created_at AT TIME ZONE 'UTC' AS date)"
_SHARD = f"CAST({{r}}.id % {SHARDS} AS smallint)"

_CHANGES_FUNCTION = f"""
CREATE FUNCTION tracker_daily_count_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The row leaves its old counter and joins its new one: two rows, never a conflict.
    INSERT INTO daily_count_changes (day, status, shard, n, price) VALUES
        ({_DAY.format(r="OLD")}, OLD.status, {_SHARD.format(r="OLD")}, -1, -COALESCE(OLD.price, 0)),
        ({_DAY.format(r="NEW")}, NEW.status, {_SHARD.format(r="NEW")}, 1, COALESCE(NEW.price, 0));
    RETURN NULL;
END
$$
"""
_CHANGES_TRIGGER = (
    "CREATE TRIGGER messages_count_changes AFTER UPDATE OF status, price, created_at ON messages FOR EACH ROW "
    "WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.price IS DISTINCT FROM NEW.price "
    "OR OLD.created_at IS DISTINCT FROM NEW.created_at) EXECUTE FUNCTION tracker_daily_count_changes()"
)
_TRUNCATE_FUNCTION = """
CREATE OR REPLACE FUNCTION tracker_daily_counts_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM daily_counts;
    DELETE FROM daily_count_changes;
    RETURN NULL;
END
$$
"""
# Everything not folded yet, into the counters (the same statement as counters.fold).
_FOLD = """
WITH moved AS (DELETE FROM daily_count_changes RETURNING day, status, shard, n, price)
INSERT INTO daily_counts AS c (day, status, shard, n, price)
SELECT day, status, shard, sum(n), sum(price) FROM moved GROUP BY day, status, shard
ORDER BY day, status, shard
ON CONFLICT (day, status, shard) DO UPDATE SET n = c.n + EXCLUDED.n, price = c.price + EXCLUDED.price
"""

# Revision d1bf3ac21353's update trigger, for the downgrade.
_OLD_UPDATE_TRIGGER = (
    "CREATE TRIGGER messages_counts_update AFTER UPDATE ON messages "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION tracker_daily_counts()"
)
_OLD_TRUNCATE_FUNCTION = """
CREATE OR REPLACE FUNCTION tracker_daily_counts_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM daily_counts;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "daily_count_changes",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("shard", sa.SmallInteger(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("price", sa.Numeric(precision=18, scale=4), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER messages_counts_update ON messages")
        op.execute(_CHANGES_FUNCTION)
        op.execute(_CHANGES_TRIGGER)
        op.execute(_TRUNCATE_FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER messages_count_changes ON messages")
        op.execute("DROP FUNCTION tracker_daily_count_changes()")
        op.execute(_FOLD)
        op.execute(_OLD_TRUNCATE_FUNCTION)
        op.execute(_OLD_UPDATE_TRIGGER)
    op.drop_table("daily_count_changes")
