"""Alembic migrations, shipped in the package: the only way the schema changes.

`upgrade(engine)` brings a database to head; `ensure_schema(engine)` does that for an empty
database on first use and refuses to run on one that is behind.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from civic_contacts.errors import DatabaseError

if TYPE_CHECKING:
    from alembic.config import Config

HERE = Path(__file__).resolve().parent
# The newest revision in versions/ (a test checks it against Alembic's own answer). Knowing it
# here lets every command check the schema with one SELECT instead of importing Alembic.
HEAD = "0020"


def alembic_config(engine: Engine) -> Config:
    """An Alembic config pointing at the shipped scripts and this engine."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    """The newest revision shipped with this version, as Alembic reads the scripts."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_plain_config()).get_current_head()
    assert head is not None
    return head


def _plain_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(HERE))
    return config


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an unversioned database."""
    if "alembic_version" not in inspect(engine).get_table_names():
        return None
    with engine.connect() as connection:
        try:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except DBAPIError:
            return None


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Upgrade the database to head; returns (before, after) revisions."""
    from alembic import command

    before = current_revision(engine)
    command.upgrade(alembic_config(engine), "head")
    return before, head_revision()


def ensure_schema(engine: Engine) -> None:
    """Upgrade an empty database; refuse one that is behind or unknown to this version."""
    current = current_revision(engine)
    if current == HEAD:
        return
    head = head_revision()
    if current is None:
        tables = set(inspect(engine).get_table_names())
        if tables - {"alembic_version"}:
            raise DatabaseError(
                "the database has tables but no civic-contacts schema version",
                hint="point --db at an empty database or one made by civic-contacts",
            )
        upgrade(engine)
        return
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_plain_config())
    if current not in {rev.revision for rev in script.walk_revisions()}:
        raise DatabaseError(
            f"the database is at schema {current}, newer than this civic-contacts knows",
            hint="upgrade civic-contacts",
        )
    raise DatabaseError(
        f"the database is at schema {current}, behind {head}",
        hint="run: civic-contacts db upgrade",
    )
