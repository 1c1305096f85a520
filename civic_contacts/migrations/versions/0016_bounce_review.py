"""reports held for review, and a report's own identity

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07

- `held`: why a report that would change the list was not acted on (no token of ours, a
  token for another recipient's delivery, no Message-ID we sent to the address it names).
  An officer reads it with `bounces review` and accepts or dismisses it.
- `fingerprint`: the report's own identity (its Message-ID and content), so a report filed
  back into the inbox, or read over another port or host name of the same mailbox, is
  recognised as read.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bounces") as batch:
        batch.add_column(sa.Column("held", sa.String(200), nullable=False, server_default=""))
        batch.add_column(sa.Column("fingerprint", sa.String(64), nullable=True))
    op.create_index("ix_bounces_fingerprint", "bounces", ["fingerprint"])


def downgrade() -> None:
    op.drop_index("ix_bounces_fingerprint", table_name="bounces")
    with op.batch_alter_table("bounces") as batch:
        batch.drop_column("fingerprint")
        batch.drop_column("held")
