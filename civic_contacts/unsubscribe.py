"""Unsubscribe tokens: the address, signed with HMAC-SHA256 under a secret from the environment
(`CIVIC_CONTACTS_UNSUBSCRIBE_SECRET`) or the config file, never stored in the database.

A token is `<address in base64url>.<first 16 bytes of the HMAC in base64url>`; verifying it
gives back the address or raises `TokenError`. Applying the same token twice is harmless.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from urllib.parse import quote

from civic_contacts.config import ENV_UNSUBSCRIBE_SECRET, read_config_file
from civic_contacts.errors import TokenError

_CONTEXT = b"civic-contacts unsubscribe v1\x00"


def secret_from_environment() -> bytes | None:
    """The signing secret, from the environment or else the config file; None when unset."""
    value = os.environ.get(ENV_UNSUBSCRIBE_SECRET) or read_config_file().get("unsubscribe_secret")
    return str(value).encode("utf-8") if value else None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, address: str) -> bytes:
    return hmac.new(secret, _CONTEXT + address.encode("utf-8"), hashlib.sha256).digest()[:16]


def make_token(secret: bytes, address: str) -> str:
    """A token for one address."""
    return f"{_b64(address.encode('utf-8'))}.{_b64(_mac(secret, address))}"


def verify_token(secret: bytes, token: str) -> str:
    """The address a token was made for; `TokenError` when it is forged or malformed."""
    text = token.strip()
    if text.count(".") != 1 or len(text) > 700:
        raise TokenError("the unsubscribe token is malformed")
    encoded, mac = text.split(".")
    try:
        address = _unb64(encoded).decode("utf-8")
        given = _unb64(mac)
    except (ValueError, UnicodeDecodeError):
        raise TokenError("the unsubscribe token is malformed") from None
    if not hmac.compare_digest(given, _mac(secret, address)):
        raise TokenError(
            "the unsubscribe token is not valid (forged, or signed with another secret)"
        )
    return address


def mailto_link(mailbox: str, token: str | None) -> str:
    """`mailto:` with the token in the subject, so a reply can be applied by `suppress apply`."""
    subject = f"unsubscribe {token}" if token else "unsubscribe"
    return f"mailto:{mailbox}?subject={quote(subject)}"


def https_link(base_url: str, token: str) -> str:
    """The one-click link (RFC 8058) for a token."""
    separator = "&" if "?" in base_url else "?"
    return f"{base_url}{separator}token={quote(token)}"
