"""`civic-contacts demo` on a fresh registry."""

from __future__ import annotations

import datetime as dt
import json

from civic_contacts.demo import next_embargo


def test_demo_loads_everything_and_is_repeatable(cli, tmp_path) -> None:
    """The demo fills an empty registry, and a second run changes nothing."""
    first = cli("demo", "--out", str(tmp_path / "out"))
    assert "offices: 2 created" in first.stderr
    assert "contacts: 6 created" in first.stderr
    assert [o["code"] for o in json.loads(cli("office", "list", "--json").stdout)] == [
        "niamey",
        "the-hague",
    ]
    second = cli("demo", "--out", str(tmp_path / "out2"))
    assert "contacts: 0 created, 0 updated, 6 unchanged" in second.stderr


def test_next_embargo_is_a_minute_past_midnight_at_least_12_hours_ahead() -> None:
    """The demo embargo is the next 00:01 UTC at least 12 hours away."""
    now = dt.datetime(2031, 3, 9, 11, 0, tzinfo=dt.UTC)
    assert next_embargo(now) == dt.datetime(2031, 3, 10, 0, 1, tzinfo=dt.UTC)
    late = dt.datetime(2031, 3, 9, 12, 30, tzinfo=dt.UTC)
    assert next_embargo(late) == dt.datetime(2031, 3, 11, 0, 1, tzinfo=dt.UTC)


def test_demo_keeps_to_a_registry_of_its_own(tmp_path, monkeypatch) -> None:
    """Without --db the demo never touches the configured registry: it makes its own beside
    the outbox and says where."""
    from typer.testing import CliRunner

    from civic_contacts.cli import app

    real = tmp_path / "real.sqlite3"
    monkeypatch.setenv("CIVIC_CONTACTS_DB", f"sqlite:///{real}")
    runner = CliRunner()
    result = runner.invoke(app, ["demo", "--out", str(tmp_path / "demo-out")])
    assert result.exit_code == 0, result.stderr
    own = tmp_path / "demo-out.sqlite3"
    assert f"registry: sqlite:///{own} (the demo's own" in result.stderr
    assert own.is_file() and (tmp_path / "demo-out" / "preview.html").is_file()
    listed = runner.invoke(app, ["office", "list", "--json"])
    assert listed.exit_code == 0 and json.loads(listed.stdout) == []
