"""The pre-send check's own rules, on DNS answered from memory (`RecordsDns`): SPF as receivers
evaluate it (pyspf: mechanisms, qualifiers, macros, include and redirect, the ten look-ups and
two void look-ups of RFC 7208), the organisational domain DMARC is looked up under (the Public
Suffix List), DMARC alignment, MTA-STS, TLS-RPT and BIMI, and what a DNS that does not answer
does (warn, never fail). (Through a real DNS server on loopback and the command line:
tests/deliver/test_doctor.py.)"""

from __future__ import annotations

import ipaddress

import pytest

from civic_contacts.config import BouncesSection, Settings
from civic_contacts.deliver.dns import DnsUnavailable, RecordsDns
from civic_contacts.deliver.doctor import (
    SpfError,
    check_spf,
    organisational_domain,
    run_doctor,
)
from civic_contacts.deliver.smtp import SmtpTransport

RELAY = ipaddress.ip_address("192.0.2.10")
OTHER = ipaddress.ip_address("198.51.100.7")


def spf(records: dict[tuple[str, str], list[str]], ip=RELAY, domain: str = "press.example"):
    return check_spf(RecordsDns(records), domain, [ip])


def test_an_address_in_range_passes_and_one_outside_gets_the_final_all() -> None:
    """ip4 ranges authorise; anything else gets the qualifier of `all`."""
    records = {("press.example", "TXT"): ["v=spf1 ip4:192.0.2.0/24 -all"]}
    assert spf(records).result == "pass"
    found = spf(records, OTHER)
    assert (found.result, found.all_qualifier) == ("fail", "-")
    soft = {("press.example", "TXT"): ["v=spf1 ip4:192.0.2.0/24 ~all"]}
    assert spf(soft, OTHER).result == "softfail"


def test_no_record_is_none_and_two_records_are_an_error() -> None:
    """A domain without SPF says nothing; one with two records is a permanent error."""
    assert spf({}).result == "none"
    with pytest.raises(SpfError, match="2 SPF records"):
        spf({("press.example", "TXT"): ["v=spf1 -all", "v=spf1 +all"]})


def test_includes_and_redirects_are_followed_and_counted() -> None:
    """An include that passes passes; a redirect hands the whole answer over; each costs one
    look-up."""
    records = {
        ("press.example", "TXT"): ["v=spf1 include:_spf.relay.example -all"],
        ("_spf.relay.example", "TXT"): ["v=spf1 ip4:192.0.2.10 -all"],
        ("redirected.example", "TXT"): ["v=spf1 redirect=_spf.relay.example"],
    }
    found = spf(records)
    assert (found.result, found.lookups) == ("pass", 1)
    assert spf(records, OTHER).result == "fail"
    assert spf(records, domain="redirected.example").result == "pass"


def test_a_and_mx_mechanisms_match_the_hosts_addresses() -> None:
    """`a` and `mx` authorise the addresses of the domain and of its mail hosts."""
    records = {
        ("press.example", "TXT"): ["v=spf1 a mx -all"],
        ("press.example", "A"): ["198.51.100.7"],
        ("press.example", "MX"): ["10 mx.relay.example"],
        ("mx.relay.example", "A"): ["192.0.2.10"],
    }
    assert spf(records).result == "pass"
    assert spf(records, OTHER).result == "pass"
    assert spf(records, ipaddress.ip_address("203.0.113.1")).result == "fail"


def test_more_than_ten_look_ups_is_a_permanent_error() -> None:
    """A chain of twelve includes breaks the limit of ten DNS look-ups."""
    records = {("press.example", "TXT"): ["v=spf1 include:s0.example -all"]}
    for i in range(11):
        records[(f"s{i}.example", "TXT")] = [f"v=spf1 include:s{i + 1}.example -all"]
    records[("s11.example", "TXT")] = ["v=spf1 ip4:192.0.2.10 -all"]
    with pytest.raises(SpfError, match="Too many DNS lookups"):
        spf(records)


def test_an_include_without_a_record_and_an_unknown_mechanism_are_errors() -> None:
    """Both are permanent errors: receivers reject rather than guess."""
    with pytest.raises(SpfError, match="No valid SPF record for included domain"):
        spf({("press.example", "TXT"): ["v=spf1 include:gone.example -all"]})
    with pytest.raises(SpfError, match=r"[Uu]nknown mechanism"):
        spf({("press.example", "TXT"): ["v=spf1 ipv4:192.0.2.10 -all"]})


