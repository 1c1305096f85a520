"""Shared fixtures: a fresh registry on SQLite and on PostgreSQL, and the command line.

Every test that takes `db_url` runs twice: on a temporary SQLite file and on a fresh schema of
the PostgreSQL server named by CIVIC_CONTACTS_TEST_PG. Without that variable the PostgreSQL runs
are skipped on a developer's machine and fail in CI (CI=true), so they can never vanish
silently. No test touches the user's real data or config folders.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from civic_contacts.cli import app
from civic_contacts.db import make_engine, session_factory
from civic_contacts.migrations import ensure_schema

PG_ENV = "CIVIC_CONTACTS_TEST_PG"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def need(what: str, reason: str) -> None:
    """Skip on a developer's machine, fail in CI: a missing service must never pass silently."""
    if IN_CI:
        pytest.fail(f"{what} is required in CI: {reason}")
    pytest.skip(f"{what} not available: {reason}")


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("CIVIC_CONTACTS_CONFIG", str(home / "no-config.toml"))
    monkeypatch.delenv("CIVIC_CONTACTS_DB", raising=False)
    monkeypatch.delenv("CIVIC_CONTACTS_SMTP_PASSWORD", raising=False)
    # Test lists put thousands of addresses at one example domain; the per-domain pace is
    # tested on its own (tests/deliver/test_pace.py).
    monkeypatch.setenv("CIVIC_CONTACTS_PER_DOMAIN_RATE", "0")
    monkeypatch.delenv("CIVIC_CONTACTS_DNS_SERVER", raising=False)


def _pg_base() -> Any:
    base = os.environ.get(PG_ENV)
    if not base:
        need("PostgreSQL", f"set {PG_ENV} to a database URL")
    assert base is not None
    return make_url(base)


def _pg_admin(statement: str) -> None:
    """Run one statement on the scratch database named by CIVIC_CONTACTS_TEST_PG."""
    import psycopg

    conninfo = _pg_base().set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(statement)
    except psycopg.OperationalError as exc:
        need("PostgreSQL", str(exc).strip().splitlines()[0])


def _pg_url(database: str) -> str:
    return (
        _pg_base()
        .set(drivername="postgresql+psycopg", database=database)
        .render_as_string(hide_password=False)
    )


class Templates:
    """Registries made once per test process and copied for each test that asks: one
    migrated to head, one with the demo loaded and its batch built (with the outbox and the
    unsubscribe secret it was built with). A copy is an SQLite file copied, or a PostgreSQL
    database created from a template database (tens of milliseconds, where migrating takes
    half a second and the demo a second more). Every test still gets a database of its own."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.made: dict[tuple[str, str], Any] = {}
        self.pg_databases: list[str] = []

    def _build(self, backend: str, kind: str) -> Any:
        home = self.folder / f"{backend}-{kind}"
        home.mkdir(exist_ok=True)
        if backend == "sqlite":
            url = f"sqlite:///{home / 'registry.sqlite3'}"
        else:
            name = f"cc_tmpl_{uuid.uuid4().hex[:12]}"
            _pg_admin(f'CREATE DATABASE "{name}"')
            self.pg_databases.append(name)
            url = _pg_url(name)
        eng = make_engine(url)
        ensure_schema(eng)
        eng.dispose()
        secrets = None
        if kind == "demo":
            saved = {
                k: os.environ.get(k) for k in ("HOME", "XDG_CONFIG_HOME", "CIVIC_CONTACTS_CONFIG")
            }
            os.environ.update(
                HOME=str(home),
                XDG_CONFIG_HOME=str(home / "config"),
                CIVIC_CONTACTS_CONFIG=str(home / "no-config.toml"),
            )
            try:
                result = CliRunner().invoke(app, ["--db", url, "demo", "--out", str(home / "out")])
                assert result.exit_code == 0, result.output
                from civic_contacts.deliver.tokens import secrets_path

                secrets = secrets_path().read_bytes()
            finally:
                for key, value in saved.items():
                    if value is None:
                        os.environ.pop(key, None)
                    else:
                        os.environ[key] = value
        if backend == "postgresql":
            # The demo's engine keeps its pooled connections until it is collected; a template
            # database must have none.
            _pg_admin(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                f" WHERE datname = '{make_url(url).database}' AND pid <> pg_backend_pid()"
            )
        return url, home, secrets

    def copy(self, backend: str, kind: str, tmp_path: Path) -> Iterator[str]:
        """A database of its own for one test, copied from the template of this kind."""
        import contextlib
        import shutil

        if (backend, kind) not in self.made:
            self.made[(backend, kind)] = self._build(backend, kind)
        template_url, home, secrets = self.made[(backend, kind)]
        url = template_url
        if backend == "sqlite":
            import sqlite3

            # SQLite's backup copies what is committed, whether or not it is still in the WAL.
            target = tmp_path / "registry.sqlite3"
            with (
                contextlib.closing(sqlite3.connect(home / "registry.sqlite3")) as source,
                contextlib.closing(sqlite3.connect(target)) as copy,
            ):
                source.backup(copy)
            url = f"sqlite:///{target}"
        else:
            name = f"t_{uuid.uuid4().hex[:12]}"
            _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{make_url(url).database}"')
            url = _pg_url(name)
        if kind == "demo":
            from sqlalchemy import text

            from civic_contacts.deliver.tokens import secrets_path

            shutil.copytree(home / "out", tmp_path / "out")
            # The preview names the database in the command that sends: this test's.
            preview = tmp_path / "out" / "preview.html"
            preview.write_text(
                preview.read_text(encoding="utf-8").replace(template_url, url), encoding="utf-8"
            )
            path = secrets_path()
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_bytes(secrets)
            eng = make_engine(url)
            with eng.begin() as connection:
                connection.execute(
                    text("UPDATE batches SET outbox = :o"), {"o": str(tmp_path / "out")}
                )
            eng.dispose()
        try:
            yield url
        finally:
            if backend == "postgresql":
                _pg_admin(f'DROP DATABASE "{make_url(url).database}" WITH (FORCE)')

    def close(self) -> None:
        for name in self.pg_databases:
            _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    """This test process's template registries (see `Templates`)."""
    made = Templates(tmp_path_factory.mktemp("templates"))
    try:
        yield made
    finally:
        made.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, templates: Templates, tmp_path: Path) -> Iterator[str]:
    """A URL of a database of the test's own, on SQLite and on PostgreSQL: migrated to head
    (as every command would make it on first use), or empty for a test marked `empty_db`;
    with the demo loaded and built when the test asks for `demo`."""
    backend = str(request.param)
    if request.node.get_closest_marker("empty_db"):
        if backend == "sqlite":
            yield f"sqlite:///{tmp_path / 'registry.sqlite3'}"
            return
        name = f"t_{uuid.uuid4().hex[:12]}"
        _pg_admin(f'CREATE DATABASE "{name}"')
        try:
            yield _pg_url(name)
        finally:
            _pg_admin(f'DROP DATABASE "{name}" WITH (FORCE)')
        return
    kind = "demo" if "demo" in request.fixturenames else "migrated"
    yield from templates.copy(backend, kind, tmp_path)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on a registry migrated to head."""
    eng = make_engine(db_url)
    ensure_schema(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session in a transaction that the test may commit or leave."""
    with session_factory(engine)() as s:
        yield s


