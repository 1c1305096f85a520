"""a delivery's "sent" mark touches no index on PostgreSQL

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01

On PostgreSQL, an UPDATE that changes a column some index holds writes an entry into every
index of the table (six on `deliveries`); one that changes none, with room on the row's page,
writes a new row version on that page and nothing else (a HOT update). Each message used to
change the status twice (claimed, then sent) with the status in the claim index: twelve
index entries a message, two of them in indexes (message id, address) whose new entries
land anywhere in them rather than at one end.

- `queued` (status = 'pending'), computed by the database, is what the claim index holds on
  PostgreSQL now; no index holds the status. A claim still changes an indexed column
  (`queued`), a "sent" or "failed" mark no longer does.
- Pages are filled to 70% (`fillfactor`), so that a row's next versions find room beside it.
  The column is added after the setting, and adding it rewrites the table: existing rows get
  the room as well.
- SQLite has no such cost (every index it keeps on the status is updated in place) and keeps
  its status indexes, which answer a batch's counts alone; its `queued` is a virtual column.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.execute("ALTER TABLE deliveries SET (fillfactor = 70)")
    # Stored on PostgreSQL (an index can hold only a stored column); virtual on SQLite, which
    # adds one with a plain ADD COLUMN, without copying the table.
    queued = sa.Computed("status = 'pending'", persisted=True if postgresql else None)
    op.add_column("deliveries", sa.Column("queued", sa.Boolean(), queued, nullable=True))
    if not postgresql:
        return
    op.drop_index("ix_deliveries_claim", table_name="deliveries")
    op.drop_index("ix_deliveries_notice_claim", table_name="deliveries")
    op.create_index(
        "ix_deliveries_queue",
        "deliveries",
        ["release_id", "id"],
        postgresql_where=sa.text("notice_id IS NULL AND queued"),
    )
    op.create_index(
        "ix_deliveries_notice_queue",
        "deliveries",
        ["notice_id", "id"],
        postgresql_where=sa.text("notice_id IS NOT NULL AND queued"),
    )


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.drop_index("ix_deliveries_notice_queue", table_name="deliveries")
        op.drop_index("ix_deliveries_queue", table_name="deliveries")
        op.create_index(
            "ix_deliveries_claim",
            "deliveries",
            ["release_id", "status", "id"],
            postgresql_where=sa.text("notice_id IS NULL"),
        )
        op.create_index(
            "ix_deliveries_notice_claim",
            "deliveries",
            ["notice_id", "status", "id"],
            postgresql_where=sa.text("notice_id IS NOT NULL"),
        )
    op.drop_column("deliveries", "queued")
    if postgresql:
        op.execute("ALTER TABLE deliveries RESET (fillfactor)")
