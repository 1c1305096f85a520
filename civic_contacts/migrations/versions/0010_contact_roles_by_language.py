"""a press contact's role in other languages

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01

`press_contacts.roles` holds the role by language code ({"fr": "Porte-parole"}); messages in
one of those languages show it, others show the role as written.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


# A plain ADD COLUMN (see 0009: batch mode on SQLite would copy and drop the table).
def upgrade() -> None:
    op.add_column(
        "press_contacts",
        sa.Column("roles", sa.JSON(), nullable=False, server_default="{}"),
    )


def downgrade() -> None:
    op.drop_column("press_contacts", "roles")