class Cli:
    """The command line, run in-process on one database."""

    def __init__(self, db_url: str) -> None:
        self.db_url = db_url
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None, expect: int | None = 0):
        result = self.runner.invoke(app, ["--db", self.db_url, *args], input=input)
        if expect is not None and result.exit_code != expect:
            raise AssertionError(
                f"civic-contacts {' '.join(args)} exited {result.exit_code}, expected {expect}\n"
                f"stdout: {result.stdout}\nstderr: {result.stderr}\n{result.exception!r}"
            )
        return result


@pytest.fixture
def cli(db_url: str) -> Cli:
    """Run `civic-contacts --db <test database> ...` and check its exit code."""
    return Cli(db_url)


@pytest.fixture
def demo(cli: Cli, tmp_path: Path) -> Cli:
    """The command line on the demo registry, its batch built into tmp_path/out (copied from
    this process's demo template: see `Templates`)."""
    return cli


@pytest.fixture
def data_dir() -> Path:
    """The shipped demo data."""
    from civic_contacts.config import shipped_dir

    return shipped_dir("data")


# A real SMTP server on loopback -------------------------------------------------------------


class Sink:
    """An aiosmtpd handler that keeps every accepted message and can be told to misbehave.

    `faults[(address, stage)]` is a list of replies to give, one per attempt, for stage "rcpt"
    or "data"; the reply "drop" closes the connection in the middle of the message.
    """

    def __init__(self) -> None:
        import threading

        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)
        self.received: list[dict] = []
        self.faults: dict[tuple[str, str], list[str]] = {}

    def _fault(self, address: str, stage: str) -> str | None:
        with self.lock:
            queue = self.faults.get((address, stage))
            return queue.pop(0) if queue else None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        fault = self._fault(address, "rcpt")
        if fault:
            return fault
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        import email as email_module
        import time
        from email import policy as email_policy

        recipient = envelope.rcpt_tos[0]
        fault = self._fault(recipient, "data")
        if fault == "drop":
            server.transport.close()
            return "421 dropped"
        if fault:
            return fault
        msg = email_module.message_from_bytes(envelope.content, policy=email_policy.default)
        with self.lock:
            self.received.append(
                {
                    "time": time.monotonic(),
                    "message_id": msg["Message-ID"],
                    "to": recipient,
                    "rcpt_tos": list(envelope.rcpt_tos),
                    "mail_from": envelope.mail_from,
                    "subject": str(msg["Subject"]),
                    "data": envelope.content,
                    "login": getattr(session, "login_data", None),
                }
            )
            self.arrived.notify_all()
        return "250 2.0.0 Ok: queued"

    def wait_for(self, count: int, timeout: float = 120.0) -> bool:
        """Wait until `count` messages have arrived (False if the timeout came first)."""
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.received) >= count, timeout)

    def ids(self) -> list[str]:
        with self.lock:
            return [m["message_id"] for m in self.received]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[Sink, int]]:
    """A plain SMTP server on 127.0.0.1 that accepts everything (unless told otherwise)."""
    try:
        from aiosmtpd.controller import Controller
    except ImportError:
        need("aiosmtpd", "install the test extras")
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


# A STARTTLS relay with a self-signed certificate and AUTH ----------------------------------

SMTP_PASSWORD = "s3cret-pässwörd-ü"  # not ASCII: sent as UTF-8 (RFC 4616)
PASSWORD = SMTP_PASSWORD


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1, and its key, as PEM files."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[Sink, int, Path, list]]:
    """An SMTP relay on loopback that requires STARTTLS and AUTH (password SMTP_PASSWORD)."""
    import ssl

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    logins: list = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.password == PASSWORD.encode()
        logins.append((auth_data.login, ok))
        return AuthResult(success=ok, handled=False)

    sink = Sink()
    port = free_port()
    controller = Controller(
        sink,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        auth_required=True,
        auth_require_tls=True,
        authenticator=authenticator,
    )
    controller.start()
    try:
        yield sink, port, cert, logins
    finally:
        controller.stop()
