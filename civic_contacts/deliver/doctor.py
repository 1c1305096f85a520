"""`doctor`: what the big mailbox providers check before they take bulk mail, checked first.

Since 2024 Gmail, Yahoo and Outlook reject or spam-folder bulk mail whose domain lacks SPF,
DKIM and an aligned DMARC record, or that has no one-click unsubscribe. Each check here is
ok, warn or fail with a one-line fix:

- SPF of the envelope and From domain: a record exists, authorises the relay's addresses
  (include, a, mx, ip4, ip6, exists and redirect are followed; more than 10 DNS look-ups is an
  error, as RFC 7208 says), and ends in `~all` or `-all`;
- DKIM: signing is configured and the selector's published key is the configured key's;
- DMARC: a record for the From domain or its organisational domain, its policy, and whether
  From aligns with the DKIM `d=` and the envelope domain;
- the envelope (bounce) domain has MX records; the one-click unsubscribe URL is https and its
  host resolves;
- the relay: reachable, TLS with a valid certificate, and the login works (nothing is sent).

DNS questions go to the system's resolver, or to `dns_server` (host:port), with dnspython.
A DNS that cannot be reached makes the DNS checks "warn" (sending from a laptop offline is
still possible); a DNS answer that shows a mistake makes them "fail".
"""

from __future__ import annotations

import base64
import ipaddress
import os
from dataclasses import asdict, dataclass, field
from typing import Any

from civic_contacts.config import ENV_DNS_SERVER, Settings
from civic_contacts.deliver.smtp import SmtpConnection, SmtpTransport, Unreachable
from civic_contacts.errors import CivicContactsError
from civic_contacts.registry.addresses import domain_of

SPF_LOOKUP_LIMIT = 10
# A DNS server (HOST:PORT) to ask instead of the system's, for `doctor` and the check before a
# send (a split-horizon DNS, or a test).
IP = ipaddress.IPv4Address | ipaddress.IPv6Address


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


class DnsUnavailable(Exception):
    """No DNS server answered."""


class Dns:
    """DNS questions through dnspython, to the system's resolver or one server."""

    def __init__(self, server: str | None = None, timeout: float = 3.0) -> None:
        import dns.resolver

        self.resolver = dns.resolver.Resolver(configure=server is None)
        if server is not None:
            host, _sep, port = server.rpartition(":")
            if not host or not port.isdigit():
                raise CivicContactsError(
                    f'--dns-server "{server}" must be HOST:PORT, such as 127.0.0.1:53'
                )
            self.resolver.nameservers = [host]
            self.resolver.port = int(port)
        self.resolver.lifetime = timeout
        self.resolver.timeout = timeout

    def _ask(self, name: str, kind: str) -> list[Any]:
        import dns.exception
        import dns.resolver

        try:
            return list(self.resolver.resolve(name, kind))
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        except (dns.resolver.NoNameservers, dns.exception.Timeout) as exc:
            raise DnsUnavailable(str(exc).splitlines()[0]) from None
        except dns.resolver.NoResolverConfiguration:
            raise DnsUnavailable("no DNS resolver is configured") from None

    def txt(self, name: str) -> list[str]:
        """The TXT records of a name, each joined from its strings."""
        return [b"".join(r.strings).decode("utf-8", "replace") for r in self._ask(name, "TXT")]

    def addresses(self, name: str) -> list[IP]:
        """A and AAAA records of a name."""
        found: list[IP] = []
        for kind in ("A", "AAAA"):
            found += [ipaddress.ip_address(r.to_text()) for r in self._ask(name, kind)]
        return found

    def mx(self, name: str) -> list[str]:
        """The MX hosts of a name, most preferred first."""
        records = sorted(self._ask(name, "MX"), key=lambda r: r.preference)
        return [r.exchange.to_text().rstrip(".") for r in records]


class RecordsDns(Dns):
    """DNS answered from records held in memory (`{(name, kind): [text, ...]}`, kind TXT, A,
    AAAA or MX as "PREFERENCE HOST"): the in-memory side of the DNS seam, for checking the
    rules below without a server."""

    def __init__(self, records: dict[tuple[str, str], list[str]]) -> None:
        self.records = {
            (name.lower().rstrip("."), kind): list(v) for (name, kind), v in records.items()
        }

    def txt(self, name: str) -> list[str]:
        """The TXT records of a name."""
        return list(self.records.get((name.lower().rstrip("."), "TXT"), []))

    def addresses(self, name: str) -> list[IP]:
        """A and AAAA records of a name."""
        key = name.lower().rstrip(".")
        texts = self.records.get((key, "A"), []) + self.records.get((key, "AAAA"), [])
        return [ipaddress.ip_address(t) for t in texts]

    def mx(self, name: str) -> list[str]:
        """The MX hosts of a name, most preferred first."""
        found = [t.split() for t in self.records.get((name.lower().rstrip("."), "MX"), [])]
        return [host.rstrip(".") for _preference, host in sorted(found, key=lambda r: int(r[0]))]


# SPF (RFC 7208), as much as a sender needs -----------------------------------------------


class SpfError(Exception):
    """A permanent error in the SPF records (permerror)."""


@dataclass
class SpfResult:
    """pass, fail, softfail, neutral or none; the record's final `all`; look-ups used."""

    result: str
    all_qualifier: str | None
    lookups: int


_QUALIFIERS = {"+": "pass", "-": "fail", "~": "softfail", "?": "neutral"}


def spf_record(dns: Dns, domain: str) -> str | None:
    """The domain's one SPF record (None when there is none; more than one is an error)."""
    records = [t for t in dns.txt(domain) if t.lower().startswith("v=spf1") and t[6:7] in ("", " ")]
    if len(records) > 1:
        raise SpfError(f"{domain} publishes {len(records)} SPF records; there must be one")
    return records[0] if records else None


