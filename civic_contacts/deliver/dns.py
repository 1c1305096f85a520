"""The DNS seam of the pre-send check: questions to the system's resolver or one server
(dnspython), or answers held in memory (`RecordsDns`), for tests and rehearsals."""

from __future__ import annotations

import ipaddress
from typing import Any

from civic_contacts.errors import CivicContactsError

IP = ipaddress.IPv4Address | ipaddress.IPv6Address


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
        # Once the server has not answered, the other questions are not asked (each would
        # wait as long again): the checks that need them say they could not check.
        self.silent: str | None = None

    def _ask(self, name: str, kind: str) -> list[Any]:
        import dns.exception
        import dns.resolver

        if self.silent is not None:
            raise DnsUnavailable(self.silent)
        try:
            return list(self.resolver.resolve(name, kind))
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        except dns.resolver.NoNameservers as exc:  # SERVFAIL or refused, for this name
            raise DnsUnavailable(str(exc).splitlines()[0]) from None
        except dns.exception.Timeout as exc:
            self.silent = str(exc).splitlines()[0]
            raise DnsUnavailable(self.silent) from None
        except dns.resolver.NoResolverConfiguration:
            self.silent = "no DNS resolver is configured"
            raise DnsUnavailable(self.silent) from None

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
