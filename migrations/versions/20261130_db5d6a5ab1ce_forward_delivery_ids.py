"""forward delivery ids: forward_outbox.delivery_id, a UUID made when the change is recorded

Revision ID: db5d6a5ab1ce
Revises: 955626b20dbc
Create Date: 2026-11-30 10:00:00

X-Tracker-Delivery used to be the outbox row's id, but delivered rows are deleted and
SQLite (an INTEGER PRIMARY KEY without AUTOINCREMENT) hands a deleted row's id out
again, so a receiver dropping repeats by that id lost real status changes. The new
column's database default makes a random version 4 UUID for every row the
messages_forward trigger inserts, on both databases; rows already waiting get one each.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "db5d6a5ab1ce"
down_revision: str | Sequence[str] | None = "955626b20dbc"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEX = "ix_forward_outbox_delivery_id"
_PG_UUID = "gen_random_uuid()"  # core since PostgreSQL 13
# The same kind of id as gen_random_uuid() (version 4, RFC 4122 variant), as the 32 hex
# digits SQLAlchemy's Uuid stores on SQLite; random() % 4 before abs(), which overflows
# on the smallest 64-bit integer.
_SQLITE_UUID = (
    "(lower(hex(randomblob(6)) || '4' || substr(hex(randomblob(2)), 2) "
    "|| substr('89ab', 1 + abs(random() % 4), 1) || substr(hex(randomblob(2)), 2) || hex(randomblob(6))))"
)

# messages_forward exactly as revision 955626b20dbc made it (the default fills delivery_id);
# SQLite needs it re-created around the rebuild of forward_outbox below.
_COLUMNS = (
    "message_id, order_id, request_id, smsid, status, error_code, error_message, "
    "sent_at, final_at, changed_at, state, attempts, next_at"
)
_VALUES = (
    "NEW.id, NEW.order_id, NEW.request_id, NEW.smsid, NEW.status, NEW.error_code, NEW.error_message, "
    "NEW.sent_at, NEW.final_at, NEW.updated_at, 'pending', 0, NEW.updated_at"
)
_SQLITE_TRIGGER = (
    "CREATE TRIGGER messages_forward AFTER UPDATE OF status ON messages "
    "WHEN OLD.status IS NOT NEW.status AND NEW.status NOT IN ('queued', 'sending') "
    f"BEGIN INSERT INTO forward_outbox ({_COLUMNS}) VALUES ({_VALUES}); END"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # A volatile default is evaluated per existing row, so each gets its own id.
        op.add_column(
            "forward_outbox", sa.Column("delivery_id", sa.Uuid(), nullable=False, server_default=sa.text(_PG_UUID))
        )
    else:
        # SQLite's ADD COLUMN refuses a non-constant default, so the table is rebuilt (the
        # copy leaves delivery_id out, and the default gives each row its own). The trigger
        # lives on messages but names forward_outbox, so it is dropped while the table is
        # swapped and made again after, rather than trusting SQLite's RENAME to carry it.
        op.execute("DROP TRIGGER IF EXISTS messages_forward")
        with op.batch_alter_table("forward_outbox", recreate="always") as batch_op:
            batch_op.add_column(
                sa.Column("delivery_id", sa.Uuid(), nullable=False, server_default=sa.text(_SQLITE_UUID))
            )
        op.execute(_SQLITE_TRIGGER)
    op.create_index(_INDEX, "forward_outbox", ["delivery_id"], unique=True)


def downgrade() -> None:
    op.drop_index(_INDEX, table_name="forward_outbox")
    # Plain DDL (SQLite 3.35+ has DROP COLUMN): no rebuild, so no trigger is touched.
    op.execute("ALTER TABLE forward_outbox DROP COLUMN delivery_id")