def check_spf(dns: Dns, domain: str, ips: list[IP]) -> SpfResult:
    """Whether `domain`'s SPF authorises every one of `ips`."""
    counter = [0]
    top = spf_record(dns, domain)
    if top is None:
        return SpfResult("none", None, 0)
    results = {_evaluate(dns, domain, ip, counter, 0)[0] for ip in ips} or {"neutral"}
    worst = next(r for r in ("fail", "softfail", "neutral", "none", "pass") if r in results)
    terms = top.split()[1:]
    final = next((t for t in reversed(terms) if t.lstrip("+-~?").lower() == "all"), None)
    qualifier = None if final is None else (final[0] if final[0] in "+-~?" else "+")
    return SpfResult(worst, qualifier, counter[0])


def _count(counter: list[int]) -> None:
    counter[0] += 1
    if counter[0] > SPF_LOOKUP_LIMIT:
        raise SpfError(f"more than {SPF_LOOKUP_LIMIT} DNS look-ups (RFC 7208 limit)")


def _evaluate(dns: Dns, domain: str, ip: IP, counter: list[int], depth: int) -> tuple[str, str]:
    if depth > 10:
        raise SpfError("include or redirect loop")
    record = spf_record(dns, domain)
    if record is None:
        return "none", domain
    redirect = None
    for term in record.split()[1:]:
        lowered = term.lower()
        if lowered.startswith("redirect="):
            redirect = term.split("=", 1)[1]
            continue
        if "=" in term.split(":", 1)[0]:
            continue  # exp= and unknown modifiers
        qualifier = _QUALIFIERS.get(term[0])
        mechanism = term[1:] if qualifier else term
        qualifier = qualifier or "pass"
        if _matches(dns, domain, ip, mechanism, counter, depth):
            return qualifier, domain
    if redirect:
        _count(counter)
        result = _evaluate(dns, redirect, ip, counter, depth + 1)
        if result[0] == "none":
            raise SpfError(f"redirect to {redirect}, which has no SPF record")
        return result
    return "neutral", domain


def _matches(dns: Dns, domain: str, ip: IP, mechanism: str, counter: list[int], depth: int) -> bool:
    name, _sep, argument = mechanism.partition(":")
    name = name.lower()
    target, _slash, prefix = (argument or domain).partition("/")
    if "/" in name:  # "a/24" or "mx/24" without a domain
        name, prefix = name.split("/", 1)
        target = domain
    if name == "all":
        return True
    if name in ("ip4", "ip6"):
        try:
            network = ipaddress.ip_network(argument, strict=False)
        except ValueError:
            raise SpfError(f'"{mechanism}" is not a valid address range') from None
        return ip.version == network.version and ip in network
    if name == "include":
        _count(counter)
        result = _evaluate(dns, argument, ip, counter, depth + 1)[0]
        if result == "none":
            raise SpfError(f"include:{argument} has no SPF record")
        return result == "pass"
    if name in ("a", "mx"):
        _count(counter)
        hosts = [target] if name == "a" else dns.mx(target)
        for host in hosts:
            for address in dns.addresses(host):
                bits = int(prefix) if prefix.isdigit() else address.max_prefixlen
                network = ipaddress.ip_network(f"{address}/{bits}", strict=False)
                if ip.version == network.version and ip in network:
                    return True
        return False
    if name == "exists":
        _count(counter)
        return bool(dns.addresses(argument))
    if name == "ptr":
        _count(counter)
        return False  # deprecated (RFC 7208 5.5); never counted on here
    raise SpfError(f'unknown mechanism "{mechanism}"')


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
    """The registered domain, approximated by the last two labels (three under a two-letter
    second-level such as co.uk)."""
    labels = domain.split(".")
    if (
        len(labels) > 2
        and len(labels[-1]) == 2
        and labels[-2] in ("co", "com", "org", "gov", "ac", "net")
    ):
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


# The whole check --------------------------------------------------------------------------


def run_doctor(
    settings: Settings,
    transport: SmtpTransport | None,
    dns_server: str | None = None,
    relay: bool = True,
) -> DoctorReport:
    """Every check (`relay=False`: the DNS checks only, the fast subset a send runs first)."""
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
    dns = Dns(dns_server or os.environ.get(ENV_DNS_SERVER) or None)
    relay_ips = _relay_ips(dns, transport, report)
    try:
        _spf(dns, domain, relay_ips, report)
        _dkim(dns, domain, transport, report)
        _dmarc(dns, domain, transport, report)
        _mx(dns, domain, report)
        bounce_domain = domain_of(settings.bounces.return_path or "") or domain
        if bounce_domain != domain:
            # Messages go from bounces+TOKEN@ of the return path: SPF is checked on that
            # domain, and bounces need its MX.
            _spf(dns, bounce_domain, relay_ips, report)
            _mx(dns, bounce_domain, report)
        _unsubscribe(dns, settings, report)
    except DnsUnavailable as exc:
        report.add(
            "DNS",
            "warn",
            f"no DNS answer ({exc}); the DNS checks could not run",
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


def _dmarc(dns: Dns, domain: str, transport: SmtpTransport | None, report: DoctorReport) -> None:
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
    signed = transport is not None and transport.dkim_key is not None and transport.dkim_selector
    # The envelope sender and the DKIM d= are the From domain itself: aligned, strict or relaxed.
    alignment = "From aligns with the envelope domain" + (" and the DKIM d=" if signed else "")
    if policy == "none":
        report.add(name, "ok", f"_dmarc.{where}: p=none (monitoring only); {alignment}")
    else:
        report.add(name, "ok", f"_dmarc.{where}: p={policy}; {alignment}")


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
