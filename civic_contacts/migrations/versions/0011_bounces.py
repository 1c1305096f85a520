"""bounces, auto-replies and complaints, one row per recipient of each report

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01

Deliveries keep the status of what was done (a bounced message was sent); what came back is
here, matched to its delivery, with the action taken.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from civic_contacts.db import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bounces",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=400), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=True),
        sa.Column("diagnostic", sa.Text(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=True),
        sa.Column("release_id", sa.Integer(), nullable=True),
        sa.Column("matched_by", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("new_address", sa.String(length=320), nullable=True),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.id"],
            name=op.f("fk_bounces_delivery_id_deliveries"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["release_id"],
            ["releases.id"],
            name=op.f("fk_bounces_release_id_releases"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bounces")),
        sa.UniqueConstraint("source", "email", name=op.f("uq_bounces_source")),
    )
    op.create_index(op.f("ix_bounces_delivery_id"), "bounces", ["delivery_id"])
    op.create_index(op.f("ix_bounces_release_id"), "bounces", ["release_id"])
    op.create_index("ix_bounces_email_received", "bounces", ["email", "received_at"])


def downgrade() -> None:
    op.drop_table("bounces")
