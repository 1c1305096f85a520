"""`doctor`: what the big mailbox providers check before they take bulk mail, checked first.

Since 2024 Gmail, Yahoo and Outlook reject or spam-folder bulk mail whose domain lacks SPF,
DKIM and an aligned DMARC record, or that has no one-click unsubscribe. Each check here is
ok, warn or fail with a one-line fix (or info, for what is optional):

- SPF of the envelope and From domain, evaluated as receivers do by pyspf (macros, include,
  a, mx, ip4, ip6, exists and redirect; the ten look-ups and two void look-ups of RFC 7208),
  authorising the relay's addresses and ending in `~all` or `-all`;
- DKIM: signing is configured and the selector's published key is the configured key's;
- DMARC: a record for the From domain or its organisational domain (the Public Suffix List,
  through `publicsuffixlist`), its policy, and whether the envelope domain or the DKIM `d=`
  aligns with From, strictly or relaxed as the record says (one must);
- the envelope (bounce) domain: MX records, MTA-STS and TLS-RPT (warn when absent); BIMI of
  the From domain (information only); the one-click unsubscribe URL is https and resolves;
- the relay: reachable, TLS with a valid certificate, and the login works (nothing is sent).

DNS questions go to the system's resolver, or to `dns_server` (host:port), with dnspython;
`RecordsDns` answers from memory, for tests. A DNS that does not answer (a time-out,
SERVFAIL) makes a check "warn, could not check", never "fail": sending from a laptop offline
is still possible. A DNS answer that shows a mistake makes it "fail".
"""

from __future__ import annotations

import base64
import functools
import ipaddress
import os
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from civic_contacts.config import ENV_DNS_SERVER, Settings
from civic_contacts.deliver.dns import IP, Dns, DnsUnavailable
from civic_contacts.deliver.dns import RecordsDns as RecordsDns
from civic_contacts.deliver.smtp import SmtpConnection, SmtpTransport, Unreachable
from civic_contacts.errors import CivicContactsError
from civic_contacts.registry.addresses import domain_of

SPF_LOOKUP_LIMIT = 10
# A DNS server (HOST:PORT) to ask instead of the system's, for `doctor` and the check before a
# send (a split-horizon DNS, or a test).


@dataclass
class Check:
    """One thing checked: ok, warn or fail, what was found, and how to fix it."""

    name: str
    status: str
    detail: str
    fix: str = ""


@dataclass
class DoctorReport:
    """Every check, in the order they ran."""

    checks: list[Check] = field(default_factory=list)

    @property
    def failed(self) -> list[Check]:
        """The checks that failed."""
        return [c for c in self.checks if c.status == "fail"]

    def add(self, name: str, status: str, detail: str, fix: str = "") -> None:
        """Record one check."""
        self.checks.append(Check(name, status, detail, fix))

    def as_json(self) -> dict[str, Any]:
        """{ok: bool, checks: [{name, status, detail, fix}]}."""
        return {"ok": not self.failed, "checks": [asdict(c) for c in self.checks]}


# SPF (RFC 7208), evaluated by pyspf ---------------------------------------------------------


class SpfError(Exception):
    """A permanent error in the SPF records (permerror)."""


@dataclass
class SpfResult:
    """pass, fail, softfail, neutral, none or temperror; the record's final `all`; look-ups."""

    result: str
    all_qualifier: str | None
    lookups: int
    explanation: str = ""


_QUALIFIERS = {"+": "pass", "-": "fail", "~": "softfail", "?": "neutral"}
_ASKING = threading.local()  # the Dns that pyspf's look-ups go to, per thread


