"""`config init|show|check`, and the press identity that must be set up before anything is
built or sent outside the demo's own registry."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from civic_contacts.db import make_engine


def config_file() -> Path:
    return Path(os.environ["CIVIC_CONTACTS_CONFIG"])


def write_config(text: str) -> None:
    config_file().write_text(text, encoding="utf-8")


IDENTITY = '[press]\nname = "Sahel Relief"\naddress = "press@press-office.test"\n'


@pytest.fixture
def office(cli, data_dir: Path):
    """A registry filled as an office fills its own (not the demo), with one release."""
    cli("office", "import", str(data_dir / "offices.csv"))
    cli("contact", "import", str(data_dir / "contacts.csv"))
    cli("outlet", "import", str(data_dir / "outlets.csv"))
    cli("journalist", "import", str(data_dir / "journalists.csv"))
    cli("release", "add", *map(str, sorted((data_dir / "releases").glob("*.md"))))
    return cli


def smtp(port: int) -> list[str]:
    return ["--smtp-host", "127.0.0.1", "--smtp-port", str(port), "--security", "none"]


def test_init_writes_a_private_template_once(cli) -> None:
    """`config init` writes a commented template readable only by its owner, and refuses to
    overwrite it; `config check` then names the missing identity."""
    first = cli("config", "init")
    assert str(config_file()) in first.stderr
    assert stat.S_IMODE(config_file().stat().st_mode) == 0o600
    text = config_file().read_text(encoding="utf-8")
    assert "[press]" in text and "# address = " in text and "unsubscribe_base_url" in text
    again = cli("config", "init", expect=2)
    assert "exists; nothing was written" in again.stderr
    check = cli("config", "check", expect=2)
    assert check.stderr.startswith(f"error: {config_file()}: missing press.name, press.address")


def test_unknown_keys_and_wrong_kinds_are_named(cli) -> None:
    """A misspelt key is named with the nearest valid one, a wrong kind with what it expects;
    every command refuses such a file with one line, `config check` lists every problem."""
    write_config(
        IDENTITY + 'unsubscribe_url = "https://press.example.org/u"\n'
        '[smtp]\nport = "587"\nsecurity = "tls"\n'
    )
    check = cli("config", "check", expect=2)
    assert 'smtp.port must be a whole number, not "587"' in check.stderr
    assert 'smtp.security must be one of starttls, ssl, none, not "tls"' in check.stderr
    assert (
        'unknown key "press.unsubscribe_url"; did you mean "press.unsubscribe_base_url"?'
        in check.stderr
    )
    listing = cli("office", "list", expect=2)
    assert listing.stderr.count("\nerror") == 0 and "Traceback" not in listing.stderr
    assert listing.stderr.startswith(f"error: {config_file()}: unknown key")


def test_show_says_where_each_setting_comes_from(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """`config show --json` lists every setting with its source; secrets only as set/unset."""
    write_config(IDENTITY + '[smtp]\nhost = "relay.press-office.test"\n')
    monkeypatch.setenv("CIVIC_CONTACTS_UNSUBSCRIBE_SECRET", "do-not-print-me-3b7e1f9c2a6d-81")
    shown = json.loads(cli("config", "show", "--json").stdout)
    rows = {r["key"]: (r["value"], r["source"]) for r in shown["settings"]}
    assert rows["db"][1] == "option"
    assert rows["press.address"] == ("press@press-office.test", "file")
    assert rows["press.message_id_domain"] == ("press-office.test", "default")
    assert rows["smtp.host"] == ("relay.press-office.test", "file")
    assert rows["smtp.security"] == ("starttls", "default")
    assert rows["unsubscribe_secret"] == ("set", "environment")
    assert "do-not-print-me-3b7e1f9c2a6d-81" not in json.dumps(shown)


@pytest.mark.smtp
def test_no_identity_no_batch(office, smtp_server, tmp_path: Path) -> None:
    """Outside the demo's registry, build, test and send refuse while the identity is missing
    or still an example domain, naming the config file; nothing is built or sent."""
    sink, port = smtp_server
    out = tmp_path / "out"
    build = office("batch", "build", "sahel-civilians", "--out", str(out), expect=2)
    assert build.stderr.startswith(
        f"error: {config_file()}: the press identity is not set up"
        " (missing press.name, press.address); nothing was built"
    )
    assert "config init" in build.stderr and not out.exists()
    send = office("batch", "send", "sahel-civilians", *smtp(port), "--yes", expect=2)
    assert "nothing was sent" in send.stderr
    test = office(
        "batch", "test", "sahel-civilians", "--to", "me@example.org", *smtp(port), expect=2
    )
    assert "the press identity is not set up" in test.stderr
    write_config('[press]\nname = "Sahel Relief"\naddress = "press@example.org"\n')
    example = office("batch", "build", "sahel-civilians", "--out", str(out), expect=2)
    assert 'press.address "press@example.org" is an example address' in example.stderr
    assert sink.received == [] and not out.exists()


@pytest.mark.smtp
def test_message_ids_follow_the_identity_until_sent(
    office, smtp_server, tmp_path: Path, db_url: str
) -> None:
    """Message-IDs take the From domain; after a change of identity the send refuses until the
    batch is built again, then unsent messages carry the new identity and sent ones keep theirs."""
    sink, port = smtp_server
    write_config(IDENTITY)
    office("batch", "build", "sahel-civilians", "--out", str(tmp_path / "out"))
    office(
        "batch",
        "send",
        "sahel-civilians",
        *smtp(port),
        "--limit",
        "3",
        "--yes",
        "--skip-doctor",
    )
    assert all(m["message_id"].endswith("@press-office.test>") for m in sink.received)
    write_config('[press]\nname = "Sahel Relief Newsroom"\naddress = "news@newsroom.test"\n')
    refused = office(
        "batch", "send", "sahel-civilians", *smtp(port), "--yes", "--skip-doctor", expect=2
    )
    assert "the config now says Sahel Relief Newsroom <news@newsroom.test>" in refused.stderr
    assert "batch build sahel-civilians" in refused.stderr and len(sink.received) == 3
    office("batch", "build", "sahel-civilians", "--out", str(tmp_path / "out"))
    office("batch", "send", "sahel-civilians", *smtp(port), "--yes", "--skip-doctor")
    later = sink.received[3:]
    assert len(later) == 38
    assert all(m["message_id"].endswith("@newsroom.test>") for m in later)
    assert all(b"From: Sahel Relief Newsroom <news@newsroom.test>" in m["data"] for m in later)
    audit = json.loads(office("batch", "audit", "sahel-civilians", "--json").stdout)
    ids = {r["message_id"].rsplit("@", 1)[1] for r in audit}
    assert ids == {"press-office.test>", "newsroom.test>"}
    assert len(set(m["message_id"] for m in sink.received)) == 41


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_postgres_urls_of_both_spellings_work(scheme: str) -> None:
    """`postgres://` and `postgresql://` both map to the installed driver."""
    engine = make_engine(f"{scheme}://someone:secret@127.0.0.1:1/none")
    assert engine.url.drivername == "postgresql+psycopg"
    engine.dispose()


def test_a_database_password_never_shows_in_an_error(cli) -> None:
    """An unusable database URL is named without its password."""
    from typer.testing import CliRunner

    from civic_contacts.cli import app

    result = CliRunner().invoke(
        app, ["--db", "mysql://press:hunter2@127.0.0.1/x", "office", "list"]
    )
    assert result.exit_code == 2 and "hunter2" not in result.stderr
