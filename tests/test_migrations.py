"""The schema comes only from Alembic migrations, and they match the models."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

import civic_contacts.registry.models  # noqa: F401 (the models fill Base.metadata)
from civic_contacts.db import Base, make_engine
from civic_contacts.migrations import current_revision, ensure_schema, head_revision, upgrade
from civic_contacts.registry.models import DELIVERIES_FILLFACTOR, PARTIAL_INDEXES

# These tests start from an empty database, never the migrated template (conftest.Templates).
pytestmark = pytest.mark.empty_db


def test_empty_database_upgraded_to_head_matches_the_models(db_url: str) -> None:
    """Migrating an empty database to head gives exactly the tables the models describe."""
    engine = make_engine(db_url)
    upgrade(engine)
    dialect = engine.dialect.name

    def made_here(obj: Any, name: Any, type_: str, reflected: bool, other: Any) -> bool:
        # An index the models make on one database only (`Index.ddl_if`) is not expected
        # on the other.
        made_if = getattr(obj, "_ddl_if", None)
        return reflected or made_if is None or made_if.dialect in (None, dialect)

    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": made_here})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []
    names = {index["name"] for index in inspect(engine).get_indexes("deliveries")}
    order = {"ix_deliveries_release_order", "ix_deliveries_notice_order"}
    claim = {"ix_deliveries_claim", "ix_deliveries_notice_claim"}
    assert (order if dialect == "postgresql" else claim) <= names
    assert not names & (claim if dialect == "postgresql" else order)
    assert not names & {"ix_deliveries_queue", "ix_deliveries_notice_queue"}
    assert current_revision(engine) == head_revision()
    assert {
        "offices",
        "press_contacts",
        "phones",
        "outlets",
        "journalists",
        "suppressions",
        "releases",
        "release_translations",
        "deliveries",
    } <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_the_deliveries_partial_indexes_have_their_conditions(db_url: str) -> None:
    """Every partial index of the deliveries is made with the condition the models name for it
    (`PARTIAL_INDEXES`), and on PostgreSQL the table with its fillfactor."""
    engine = make_engine(db_url)
    upgrade(engine)
    dialect = engine.dialect.name
    with engine.connect() as connection:
        if dialect == "sqlite":
            rows = connection.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index'"
                " AND tbl_name = 'deliveries' AND sql IS NOT NULL"
            ).all()
        else:
            rows = connection.exec_driver_sql(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'deliveries'"
            ).all()
            (options,) = connection.exec_driver_sql(
                "SELECT reloptions FROM pg_class WHERE relname = 'deliveries'"
            ).one()
            assert f"fillfactor={DELIVERIES_FILLFACTOR}" in (options or [])
    engine.dispose()

    def condition(definition: str) -> str | None:
        _head, where, tail = definition.upper().partition(" WHERE ")
        return " ".join(tail.replace("(", " ").replace(")", " ").split()) if where else None

    found = {name: condition(sql) for name, sql in rows}
    partial = {name: where for name, where in found.items() if where is not None}
    expected = {
        name: where.upper()
        for name, where in PARTIAL_INDEXES.items()
        if "email" in name or ("claim" in name) == (dialect == "sqlite")
    }
    assert partial == expected


def test_first_use_upgrades_a_new_database(db_url: str) -> None:
    """A new database is brought to head the first time it is opened."""
    engine = make_engine(db_url)
    assert current_revision(engine) is None
    ensure_schema(engine)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_db_upgrade_twice_is_harmless(cli) -> None:
    """`db upgrade` on an up-to-date database changes nothing and says so."""
    first = cli("db", "upgrade")
    assert "upgraded from empty" in first.stderr
    cli("office", "import", "--help")
    second = cli("db", "upgrade")
    assert "already at schema" in second.stderr


def test_database_with_foreign_tables_is_refused(tmp_path) -> None:
    """A database holding someone else's tables is not silently migrated."""
    from sqlalchemy import text
    from typer.testing import CliRunner

    from civic_contacts.cli import app

    url = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE invoices (id INTEGER PRIMARY KEY)"))
    result = CliRunner().invoke(app, ["--db", url, "office", "list"])
    assert result.exit_code == 2
    assert "no civic-contacts schema version" in result.stderr


