"""daily_counts, kept exact by triggers on messages

Revision ID: d1bf3ac21353
Revises: 7cc89f367fac
Create Date: 2026-11-27 15:00:00

PostgreSQL uses statement-level triggers with transition tables: each statement's
changes are netted per (day, status, shard) and upserted in key order, so two
transactions always lock counter rows in the same order and cannot deadlock,
and rows whose counted columns did not change cost no upsert at all. SQLite,
which runs one writer at a time, uses plain row-level triggers.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d1bf3ac21353"
down_revision: str | Sequence[str] | None = "7cc89f367fac"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SHARDS = 8

# An INSERT trigger has no OLD TABLE and a DELETE trigger no NEW TABLE, so each
# event gets a function that reads only the transition tables it has.
_PG_TRIGGERS = (
    "CREATE TRIGGER messages_counts_insert AFTER INSERT ON messages "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tracker_daily_counts_insert()",
    "CREATE TRIGGER messages_counts_update AFTER UPDATE ON messages "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION tracker_daily_counts()",
    "CREATE TRIGGER messages_counts_delete AFTER DELETE ON messages "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION tracker_daily_counts_delete()",
    "CREATE TRIGGER messages_counts_truncate AFTER TRUNCATE ON messages "
    "FOR EACH STATEMENT EXECUTE FUNCTION tracker_daily_counts_truncate()",
)


def _pg_one_sided(name: str, table: str, sign: str) -> str:
    return f"""
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO daily_counts AS c (day, status, shard, n, price)
    SELECT CAST(created_at AT TIME ZONE 'UTC' AS date), status, CAST(id % {SHARDS} AS smallint),
           {sign}count(*), {sign}COALESCE(sum(price), 0)
    FROM {table}
    GROUP BY 1, 2, 3
    ORDER BY 1, 2, 3
    ON CONFLICT (day, status, shard) DO UPDATE
        SET n = c.n + EXCLUDED.n, price = c.price + EXCLUDED.price;
    RETURN NULL;
END
$$
"""


_PG_TRUNCATE_FUNCTION = """
CREATE FUNCTION tracker_daily_counts_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM daily_counts;
    RETURN NULL;
END
$$
"""

_PG_UPDATE_FUNCTION = f"""
CREATE FUNCTION tracker_daily_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Every old row counts -1 and every new row +1; rows whose status, price and
    -- day did not change net to zero and are dropped by HAVING.
    INSERT INTO daily_counts AS c (day, status, shard, n, price)
    SELECT day, status, shard, sum(n), sum(price)
    FROM (
        SELECT CAST(created_at AT TIME ZONE 'UTC' AS date) AS day, status,
               CAST(id % {SHARDS} AS smallint) AS shard, 1 AS n, COALESCE(price, 0) AS price
        FROM new_rows
        UNION ALL
        SELECT CAST(created_at AT TIME ZONE 'UTC' AS date), status,
               CAST(id % {SHARDS} AS smallint), -1, -COALESCE(price, 0)
        FROM old_rows
    ) AS delta
    GROUP BY day, status, shard
    HAVING sum(n) <> 0 OR sum(price) <> 0
    ORDER BY day, status, shard
    ON CONFLICT (day, status, shard) DO UPDATE
        SET n = c.n + EXCLUDED.n, price = c.price + EXCLUDED.price;
    RETURN NULL;
END
$$
"""


def _sqlite_upsert(row: str, sign: str) -> str:
    return f"""
    INSERT INTO daily_counts (day, status, shard, n, price)
    VALUES (date({row}.created_at), {row}.status, {row}.id % {SHARDS}, {sign}1, {sign}COALESCE({row}.price, 0))
    ON CONFLICT (day, status, shard) DO UPDATE SET n = n + excluded.n, price = price + excluded.price;
"""


_SQLITE_TRIGGERS = (
    f"CREATE TRIGGER messages_counts_insert AFTER INSERT ON messages BEGIN {_sqlite_upsert('NEW', '')} END",
    f"CREATE TRIGGER messages_counts_delete AFTER DELETE ON messages BEGIN {_sqlite_upsert('OLD', '-')} END",
    "CREATE TRIGGER messages_counts_update AFTER UPDATE OF status, price, created_at ON messages "
    "WHEN OLD.status IS NOT NEW.status OR OLD.price IS NOT NEW.price OR OLD.created_at IS NOT NEW.created_at "
    f"BEGIN {_sqlite_upsert('OLD', '-')} {_sqlite_upsert('NEW', '')} END",
)

_PG_DAY = "CAST(created_at AT TIME ZONE 'UTC' AS date)"
_SQLITE_DAY = "date(created_at)"


def upgrade() -> None:
    op.create_table(
        "daily_counts",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("shard", sa.SmallInteger(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.Column("price", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.PrimaryKeyConstraint("day", "status", "shard"),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    # Count what is already there, so an existing database starts out exact.
    day = _PG_DAY if postgres else _SQLITE_DAY
    op.execute(
        "INSERT INTO daily_counts (day, status, shard, n, price) "
        f"SELECT {day}, status, id % {SHARDS}, count(*), COALESCE(sum(price), 0) "
        "FROM messages GROUP BY 1, 2, 3"
    )
    if postgres:
        op.execute(_pg_one_sided("tracker_daily_counts_insert", "new_rows", ""))
        op.execute(_pg_one_sided("tracker_daily_counts_delete", "old_rows", "-"))
        op.execute(_PG_UPDATE_FUNCTION)
        op.execute(_PG_TRUNCATE_FUNCTION)
        for ddl in _PG_TRIGGERS:
            op.execute(ddl)
    else:
        for ddl in _SQLITE_TRIGGERS:
            op.execute(ddl)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for name in ("insert", "update", "delete", "truncate"):
        if postgres or name != "truncate":
            op.execute(f"DROP TRIGGER IF EXISTS messages_counts_{name}" + (" ON messages" if postgres else ""))
    if postgres:
        for fn in (
            "tracker_daily_counts_insert",
            "tracker_daily_counts_delete",
            "tracker_daily_counts",
            "tracker_daily_counts_truncate",
        ):
            op.execute(f"DROP FUNCTION IF EXISTS {fn}()")
    op.drop_table("daily_counts")
