"""the claim index names the batch whole (release and notice), so a batch's counts read it alone

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

A release's own batch is "release_id = ? AND notice_id IS NULL". With notice_id in the claim
index, counting a batch's deliveries by status (every `batch send` and `batch status`) and
claiming its pending ones read the index only, never the table: at a million deliveries the
count no longer visits a million rows.
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


# Plain index statements (no batch mode): SQLite changes indexes without copying the table.
def upgrade() -> None:
    op.drop_index("ix_deliveries_claim", table_name="deliveries")
    op.create_index(
        "ix_deliveries_claim", "deliveries", ["release_id", "notice_id", "status", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_claim", table_name="deliveries")
    op.create_index("ix_deliveries_claim", "deliveries", ["release_id", "status", "id"])
