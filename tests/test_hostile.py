"""Hostile input: header injection, markup, template code, broken files, forged tokens, secrets."""

from __future__ import annotations

import contextlib
import csv
import email
import json
import re
import urllib.error
import urllib.request
from email import policy
from email.utils import getaddresses
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from civic_contacts.after.serve import make_server, serve_in_thread
from civic_contacts.compose.mime import check_headers, encode_address, encode_unstructured
from civic_contacts.db import make_engine
from civic_contacts.deliver.tokens import make_token, verify_token
from civic_contacts.errors import CivicContactsError, InputError
from civic_contacts.migrations import ensure_schema
from tests.conftest import free_port

SECRET = "hmac-secret-for-tests-7d1f-5b0e9a2c"


def test_name_with_crlf_bcc_is_refused_at_import(demo, tmp_path: Path) -> None:
    """A name carrying "\\r\\nBcc: ..." is refused with row and field; nothing is imported."""
    path = tmp_path / "j.csv"
    path.write_bytes(
        b'outlet,name,email\r\nouaga-matin,"Eve\r\nBcc: spy@example.net",eve@example.org\r\n'
    )
    result = demo("journalist", "import", str(path), expect=2)
    assert "j.csv row 2, name: name holds a line break, control" in result.stderr
    assert "eve@example.org" not in demo("journalist", "list", "--json").stdout


@pytest.mark.parametrize(
    "value", ["Eve\r\nBcc: spy@example.net", "Eve\nX: y", "Eve\x00", "Eve\u2028Bcc: x", "x\r\n"]
)
def test_header_values_with_line_breaks_never_reach_a_header(value: str) -> None:
    """CR, LF, NUL and U+2028 in a header value are refused where headers are written."""
    with pytest.raises(InputError):
        encode_unstructured("Subject", value)
    with pytest.raises(InputError):
        encode_address("To", value, "eve@example.org")


def test_encoded_word_lookalike_is_encoded_not_passed_through() -> None:
    """A subject typed as "=?utf-8?q?Hi=0ABcc:_v@evil.test?=" cannot decode into a Bcc header."""
    typed = "=?utf-8?q?Hi=0ABcc:_v@evil.test?="
    encoded = encode_unstructured("Subject", typed)
    msg = email.message_from_bytes(
        f"Subject: {encoded}\r\nTo: a@example.org\r\n\r\nx".encode(), policy=policy.default
    )
    assert msg["Subject"] == typed
    assert msg["Bcc"] is None
    assert "Bcc" not in msg.as_string().split("\n\n")[0].replace(typed, "")


def test_title_with_encoded_word_lookalike_builds_a_safe_message(demo, tmp_path: Path) -> None:
    """Built from such a title, the message parses to one recipient and no Bcc."""
    release = tmp_path / "evil.en.md"
    release.write_text(
        '+++\nslug = "evil"\nlang = "en"\noffice = "the-hague"\nembargo = "none"\n'
        'title = "=?utf-8?q?Hi=0ABcc:_v@evil.test?="\n+++\nBody.\n',
        encoding="utf-8",
    )
    demo("release", "add", str(release))
    out = tmp_path / "evil-out"
    demo("batch", "build", "evil", "--out", str(out))
    for path in out.glob("*/*.eml"):
        msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        assert msg["Bcc"] is None and msg["Cc"] is None
        assert len(msg["To"].addresses) == 1
        reparsed = email.message_from_bytes(msg.as_bytes(), policy=policy.default)
        assert reparsed["Bcc"] is None


def test_release_title_with_newline_is_refused(demo, tmp_path: Path) -> None:
    """A title with a line break (possible in TOML) is refused with the file and key."""
    release = tmp_path / "bad.en.md"
    release.write_text(
        '+++\nslug = "bad"\nlang = "en"\noffice = "the-hague"\nembargo = "none"\n'
        'title = "Hi\\r\\nBcc: spy@example.net"\n+++\nBody.\n',
        encoding="utf-8",
    )
    result = demo("release", "add", str(release), expect=2)
    assert "bad.en.md, title: title holds a line break" in result.stderr


def test_check_headers_rejects_extra_recipients_and_headers() -> None:
    """The outgoing check refuses a second To address, an unknown header or a repeated one."""
    good = b"From: a@example.org\r\nTo: b@example.com\r\nSubject: x\r\n\r\nbody"
    check_headers(good, "b@example.com")
    for bad in (
        b"From: a@example.org\r\nTo: b@example.com, c@example.net\r\n\r\nx",
        b"From: a@example.org\r\nTo: b@example.com\r\nBcc: c@example.net\r\n\r\nx",
        b"From: a@example.org\r\nTo: b@example.com\r\nTo: c@example.net\r\n\r\nx",
        b"From: a@example.org\r\nTo: c@example.net\r\n\r\nx",
    ):
        with pytest.raises(InputError):
            check_headers(bad, "b@example.com")


