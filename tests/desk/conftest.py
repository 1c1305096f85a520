"""Fixtures of the desk's tests: the desk served by waitress on loopback over the demo
registry, sending to a real SMTP server, with three users whose passwords are known."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from civic_contacts.config import load_settings
from civic_contacts.db import make_engine, session_factory
from civic_contacts.deliver.smtp import transport_from
from civic_contacts.desk.app import create_app
from civic_contacts.registry import users
from tests.conftest import Sink, free_port
from tests.deliver.test_doctor import dns_server  # noqa: F401 (the DNS server fixture)

SECRET = b"desk-test-secret-0b7e-44c1-9a3f5d2e"
PASSWORDS = {
    "ana": "ana's own password 1",  # officer
    "ben": "ben's own password 2",  # approver
    "vic": "vic's own password 3",  # viewer
    "ada": "ada's own password 4",  # admin
}
ROLES = {"ana": "officer", "ben": "approver", "vic": "viewer", "ada": "admin"}


@functools.cache
def _hashes() -> dict[str, str]:
    """Each user's real Argon2id hash, made once per test process (hashing is slow on
    purpose; the tests of hashing itself make their own)."""
    from argon2 import PasswordHasher

    return {name: PasswordHasher().hash(password) for name, password in PASSWORDS.items()}


def add_people(engine: Engine) -> None:
    """The four users, each with a password of their own (not a one-time one)."""
    with session_factory(engine)() as session:
        for name, role in ROLES.items():
            user, _once = users.add_user(
                session, name, role, "fr" if name == "ben" else "en", email=f"{name}@example.org"
            )
            user.password_hash = _hashes()[name]
            user.must_change_password = False
        session.commit()


@dataclass
class Desk:
    url: str
    engine: Engine
    sink: Sink
    outbox: Path
    db_url: str


@pytest.fixture
def desk(demo, db_url: str, smtp_server: tuple[Sink, int], tmp_path: Path) -> Iterator[Desk]:
    """The desk on the demo registry (its release embargoed), on a free port."""
    from waitress.server import create_server

    sink, smtp_port = smtp_server
    engine = make_engine(db_url)
    add_people(engine)
    settings = load_settings(db=db_url)
    outbox = tmp_path / "desk-outboxes"
    app = create_app(
        engine,
        settings,
        outbox,
        SECRET,
        lambda: transport_from(settings, "127.0.0.1", smtp_port, "none"),
        skip_doctor=True,
        hosts=["127.0.0.1"],
    )
    port = free_port()
    server = create_server(app, host="127.0.0.1", port=port, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield Desk(f"http://127.0.0.1:{port}", engine, sink, outbox, db_url)
    finally:
        server.close()
        thread.join(5)
        engine.dispose()


@pytest.fixture
def client(demo, db_url: str, tmp_path: Path, smtp_server: tuple[Sink, int]):
    """The desk's application in-process (Flask's test client: real requests through the
    whole application, without a socket), on the demo registry."""
    _sink, smtp_port = smtp_server
    engine = make_engine(db_url)
    add_people(engine)
    settings = load_settings(db=db_url)
    app = create_app(
        engine,
        settings,
        tmp_path / "desk-outboxes",
        SECRET,
        lambda: transport_from(settings, "127.0.0.1", smtp_port, "none"),
        skip_doctor=True,
    )
    yield app, engine
    engine.dispose()
