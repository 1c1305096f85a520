"""the history of every change to the registry

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07

`changes`: one row per change to an office, contact, outlet, journalist or suppression (when,
by whom, the command, the fields before and after); an import is one row with its counts and
the rows of what it did pointing at it, so that `import undo ID` can take it back.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from civic_contacts.db import UTCDateTime

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "changes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("by", sa.String(200), nullable=False),
        sa.Column("command", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("key", sa.String(320), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column(
            "import_id",
            sa.Integer(),
            sa.ForeignKey("changes.id", ondelete="CASCADE"),
            nullable=True,
        ),
    )
    op.create_index("ix_changes_at", "changes", ["at"])
    op.create_index("ix_changes_import_id", "changes", ["import_id"])
    op.create_index("ix_changes_kind_key", "changes", ["kind", "key"])


def downgrade() -> None:
    op.drop_table("changes")