def test_not_utf8_empty_and_semicolon_files(demo, tmp_path: Path) -> None:
    """A Latin-1 file, an empty file and a ;-separated file each get a clear answer."""
    latin = tmp_path / "latin.csv"
    latin.write_bytes("outlet,name,email\nouaga-matin,Aïcha,a@example.org\n".encode("latin-1"))
    assert "latin.csv row 2: not UTF-8" in demo("journalist", "import", str(latin), expect=2).stderr
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert (
        "empty.csv: the file is empty" in demo("journalist", "import", str(empty), expect=2).stderr
    )
    semi = tmp_path / "semi.csv"
    semi.write_bytes(
        b"\xef\xbb\xbfoutlet;name;email\r\nouaga-matin;A\xc3\xafcha;aicha@example.org\r\n"
    )
    demo("journalist", "import", str(semi))
    assert "aicha@example.org" in demo("journalist", "list", "--json").stdout


def test_bad_row_in_the_middle(demo, tmp_path: Path) -> None:
    """A CSV with a bad row in the middle applies nothing, then --skip-invalid applies the rest."""
    path = tmp_path / "j.csv"
    path.write_text(
        "outlet,name,email\nouaga-matin,A,a1@example.org\nouaga-matin,B,not-an-address\n"
        "ouaga-matin,C,c1@example.org\n",
        encoding="utf-8",
    )
    result = demo("journalist", "import", str(path), expect=2)
    assert "j.csv row 3, email" in result.stderr
    assert "a1@example.org" not in demo("journalist", "list", "--json").stdout
    demo("journalist", "import", str(path), "--skip-invalid")
    listed = demo("journalist", "list", "--json").stdout
    assert "a1@example.org" in listed and "c1@example.org" in listed


def test_tokens_round_trip_and_forgeries_fail() -> None:
    """A token (AES-SIV) verifies only with its own secret and unaltered: a flipped byte,
    another address's token cut in, a shortened or lengthened one, garbage, nothing."""
    token = make_token(b"s1", "adama.kone@example.com")
    assert verify_token(b"s1", token) == "adama.kone@example.com"
    assert make_token(b"s1", "adama.kone@example.com") == token  # a rebuild, the same link
    other = make_token(b"s1", "other@example.com")
    middle = len(token) // 2
    flipped = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]
    for forged in (
        flipped,
        other[:10] + token[10:],
        token[:-2],
        token + "x",
        token[:22],
        "garbage",
        "",
    ):
        with pytest.raises(CivicContactsError):
            verify_token(b"s1", forged)
    with pytest.raises(CivicContactsError):
        verify_token(b"s2", token)


def test_suppress_apply(demo, monkeypatch: pytest.MonkeyPatch) -> None:
    """`suppress apply` takes the token from a reply's subject; a forged one changes nothing."""
    monkeypatch.setenv("CIVIC_CONTACTS_UNSUBSCRIBE_SECRET", SECRET)
    token = make_token(SECRET.encode(), "adama.kone@example.com")
    forged = make_token(b"other", "adama.kone@example.com")
    assert "not valid" in demo("suppress", "apply", forged, expect=2).stderr
    assert json.loads(demo("suppress", "list", "--json").stdout) == []
    demo("suppress", "apply", f"unsubscribe {token}")
    assert "already suppressed" in demo("suppress", "apply", token).stderr
    assert [r["email"] for r in json.loads(demo("suppress", "list", "--json").stdout)] == [
        "adama.kone@example.com"
    ]


