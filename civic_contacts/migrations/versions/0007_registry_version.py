"""the registry's version, so that a send can tell whether its batch still matches the registry

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

Every commit that changes offices, contacts, phones, outlets, journalists or suppressions
writes a new `registry_version` (see civic_contacts.registry.store). A batch records the version it
was built from, and the size it was built at; a send whose batch matches the registry starts
at once instead of routing the whole list again.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("registry_version", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("recipients", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("outlets", sa.Integer(), nullable=True))
    meta = sa.table("registry_meta", sa.column("key", sa.String), sa.column("value", sa.Text))
    op.execute(meta.insert().values(key="registry_version", value=uuid.uuid4().hex))


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM registry_meta WHERE key = 'registry_version'"))
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.drop_column("outlets")
        batch_op.drop_column("recipients")
        batch_op.drop_column("registry_version")