@pytest.mark.parametrize(
    ("domain", "organisational"),
    [
        ("example.org", "example.org"),
        ("press.example.org", "example.org"),
        ("news.desk.example.org", "example.org"),
        ("press.example.co.uk", "example.co.uk"),
        ("bbc.co.uk", "bbc.co.uk"),
        # Government and university domains under a public suffix of their country: a rule
        # of "the last two labels" gets every one of these wrong.
        ("presse.gouv.fr", "presse.gouv.fr"),
        ("communication.presse.gouv.fr", "presse.gouv.fr"),
        ("info.go.ke", "info.go.ke"),
        ("unit.edu.au", "unit.edu.au"),
        ("x.go.jp", "x.go.jp"),
        ("prensa.gob.es", "prensa.gob.es"),
        ("media.ministry.gov.ng", "ministry.gov.ng"),
    ],
)
def test_the_organisational_domain_of_common_shapes(domain: str, organisational: str) -> None:
    """DMARC is looked up at the registered domain when a subdomain publishes none."""
    assert organisational_domain(domain) == organisational


def test_macros_are_expanded() -> None:
    """`exists:%{i}._spf…` asks for the sending address's own name (RFC 7208 7): found, it
    passes; not found, the final -all fails it."""
    records = {
        ("press.example", "TXT"): ["v=spf1 exists:%{i}._spf.press.example -all"],
        ("192.0.2.10._spf.press.example", "A"): ["127.0.0.2"],
    }
    assert spf(records).result == "pass"
    assert spf(records, OTHER).result == "fail"


def test_more_than_two_void_look_ups_is_a_permanent_error() -> None:
    """Three `a:` names that do not exist are a permerror for receivers (RFC 7208 4.6.4), even
    when a later ip4 would match."""
    records = {
        ("press.example", "TXT"): [
            "v=spf1 a:n1.press.example a:n2.press.example a:n3.press.example ip4:192.0.2.10 -all"
        ]
    }
    with pytest.raises(SpfError, match=r"[Vv]oid lookup"):
        spf(records)


def settings_for(address: str, return_path: str | None = None) -> Settings:
    """Settings with a configured press identity (as `config check` would accept it)."""
    return Settings(
        db_url="sqlite://",
        press_name="Press Office",
        press_address=address,
        unsubscribe_mailto=address,
        message_id_domain=address.rsplit("@", 1)[1],
        bounces=BouncesSection(return_path=return_path),
        sources={"press.name": "file", "press.address": "file"},
    )


def signed_by(domain: str) -> SmtpTransport:
    """A relay that signs with a key of `domain` (the key itself is not read here)."""
    return SmtpTransport(
        host="192.0.2.10", port=587, dkim_key=b"key", dkim_selector="s1", dkim_domain=domain
    )


def checks(report) -> dict[str, tuple[str, str]]:
    return {c.name: (c.status, c.detail) for c in report.checks}


ZONE = {
    ("presse.gouv.fr", "TXT"): ["v=spf1 ip4:192.0.2.10 -all"],
    ("presse.gouv.fr", "MX"): ["10 mx.presse.gouv.fr"],
    ("_dmarc.presse.gouv.fr", "TXT"): ["v=DMARC1; p=reject; aspf=s"],
    ("bounces.presse.gouv.fr", "TXT"): ["v=spf1 ip4:192.0.2.10 -all"],
    ("bounces.presse.gouv.fr", "MX"): ["10 mx.presse.gouv.fr"],
    ("other.example", "TXT"): ["v=spf1 ip4:192.0.2.10 -all"],
    ("other.example", "MX"): ["10 mx.other.example"],
}


def test_dmarc_alignment_is_checked_strict_or_relaxed_as_the_record_says() -> None:
    """With `aspf=s` a return path on a subdomain does not align, but a DKIM signature of the
    From domain does (relaxed by default); with neither aligned DMARC fails; and the DMARC
    record is found at the From domain itself, never at `gouv.fr`."""
    dns = RecordsDns(ZONE)
    strict = checks(
        run_doctor(
            settings_for("press@presse.gouv.fr", "bounces@bounces.presse.gouv.fr"),
            signed_by("presse.gouv.fr"),
            relay=False,
            dns=dns,
        )
    )
    status, detail = strict["DMARC presse.gouv.fr"]
    assert status == "ok" and "_dmarc.presse.gouv.fr: p=reject" in detail
    assert "envelope bounces.presse.gouv.fr does not align (strict)" in detail
    assert "DKIM d=presse.gouv.fr aligns (relaxed)" in detail
    unsigned = checks(
        run_doctor(
            settings_for("press@presse.gouv.fr", "bounces@other.example"),
            SmtpTransport(host="192.0.2.10", port=587),
            relay=False,
            dns=dns,
        )
    )
    status, detail = unsigned["DMARC presse.gouv.fr"]
    assert status == "fail" and "neither identifier aligns" in detail