def test_head_constant_matches_the_scripts() -> None:
    """The HEAD constant used for the quick schema check is Alembic's head."""
    from civic_contacts.migrations import HEAD

    assert head_revision() == HEAD


def test_deliveries_built_before_0014_get_queued_and_it_goes_back(db_url: str) -> None:
    """A batch built under 0013 gets `queued` computed for its rows under 0014, and 0014 can
    be taken back."""
    from alembic import command
    from sqlalchemy import text

    from civic_contacts.migrations import alembic_config

    engine = make_engine(db_url)
    config = alembic_config(engine)
    command.upgrade(config, "0013")
    _deliveries_at(engine, ["pending", "sent", "pending", "cancelled"])
    command.upgrade(config, "0014")
    with engine.connect() as connection:
        queued = connection.execute(
            text("SELECT email FROM deliveries WHERE queued ORDER BY id")
        ).scalars()
        assert list(queued) == ["j0@example.com", "j2@example.com"]
    command.downgrade(config, "0013")
    assert "queued" not in {c["name"] for c in inspect(engine).get_columns("deliveries")}
    assert current_revision(engine) == "0013"
    engine.dispose()


def _deliveries_at(engine: Any, statuses: list[str]) -> int:
    """A release with one delivery per status, inserted in the columns every revision since
    0013 has (plain SQL: today's models have columns those revisions lack); its id."""
    from sqlalchemy import text

    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO offices (code, name, city, country, timezone, languages, covers,"
                " cities) VALUES ('niamey', 'Niamey', 'Niamey', 'NE', 'Africa/Niamey',"
                " '[\"fr\", \"en\"]', '[\"*\"]', '{}')"
            )
        )
        office = connection.scalar(text("SELECT min(id) FROM offices"))
        connection.execute(
            text(
                "INSERT INTO releases (slug, office_id, concerns, embargo_sequence, revision,"
                " keep_contact_block, created_at, updated_at) VALUES ('sahel-civilians',"
                " :office, '[]', 0, 1, :no, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ),
            {"office": office, "no": False},
        )
        release = connection.scalar(text("SELECT min(id) FROM releases"))
        for number, status in enumerate(statuses):
            connection.execute(
                text(
                    "INSERT INTO deliveries (release_id, email, outlet_slug, language, contacts,"
                    " message_id, content_hash, revision, status, attempts, built_at)"
                    " VALUES (:release, :email, 'o', 'en', '[]', :mid, :hash, 1, :status, 0,"
                    " CURRENT_TIMESTAMP)"
                ),
                {
                    "release": release,
                    "email": f"j{number}@example.com",
                    "mid": f"<m{number}@example.org>",
                    "hash": "0" * 64,
                    "status": status,
                },
            )
    return int(release)


def test_deliveries_built_before_0015_are_claimed_in_order_and_it_goes_back(db_url: str) -> None:
    """Under 0015 a batch built under 0014 loses `queued` and its claim index on PostgreSQL,
    and its pending rows are still the ones claimed, in order; taking 0015 back computes
    `queued` again for every row, claimed ones included."""
    from alembic import command
    from sqlalchemy import text

    from civic_contacts.db import utcnow
    from civic_contacts.deliver.ledger import BatchKey, claim
    from civic_contacts.migrations import alembic_config

    engine = make_engine(db_url)
    config = alembic_config(engine)
    command.upgrade(config, "0014")
    release = _deliveries_at(engine, ["sent", "pending", "cancelled", "pending", "pending"])
    command.upgrade(config, "0015")
    assert "queued" not in {c["name"] for c in inspect(engine).get_columns("deliveries")}
    with engine.begin() as connection:
        taken = claim(connection, BatchKey(release), "a:1:x", 2, set(), utcnow())
        assert [c.email for c in taken] == ["j1@example.com", "j3@example.com"]
    command.downgrade(config, "0014")
    with engine.connect() as connection:
        queued = connection.execute(
            text("SELECT email FROM deliveries WHERE queued ORDER BY id")
        ).scalars()
        assert list(queued) == ["j4@example.com"]
    names = {index["name"] for index in inspect(engine).get_indexes("deliveries")}
    assert not names & {"ix_deliveries_release_order", "ix_deliveries_notice_order"}
    if engine.dialect.name == "postgresql":
        assert {"ix_deliveries_queue", "ix_deliveries_notice_queue"} <= names
    assert current_revision(engine) == "0014"
    engine.dispose()
