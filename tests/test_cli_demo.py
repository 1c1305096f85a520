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
