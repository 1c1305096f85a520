"""`doctor` through the command line against a real DNS server on loopback (dnslib) serving a
correct domain and one for each kind of mistake, and a real SMTP relay."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.conftest import free_port, need

pytestmark = pytest.mark.smtp


def _key(folder: Path, name: str) -> tuple[Path, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    path = folder / f"{name}.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return path, base64.b64encode(public).decode("ascii")


def _zone(public: str, other: str) -> str:
    lines = [
        # A correct domain: relay authorised through an include, key published, DMARC, MX.
        'good.example.org. 60 IN TXT "v=spf1 include:_spf.relay.example.net -all"',
        '_spf.relay.example.net. 60 IN TXT "v=spf1 ip4:127.0.0.0/8 ~all"',
        f'sel._domainkey.good.example.org. 60 IN TXT "v=DKIM1; k=rsa; p={public}"',
        '_dmarc.good.example.org. 60 IN TXT "v=DMARC1; p=quarantine; rua=mailto:d@good.example.org"',
        "good.example.org. 60 IN MX 10 mx.good.example.org.",
        "mx.good.example.org. 60 IN A 127.0.0.1",
        "press.good.example.org. 60 IN A 127.0.0.1",
        # Each kind of mistake.
        'nodmarc.example.net. 60 IN TXT "v=spf1 ip4:127.0.0.1 -all"',
        'nodmarc.newsroom.test. 60 IN TXT "v=spf1 ip4:127.0.0.1 -all"',
        f'sel._domainkey.nodmarc.newsroom.test. 60 IN TXT "v=DKIM1; k=rsa; p={public}"',
        f'sel._domainkey.nodmarc.example.net. 60 IN TXT "v=DKIM1; k=rsa; p={public}"',
        "nodmarc.example.net. 60 IN MX 10 mx.good.example.org.",
        f'sel._domainkey.nospf.example.org. 60 IN TXT "v=DKIM1; k=rsa; p={public}"',
        '_dmarc.nospf.example.org. 60 IN TXT "v=DMARC1; p=none"',
        'wrongspf.example.org. 60 IN TXT "v=spf1 ip4:192.0.2.1 -all"',
        # A chain of includes twelve deep: more than the 10 look-ups SPF allows.
        'loops.example.org. 60 IN TXT "v=spf1 include:s0.loops.example.org -all"',
        *(
            f's{i}.loops.example.org. 60 IN TXT "v=spf1 include:s{i + 1}.loops.example.org -all"'
            for i in range(11)
        ),
        's11.loops.example.org. 60 IN TXT "v=spf1 ip4:192.0.2.1 -all"',
        'badkey.example.org. 60 IN TXT "v=spf1 ip4:127.0.0.1 -all"',
        f'sel._domainkey.badkey.example.org. 60 IN TXT "v=DKIM1; k=rsa; p={other}"',
        '_dmarc.example.org. 60 IN TXT "v=DMARC1; p=reject"',
        'open.example.org. 60 IN TXT "v=spf1 ip4:127.0.0.1 +all"',
    ]
    return "\n".join(lines) + "\n"


@pytest.fixture
def dns_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A DNS server on loopback answering from the zone above; yields HOST:PORT and the key."""
    try:
        from dnslib.server import DNSLogger, DNSServer
        from dnslib.zoneresolver import ZoneResolver
    except ImportError:
        need("dnslib", "install the test extras")
    key, public = _key(tmp_path, "dkim")
    _other_key, other = _key(tmp_path, "other")
    port = free_port()
    server = DNSServer(
        ZoneResolver(_zone(public, other), glob=False),
        port=port,
        address="127.0.0.1",
        logger=DNSLogger("-request,-reply,-truncated,-error,-recv,-send,-data", prefix=False),
    )
    server.start_thread()
    try:
        yield f"127.0.0.1:{port}", key
    finally:
        server.stop()


