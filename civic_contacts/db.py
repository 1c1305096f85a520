"""Engine, sessions and the declarative Base shared by every table.

SQLite is the default (a file in the user's data folder); PostgreSQL through psycopg 3 for a
team. Instants are stored as naive UTC and come back as aware UTC on both.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, MetaData, create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from civic_contacts.errors import DatabaseError

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every table, with constraint names that Alembic can rely on."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        list[str]: JSON,
        dict[str, list[str]]: JSON,
        dict[str, str]: JSON,
    }


class UTCDateTime(TypeDecorator[dt.datetime]):
    """An instant: refuses naive values, stores naive UTC, returns aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC instant")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC)


def utcnow() -> dt.datetime:
    """Now, aware, in UTC."""
    return dt.datetime.now(dt.UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL lets readers go on while a sender marks deliveries; NORMAL keeps each commit cheap
    # and still survives a killed process (only a power cut can lose the last commits).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Two senders on one file wait for each other's write lock instead of failing at once.
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for a database URL; an SQLite file's folder is created when missing."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError(
            f"database URL {url!r} is not valid",
            hint="use sqlite:///path/to/file.sqlite3 or postgresql+psycopg://user@host/db",
        ) from None
    if parsed.drivername in ("postgres", "postgresql"):
        # Both spellings people copy from hosting dashboards, mapped to the installed driver.
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            folder = Path(parsed.database).expanduser().parent
            if not folder.is_dir():
                raise DatabaseError(
                    f"database URL {url!r}: the folder {folder} does not exist",
                    hint="create it first, or check the path (sqlite:/// then an absolute path"
                    " has four slashes)",
                )
        engine = create_engine(parsed)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    try:
        return create_engine(parsed, pool_pre_ping=True)
    except Exception as exc:  # missing driver and the like: the user named a database we can't use
        shown = parsed.render_as_string(hide_password=True)
        raise DatabaseError(f"cannot use database URL {shown!r}: {exc}") from None


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


def check_connection(engine: Engine) -> None:
    """Fail with one clear line when the database cannot be reached."""
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseError(
            f"cannot open the database {engine.url.render_as_string(hide_password=True)}: {reason}"
        ) from None


def file_identity(engine: Engine) -> tuple[str, int, int] | None:
    """For an SQLite file, its path, device and inode (None for other databases)."""
    if engine.url.get_backend_name() != "sqlite":
        return None
    database = engine.url.database
    if not database or database == ":memory:":
        return None
    path = Path(database).expanduser()
    try:
        info = path.stat()
    except OSError:
        return None
    return str(path), info.st_dev, info.st_ino


def check_same_file(identity: tuple[str, int, int] | None, doing: str) -> None:
    """Refuse to report success when the SQLite file written to is no longer the one at its
    path (deleted or replaced while a long job ran): what was recorded is lost."""
    if identity is None:
        return
    path, device, inode = identity
    try:
        info = Path(path).stat()
    except OSError:
        info = None
    if info is None or (info.st_dev, info.st_ino) != (device, inode):
        raise DatabaseError(
            f"the database file {path} was deleted or replaced while {doing}: what this run"
            " recorded is not in it, so nothing here can be trusted as recorded",
            hint="restore the database from a backup; the server's log says what was delivered",
        )


def refresh_statistics(session: Session, tables: tuple[str, ...]) -> list[str]:
    """On PostgreSQL, ANALYZE the tables whose planner statistics lag far behind their rows
    (a fresh import or build of thousands), before a query that reads them whole; returns
    the tables analysed. Without this, a list imported a minute ago is planned as a handful
    of rows, and the nested loops chosen for that take minutes over a large one. SQLite
    plans these queries from its indexes and needs nothing."""
    if session.get_bind().dialect.name != "postgresql":
        return []
    stale = [
        str(name)
        for name, live, changed in session.execute(
            text(
                "SELECT relname, n_live_tup, n_mod_since_analyze FROM pg_stat_user_tables"
                " WHERE relname = ANY(:tables) AND schemaname = current_schema()"
            ),
            {"tables": list(tables)},
        )
        if changed > max(500, 0.1 * live)
    ]
    if stale:
        session.execute(text("ANALYZE " + ", ".join(f'"{name}"' for name in stale)))
    return stale


