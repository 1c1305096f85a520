"""Alembic environment: runs migrations on the engine handed over by `civic_contacts.migrations`."""

from __future__ import annotations

from alembic import context

from civic_contacts.db import Base

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
