"""Where the offices are, read without SQLAlchemy, for commands that only need that much.

`contact extract` reads national numbers with the country of the office or city named near
them. Importing SQLAlchemy and the models costs most of a second; an SQLite registry is read
here with the standard library instead, read-only, so extraction starts at once and never
creates or migrates a database. Any other database (or a file this cannot read) returns None,
and the caller asks the registry.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

_SQLITE_FILE = "sqlite:///"


def read_office_places(url: str) -> list[tuple[str, str, str]] | None:
    """(code, city, country) of every office of an SQLite registry; [] when the file does not
    exist yet; None when the URL is not a plain SQLite file or the file cannot be read."""
    if not url.startswith(_SQLITE_FILE) or "?" in url:
        return None
    path = Path(url[len(_SQLITE_FILE) :]).expanduser()
    if not path.exists():
        return []
    try:
        uri = f"{path.resolve().as_uri()}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as connection:
            rows = connection.execute(
                "SELECT code, city, country FROM offices ORDER BY code"
            ).fetchall()
    except sqlite3.Error:
        return None
    return [(str(code), str(city), str(country)) for code, city, country in rows]