def _spf_lookup(name: str, qtype: str, tcpfallback: bool = True, timeout: int = 30) -> list[Any]:
    """pyspf's DNS hook (`spf.DNSLookup`), answered through this thread's `Dns`."""
    import spf

    dns: Dns = _ASKING.dns
    try:
        if qtype in ("TXT", "SPF"):
            return [((name, qtype), (text.encode("utf-8"),)) for text in dns.txt(name)]
        if qtype in ("A", "AAAA"):
            version = 4 if qtype == "A" else 6
            return [((name, qtype), str(ip)) for ip in dns.addresses(name) if ip.version == version]
        if qtype == "MX":
            return [((name, qtype), (n, host)) for n, host in enumerate(dns.mx(name))]
    except DnsUnavailable as exc:
        raise spf.TempError(f"DNS {exc}") from None
    return []  # PTR and the rest: receivers are told not to rely on them (RFC 7208 5.5)


def spf_record(dns: Dns, domain: str) -> str | None:
    """The domain's one SPF record (None when there is none; more than one is an error)."""
    records = [t for t in dns.txt(domain) if t.lower().startswith("v=spf1") and t[6:7] in ("", " ")]
    if len(records) > 1:
        raise SpfError(f"{domain} publishes {len(records)} SPF records; there must be one")
    return records[0] if records else None


def check_spf(dns: Dns, domain: str, ips: list[IP]) -> SpfResult:
    """Whether `domain`'s SPF authorises every one of `ips`, as receivers evaluate it (pyspf:
    macros, include and redirect, the ten look-ups and the two void look-ups of RFC 7208);
    `SpfError` for a permanent error."""
    import spf

    top = spf_record(dns, domain)
    if top is None:
        return SpfResult("none", None, 0)
    terms = top.split()[1:]
    final = next((t for t in reversed(terms) if t.lstrip("+-~?").lower() == "all"), None)
    qualifier = None if final is None else (final[0] if final[0] in "+-~?" else "+")
    results: dict[str, str] = {}
    lookups = 0
    spf.DNSLookup = _spf_lookup
    _ASKING.dns = dns
    try:
        for ip in ips or [ipaddress.ip_address("192.0.2.1")]:
            query = spf.query(i=str(ip), s=f"postmaster@{domain}", h=domain, timeout=20)
            result, _code, explanation = query.check()
            lookups = max(lookups, query.lookups)
            if result == "permerror":
                raise SpfError(explanation.removeprefix("SPF Permanent Error: "))
            if ips:
                results.setdefault(result, explanation)
    finally:
        _ASKING.dns = None
    order = ("temperror", "fail", "softfail", "neutral", "none", "pass")
    worst = next((r for r in order if r in results), "neutral")
    return SpfResult(worst, qualifier, lookups, results.get(worst, ""))


# DKIM and DMARC ---------------------------------------------------------------------------


def _tags(record: str) -> dict[str, str]:
    tags = {}
    for part in record.split(";"):
        key, sep, value = part.strip().partition("=")
        if sep:
            tags[key.strip().lower()] = "".join(value.split())
    return tags


def public_key_of(private_pem: bytes) -> str:
    """The base64 SubjectPublicKeyInfo that a DKIM record's p= should hold."""
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(private_pem, password=None)
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode("ascii")


def organisational_domain(domain: str) -> str:
    """The registered domain (RFC 7489 3.2): one label below the longest public suffix that
    matches, from the Public Suffix List shipped with `publicsuffixlist` (no network at run
    time): `presse.gouv.fr` stays itself, `press.example.co.uk` is `example.co.uk`."""
    name = domain.lower().rstrip(".")
    return _public_suffixes().privatesuffix(name) or name


@functools.cache
def _public_suffixes() -> Any:
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()


def aligned(domain: str, other: str, mode: str) -> bool:
    """DMARC identifier alignment (RFC 7489 3.1): the same domain in strict mode (`s`), the
    same organisational domain in relaxed mode (`r`, the default)."""
    domain, other = domain.lower().rstrip("."), other.lower().rstrip(".")
    if mode == "s":
        return domain == other
    return organisational_domain(domain) == organisational_domain(other)


# The whole check --------------------------------------------------------------------------