def reading_whole(session: Session) -> None:
    """Before a streamed read of a whole table: on PostgreSQL, plan the rest of the transaction
    for reading every row, not for the first few (a server-side cursor is planned for a fast
    first row by default, and the nested loops that gives take minutes over a large list)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL cursor_tuple_fraction = 1.0"))


def analyze_now(session: Session, tables: tuple[str, ...]) -> None:
    """On PostgreSQL, ANALYZE these tables now, inside the transaction (its own new rows are
    counted): for a long import whose look-ups would otherwise be planned for the tables as
    they were before it began."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ANALYZE " + ", ".join(f'"{name}"' for name in tables)))


# Statements over thousands of values (imports) ------------------------------------------------
#
# psycopg turns each placeholder of a query into PostgreSQL's own in Python, and does not cache
# long queries: an IN of 900 values, or an INSERT of 1,000 rows of 8 values, costs more to
# convert than to run. On PostgreSQL a list goes as one array parameter, and rows go by COPY.


def matching(column: Any, values: list[Any], dialect: str) -> Iterator[Any]:
    """Conditions that together pick the rows whose `column` is one of `values`: on PostgreSQL
    one `= ANY(array)`, elsewhere an IN per 900 (SQLite's limit on parameters)."""
    if not values:
        return
    if dialect == "postgresql":
        from sqlalchemy import any_, bindparam
        from sqlalchemy.dialects.postgresql import ARRAY

        yield column == any_(bindparam(None, values, type_=ARRAY(column.type)))
        return
    for start in range(0, len(values), 900):
        yield column.in_(values[start : start + 900])


def insert_rows_with_ids(
    connection: Any, table: Any, rows: list[dict[str, Any]], key: Any
) -> dict[Any, int]:
    """`insert_rows`, and the new rows' ids by the value of their `key` column (unique among
    them; a typed column of the table). SQLite gives them back from the insert itself
    (RETURNING, 3.35 and later; a few hundred rows to a statement), not from a second look-up
    of every key."""
    import sqlite3

    dialect = connection.dialect.name
    if dialect != "sqlite" or sqlite3.sqlite_version_info < (3, 35):
        from sqlalchemy import select

        insert_rows(connection, table, rows)
        ids: dict[Any, int] = {}
        id_column = key.table.c.id
        for condition in matching(key, [row[key.name] for row in rows], dialect):
            ids.update(
                (k, i) for i, k in connection.execute(select(id_column, key).where(condition))
            )
        return ids
    if not rows:
        return {}
    names = list(rows[0])
    columns = ", ".join(f'"{name}"' for name in names)
    one = "(" + ", ".join("?" for _name in names) + ")"
    raw = connection.connection.dbapi_connection
    size = max(1, min(500, raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // len(names)))
    ids = {}
    cursor = raw.cursor()
    try:
        for start in range(0, len(rows), size):
            part = rows[start : start + size]
            cursor.execute(
                f'INSERT INTO "{table.name}" ({columns}) VALUES {", ".join([one] * len(part))}'
                f' RETURNING id, "{key.name}"',
                [row[name] for row in part for name in names],
            )
            ids.update((k, i) for i, k in cursor.fetchall())
    finally:
        cursor.close()
    return ids


def insert_rows(connection: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert rows (dicts with the same keys, their values in stored form) in the connection's
    transaction: by COPY on PostgreSQL, by the driver's own executemany on SQLite (SQLAlchemy's
    pass over each row's parameters cost a fifth of an import), by SQLAlchemy elsewhere."""
    if not rows:
        return
    names = list(rows[0])
    raw = connection.connection.dbapi_connection
    if connection.dialect.name == "sqlite":
        columns = ", ".join(f'"{name}"' for name in names)
        marks = ", ".join("?" for _name in names)
        cursor = raw.cursor()
        try:
            cursor.executemany(
                f'INSERT INTO "{table.name}" ({columns}) VALUES ({marks})',
                [tuple(row[name] for name in names) for row in rows],
            )
        finally:
            cursor.close()
        return
    if connection.dialect.name != "postgresql":
        from sqlalchemy import insert

        connection.execute(insert(table), rows)
        return
    statement = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([row[name] for name in names])