def _request(url: str, data: bytes | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    if data is not None:
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_unsubscribe_endpoint_over_http(db_url: str, demo) -> None:
    """GET confirms without applying; one-click POST applies; replays are harmless; forgeries are 400."""
    engine = make_engine(db_url)
    ensure_schema(engine)
    port = free_port()
    server = make_server(engine, SECRET.encode(), "Press Office", "127.0.0.1", port)
    stop = serve_in_thread(server)
    try:
        base = f"http://127.0.0.1:{port}/unsubscribe"
        token = make_token(SECRET.encode(), "adama.kone@example.com")
        status, page = _request(f"{base}?token={token}")
        assert status == 200 and "a***@example.com" in page and "<form" in page
        assert json.loads(demo("suppress", "list", "--json").stdout) == []
        status, page = _request(f"{base}?token={token}", b"List-Unsubscribe=One-Click")
        assert status == 200 and "unsubscribed" in page
        status, _ = _request(f"{base}?token={token}", b"List-Unsubscribe=One-Click")
        assert status == 200
        rows = json.loads(demo("suppress", "list", "--json").stdout)
        assert [(r["email"], r["reason"]) for r in rows] == [
            ("adama.kone@example.com", "unsubscribe link")
        ]
        forged = make_token(b"not-the-secret", "moussa.keita@example.com")
        for bad in (forged, token[:-3] + "AAA", "%3Cscript%3E", ""):
            status, page = _request(f"{base}?token={bad}", b"List-Unsubscribe=One-Click")
            assert status == 400 and "<script>" not in page
        assert len(json.loads(demo("suppress", "list", "--json").stdout)) == 1
        assert _request(f"http://127.0.0.1:{port}/admin")[0] == 404
    finally:
        stop()
        engine.dispose()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_unsubscribe_pages_speak_the_messages_language(
    demo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str
) -> None:
    """A French message's unsubscribe link opens a French page and a French confirmation;
    without `lang`, the browser's Accept-Language chooses; otherwise English."""
    monkeypatch.setenv("CIVIC_CONTACTS_UNSUBSCRIBE_SECRET", SECRET)
    port = free_port()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[press]\nunsubscribe_base_url = "http://127.0.0.1:{port}/unsubscribe"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("CIVIC_CONTACTS_CONFIG", str(config))
    out = tmp_path / "signed"
    demo("batch", "build", "sahel-civilians", "--out", str(out))
    links = {}
    for path in out.glob("*/*.eml"):
        msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        header = str(msg["List-Unsubscribe"])
        links[msg["Content-Language"]] = re.search(r"<(http[^>]+)>", header).group(1)
    assert links["fr"].endswith("&lang=fr") and links["en"].endswith("&lang=en")
    engine = make_engine(db_url)
    stop = serve_in_thread(make_server(engine, SECRET.encode(), "Press Office", "127.0.0.1", port))
    try:
        status, page = _request(links["fr"])
        assert status == 200 and '<html lang="fr">' in page and "Me désinscrire" in page
        assert "Ne plus envoyer les communiqués de presse de Press Office" in page
        status, page = _request(links["fr"], b"List-Unsubscribe=One-Click")
        assert status == 200 and "Vous êtes désinscrit" in page
        status, page = _request(links["en"])
        assert status == 200 and "Stop sending press releases" in page
        bare = links["en"].removesuffix("&lang=en")
        for accept, wanted in (
            ("fr-FR,fr;q=0.9,en;q=0.8", "Se désinscrire"),
            ("de;q=1, fr;q=0.5", "Se désinscrire"),
            ("en;q=0.2, fr;q=0.9", "Se désinscrire"),
            ("fr;q=0, de", "<title>Unsubscribe</title>"),
            ("", "<title>Unsubscribe</title>"),
        ):
            request = urllib.request.Request(bare, headers={"Accept-Language": accept})
            with urllib.request.urlopen(request, timeout=10) as response:
                assert wanted in response.read().decode(), accept
        status, page = _request(links["fr"].replace("token=", "token=x"))
        assert status == 400 and "Ce lien n’est pas valide" in page
    finally:
        stop()
        engine.dispose()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # it searches the database file
def test_secret_and_password_never_stored(
    demo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str
) -> None:
    """With the HMAC secret set, a build's outbox and the database never contain it."""
    monkeypatch.setenv("CIVIC_CONTACTS_UNSUBSCRIBE_SECRET", SECRET)
    config = tmp_path / "config.toml"
    config.write_text(
        '[press]\nunsubscribe_base_url = "https://press.example.org/unsubscribe"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("CIVIC_CONTACTS_CONFIG", str(config))
    out = tmp_path / "signed"
    demo("batch", "build", "sahel-civilians", "--out", str(out))
    sample = next(out.glob("*/*.eml")).read_bytes()
    assert b"List-Unsubscribe-Post: List-Unsubscribe=One-Click" in sample and b"token=" in sample
    database = Path(db_url.removeprefix("sqlite:///"))
    for path in [database, *database.parent.glob("*.sqlite3-*"), *out.rglob("*")]:
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=300))
def test_release_front_matter_fuzz(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    """Any front matter gives a release or our own error, never a traceback."""
    from civic_contacts.releases.store import read_release_file

    path = tmp_path_factory.mktemp("fm") / "x.md"
    path.write_text(f"+++\n{text}\n+++\nBody\n", encoding="utf-8")
    with contextlib.suppress(CivicContactsError):
        read_release_file(path)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=400))