def run_doctor(
    settings: Settings,
    transport: SmtpTransport | None,
    dns_server: str | None = None,
    relay: bool = True,
    dns: Dns | None = None,
) -> DoctorReport:
    """Every check (`relay=False`: the DNS checks only, the fast subset a send runs first);
    DNS questions go to `dns` when given (the seam's in-memory side), else to `dns_server`."""
    report = DoctorReport()
    domain = domain_of(settings.press_address)
    problems = settings.identity_problems()
    if problems:
        report.add(
            "Identity",
            "fail",
            f"the press identity is not set up ({'; '.join(problems)}); the checks below are"
            f" of {domain}",
            "run civic-contacts config init (or edit the config file), then doctor again",
        )
    dns = dns or Dns(dns_server or os.environ.get(ENV_DNS_SERVER) or None)
    relay_ips = _relay_ips(dns, transport, report)
    bounce_domain = domain_of(settings.bounces.return_path or "") or domain
    checks: list[tuple[str, Callable[[], None]]] = [
        (f"SPF {domain}", lambda: _spf(dns, domain, relay_ips, report)),
        ("DKIM", lambda: _dkim(dns, domain, transport, report)),
        (
            f"DMARC {domain}",
            lambda: _dmarc(dns, domain, bounce_domain, transport, report),
        ),
        (f"MX {domain}", lambda: _mx(dns, domain, report)),
    ]
    if bounce_domain != domain:
        # Messages go from bounces+TOKEN@ of the return path: SPF is checked on that domain,
        # and bounces need its MX.
        checks += [
            (f"SPF {bounce_domain}", lambda: _spf(dns, bounce_domain, relay_ips, report)),
            (f"MX {bounce_domain}", lambda: _mx(dns, bounce_domain, report)),
        ]
    checks += [
        (f"MTA-STS {bounce_domain}", lambda: _mta_sts(dns, bounce_domain, report)),
        (f"TLS-RPT {bounce_domain}", lambda: _tls_rpt(dns, bounce_domain, report)),
        (f"BIMI {domain}", lambda: _bimi(dns, domain, report)),
        ("One-click unsubscribe", lambda: _unsubscribe(dns, settings, report)),
    ]
    for name, check in checks:
        try:
            check()
        except DnsUnavailable as exc:
            # No answer is not a wrong answer: never a reason to stop a send.
            report.add(
                name,
                "warn",
                f"could not check: no DNS answer ({exc})",
                "check your connection, or pass --dns-server HOST:PORT",
            )
    if relay:
        _relay(transport, report)
    return report


def _relay_ips(dns: Dns, transport: SmtpTransport | None, report: DoctorReport) -> list[IP]:
    if transport is None:
        return []
    try:
        return [ipaddress.ip_address(transport.host)]
    except ValueError:
        pass
    try:
        return dns.addresses(transport.host)
    except DnsUnavailable:
        return []


def _spf(dns: Dns, domain: str, ips: list[IP], report: DoctorReport) -> None:
    name = f"SPF {domain}"
    try:
        found = check_spf(dns, domain, ips)
    except SpfError as exc:
        report.add(
            name,
            "fail",
            f"permanent error: {exc}",
            "fix the SPF record (one record, at most 10 look-ups)",
        )
        return
    if found.result == "temperror":
        report.add(
            name,
            "warn",
            f"could not check: {found.explanation or 'a DNS look-up failed'}",
            "check your connection, or pass --dns-server HOST:PORT",
        )
        return
    if found.result == "none":
        report.add(
            name,
            "fail",
            f"{domain} has no SPF record",
            f'publish {domain} TXT "v=spf1 include:<your relay\'s SPF> -all"',
        )
        return
    shown = ", ".join(map(str, ips)) or "the relay (unknown address)"
    if ips and found.result != "pass":
        report.add(
            name,
            "fail",
            f"does not authorise {shown} (result {found.result}, {found.lookups} look-ups)",
            f"add the relay to the SPF record of {domain} (ip4:… or include:…)",
        )
        return
    if found.all_qualifier not in ("-", "~"):
        report.add(
            name,
            "warn",
            f"authorises {shown} but ends without ~all or -all",
            "end the record with ~all or -all so others cannot send as you",
        )
        return
    report.add(name, "ok", f"authorises {shown}; {found.lookups} of {SPF_LOOKUP_LIMIT} look-ups")


