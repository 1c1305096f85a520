"""Fixtures of the after-the-send tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.after.serving import Server, start_server

SECRET = "bounce-test-secret-7c1d-2e9f4a6b0c"


@pytest.fixture
def configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A config file with a return path (and, when given, the bounce mailbox)."""

    def write(mailbox: str = "") -> Path:
        config = tmp_path / "config.toml"
        config.write_text(
            '[bounces]\nreturn_path = "bounces@example.org"\n' + mailbox, encoding="utf-8"
        )
        monkeypatch.setenv("CIVIC_CONTACTS_CONFIG", str(config))
        monkeypatch.setenv("CIVIC_CONTACTS_UNSUBSCRIBE_SECRET", SECRET)
        return config

    return write


@pytest.fixture
def server(demo, db_url: str) -> Iterator[Server]:
    """`civic-contacts serve-unsubscribe` on the demo registry, in its own process."""
    yield from start_server(db_url)