def test_csv_fuzz(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    """Any CSV text gives records or our own errors, never a traceback."""
    from civic_contacts.registry.importing import OFFICE_COLUMNS, office_from_row
    from civic_contacts.registry.tables import parse_file

    path = tmp_path_factory.mktemp("csv") / "offices.csv"
    path.write_text("code,name,city,country,timezone,languages,covers\n" + text, encoding="utf-8")
    with contextlib.suppress(CivicContactsError):
        parse_file(path, OFFICE_COLUMNS, [], office_from_row, lambda r: r.code, "code")


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=400))
def test_vcard_fuzz(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    """Any .vcf text gives cards or our own errors, never a traceback."""
    from civic_contacts.registry.vcard import read_cards

    path = tmp_path_factory.mktemp("vcf") / "x.vcf"
    path.write_text("BEGIN:VCARD\r\nVERSION:3.0\r\n" + text + "\r\nEND:VCARD\r\n", encoding="utf-8")
    with contextlib.suppress(CivicContactsError):
        read_cards(path)


def test_check_headers_reads_to_exactly_as_the_standard_parser_does() -> None:
    """Whatever the To value, the check accepts it only when the standard library's parser finds
    exactly that one recipient in it (the quick matcher for common shapes never disagrees)."""
    recipient = "b@example.com"
    names = [
        "Bea",
        "Béatrice N'Diaye",
        'Zoë "Z" O\'Brien',
        "Moussa, Aïssata",
        "a <c@example.net>, x",
        "=?utf-8?q?Hi=0ABcc:_v@evil.test?=",
        "x" * 200,
        "Dr. J. (Press)",
    ]
    values = [encode_address("To", name, recipient).replace("\r\n", "") for name in names]
    values += [
        recipient,
        f" {recipient} ",
        f"<{recipient}>",
        f'"a, b" <{recipient}>',
        f'"a\\" <c@example.net>" <{recipient}>',
        f"a <c@example.net>, <{recipient}>",
        f"c@example.net, Name <{recipient}>",
        f"x,<{recipient}>",
        f"x; <{recipient}>",
        f"<{recipient}>, c@example.net",
        f"{recipient} (comment)",
        f"Group: {recipient};",
        f"Name <{recipient}> trailing",
        f"Name <{recipient}",
        f"c@example.net <{recipient}>",
        "B@Example.com",
        "b@example.com.evil.test",
        "x" * 3000 + " y" * 3000,
        '"' * 3000,
    ]
    for value in values:
        _check_agrees_with_parser(value, recipient)


def _check_agrees_with_parser(value: str, recipient: str) -> None:
    parsed = getaddresses([value])
    expected = len(parsed) == 1 and parsed[0][1].lower() == recipient
    data = f"From: x@example.org\r\nTo: {value}\r\n\r\nx".encode()
    if expected:
        check_headers(data, recipient)
    else:
        with pytest.raises(InputError):
            check_headers(data, recipient)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="ab@.<>,;:\"\\() '=?é", max_size=40))
def test_check_headers_agrees_with_the_parser_on_arbitrary_to_values(value: str) -> None:
    """On arbitrary To values made of the characters that matter, the check agrees with the
    standard library's parser about whether the value names exactly the one recipient."""
    _check_agrees_with_parser(value, "a@b")


def test_tokens_do_not_show_the_address_and_old_ones_still_verify() -> None:
    """A token holds no readable form of the address (not even base64), and a token of the
    first format, already in sent messages, still verifies."""
    import base64

    address = "adama.kone@example.com"
    token = make_token(b"s1", address)
    assert "adama" not in token
    for part in token.split("."):
        padded = part + "=" * (-len(part) % 4)
        assert b"adama" not in base64.urlsafe_b64decode(padded)
    import hashlib
    import hmac

    mac = hmac.new(b"s1", b"civic-contacts unsubscribe v1\x00" + address.encode(), hashlib.sha256)
    old = (
        base64.urlsafe_b64encode(address.encode()).rstrip(b"=").decode()
        + "."
        + base64.urlsafe_b64encode(mac.digest()[:16]).rstrip(b"=").decode()
    )
    assert verify_token([b"new", b"s1"], old) == address
    # The second format, as messages sent before AES-SIV carry it (made with the code of then).
    second = "erUo_j3k4jI.HoZvRZfPVxwAIVRwdum4kpnIpUFISw.Erxdch4wvgjA7Vtu"
    assert verify_token([b"new", b"s1"], second) == address
    with pytest.raises(CivicContactsError):
        verify_token([b"new"], second)


