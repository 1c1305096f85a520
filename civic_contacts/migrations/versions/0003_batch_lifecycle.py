"""batch lifecycle: claimed and cancelled deliveries, release revisions, stored build options

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

A delivery that a run holds is now `claimed` (it was `pending` with a holder), so a pending
row is always free to take; rows held when this migration runs become `claimed`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import civic_contacts.db

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

NEW = "status IN ('pending', 'claimed', 'sent', 'failed', 'cancelled')"
OLD = "status IN ('pending', 'sent', 'failed')"


def upgrade() -> None:
    with op.batch_alter_table("releases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revision", sa.Integer(), server_default="1", nullable=False))
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revision", sa.Integer(), server_default="1", nullable=False))
        batch_op.drop_constraint(batch_op.f("ck_deliveries_status"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_deliveries_status"), sa.text(NEW))
    op.execute(
        "UPDATE deliveries SET status = 'claimed' WHERE status = 'pending' AND claimed_by IS NOT NULL"
    )
    op.create_table(
        "batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("templates", sa.Text(), nullable=True),
        sa.Column("max_contacts", sa.Integer(), nullable=False),
        sa.Column("after_embargo", sa.Boolean(), nullable=False),
        sa.Column("outbox", sa.Text(), nullable=True),
        sa.Column("from_name", sa.String(length=200), nullable=False),
        sa.Column("from_address", sa.String(length=320), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("built_at", civic_contacts.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["release_id"],
            ["releases.id"],
            name=op.f("fk_batches_release_id_releases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batches")),
        sa.UniqueConstraint("release_id", name=op.f("uq_batches_release_id")),
    )


def downgrade() -> None:
    op.drop_table("batches")
    op.execute("UPDATE deliveries SET status = 'pending' WHERE status = 'claimed'")
    op.execute("DELETE FROM deliveries WHERE status = 'cancelled'")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_deliveries_status"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_deliveries_status"), sa.text(OLD))
        batch_op.drop_column("revision")
    with op.batch_alter_table("releases", schema=None) as batch_op:
        batch_op.drop_column("revision")
