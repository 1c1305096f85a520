"""beats and topics, and what journalists choose

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07

- `topics`: the office's vocabulary of topics, each with its name by language.
- `journalists.beats`, `outlets.beats`: the topics they cover; `releases.topics` and
  `releases.topics_open`: what a release is about, and whether it also goes to journalists
  with no beats (the default, so that existing lists keep working).
- What a journalist chose on their preference page: `also_reads` (other languages, after
  `language`), `follows` (offices and countries; none is all), `weekly_cap` (releases in seven
  days; null is no limit), `accepts_embargoed`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "topics",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(64), nullable=False, unique=True),
        sa.Column("labels", sa.JSON(), nullable=False, server_default="{}"),
    )
    for name in ("beats", "also_reads", "follows"):
        op.add_column(
            "journalists", sa.Column(name, sa.JSON(), nullable=False, server_default="[]")
        )
    op.add_column("journalists", sa.Column("weekly_cap", sa.Integer(), nullable=True))
    op.add_column(
        "journalists",
        sa.Column("accepts_embargoed", sa.Boolean(), nullable=False, server_default=sa.true()),
    )
    op.add_column("outlets", sa.Column("beats", sa.JSON(), nullable=False, server_default="[]"))
    op.add_column("releases", sa.Column("topics", sa.JSON(), nullable=False, server_default="[]"))
    op.add_column(
        "releases",
        sa.Column("topics_open", sa.Boolean(), nullable=False, server_default=sa.true()),
    )


def downgrade() -> None:
    with op.batch_alter_table("releases") as batch:
        batch.drop_column("topics_open")
        batch.drop_column("topics")
    with op.batch_alter_table("outlets") as batch:
        batch.drop_column("beats")
    with op.batch_alter_table("journalists") as batch:
        for name in ("accepts_embargoed", "weekly_cap", "follows", "also_reads", "beats"):
            batch.drop_column(name)
    op.drop_table("topics")