def _dkim(dns: Dns, domain: str, transport: SmtpTransport | None, report: DoctorReport) -> None:
    if transport is None or not transport.dkim_key or not transport.dkim_selector:
        report.add(
            "DKIM",
            "fail",
            "messages are not signed; big providers refuse unsigned bulk mail",
            "create a key, publish it at SELECTOR._domainkey, set smtp.dkim_key and smtp.dkim_selector",
        )
        return
    name = f"DKIM {transport.dkim_selector}._domainkey.{domain}"
    records = [t for t in dns.txt(f"{transport.dkim_selector}._domainkey.{domain}") if "p=" in t]
    if not records:
        report.add(
            name, "fail", "no key published", 'publish the public key as TXT "v=DKIM1; k=rsa; p=…"'
        )
        return
    published = _tags(records[0]).get("p", "")
    try:
        expected = public_key_of(transport.dkim_key)
    except (ValueError, TypeError):
        report.add(
            name,
            "fail",
            "the configured private key cannot be read",
            "point smtp.dkim_key at a PEM private key",
        )
        return
    if published != expected:
        report.add(
            name,
            "fail",
            "the published key is not the configured key's",
            "publish the public key of smtp.dkim_key",
        )
        return
    report.add(name, "ok", "the published key matches the configured private key")


def _dmarc(
    dns: Dns,
    domain: str,
    envelope_domain: str,
    transport: SmtpTransport | None,
    report: DoctorReport,
) -> None:
    organisation = organisational_domain(domain)
    found = None
    for candidate in dict.fromkeys((domain, organisation)):
        records = [t for t in dns.txt(f"_dmarc.{candidate}") if t.lower().startswith("v=dmarc1")]
        if records:
            found = (candidate, _tags(records[0]))
            break
    name = f"DMARC {domain}"
    if found is None:
        report.add(
            name,
            "fail",
            f"no DMARC record at _dmarc.{domain}"
            + (f" or _dmarc.{organisation}" if organisation != domain else ""),
            f'publish _dmarc.{organisation} TXT "v=DMARC1; p=none; rua=mailto:dmarc@{organisation}"',
        )
        return
    where, tags = found
    policy = tags.get("p", "none")
    spf_mode, dkim_mode = tags.get("aspf", "r").lower(), tags.get("adkim", "r").lower()
    words = {"s": "strict", "r": "relaxed"}
    # The envelope sender's domain (SPF's identity) and the DKIM d= are each compared with the
    # From domain, strictly or relaxed as the record says; DMARC passes on either.
    spf_aligned = aligned(envelope_domain, domain, spf_mode)
    signer = transport.dkim_domain if transport is not None and transport.dkim_key else None
    dkim_aligned = signer is not None and aligned(signer, domain, dkim_mode)
    said = [
        f"envelope {envelope_domain} {'aligns' if spf_aligned else 'does not align'}"
        f" ({words.get(spf_mode, spf_mode)})",
        f"DKIM d={signer} {'aligns' if dkim_aligned else 'does not align'}"
        f" ({words.get(dkim_mode, dkim_mode)})"
        if signer
        else "not signed",
    ]
    detail = f"_dmarc.{where}: p={policy}" + (" (monitoring only)" if policy == "none" else "")
    if not (spf_aligned or dkim_aligned):
        report.add(
            name,
            "fail",
            f"{detail}; neither identifier aligns with From {domain}: {'; '.join(said)}",
            f"sign with a DKIM key of {organisation} (smtp.dkim_key), or send bounces to an"
            f" address of {organisation} ([bounces] return_path)",
        )
        return
    report.add(name, "ok", f"{detail}; {'; '.join(said)}")


def _mx(dns: Dns, domain: str, report: DoctorReport) -> None:
    hosts = dns.mx(domain)
    if hosts:
        report.add(f"MX {domain}", "ok", f"bounces go to {hosts[0]}")
    else:
        report.add(
            f"MX {domain}",
            "warn",
            f"{domain} has no MX record: bounces and replies to it may be lost",
            f"publish an MX record for {domain}",
        )


