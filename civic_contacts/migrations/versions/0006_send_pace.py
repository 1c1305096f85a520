"""the organisation's send rate and per-domain pacing, shared by every sender

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

One row per pace ("org", "domain:<name>"): the earliest instant (Unix seconds) at which the
next message may start. Every sender reserves its slot here, so the rate holds across
processes, machines and restarts.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "send_pace",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("next_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_send_pace")),
    )


def downgrade() -> None:
    op.drop_table("send_pace")