def test_a_secret_is_generated_once_kept_private_and_rotated(demo, tmp_path: Path) -> None:
    """With no secret given, the first build generates one (mode 0600) and every recipient gets
    their own token; after rotation, links of the earlier build still apply."""
    import os
    import stat
    from email import message_from_bytes
    from email import policy as email_policy
    from urllib.parse import unquote

    from civic_contacts.deliver.tokens import secrets_path

    path = secrets_path()
    assert path.is_file() and stat.S_IMODE(path.stat().st_mode) == 0o600
    tokens = {}
    for eml in (tmp_path / "out").glob("*/*.eml"):
        msg = message_from_bytes(eml.read_bytes(), policy=email_policy.default)
        link = str(msg["List-Unsubscribe"])
        tokens[str(msg["To"])] = unquote(link.split("subject=", 1)[1].split(">", 1)[0])
    assert len(set(tokens.values())) == len(tokens) == 41
    first = next(t for to, t in tokens.items() if "adama.kone@example.com" in to)
    demo("config", "rotate-secret")
    assert len(path.read_text().splitlines()) == 2
    applied = demo("suppress", "apply", first)
    assert "adama.kone@example.com: suppressed" in applied.stderr
    assert os.environ.get("CIVIC_CONTACTS_UNSUBSCRIBE_SECRET") is None


def test_a_weak_secret_is_refused_and_never_shown(
    demo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A short or repetitive secret (in the config file or the environment) is refused with
    one line that says how to make a good one, and the value itself is never printed."""
    config = tmp_path / "c.toml"
    config.write_text('unsubscribe_secret = "a"\n', encoding="utf-8")
    monkeypatch.setenv("CIVIC_CONTACTS_CONFIG", str(config))
    checked = demo("config", "check", expect=2)
    said = " ".join(checked.stderr.split())
    assert "unsubscribe_secret is 1 characters; at least 32 random ones" in said
    assert "token_hex(32)" in said and '"a"' not in said
    config.write_text(f'unsubscribe_secret = "{"ab" * 20}"\n', encoding="utf-8")
    assert "repeats too few characters" in demo("config", "check", expect=2).stderr
    config.unlink()
    monkeypatch.setenv("CIVIC_CONTACTS_UNSUBSCRIBE_SECRET", "short-secret")
    refused = demo("batch", "build", "sahel-civilians", "--out", str(tmp_path / "o"), expect=2)
    assert "CIVIC_CONTACTS_UNSUBSCRIBE_SECRET is 12 characters" in refused.stderr
    assert "short-secret" not in refused.stderr
    assert not (tmp_path / "o").exists()


def test_rotating_a_given_secret_is_refused(demo, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the secret in the environment, `config rotate-secret` would change nothing that
    seals links: it says so and changes nothing."""
    from civic_contacts.deliver.tokens import secrets_path

    before = secrets_path().read_bytes()
    monkeypatch.setenv("CIVIC_CONTACTS_UNSUBSCRIBE_SECRET", SECRET)
    refused = demo("config", "rotate-secret", expect=2)
    assert "the unsubscribe secret is given in CIVIC_CONTACTS_UNSUBSCRIBE_SECRET" in refused.stderr
    assert secrets_path().read_bytes() == before


def test_a_retired_secret_expires_and_can_be_dropped_at_once(demo) -> None:
    """A secret retired by rotation opens its links for 180 days, then no more; `config
    retire-secret` drops one at once (after a leak), never the current one."""
    import datetime as dt

    from civic_contacts.deliver.tokens import (
        make_token,
        rotate_secret,
        signing_secret,
        stored_secrets,
        verification_secrets,
        verify_token,
    )

    first = signing_secret()
    link = make_token(first, "adama.kone@example.com")
    rotate_secret(now=dt.datetime.now(dt.UTC) - dt.timedelta(days=10))
    assert verify_token(verification_secrets(), link) == "adama.kone@example.com"
    second = signing_secret()
    rotate_secret(now=dt.datetime.now(dt.UTC) - dt.timedelta(days=181))
    # the first was retired 10 days ago and still opens; the second, retired 181 days ago, no more
    assert first in verification_secrets() and second not in verification_secrets()
    entries = stored_secrets()
    current, retired = entries[0], next(e for e in entries if e.value == first)
    listed = demo("config", "retire-secret", expect=2)
    assert retired.fingerprint in listed.stdout and "name the retired secret" in listed.stderr
    assert first.decode() not in listed.stdout
    refused = demo("config", "retire-secret", current.fingerprint, expect=2)
    assert "is the current one" in refused.stderr
    demo("config", "retire-secret", retired.fingerprint)
    assert first not in verification_secrets()
    with pytest.raises(CivicContactsError):
        verify_token(verification_secrets(), link)


def test_exported_cells_never_run_as_spreadsheet_formulas(demo, tmp_path: Path) -> None:
    """A name that is a formula is exported with a leading ' (OWASP), `--raw` keeps it as
    stored, and importing the exported file gives back exactly what was stored."""
    formula = '=HYPERLINK("http://evil.example.net","x")'
    demo(
        "journalist",
        "add",
        "--outlet",
        "world-desk-london",
        "--name",
        formula,
        "--email",
        "formula@example.org",
    )
    safe = demo("journalist", "export").stdout
    line = next(x for x in safe.splitlines() if "formula@example.org" in x)
    assert "'=HYPERLINK" in line
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in next(csv.reader([line])))
    raw = demo("journalist", "export", "--raw").stdout
    assert '"=HYPERLINK' in raw
    contacts = demo("contact", "export").stdout
    assert ",'+" in contacts  # phone numbers in E.164 start with +
    exported = tmp_path / "journalists.csv"
    exported.write_text(safe, encoding="utf-8")
    again = demo("journalist", "import", str(exported))
    assert "0 created" in again.stderr
    listed = json.loads(demo("journalist", "list", "--json").stdout)
    assert next(j for j in listed if j["email"] == "formula@example.org")["name"] == formula
    back = tmp_path / "contacts.csv"
    back.write_text(contacts, encoding="utf-8")
    assert "0 created" in demo("contact", "import", str(back)).stderr
    audit = tmp_path / "audit.csv"
    demo("batch", "audit", "sahel-civilians", "--csv", str(audit))
    assert all(
        not c.startswith(("=", "+", "-", "@")) for row in csv.reader(audit.open()) for c in row
    )


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Eve\u202etxt.exe", "U+202E"),  # right-to-left override
        ("Eve\u2066x\u2069", "U+2066"),  # left-to-right isolate
        ("\ufeffEve", "U+FEFF"),  # byte-order mark inside a cell
        ("Eve\x85Bcc", "U+0085"),  # C1 next line
        ("Eve\x9bMallory", "U+009B"),  # C1 control sequence introducer
    ],
)
def test_direction_overrides_and_c1_controls_are_refused(
    demo, tmp_path: Path, name: str, code: str
) -> None:
    """Names and roles with bidi overrides, isolates, BOMs or C1 controls are refused with
    the row, the field and the character; nothing is imported."""
    path = tmp_path / "j.csv"
    path.write_text(
        f"outlet,name,email,role\nouaga-matin,Ann,ann@example.org,Editor\n"
        f"ouaga-matin,{name},eve@example.org,Editor\nouaga-matin,Bob,bob@example.org,A{name}\n",
        encoding="utf-8",
    )
    result = demo("journalist", "import", str(path), expect=2)
    said = " ".join(result.stderr.split())
    assert "j.csv row 3, name: name holds" in said and f"({code})" in said
    assert "j.csv row 4, role:" in said
    assert "ann@example.org" not in demo("journalist", "list", "--json").stdout


