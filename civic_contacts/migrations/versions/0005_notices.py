"""release revisions and notices: follow-ups sent to those who were sent a release

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

Deliveries now belong to the release's own batch (notice_id NULL) or to one of its notices, so
the one-message-per-address rule becomes two partial unique indexes. Each existing release gets
a revision row holding its current text, so later corrections can say what changed.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

import civic_contacts.db

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("releases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("cancelled_at", civic_contacts.db.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column("link", sa.Text(), nullable=True))
    op.create_table(
        "release_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("created_at", civic_contacts.db.UTCDateTime(), nullable=False),
        sa.Column("embargo", civic_contacts.db.UTCDateTime(), nullable=True),
        sa.Column("embargo_changed", sa.Boolean(), nullable=False),
        sa.Column("text_changed", sa.JSON(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("texts", sa.JSON(), nullable=False),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["release_id"],
            ["releases.id"],
            name=op.f("fk_release_revisions_release_id_releases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_release_revisions")),
        sa.UniqueConstraint("release_id", "number", name=op.f("uq_release_revisions_release_id")),
    )
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("templates", sa.Text(), nullable=True),
        sa.Column("outbox", sa.Text(), nullable=True),
        sa.Column("from_name", sa.String(length=200), nullable=False),
        sa.Column("from_address", sa.String(length=320), nullable=False),
        sa.Column("created_at", civic_contacts.db.UTCDateTime(), nullable=False),
        sa.Column("built_at", civic_contacts.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["release_id"],
            ["releases.id"],
            name=op.f("fk_notices_release_id_releases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
        sa.UniqueConstraint("release_id", "kind", "revision", name=op.f("uq_notices_release_id")),
    )
    op.create_index(op.f("ix_notices_release_id"), "notices", ["release_id"], unique=False)
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notice_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("in_reply_to", sa.String(length=250), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_deliveries_notice_id_notices"),
            "notices",
            ["notice_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.drop_constraint(batch_op.f("uq_deliveries_release_id"), type_="unique")
    op.create_index(
        "uq_deliveries_release_email",
        "deliveries",
        ["release_id", "email"],
        unique=True,
        sqlite_where=sa.text("notice_id IS NULL"),
        postgresql_where=sa.text("notice_id IS NULL"),
    )
    op.create_index(
        "uq_deliveries_notice_email",
        "deliveries",
        ["notice_id", "email"],
        unique=True,
        sqlite_where=sa.text("notice_id IS NOT NULL"),
        postgresql_where=sa.text("notice_id IS NOT NULL"),
    )
    op.create_index(
        "ix_deliveries_notice_claim", "deliveries", ["notice_id", "status", "id"], unique=False
    )
    _record_current_revisions()


def _record_current_revisions() -> None:
    """One revision row per existing release, holding the text it has now."""
    bind = op.get_bind()
    texts: dict[int, dict[str, list[str]]] = {}
    for release_id, language, title, dateline, body in bind.execute(
        sa.text(
            "SELECT release_id, language, title, dateline, body FROM release_translations"
            " ORDER BY release_id, position"
        )
    ):
        texts.setdefault(release_id, {})[language] = [title, dateline or "", body]
    rows = bind.execute(sa.text("SELECT id, revision, embargo, created_at FROM releases")).all()
    table = sa.table(
        "release_revisions",
        sa.column("release_id"),
        sa.column("number"),
        sa.column("created_at"),
        sa.column("embargo"),
        sa.column("embargo_changed", sa.Boolean()),
        sa.column("text_changed", sa.JSON()),
        sa.column("summary", sa.JSON()),
        sa.column("texts", sa.JSON()),
        sa.column("cancelled", sa.Boolean()),
    )
    for release_id, number, embargo, created_at in rows:
        bind.execute(
            table.insert().values(
                release_id=release_id,
                number=number,
                created_at=created_at,
                embargo=embargo,
                embargo_changed=False,
                text_changed=[],
                summary=["recorded when revisions were introduced"],
                texts=json.loads(json.dumps(texts.get(release_id, {}))),
                cancelled=False,
            )
        )


def downgrade() -> None:
    op.execute("DELETE FROM deliveries WHERE notice_id IS NOT NULL")
    op.drop_index("ix_deliveries_notice_claim", table_name="deliveries")
    op.drop_index("uq_deliveries_notice_email", table_name="deliveries")
    op.drop_index("uq_deliveries_release_email", table_name="deliveries")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            batch_op.f("uq_deliveries_release_id"), ["release_id", "email"]
        )
        batch_op.drop_constraint(batch_op.f("fk_deliveries_notice_id_notices"), type_="foreignkey")
        batch_op.drop_column("in_reply_to")
        batch_op.drop_column("notice_id")
    op.drop_index(op.f("ix_notices_release_id"), table_name="notices")
    op.drop_table("notices")
    op.drop_table("release_revisions")
    with op.batch_alter_table("releases", schema=None) as batch_op:
        batch_op.drop_column("link")
        batch_op.drop_column("cancelled_at")