def _mta_sts(dns: Dns, domain: str, report: DoctorReport) -> None:
    """MTA-STS (RFC 8461): whether mail to the domain (bounces coming back) must use TLS."""
    records = [t for t in dns.txt(f"_mta-sts.{domain}") if t.lower().startswith("v=stsv1")]
    if not records:
        report.add(
            f"MTA-STS {domain}",
            "warn",
            f"no MTA-STS record at _mta-sts.{domain}: mail to {domain} may go unencrypted",
            f'publish _mta-sts.{domain} TXT "v=STSv1; id=1" and a policy at'
            f" https://mta-sts.{domain}/.well-known/mta-sts.txt",
        )
        return
    report.add(f"MTA-STS {domain}", "ok", f"_mta-sts.{domain}: {records[0]}")


def _tls_rpt(dns: Dns, domain: str, report: DoctorReport) -> None:
    """SMTP TLS reporting (RFC 8460): where senders report TLS trouble reaching the domain."""
    records = [t for t in dns.txt(f"_smtp._tls.{domain}") if t.lower().startswith("v=tlsrptv1")]
    if not records:
        report.add(
            f"TLS-RPT {domain}",
            "warn",
            f"no TLS-RPT record at _smtp._tls.{domain}: nobody can tell you when TLS to it fails",
            f'publish _smtp._tls.{domain} TXT "v=TLSRPTv1; rua=mailto:tls-reports@{domain}"',
        )
        return
    report.add(f"TLS-RPT {domain}", "ok", f"_smtp._tls.{domain}: {records[0]}")


def _bimi(dns: Dns, domain: str, report: DoctorReport) -> None:
    """BIMI: a logo some mailbox providers show beside an authenticated sender (information
    only; it needs DMARC at quarantine or reject first)."""
    records = [t for t in dns.txt(f"default._bimi.{domain}") if t.lower().startswith("v=bimi1")]
    detail = (
        f"default._bimi.{domain}: {records[0]}"
        if records
        else f"no BIMI record at default._bimi.{domain} (optional: a logo beside your messages)"
    )
    report.add(f"BIMI {domain}", "info", detail)


def _unsubscribe(dns: Dns, settings: Settings, report: DoctorReport) -> None:
    url = settings.unsubscribe_base_url
    if not url:
        report.add(
            "One-click unsubscribe",
            "warn",
            "no https unsubscribe link (RFC 8058), which Gmail and Yahoo expect of bulk mail",
            "set press.unsubscribe_base_url and run civic-contacts serve-unsubscribe behind it",
        )
        return
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme != "https":
        report.add("One-click unsubscribe", "fail", f"{url} is not https", "serve it over https")
        return
    if not parts.hostname or not dns.addresses(parts.hostname):
        report.add(
            "One-click unsubscribe",
            "fail",
            f"{parts.hostname} does not resolve",
            f"publish an A or AAAA record for {parts.hostname}",
        )
        return
    report.add("One-click unsubscribe", "ok", f"{url} is https and {parts.hostname} resolves")


def _relay(transport: SmtpTransport | None, report: DoctorReport) -> None:
    if transport is None:
        report.add("Relay", "warn", "no relay configured", "set [smtp] host or pass --smtp-host")
        return
    name = f"Relay {transport.host}:{transport.port}"
    connection = SmtpConnection(transport)
    try:
        connection.open()
    except Unreachable as exc:
        report.add(name, "fail", str(exc), "check the host, port and your connection")
        return
    except CivicContactsError as exc:
        report.add(name, "fail", exc.message, exc.hint or "")
        return
    finally:
        connection.close()
    secured = {"starttls": "STARTTLS", "ssl": "TLS"}.get(transport.security)
    login = f", logged in as {transport.user}" if transport.user else ""
    if secured is None:
        report.add(name, "warn", f"reachable without TLS{login}", "use --security starttls or ssl")
        return
    report.add(name, "ok", f"reachable, {secured} with a valid certificate{login}")
