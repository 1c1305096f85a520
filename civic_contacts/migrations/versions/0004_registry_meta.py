"""registry facts (the demo marks its own registry there); archived journalists and releases

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import civic_contacts.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "registry_meta",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_registry_meta")),
    )
    for table in ("journalists", "releases"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("archived_at", civic_contacts.db.UTCDateTime(), nullable=True)
            )


def downgrade() -> None:
    for table in ("journalists", "releases"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("archived_at")
    op.drop_table("registry_meta")
