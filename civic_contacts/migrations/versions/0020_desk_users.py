"""the people who work at the desk

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07

`users`: name, role (viewer, officer, approver, admin), an Argon2id password hash, language
and time zone, failed logins and a lock for throttling, and a session version that ends
every session when the password changes. Batches and notices record who built them and
who approved which build (an approval holds the build's time, so a rebuild withdraws it).
Journalists' names are indexed for the desk's list.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from civic_contacts.db import UTCDateTime

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("must_change_password", sa.Boolean(), nullable=False),
        sa.Column("language", sa.String(35), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", UTCDateTime(), nullable=True),
        sa.Column("session_version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_login_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "role IN ('viewer', 'officer', 'approver', 'admin')",
            name=op.f("ck_users_user_role_known"),
        ),
    )
    op.create_index("ix_journalists_name_email", "journalists", ["name", "email"])
    for table in ("batches", "notices"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("built_by", sa.String(100), nullable=True))
            batch.add_column(sa.Column("approved_by", sa.String(100), nullable=True))
            batch.add_column(sa.Column("approved_at", UTCDateTime(), nullable=True))
            batch.add_column(sa.Column("approved_build", UTCDateTime(), nullable=True))


def downgrade() -> None:
    for table in ("batches", "notices"):
        with op.batch_alter_table(table) as batch:
            for column in ("approved_build", "approved_at", "approved_by", "built_by"):
                batch.drop_column(column)
    op.drop_index("ix_journalists_name_email", table_name="journalists")
    op.drop_table("users")
