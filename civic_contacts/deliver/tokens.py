"""Unsubscribe tokens: the address sealed under a secret that is never stored in the database.

The secret comes from `CIVIC_CONTACTS_UNSUBSCRIBE_SECRET`, else `unsubscribe_secret` in the
config file, else a file in the user's config folder (`unsubscribe-secrets`, mode 0600) that is
written with 32 random bytes the first time a secret is needed. Rotating adds a new secret at
the top of that file; the older ones stay, so links in messages already sent keep working.

A token is `<nonce>.<sealed address>.<tag>` (base64url, short enough for a header line): the
address encrypted with a
keystream of HMAC-SHA256 blocks and authenticated with a second HMAC key (encrypt-then-MAC),
so a proxy log of a one-click URL does not show who clicked. The nonce is derived from the
address, so a rebuild gives the same bytes. Tokens of the first format (`<address>.<tag>`)
still verify. Applying the same token twice is harmless.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

from civic_contacts.config import ENV_UNSUBSCRIBE_SECRET, config_path, read_config_file
from civic_contacts.errors import TokenError

_CONTEXT = b"civic-contacts unsubscribe v1\x00"
SECRETS_FILE = "unsubscribe-secrets"


def secrets_path() -> Path:
    """The file of generated secrets, beside the config file; newest first."""
    return config_path().parent / SECRETS_FILE


def _stored() -> list[bytes]:
    path = secrets_path()
    if not path.is_file():
        return []
    return [
        line.strip().encode("ascii")
        for line in path.read_text(encoding="ascii").splitlines()
        if line.strip()
    ]


def _write(lines: list[bytes]) -> None:
    path = secrets_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write("".join(line.decode("ascii") + "\n" for line in lines))
    os.replace(temporary, path)


def _given() -> bytes | None:
    value = os.environ.get(ENV_UNSUBSCRIBE_SECRET) or read_config_file().get("unsubscribe_secret")
    return str(value).encode("utf-8") if value else None


def signing_secret() -> bytes:
    """The secret new tokens are made with: the given one, else the newest generated one
    (generated and stored, mode 0600, on first need)."""
    given = _given()
    if given is not None:
        return given
    stored = _stored()
    if stored:
        return stored[0]
    fresh = secrets.token_hex(32).encode("ascii")
    _write([fresh])
    return fresh


def verification_secrets() -> list[bytes]:
    """Every secret a token may have been made with: the given one, then the generated ones."""
    given = _given()
    return ([given] if given is not None else []) + _stored()


def rotate_secret() -> Path:
    """Put a new generated secret first; the older ones keep verifying sent links."""
    _write([secrets.token_hex(32).encode("ascii"), *_stored()])
    return secrets_path()


def secret_from_environment() -> bytes | None:
    """The given secret (environment or config file) only; None when unset."""
    return _given()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, address: str) -> bytes:
    return hmac.new(secret, _CONTEXT + address.encode("utf-8"), hashlib.sha256).digest()[:16]


@functools.lru_cache(maxsize=64)
def _key(secret: bytes, purpose: bytes) -> bytes:
    return hmac.digest(secret, b"civic-contacts unsubscribe v2 " + purpose, "sha256")


def _keystream(key: bytes, nonce: bytes, length: int) -> bytes:
    blocks = (
        hmac.digest(key, nonce + counter.to_bytes(4, "big"), "sha256")
        for counter in range((length + 31) // 32)
    )
    return b"".join(blocks)[:length]


def _xor(data: bytes, stream: bytes) -> bytes:
    return (int.from_bytes(data, "big") ^ int.from_bytes(stream, "big")).to_bytes(len(data), "big")


def make_token(secret: bytes, address: str) -> str:
    """An opaque token for one address (the same every time for the same secret)."""
    plain = address.encode("utf-8")
    nonce = hmac.digest(_key(secret, b"nonce"), plain, "sha256")[:8]
    sealed = _xor(plain, _keystream(_key(secret, b"enc"), nonce, len(plain)))
    tag = hmac.digest(_key(secret, b"mac"), nonce + sealed, "sha256")[:12]
    return f"{_b64(nonce)}.{_b64(sealed)}.{_b64(tag)}"


def _open_v2(secret: bytes, nonce: bytes, sealed: bytes, tag: bytes) -> str | None:
    expected = hmac.digest(_key(secret, b"mac"), nonce + sealed, "sha256")[:12]
    if not hmac.compare_digest(tag, expected):
        return None
    plain = _xor(sealed, _keystream(_key(secret, b"enc"), nonce, len(sealed)))
    return plain.decode("utf-8")


def verify_token(secret: bytes | Sequence[bytes], token: str) -> str:
    """The address a token was made for, under any of the secrets; `TokenError` when it is
    forged or malformed."""
    candidates = [secret] if isinstance(secret, bytes) else list(secret)
    text = token.strip()
    if len(text) > 900 or not text:
        raise TokenError("the unsubscribe token is malformed")
    parts = text.split(".")
    try:
        if len(parts) == 3:
            nonce, sealed, tag = (_unb64(p) for p in parts)
            for candidate in candidates:
                address = _open_v2(candidate, nonce, sealed, tag)
                if address is not None:
                    return address
        elif len(parts) == 2:
            address = _unb64(parts[0]).decode("utf-8")
            given = _unb64(parts[1])
            if any(hmac.compare_digest(given, _mac(c, address)) for c in candidates):
                return address
        else:
            raise TokenError("the unsubscribe token is malformed")
    except (ValueError, UnicodeDecodeError):
        raise TokenError("the unsubscribe token is malformed") from None
    raise TokenError("the unsubscribe token is not valid (forged, or signed with another secret)")


_URL_SAFE = re.compile(r"[A-Za-z0-9_.-]*")


def mailto_link(mailbox: str, token: str | None) -> str:
    """`mailto:` with the token in the subject, so a reply can be applied by `suppress apply`."""
    if token and _URL_SAFE.fullmatch(token):
        return f"mailto:{mailbox}?subject=unsubscribe%20{token}"  # what quote() gives, faster
    subject = f"unsubscribe {token}" if token else "unsubscribe"
    return f"mailto:{mailbox}?subject={quote(subject)}"


def https_link(base_url: str, token: str, language: str | None = None) -> str:
    """The one-click link (RFC 8058) for a token; `lang` tells the page which language to
    speak (it is not secret and not signed: a changed one only changes the wording)."""
    separator = "&" if "?" in base_url else "?"
    link = f"{base_url}{separator}token={quote(token)}"
    return f"{link}&lang={quote(language)}" if language else link
