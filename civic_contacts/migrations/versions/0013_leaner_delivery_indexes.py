"""two indexes fewer to update when a delivery changes status

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01

Every message changes status twice (claimed, then sent), and each change rewrites the entry
of every index on the status (on PostgreSQL, of every index on the table). Two of them did
nothing for their cost:
- `ix_deliveries_status` (status alone): every query narrows by release, notice or
  journalist first, whose indexes answer it;
- `ix_deliveries_notice_claim` held the release's own deliveries too (notice_id NULL), which
  no notice query reads: it is now partial, on notices' rows only.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


# Plain index statements (no batch mode): SQLite changes indexes without copying the table.
def upgrade() -> None:
    op.drop_index("ix_deliveries_status", table_name="deliveries")
    op.drop_index("ix_deliveries_notice_claim", table_name="deliveries")
    op.create_index(
        "ix_deliveries_notice_claim",
        "deliveries",
        ["notice_id", "status", "id"],
        sqlite_where=sa.text("notice_id IS NOT NULL"),
        postgresql_where=sa.text("notice_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_notice_claim", table_name="deliveries")
    op.create_index("ix_deliveries_notice_claim", "deliveries", ["notice_id", "status", "id"])
    op.create_index("ix_deliveries_status", "deliveries", ["status"])
