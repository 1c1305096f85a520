"""STARTTLS with a self-signed certificate and AUTH, and DKIM signatures that cover RFC 8058."""

from __future__ import annotations

import base64
import smtplib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given
from hypothesis import strategies as st

from civic_contacts.deliver.smtp import dot_stuffed
from tests.conftest import SMTP_PASSWORD as PASSWORD
from tests.conftest import Sink, free_port
from tests.deliver.test_send import make_registry, send_args


def tls_args(port: int, cert: Path, *extra: str) -> list[str]:
    args = send_args(port, *extra)
    args[args.index("--security") + 1] = "starttls"
    return [*args, "--cafile", str(cert), "--user", "press"]


@pytest.mark.smtp
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_starttls_with_auth(
    cli, db_url: str, tls_server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Messages go over STARTTLS, verified against the given CA, after AUTH; the password is
    nowhere in the database or the outbox afterwards."""
    sink, port, cert, logins = tls_server
    monkeypatch.setenv("CIVIC_CONTACTS_SMTP_PASSWORD", PASSWORD)
    make_registry(db_url, outlets=1, per_outlet=5)
    cli("batch", "build", "sahel-civilians", "--out", str(tmp_path / "out"))
    cli(*tls_args(port, cert))
    assert len(sink.ids()) == 5
    assert logins and logins[0] == (b"press", True)
    database = Path(db_url.removeprefix("sqlite:///"))
    for path in [database, *database.parent.glob("*.sqlite3-*"), *(tmp_path / "out").rglob("*")]:
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path


@pytest.mark.smtp
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_unverified_certificate_is_refused(
    cli, db_url: str, tls_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --cafile the self-signed certificate is not trusted: one clear line, nothing sent."""
    sink, port, cert, _logins = tls_server
    monkeypatch.setenv("CIVIC_CONTACTS_SMTP_PASSWORD", PASSWORD)
    make_registry(db_url, outlets=1, per_outlet=2)
    args = tls_args(port, cert)
    args = args[: args.index("--cafile")] + args[args.index("--cafile") + 2 :]
    result = cli(*args, expect=2)
    assert "TLS failed" in result.stderr and "--cafile" in result.stderr
    assert PASSWORD not in result.output
    assert sink.ids() == []


@pytest.mark.smtp
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_wrong_password_is_one_line_without_the_password(
    cli, db_url: str, tls_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refused login says so, and never prints the password."""
    _sink, port, cert, _logins = tls_server
    monkeypatch.setenv("CIVIC_CONTACTS_SMTP_PASSWORD", "wrong-" + PASSWORD)
    make_registry(db_url, outlets=1, per_outlet=2)
    result = cli(*tls_args(port, cert), expect=2)
    assert "refused the login for press" in result.stderr
    assert PASSWORD not in result.output


@pytest.mark.smtp
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_dkim_signature_covers_list_unsubscribe_post(
    cli, db_url: str, smtp_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The DKIM signature verifies on the bytes received and signs both List-Unsubscribe headers."""
    import dkim

    sink, port = smtp_server
    config = tmp_path / "config.toml"
    config.write_text(
        '[press]\nunsubscribe_base_url = "https://press.example.org/unsubscribe"\n'
        '[smtp]\nfeedback_id = "releases:press:civic-contacts"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("CIVIC_CONTACTS_CONFIG", str(config))
    monkeypatch.setenv("CIVIC_CONTACTS_UNSUBSCRIBE_SECRET", "test-secret-for-the-relay-5d8c2f1a")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_path = tmp_path / "dkim.pem"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    public = base64.b64encode(
        key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    make_registry(db_url, outlets=1, per_outlet=2)
    cli(*send_args(port, "--dkim-key", str(key_path), "--dkim-selector", "press2026"))
    for message in sink.received:
        data = message["data"]
        assert data.startswith(b"DKIM-Signature:")
        assert dkim.verify(data, dnsfunc=lambda name, timeout=5: b"v=DKIM1; k=rsa; p=" + public)
        signature = data.split(b"\r\n\r\n", 1)[0].replace(b"\r\n", b"").replace(b" ", b"")
        signed = signature.split(b"h=", 1)[1].split(b";", 1)[0].lower().split(b":")
        assert b"list-unsubscribe" in signed and b"list-unsubscribe-post" in signed
        assert b"List-Unsubscribe-Post: List-Unsubscribe=One-Click" in data
        # relaxed/relaxed, and the headers that matter over-signed: each once more than it
        # occurs, so a copy added in transit breaks the signature.
        assert b"c=relaxed/relaxed" in signature
        for name in (b"from", b"to", b"subject", b"date", b"message-id", b"list-unsubscribe"):
            assert signed.count(name) == 2, name
        assert b"cc" in signed and b"feedback-id" in signed
        assert (
            b"\r\nFeedback-ID: releases:press:civic-contacts\r\n" in data[: data.index(b"\r\n\r\n")]
        )
        dns = lambda name, timeout=5: b"v=DKIM1; k=rsa; p=" + public  # noqa: E731
        header_end = data.index(b"\r\n\r\n")
        for added in (b"Subject: Embargo lifted early", b"Cc: someone@example.net"):
            tampered = data[:header_end] + b"\r\n" + added + data[header_end:]
            assert not dkim.verify(tampered, dnsfunc=dns), added
        # Relaxed: whitespace folded by a relay does not break it.
        refolded = data.replace(b"Subject: ", b"Subject:   ", 1)
        assert dkim.verify(refolded, dnsfunc=dns)


@pytest.mark.smtp
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_password_never_goes_without_tls_unless_asked(
    cli, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--security none` with `--user` is refused before connecting; with
    `--allow-plaintext-auth` the login goes (a trusted local relay)."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    logins: list = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.password == PASSWORD.encode()
        logins.append(ok)
        return AuthResult(success=ok, handled=False)

    sink, port = Sink(), free_port()
    controller = Controller(
        sink,
        hostname="127.0.0.1",
        port=port,
        auth_required=True,
        auth_require_tls=False,
        authenticator=authenticator,
    )
    controller.start()
    try:
        monkeypatch.setenv("CIVIC_CONTACTS_SMTP_PASSWORD", PASSWORD)
        make_registry(db_url, outlets=1, per_outlet=2)
        refused = cli(*send_args(port), "--user", "press", expect=2)
        assert "refusing to send the password of press over an unencrypted" in refused.stderr
        assert logins == [] and sink.ids() == []
        cli(*send_args(port), "--user", "press", "--allow-plaintext-auth")
        assert logins == [True] and len(sink.ids()) == 2
    finally:
        controller.stop()


@pytest.mark.smtp
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_server_without_auth_is_named_as_such(
    cli, db_url: str, smtp_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A login to a server that offers no AUTH says that, not "does not offer STARTTLS"."""
    _sink, port = smtp_server
    monkeypatch.setenv("CIVIC_CONTACTS_SMTP_PASSWORD", PASSWORD)
    make_registry(db_url, outlets=1, per_outlet=1)
    result = cli(*send_args(port), "--user", "press", "--allow-plaintext-auth", expect=2)
    assert "does not offer AUTH" in result.stderr and "STARTTLS" not in result.stderr


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_malformed_feedback_id_is_refused_before_sending(
    cli, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Feedback-ID that is not colon-joined fields is a one-line config error, exit 2."""
    config = tmp_path / "config.toml"
    config.write_text('[smtp]\nfeedback_id = "press releases\\r\\nBcc: x"\n', encoding="utf-8")
    monkeypatch.setenv("CIVIC_CONTACTS_CONFIG", str(config))
    make_registry(db_url, outlets=1, per_outlet=1)
    result = cli(*send_args(9), expect=2)
    assert "feedback_id" in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2


@given(st.lists(st.sampled_from([b".", b"..", b"\r\n", b"\n", b"\r", b"a", b" "]), max_size=30))
def test_dot_stuffing_matches_smtplib(pieces: list[bytes]) -> None:
    """Lines starting with "." get one more, exactly where smtplib's own quoting puts it; a
    message without such a line comes back as it is."""
    data = b"".join(pieces)
    assert dot_stuffed(data) == smtplib._quote_periods(data)  # type: ignore[attr-defined]
    if not data.startswith(b".") and b"\n." not in data:
        assert dot_stuffed(data) is data