def test_a_rank_too_large_for_the_database_is_one_line(demo, tmp_path: Path) -> None:
    """A rank of 10^23 is refused with the row and field, not a database traceback."""
    path = tmp_path / "c.csv"
    path.write_text(
        "name,office,role,languages,email,phones,rank\n"
        f"Big Rank,niamey,Press,fr,big@example.org,,{10**23}\n",
        encoding="utf-8",
    )
    result = demo("contact", "import", str(path), expect=2)
    assert (
        "c.csv row 2, rank: rank 100000000000000000000000 is larger than 1,000,000" in result.stderr
    )


@pytest.mark.parametrize(
    "bad",
    [
        {"press_address": "press@example.org>, evil@example.net"},
        {"unsubscribe_mailto": "u@example.org\r\nDKIM-Signature: forged"},
        {"unsubscribe_base_url": "https://example.org/u>, <https://evil.example.net/"},
        {"press_name": "Press\r\nBcc: spy@example.net"},
    ],
)
def test_settings_that_would_forge_headers_never_reach_a_message(
    demo, db_url: str, tmp_path: Path, bad: dict
) -> None:
    """Settings made in code (no config file check) still cannot add a mailbox to From, a
    header, or a second address to List-Unsubscribe: the outbound check refuses the build."""
    from civic_contacts import BuildOptions, Settings, build_batch
    from civic_contacts.db import make_engine, session_factory

    engine = make_engine(db_url)
    settings = Settings(db_url=db_url, **bad)
    with session_factory(engine)() as session, pytest.raises(CivicContactsError) as caught:
        build_batch(session, "sahel-civilians", tmp_path / "o", BuildOptions(), settings)
    assert "refusing a message" in caught.value.message or "line break" in caught.value.message
    assert not (tmp_path / "o").exists()
    engine.dispose()