def run(cli, monkeypatch, tmp_path: Path, dns: str, key: Path, domain: str, port: int):
    config = tmp_path / f"{domain}.toml"
    config.write_text(
        f'[press]\nname = "Press Office"\naddress = "press@{domain}"\n'
        f'unsubscribe_base_url = "https://press.good.example.org/unsubscribe"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("CIVIC_CONTACTS_CONFIG", str(config))
    return cli(
        "doctor",
        "--json",
        "--dns-server",
        dns,
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        str(port),
        "--security",
        "none",
        "--dkim-key",
        str(key),
        "--dkim-selector",
        "sel",
        expect=None,
    )


def checks(result) -> dict[str, tuple[str, str]]:
    data = json.loads(result.stdout)
    return {
        c["name"].split()[0]: (c["status"], c["detail"] + " | " + c["fix"]) for c in data["checks"]
    }


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("domain", "kind", "status", "words"),
    [
        ("good.example.org", "SPF", "ok", "authorises 127.0.0.1"),
        ("good.example.org", "DKIM", "ok", "matches the configured private key"),
        ("good.example.org", "DMARC", "ok", "p=quarantine"),
        ("good.example.org", "MX", "ok", "mx.good.example.org"),
        ("good.example.org", "One-click", "ok", "resolves"),
        ("nodmarc.example.net", "DMARC", "fail", "no DMARC record at _dmarc.nodmarc.example.net"),
        ("nospf.example.org", "SPF", "fail", "has no SPF record"),
        ("wrongspf.example.org", "SPF", "fail", "does not authorise 127.0.0.1"),
        ("loops.example.org", "SPF", "fail", "Too many DNS lookups"),
        ("badkey.example.org", "DKIM", "fail", "not the configured key"),
        ("badkey.example.org", "DMARC", "ok", "_dmarc.example.org: p=reject"),
        ("open.example.org", "SPF", "warn", "ends without ~all or -all"),
        ("nospf.example.org", "MX", "warn", "no MX record"),
    ],
)
def test_doctor_names_each_mistake(
    cli,
    smtp_server,
    dns_server,
    monkeypatch,
    tmp_path: Path,
    domain: str,
    kind: str,
    status: str,
    words: str,
) -> None:
    _sink, port = smtp_server
    dns, key = dns_server
    result = run(cli, monkeypatch, tmp_path, dns, key, domain, port)
    found = checks(result)
    assert found[kind][0] == status and words in found[kind][1], found
    failed = any(s == "fail" for s, _ in found.values())
    assert result.exit_code == (1 if failed else 0)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_doctor_output_for_people_and_a_relay_that_is_down(
    cli, smtp_server, dns_server, monkeypatch, tmp_path: Path
) -> None:
    """People get one line per check with the fix; a relay that is not there fails."""
    _sink, port = smtp_server
    dns, key = dns_server
    config = tmp_path / "c.toml"
    config.write_text('[press]\nname = "P"\naddress = "press@nodmarc.example.net"\n', "utf-8")
    monkeypatch.setenv("CIVIC_CONTACTS_CONFIG", str(config))
    args = ["doctor", "--dns-server", dns, "--dkim-key", str(key), "--dkim-selector", "sel"]
    text = cli(
        *args, "--smtp-host", "127.0.0.1", "--smtp-port", str(port), "--security", "none", expect=1
    )
    lines = text.stdout.splitlines()
    assert any(
        line.startswith("FAIL  DMARC nodmarc.example.net: no DMARC record") for line in lines
    )
    assert any("fix: publish _dmarc.example.net TXT" in line for line in lines)
    assert any(line.startswith("WARN  One-click unsubscribe") for line in lines)
    assert any(line.startswith("WARN  Relay 127.0.0.1") for line in lines)
    down = cli(
        *args,
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        str(free_port()),
        "--security",
        "none",
        expect=1,
    )
    assert "FAIL  Relay 127.0.0.1" in down.stdout


def load_outside_the_demo(cli, data_dir: Path) -> None:
    """The demo's files imported into an ordinary registry (the pre-send check runs there)."""
    for noun, name in [
        ("office", "offices"),
        ("contact", "contacts"),
        ("outlet", "outlets"),
        ("journalist", "journalists"),
    ]:
        cli(noun, "import", str(data_dir / f"{name}.csv"))
    cli("release", "add", *map(str, sorted((data_dir / "releases").glob("*.md"))))


