"""message resends: messages.resent_from, the message a resend repeats (one resend per message)

Revision ID: 8ae9335a6b53
Revises: db5d6a5ab1ce
Create Date: 2026-11-30 16:20:00

``POST /api/messages/<id>/resend`` makes a new message linked to a failed one. The unique
index allows one resend per message, so a client retrying its POST gets the same resend
back; a resend that fails may itself be resent (a chain). No foreign key: SQLite cannot drop
a column a foreign key uses without rebuilding ``messages``, which would lose its triggers,
and messages are never deleted (``tracker purge`` anonymises them), so the link cannot dangle.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8ae9335a6b53"
down_revision: str | Sequence[str] | None = "db5d6a5ab1ce"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Not batch mode: on SQLite that would copy messages and lose its triggers.
    op.add_column("messages", sa.Column("resent_from", sa.BigInteger(), nullable=True))
    op.create_index("ix_messages_resent_from", "messages", ["resent_from"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_messages_resent_from", table_name="messages")
    # Plain DDL (SQLite 3.35+ has DROP COLUMN), for the same reason.
    op.execute("ALTER TABLE messages DROP COLUMN resent_from")
