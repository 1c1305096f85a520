"""Email addresses: validation and the normalised form stored (email-validator).

No DNS lookups unless asked: a press officer on a poor connection must be able to import.
"""

from __future__ import annotations

import functools
import re

from civic_contacts.errors import InvalidEmail


def normalise_email(value: str, check_deliverability: bool = False) -> str:
    """The normalised address: local part lower-cased, domain in its ASCII (IDNA) form, so
    `ann@bücher.de` and `ann@xn--bcher-kva.de` are one person and SMTP can carry the domain.

    Local parts are lower-cased too: people are matched by address, and no mail system our
    recipients use treats `JDoe@` and `jdoe@` as two people. A local part that is not ASCII
    is kept (it needs SMTPUTF8 when sent). `display_email` gives the Unicode form for people.
    """
    text = value.strip()
    if not text:
        raise InvalidEmail("empty email address")
    if _plain(text):
        return text.lower()
    # email-validator is imported when first needed: a send never asks it anything.
    from email_validator import EmailNotValidError, validate_email

    try:
        result = validate_email(text, check_deliverability=check_deliverability)
    except EmailNotValidError as exc:
        raise InvalidEmail(f'"{value}" is not a valid email address: {exc}') from None
    local = result.normalized.rsplit("@", 1)[0]
    return f"{local}@{result.ascii_domain or result.domain}".lower()


def display_email(address: str) -> str:
    """An address as people read it: an IDNA domain (`xn--bcher-kva.de`) in Unicode."""
    local, at, domain = address.rpartition("@")
    if "xn--" not in domain:
        return address
    try:
        return f"{local}{at}{domain.encode('ascii').decode('idna')}"
    except UnicodeError:
        return address


_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN = re.compile(
    rf"^{_ATEXT}(?:\.{_ATEXT})*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{{0,61}}[A-Za-z0-9])?\.)+[A-Za-z]{{2,63}}$"
)


def _plain(text: str) -> bool:
    """An everyday ASCII address that email-validator would accept as it is.

    Lists hold tens of thousands of these; checking them with one regular expression keeps
    imports fast. Anything else (international, quoted, special-use domains) goes to
    email-validator, which gives the reason when it is not valid.
    """
    if len(text) > 254 or not _PLAIN.match(text):
        return False
    local, _at, domain = text.rpartition("@")
    if len(local) > 64:
        return False
    labels = domain.lower().split(".")
    special = _special_use_domains()
    return not any(".".join(labels[i:]) in special for i in range(len(labels)))


@functools.cache
def _special_use_domains() -> frozenset[str]:
    from email_validator import SPECIAL_USE_DOMAIN_NAMES

    return frozenset(SPECIAL_USE_DOMAIN_NAMES)


def domain_of(address: str) -> str:
    """The domain of an address, for Message-IDs and calendar UIDs."""
    return address.rsplit("@", 1)[-1].lower()