def test_config_urls_and_addresses_are_one_each(tmp_path: Path) -> None:
    """`config check` refuses a From with two mailboxes and an unsubscribe URL with two."""
    from civic_contacts.config import check_config

    problems = check_config(
        {
            "press": {
                "address": "press@example.org>, evil@example.net",
                "unsubscribe_base_url": "https://example.org/u>, <https://evil.example.net/",
            }
        }
    )
    assert any(p.startswith("press.address must be exactly one email address") for p in problems)
    assert any(p.startswith("press.unsubscribe_base_url must be") for p in problems)


def test_text_from_a_report_cannot_drive_the_terminal(tmp_path: Path) -> None:
    """A forged report whose words hold escape sequences (colour, window title, a C1 CSI)
    and a bidirectional override reaches the officer's terminal with each control character
    replaced: `bounce classify` prints what the report says, never what it would make the
    terminal do."""
    from typer.testing import CliRunner

    from civic_contacts.cli import app

    report = tmp_path / "forged.eml"
    report.write_bytes(
        b"From: MAILER-DAEMON@example.net\r\nTo: bounces@example.org\r\n"
        b"Subject: Undelivered Mail Returned to Sender\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
        + "550 5.1.1 <jdoe@example.com>: \x1b[31mno\x1b]0;pwned\x07 such \x9b2J user "
        "\u202eresu\r\n".encode()
    )
    shown = CliRunner().invoke(app, ["bounce", "classify", str(report)])
    assert shown.exit_code == 0, shown.output
    assert "jdoe@example.com" in shown.stdout and "such" in shown.stdout
    for control in ("\x1b", "\x07", "\x9b", "\u202e"):
        assert control not in shown.stdout


def test_names_that_look_like_console_markup_are_listed_as_written(demo) -> None:
    """A journalist's name is shown as written in a listing: "[/b]" (which the console would
    read as a closing tag, and stop the listing) and ":fire:" (an emoji code) stay text."""
    name = "Jo [/b] [red]Diallo :fire:"
    added = demo(
        "journalist",
        "add",
        "--outlet",
        "agence-continentale",
        "--name",
        name,
        "--email",
        "jo.markup@example.org",
    )
    assert added.exit_code == 0, added.output
    listed = demo("journalist", "list")
    assert listed.exit_code == 0, listed.output
    assert name in listed.stdout