def test_mta_sts_and_tls_rpt_warn_when_absent_and_bimi_only_informs() -> None:
    """The bounce domain without MTA-STS or TLS-RPT gets a warning each (never a failure);
    with them, ok; BIMI is information either way."""
    bare = checks(
        run_doctor(settings_for("press@presse.gouv.fr"), None, relay=False, dns=RecordsDns(ZONE))
    )
    assert bare["MTA-STS presse.gouv.fr"][0] == "warn"
    assert bare["TLS-RPT presse.gouv.fr"][0] == "warn"
    assert bare["BIMI presse.gouv.fr"][0] == "info"
    published = {
        **ZONE,
        ("_mta-sts.presse.gouv.fr", "TXT"): ["v=STSv1; id=20261207"],
        ("_smtp._tls.presse.gouv.fr", "TXT"): ["v=TLSRPTv1; rua=mailto:tls@presse.gouv.fr"],
        ("default._bimi.presse.gouv.fr", "TXT"): ["v=BIMI1; l=https://presse.gouv.fr/logo.svg"],
    }
    full = checks(
        run_doctor(
            settings_for("press@presse.gouv.fr"), None, relay=False, dns=RecordsDns(published)
        )
    )
    assert full["MTA-STS presse.gouv.fr"][0] == full["TLS-RPT presse.gouv.fr"][0] == "ok"
    assert full["BIMI presse.gouv.fr"] == (
        "info",
        "default._bimi.presse.gouv.fr: v=BIMI1; l=https://presse.gouv.fr/logo.svg",
    )


class SilentDns(RecordsDns):
    """A DNS that answers for nothing: every question times out."""

    def txt(self, name: str) -> list[str]:
        raise DnsUnavailable("The DNS operation timed out")

    def addresses(self, name: str) -> list:
        raise DnsUnavailable("The DNS operation timed out")

    def mx(self, name: str) -> list[str]:
        raise DnsUnavailable("The DNS operation timed out")


def test_a_dns_that_does_not_answer_never_fails_a_check() -> None:
    """A time-out (or SERVFAIL) is "could not check": a warning each, never a failure that
    would stop a send."""
    report = run_doctor(
        settings_for("press@presse.gouv.fr"),
        signed_by("presse.gouv.fr"),
        relay=False,
        dns=SilentDns({}),
    )
    assert report.failed == []
    asked = [c for c in report.checks if c.name != "One-click unsubscribe"]
    assert len(asked) == 7
    assert all(c.status == "warn" and "could not check" in c.detail for c in asked)


def test_a_silent_dns_server_is_waited_for_once() -> None:
    """A DNS server that never answers costs one time-out, not one per check: after the
    first, the other questions are not sent, and every check says it could not check."""
    import socket
    import threading

    from dnslib import DNSRecord

    from civic_contacts.deliver.dns import Dns

    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    listener.settimeout(0.2)
    asked: set[str] = set()
    done = threading.Event()

    def listen() -> None:
        while not done.is_set():
            try:
                data, _peer = listener.recvfrom(4096)
            except TimeoutError:
                continue
            asked.add(str(DNSRecord.parse(data).q.qname).rstrip("."))

    thread = threading.Thread(target=listen)
    thread.start()
    try:
        port = listener.getsockname()[1]
        report = run_doctor(
            settings_for("press@presse.gouv.fr"),
            signed_by("presse.gouv.fr"),
            relay=False,
            dns=Dns(f"127.0.0.1:{port}", timeout=0.5),
        )
    finally:
        done.set()
        thread.join()
        listener.close()
    assert report.failed == []
    assert asked == {"presse.gouv.fr"}
    said = [c for c in report.checks if c.name != "One-click unsubscribe"]
    assert all(c.status == "warn" and "could not check" in c.detail for c in said)
