"""whether a release's messages keep the body's own closing contact block

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01

A release body often ends with its own "media contacts" block. Messages now leave it out in
favour of the contacts routed to each outlet; `keep_contact_block = true` in the release's
front matter keeps it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


# A plain ADD COLUMN, not batch mode: on SQLite, batch mode copies the table and drops the
# old one, and dropping `releases` would cascade to every delivery and revision.
def upgrade() -> None:
    op.add_column(
        "releases",
        sa.Column("keep_contact_block", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_column("releases", "keep_contact_block")
