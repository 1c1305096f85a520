"""an office's city name in other languages

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01

`offices.cities` holds the city's name by language code ({"fr": "La Haye"}); messages in one
of those languages name the contacts' city so.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


# A plain ADD COLUMN (see 0009: batch mode on SQLite would copy and drop the table, and
# dropping `offices` would take its contacts' links with it).
def upgrade() -> None:
    op.add_column("offices", sa.Column("cities", sa.JSON(), nullable=False, server_default="{}"))


def downgrade() -> None:
    op.drop_column("offices", "cities")
