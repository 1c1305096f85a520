"""the language of the message when nobody's own is in the release

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07

- `outlets.also_reads`: languages the outlet's readers also read, in order (a Flemish
  newspaper's readers read English before French), tried after the outlet's own.
- `releases.fallback`: the release's own fallback order (`fallback = ["en"]` in the front
  matter), tried after that; without either, English when the release has it, then the
  owning office's first language.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "outlets", sa.Column("also_reads", sa.JSON(), nullable=False, server_default="[]")
    )
    op.add_column("releases", sa.Column("fallback", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    op.drop_column("releases", "fallback")
    op.drop_column("outlets", "also_reads")
