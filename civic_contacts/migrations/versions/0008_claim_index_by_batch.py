"""the claim index covers a release's own batch only, so its claims and counts read it alone

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

A release's own batch is "release_id = ? AND notice_id IS NULL" (notices have their own
index). As a partial index on exactly that, the claim index answers a batch's counts by
status (every `batch send` and `batch status`) without visiting the table, and hands out its
pending deliveries in id order without a sort. The old index also held the notices' rows, so
both needed the table; and PostgreSQL, which cannot order by id past an IS NULL column, read
every pending row and sorted them to claim 100 (half a second per claim at 200,000).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


# Plain index statements (no batch mode): SQLite changes indexes without copying the table.
def upgrade() -> None:
    op.drop_index("ix_deliveries_claim", table_name="deliveries")
    op.create_index(
        "ix_deliveries_claim",
        "deliveries",
        ["release_id", "status", "id"],
        sqlite_where=sa.text("notice_id IS NULL"),
        postgresql_where=sa.text("notice_id IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_claim", table_name="deliveries")
    op.create_index("ix_deliveries_claim", "deliveries", ["release_id", "status", "id"])
