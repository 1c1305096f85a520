"""a delivery's claim touches no index on PostgreSQL either

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01

Since 0014 a message's "sent" mark is a HOT update on PostgreSQL (a new row version on the
same page, no index entry), but its claim was not: the claim index held `queued`, which the
claim changes, so every claimed row got an entry in each of the table's six indexes. That was
half of the database's log per message, and a tenth of its CPU.

- No index on PostgreSQL holds a column that a claim or a mark changes now: a batch's rows
  are found by batch and id (`ix_deliveries_release_order`, `ix_deliveries_notice_order`),
  and the claim reads each row's status as it walks them from where the worker's last claim
  ended. So `queued` has no use left, and goes.
- A claim changes all of a page's rows in one transaction, so their new versions need room
  beside the old ones: pages are filled to 60% (was 70%). The setting holds for pages written
  from now on; existing rows keep their room, and those that find too little take the
  ordinary path.
- SQLite keeps its status indexes (it updates them in place; a batch's counts read them
  alone); only its virtual `queued` goes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.drop_index("ix_deliveries_queue", table_name="deliveries")
        op.drop_index("ix_deliveries_notice_queue", table_name="deliveries")
        op.create_index(
            "ix_deliveries_release_order",
            "deliveries",
            ["release_id", "id"],
            postgresql_where=sa.text("notice_id IS NULL"),
        )
        op.create_index(
            "ix_deliveries_notice_order",
            "deliveries",
            ["notice_id", "id"],
            postgresql_where=sa.text("notice_id IS NOT NULL"),
        )
        op.execute("ALTER TABLE deliveries SET (fillfactor = 60)")
    op.drop_column("deliveries", "queued")


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    queued = sa.Computed("status = 'pending'", persisted=True if postgresql else None)
    op.add_column("deliveries", sa.Column("queued", sa.Boolean(), queued, nullable=True))
    if not postgresql:
        return
    op.execute("ALTER TABLE deliveries SET (fillfactor = 70)")
    op.drop_index("ix_deliveries_notice_order", table_name="deliveries")
    op.drop_index("ix_deliveries_release_order", table_name="deliveries")
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