def test_a_send_stops_on_what_doctor_fails_unless_skipped(
    cli, data_dir: Path, smtp_server, dns_server, monkeypatch, tmp_path: Path
) -> None:
    """Outside the demo, `batch send` runs the DNS checks first: a domain without DMARC stops
    it with the failing checks named; `--skip-doctor` sends anyway."""
    sink, port = smtp_server
    dns, key = dns_server
    load_outside_the_demo(cli, data_dir)
    config = tmp_path / "c.toml"
    config.write_text(
        '[press]\nname = "Press Office"\naddress = "press@nodmarc.newsroom.test"\n'
        f'[smtp]\ndkim_key = "{key}"\ndkim_selector = "sel"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("CIVIC_CONTACTS_CONFIG", str(config))
    monkeypatch.setenv("CIVIC_CONTACTS_DNS_SERVER", dns)
    cli("batch", "build", "sahel-civilians", "--out", str(tmp_path / "out"))
    args = [
        "batch",
        "send",
        "sahel-civilians",
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        str(port),
    ]
    refused = cli(*args, "--security", "none", "--yes", expect=2)
    said = " ".join(refused.stderr.split())
    assert "mailbox providers would refuse or hide this mail: DMARC nodmarc.newsroom.test" in said
    assert "--skip-doctor" in said and sink.received == []
    cli(*args, "--security", "none", "--yes", "--skip-doctor")
    assert len(sink.received) == 41


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_doctor_checks_the_relays_certificate_and_login(
    cli,
    tls_server,
    dns_server,
    monkeypatch,
    tmp_path: Path,
) -> None:
    """Over STARTTLS the relay's certificate is verified and the login tried (nothing sent):
    ok with the right CA and password, fail without the CA or with a wrong password."""
    from tests.conftest import SMTP_PASSWORD as PASSWORD

    sink, port, cert, logins = tls_server
    dns, key = dns_server
    config = tmp_path / "c.toml"
    config.write_text('[press]\nname = "P"\naddress = "press@good.example.org"\n', "utf-8")
    monkeypatch.setenv("CIVIC_CONTACTS_CONFIG", str(config))
    monkeypatch.setenv("CIVIC_CONTACTS_SMTP_PASSWORD", PASSWORD)
    args = [
        "doctor",
        "--json",
        "--dns-server",
        dns,
        "--dkim-key",
        str(key),
        "--dkim-selector",
        "sel",
    ]
    relay = [
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        str(port),
        "--security",
        "starttls",
        "--user",
        "press",
    ]
    good = checks(cli(*args, *relay, "--cafile", str(cert), expect=None))["Relay"]
    assert good[0] == "ok" and "STARTTLS with a valid certificate, logged in as press" in good[1]
    untrusted = checks(cli(*args, *relay, expect=None))["Relay"]
    assert untrusted[0] == "fail" and "TLS failed" in untrusted[1]
    monkeypatch.setenv("CIVIC_CONTACTS_SMTP_PASSWORD", "wrong")
    refused = checks(cli(*args, *relay, "--cafile", str(cert), expect=None))["Relay"]
    assert refused[0] == "fail" and "refused the login for press" in refused[1]
    assert sink.ids() == [] and PASSWORD not in str(logins)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_doctor_says_first_when_the_identity_is_not_set_up(cli, dns_server) -> None:
    """With no config file the checks run on the default example domain, and the first line
    says so, with the command that sets the identity up."""
    dns, _key_path = dns_server
    result = cli("doctor", "--dns-server", dns, expect=1)
    first = result.stdout.splitlines()[0]
    assert first.startswith("FAIL  Identity: the press identity is not set up (missing press.name")
    assert "config init" in result.stdout


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_doctor_checks_the_return_path_domain_too(
    cli, smtp_server, dns_server, monkeypatch, tmp_path: Path
) -> None:
    """With [bounces] return_path at another domain, SPF and MX are checked there as well:
    messages go from bounces+TOKEN@ that domain."""
    _sink, port = smtp_server
    dns, key = dns_server
    config = tmp_path / "rp.toml"
    config.write_text(
        '[press]\nname = "P"\naddress = "press@good.example.org"\n'
        '[bounces]\nreturn_path = "bounces@nospf.example.org"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("CIVIC_CONTACTS_CONFIG", str(config))
    result = cli(
        "doctor",
        "--json",
        "--dns-server",
        dns,
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        str(port),
        "--security",
        "none",
        "--dkim-key",
        str(key),
        "--dkim-selector",
        "sel",
        expect=1,
    )
    found = {c["name"]: (c["status"], c["detail"]) for c in json.loads(result.stdout)["checks"]}
    assert found["SPF good.example.org"][0] == "ok"
    assert found["SPF nospf.example.org"] == ("fail", "nospf.example.org has no SPF record")
    assert found["MX nospf.example.org"][0] == "warn"


def test_a_library_send_obeys_the_pre_send_check_and_the_organisations_rate(
    cli, data_dir: Path, dns_server, monkeypatch, tmp_path: Path
) -> None:
    """`send_batch` called from Python, as the README shows, applies the organisation's rules
    itself: a domain without DMARC stops it before anything goes, `skip_doctor=True` is the
    one way past, and `[send] rate = 10` caps a caller's `rate=100` (a lower one stands)."""
    from civic_contacts.config import load_settings
    from civic_contacts.db import make_engine, session_factory
    from civic_contacts.deliver.build import build_batch
    from civic_contacts.deliver.plan import BuildOptions
    from civic_contacts.deliver.send import send_batch
    from civic_contacts.deliver.sender import SendOptions
    from civic_contacts.deliver.transport import MemoryTransport
    from civic_contacts.errors import ConfigError

    dns, _key_path = dns_server
    load_outside_the_demo(cli, data_dir)
    config = tmp_path / "c.toml"
    config.write_text(
        '[press]\nname = "Press Office"\naddress = "press@nodmarc.newsroom.test"\n'
        "[send]\nrate = 10\n",
        encoding="utf-8",
    )
    settings = load_settings(db=cli.db_url, config_file=config)
    engine = make_engine(cli.db_url)
    transport = MemoryTransport()
    with session_factory(engine)() as session:
        build_batch(session, "sahel-civilians", None, BuildOptions(), settings)
        session.commit()
    with session_factory(engine)() as session, pytest.raises(ConfigError) as refused:
        send_batch(session, "sahel-civilians", transport, SendOptions(dns_server=dns), settings)
    assert "DMARC nodmarc.newsroom.test" in refused.value.message and transport.kept == []
    with session_factory(engine)() as session:
        capped = send_batch(
            session,
            "sahel-civilians",
            transport,
            SendOptions(rate=100, limit=3, skip_doctor=True),
            settings,
        )
        lower = send_batch(
            session,
            "sahel-civilians",
            transport,
            SendOptions(rate=5, limit=2, skip_doctor=True),
            settings,
        )
    engine.dispose()
    assert (capped.rate, capped.sent) == (10, 3)
    assert (lower.rate, lower.sent) == (5, 2)
    assert len(transport.recipients()) == 5 == len(set(transport.recipients()))
