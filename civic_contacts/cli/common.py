"""What every command shares: the settings, the one transaction, and how results are printed.

Listings print a rich table on a terminal (plain text when piped) or JSON with `--json`.
"""

from __future__ import annotations

import functools
import gc
import json
import re
import sys
import textwrap
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session

    from civic_contacts.config import Settings

# Heavy modules (SQLAlchemy, rich, the core) are imported inside the functions that use them,
# or bound with `lazy` below, so `--help` and the commands that need no database start quickly.


def lazy(name: str) -> Any:
    """The module `name`, loaded when one of its names is first used (importlib's LazyLoader):
    a command group binds the core this way, so its `--help` lists its commands without
    loading the core, SQLAlchemy and Jinja2 behind them. Used from the main thread: the
    command that runs touches its modules before any worker thread starts."""
    import importlib.util

    known = sys.modules.get(name)
    if known is not None:
        return known
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.loader is not None, name
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    parent, _, child = name.rpartition(".")
    setattr(sys.modules[parent], child, module)
    return module


@dataclass
class State:
    """Per-run state held in the click context."""

    db: str | None = None
    settings: Settings | None = None
    engine: Engine | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def state(ctx: typer.Context) -> State:
    """The run's state, created on first use."""
    root = ctx.find_root()
    if not isinstance(root.obj, State):
        root.obj = State()
    return root.obj


def command_line(ctx: typer.Context, *words: str) -> str:
    """A command as the person would type it next, with this run's `--db` when one was given
    (its password left out: it is never written anywhere)."""
    import shlex

    given = state(ctx).db
    prefix = ["civic-contacts"]
    if given:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            url = make_url(given)
            shown = url.set(password=None).render_as_string(hide_password=False)
        except ArgumentError:
            shown = given
        prefix += ["--db", shlex.quote(shown)]
    return " ".join([*prefix, *(shlex.quote(word) for word in words)])


def settings(ctx: typer.Context) -> Settings:
    """The resolved settings for this run."""
    from civic_contacts.config import load_settings

    st = state(ctx)
    if st.settings is None:
        st.settings = load_settings(db=st.db)
    return st.settings


def engine(ctx: typer.Context, migrate: bool = True) -> Engine:
    """The engine for the configured database, checked and (when new) migrated."""
    from civic_contacts.db import check_connection, make_engine
    from civic_contacts.migrations import ensure_schema

    st = state(ctx)
    if st.engine is None:
        st.engine = make_engine(settings(ctx).db_url)
        check_connection(st.engine)
        if migrate:
            ensure_schema(st.engine)
    return st.engine


@contextmanager
def transaction(ctx: typer.Context, commit: bool = True) -> Iterator[Session]:
    """One session and one transaction: committed when the block ends (unless `commit` is
    False, as for a dry run), rolled back on error."""
    from civic_contacts.db import session_factory
    from civic_contacts.registry.history import acting

    factory = session_factory(engine(ctx))
    _freeze_start_up()
    with factory() as session, acting(settings(ctx).officer, command_given(ctx)):
        # The session begins on first use; the core may commit along the way (a send commits
        # each step of the shared ledger), and whatever is left is committed or rolled back here.
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        if commit:
            session.commit()
        else:
            session.rollback()


def command_given(ctx: typer.Context) -> str:
    """The command as given (its path, arguments and the options set), for the history."""
    words = [ctx.command_path]
    for param in ctx.command.params:
        value = ctx.params.get(param.name or "")
        if value in (None, False, [], ()) or param.name == "yes":
            continue
        values = value if isinstance(value, list | tuple) else [value]
        if param.param_type_name == "argument":
            words.extend(str(v) for v in values)
        elif value is True:
            words.append(param.opts[0])
        else:
            words.extend(f"{param.opts[0]} {v}" for v in values)
    return " ".join(words)[:2000]


@functools.cache
def _freeze_start_up() -> None:
    """What start-up made (modules, SQLAlchemy's mappers, the engine) lives as long as the
    process: moved out of the collector's sight, once, so that a long job's full collections
    scan only the job's own objects (a 50,000-row import spent a tenth of its time there)."""
    gc.freeze()


# What a terminal would act on rather than show: C0 controls but tab and newline, DEL, C1
# controls (ESC and CSI start colour changes, cursor moves, title and clipboard writes) and
# the bidirectional overrides that reorder what is shown.
_UNSHOWABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """Text as a terminal may show it: every control character a replacement character, so
    words from a report or a registry (anything an outsider wrote) cannot move the cursor,
    recolour the screen or set the window's title."""
    return _UNSHOWABLE.sub("\ufffd", text)


def _console(**options: Any) -> Console:
    from rich.console import Console

    class Printable(Console):
        """A console that never passes a control character of a string through."""

        def print(self, *objects: Any, **kwargs: Any) -> None:  # type: ignore[override]
            super().print(*(printable(o) if isinstance(o, str) else o for o in objects), **kwargs)

    # No emoji codes: a name or subject with ":fire:" in it is shown as written (and the
    # code table is never loaded).
    return Printable(emoji=False, **options)


def out() -> Console:
    """The console for results (stdout)."""
    if sys.stdout.isatty():
        return _console(highlight=False)
    # Piped: wide enough that tables keep one line per row for grep and less.
    return _console(highlight=False, width=200)


def err() -> Console:
    """The console for messages and warnings (stderr)."""
    return _console(stderr=True, highlight=False, soft_wrap=True)


def print_json(data: Any) -> None:
    """JSON for scripts, UTF-8 kept readable."""
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def print_json_stream(items: Iterable[Any]) -> None:
    """`print_json` of a list, written item by item as the items come (the same text)."""
    write = sys.stdout.write
    first = True
    for item in items:
        text = json.dumps(item, ensure_ascii=False, indent=2, default=str)
        write(("[\n" if first else ",\n") + textwrap.indent(text, "  "))
        first = False
    write("[]\n" if first else "\n]\n")


def print_table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A table of rows for people."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, show_lines=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        # As Text: a cell is shown as written, never read as markup ("[/b]" in a name would
        # stop the listing; "[red]" would recolour it).
        table.add_row(*[Text("" if v is None else printable(str(v))) for v in row])
    out().print(table)


def warn(lines: Sequence[str]) -> None:
    """Warnings on stderr, one per line."""
    console = err()
    for line in lines:
        console.print(f"warning: {line}", markup=False)


def say(text: str) -> None:
    """A line for people on stderr, so stdout stays clean for data."""
    err().print(text, markup=False)


def write_output(text: str, output: Any) -> None:
    """Text to a file (written atomically) or to stdout."""
    if output is None:
        sys.stdout.write(text)
        return
    from civic_contacts.compose.outbox import write_text_atomic

    write_text_atomic(output, text)
    say(f"wrote {output}")


def confirm(yes: bool, question: str) -> None:
    """Ask on a terminal; without one, `--yes` is needed (risky actions are explicit)."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise typer.BadParameter("pass --yes to do this without a terminal", param_hint="--yes")
    typer.confirm(question, abort=True)


YES = typer.Option(False, "--yes", help="Do not ask (needed without a terminal).")
