"""The command line starts quickly: `--help` lists every command without importing it, and the
commands that need no database never load SQLAlchemy (how fast is measured by bench/, not here)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main

from civic_contacts.cli import COMMANDS, _module, app, load_command
from tests.conftest import Cli

ROOT = Path(__file__).resolve().parents[2]


def _words(text: str) -> str:
    """The words of a help text, without its asides in brackets or its last full stop."""
    return " ".join(re.sub(r"\s*\([^)]*\)", "", text).split()).rstrip(".")


@pytest.mark.parametrize("name", list(COMMANDS))
def test_listed_help_is_the_commands_own(name: str) -> None:
    """Each line `--help` prints without loading a command is the start of its real help."""
    module, function, listed = COMMANDS[name]
    command = load_command(name)
    own = command.help if function is None else _module(module).__dict__[function].__doc__
    assert own, name
    assert _words(own).startswith(_words(listed)), (name, own)


def test_every_command_is_listed() -> None:
    """The listing has every command the modules define, and each one runs its module's code."""
    group = typer.main.get_command(app)
    assert sorted(group.list_commands(None)) == sorted(COMMANDS)
    for name in COMMANDS:
        assert load_command(name).name == name


def _modules_after(args: list[str], env: dict[str, str]) -> tuple[int, str, set[str]]:
    """Run the command line in a fresh interpreter; its exit code, output and loaded modules."""
    probe = (
        "import atexit, json, sys\n"
        "atexit.register(lambda: sys.stderr.write('\\nMODULES ' + json.dumps(sorted(sys.modules))))\n"
        "from civic_contacts.cli import main\n"
        f"sys.argv = ['civic-contacts', *{args!r}]\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        cwd=ROOT,
        timeout=60,
    )
    marker = done.stderr.rindex("MODULES ")
    return done.returncode, done.stdout, set(json.loads(done.stderr[marker + 8 :]))


def test_help_loads_no_database_or_templates(tmp_path: Path) -> None:
    code, out, modules = _modules_after(["--help"], {})
    assert code == 0
    assert "batch" in out and "journalist" in out
    assert not {"sqlalchemy", "jinja2", "civic_contacts.deliver.batches"} & modules


@pytest.mark.parametrize(
    "group",
    ["batch", "notice", "release", "route", "journalist", "outlet", "office", "contact", "db"],
)
def test_a_groups_help_loads_no_database_or_templates(group: str) -> None:
    """`GROUP --help` lists the group's commands without loading the core behind them."""
    code, out, modules = _modules_after([group, "--help"], {})
    assert code == 0 and "Commands" in out
    assert not {"sqlalchemy", "jinja2", "phonenumbers", "civic_contacts.registry.models"} & modules


def test_phone_parse_and_extract_need_no_sqlalchemy(tmp_path: Path, data_dir: Path) -> None:
    """`phone parse` and `contact extract` (on an SQLite registry, the quick path) read without
    SQLAlchemy, and extraction still reads national numbers with the registry's offices."""
    cli = Cli(f"sqlite:///{tmp_path / 'registry.sqlite3'}")
    env = {"CIVIC_CONTACTS_DB": cli.db_url}
    cli("office", "import", str(data_dir / "offices.csv"))
    code, out, modules = _modules_after(["phone", "parse", "+33 1 23 45 67 89"], env)
    assert code == 0 and "+33 1 23 45 67 89" in out
    assert "sqlalchemy" not in modules and "pydantic" not in modules
    block = tmp_path / "release.md"
    block.write_text(
        "Media contacts:\nIn Niamey: Awa Diallo, Press officer, 93 12 34 56, awa@example.org\n",
        encoding="utf-8",
    )
    code, out, modules = _modules_after(["contact", "extract", str(block), "--json"], env)
    assert code == 0, out
    assert "sqlalchemy" not in modules
    [person] = json.loads(out)
    assert person["phones"][0]["e164"] == "+22793123456"
    # The same reading through the registry (as --import does) finds the same person.
    through_registry = json.loads(
        cli("contact", "extract", str(block), "--json", "--region", "NE").stdout
    )
    assert through_registry == [person]


@pytest.mark.smtp
def test_a_send_of_built_messages_loads_no_renderer_or_validator(demo, smtp_server) -> None:
    """A send whose messages are all built reads them from the outbox: it loads neither the
    templates' engines, the phone and address libraries, the card writer, nor the reader of
    refusals (when nothing was refused)."""
    sink, port = smtp_server
    env = {"CIVIC_CONTACTS_DB": demo.db_url}
    server = ["--smtp-host", "127.0.0.1", "--smtp-port", str(port), "--security", "none"]
    args = ["batch", "send", "sahel-civilians", *server, "--yes", "--limit", "1"]
    code, _out, modules = _modules_after(args, env)
    assert code == 0 and len(sink.received) == 1
    heavy = {
        "jinja2",
        "markdown_it",
        "phonenumbers",
        "email_validator",
        "vobject",
        "icalendar",
        "civic_contacts.registry.vcard",
        "civic_contacts.deliver.reasons",
    }
    assert not heavy & modules, heavy & modules
    # Nor the dialect of the other database (the models name no dialect's arguments).
    other = "sqlite" if demo.db_url.startswith("postgresql") else "postgresql"
    assert f"sqlalchemy.dialects.{other}" not in modules