def test_input_built_to_crash_gets_one_line(
    demo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each of these ended in a traceback or did something silently: arrays nested 3,000
    deep in the config file and in a release's front matter, a NUL in a release body, a
    --db in a folder that does not exist (it made the folders). Now one line each, exit 2,
    and nothing made."""
    deep = "[" * 3000 + "]" * 3000
    config = tmp_path / "deep.toml"
    config.write_text(f"a = {deep}\n", encoding="utf-8")
    monkeypatch.setenv("CIVIC_CONTACTS_CONFIG", str(config))
    said = demo("office", "list", expect=2).stderr
    assert "not valid TOML: arrays or tables nested too deep" in said and "Traceback" not in said
    monkeypatch.setenv("CIVIC_CONTACTS_CONFIG", str(tmp_path / "none.toml"))
    head = '+++\nslug = "deep"\nlang = "en"\noffice = "niamey"\nembargo = "none"\ntitle = "t"\ndateline = "d"\n'
    nested = tmp_path / "deep.en.md"
    nested.write_text(head + f"z = {deep}\n+++\nbody\n", encoding="utf-8")
    assert "nested too deep" in demo("release", "add", str(nested), expect=2).stderr
    nul = tmp_path / "nul.en.md"
    nul.write_text(head + "+++\nfirst line\nbody\x00here\n", encoding="utf-8")
    refused = demo("release", "add", str(nul), expect=2).stderr
    assert "nul.en.md line 10, body: holds a NUL character" in refused
    missing = tmp_path / "not-there" / "deeper"
    from typer.testing import CliRunner

    from civic_contacts.cli import app

    made = CliRunner().invoke(app, ["--db", f"sqlite:///{missing / 'x.sqlite3'}", "office", "list"])
    assert made.exit_code == 2 and "does not exist" in made.stderr
    assert not (tmp_path / "not-there").exists()


def test_reports_built_to_crash_are_read_or_set_aside(tmp_path: Path) -> None:
    """A report nested 3,000 parts deep, text parts in the idna or punycode charset, and a
    Maildir copied with cur/ but no new/: classified (the deep one as "other", acted on never),
    each without a traceback."""
    from typer.testing import CliRunner

    from civic_contacts.cli import app

    deep = "From: a@example.net\r\nTo: b@example.org\r\nSubject: deep\r\nMIME-Version: 1.0\r\n"
    for i in range(3000):
        deep += f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n'
    deep += "Content-Type: text/plain\r\n\r\nhello\r\n"
    box = tmp_path / "copied-maildir"
    (box / "cur").mkdir(parents=True)
    (box / "cur" / "1.eml").write_text(deep, encoding="ascii")
    for number, charset in enumerate(("idna", "punycode"), start=2):
        (box / "cur" / f"{number}.eml").write_bytes(
            b"From: MAILER-DAEMON@example.net\r\nTo: bounces@example.org\r\n"
            b"Subject: Undelivered Mail Returned to Sender\r\n"
            + f"Content-Type: text/plain; charset={charset}\r\n\r\n".encode()
            + b"550 5.1.1 <jdoe@example.com>: user unknown \xff\xfe\r\n"
        )
    shown = CliRunner().invoke(app, ["bounce", "classify", "--json", str(box)])
    assert shown.exit_code == 0, shown.output
    kinds = [json.loads(line)["kind"] for line in shown.stdout.splitlines()]
    assert kinds[0] == "other" and len(kinds) == 3


def test_a_rebuild_leaves_what_the_tool_did_not_write(demo, tmp_path: Path) -> None:
    """A link or a folder someone put in an outbox is not the tool's: a rebuild refuses to
    replace the outbox (naming it) rather than delete it."""
    out = tmp_path / "out"
    (out / "shared").symlink_to(tmp_path, target_is_directory=True)
    refused = demo("batch", "build", "sahel-civilians", "--out", str(out), expect=2)
    assert "did not write (shared)" in refused.stderr
    assert (out / "shared").is_symlink()
    (out / "shared").unlink()
    (out / "notes").mkdir()
    assert (
        "did not write (notes)"
        in demo("batch", "build", "sahel-civilians", "--out", str(out), expect=2).stderr
    )
    (out / "notes").rmdir()
    demo("batch", "build", "sahel-civilians", "--out", str(out))


def test_the_smaller_traps_of_a_week(demo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each was found in a press office's week (issue 35): an address with no top-level domain
    and an http:// one-click link passed `config check`; a password in the config file was
    answered "did you mean smtp.port?"; a reply's "Re: unsubscribe TOKEN" was called forged;
    a folder of saved .eml files was "not a Maildir"."""
    config = tmp_path / "c.toml"
    monkeypatch.setenv("CIVIC_CONTACTS_CONFIG", str(config))
    config.write_text('[press]\nname = "P"\naddress = "press@sahel-relief"\n', encoding="utf-8")
    assert "has no top-level domain" in demo("config", "check", expect=2).stderr
    config.write_text(
        '[press]\nname = "P"\naddress = "press@sahel-relief.org"\n'
        'unsubscribe_base_url = "http://sahel-relief.org/unsubscribe"\n',
        encoding="utf-8",
    )
    assert "must be https://" in demo("config", "check", expect=2).stderr
    config.write_text('[smtp]\npassword = "hunter2"\n', encoding="utf-8")
    said = " ".join(demo("config", "check", expect=2).stderr.split())
    assert "a password never goes in the config file" in said
    assert "CIVIC_CONTACTS_SMTP_PASSWORD" in said and "did you mean" not in said
    assert "hunter2" not in said
    config.unlink()
    monkeypatch.setenv("CIVIC_CONTACTS_UNSUBSCRIBE_SECRET", SECRET)
    token = make_token(SECRET.encode(), "adama.kone@example.com")
    applied = demo("suppress", "apply", f"Re: unsubscribe {token}")
    assert "adama.kone@example.com: suppressed" in applied.stderr
    saved = tmp_path / "saved"
    saved.mkdir()
    for n in range(2):
        (saved / f"{n}.eml").write_bytes(
            b"From: MAILER-DAEMON@example.net\r\nTo: bounces@example.org\r\n"
            b"Subject: Undelivered Mail Returned to Sender\r\nContent-Type: text/plain\r\n\r\n"
            + f"550 5.1.1 <gone{n}@example.com>: user unknown\r\n".encode()
        )
    read = demo("bounce", "read", str(saved))
    assert "read 2 new report(s): 2 bounce(s)" in " ".join(read.stderr.split())
