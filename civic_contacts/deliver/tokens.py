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
from collections.abc import Iterable, Sequence
from pathlib import Path
from urllib.parse import quote

from civic_contacts.config import ENV_UNSUBSCRIBE_SECRET, config_path, read_config_file
from civic_contacts.errors import ConfigError, TokenError
from civic_contacts.registry.addresses import domain_of

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


@functools.lru_cache(maxsize=64)
def derived_key(secret: bytes, label: bytes, length: int = 32) -> bytes:
    """A key for one purpose, derived from the secret by HKDF-SHA256 with its own label, so
    that no two kinds of token ever share a key."""
    from cryptography.hazmat.primitives.hashes import SHA256
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=SHA256(), length=length, salt=None, info=label).derive(secret)


_UNSUBSCRIBE_KEY = b"civic-contacts unsubscribe token v3 (AES-SIV)"
_UNSUBSCRIBE_AD = b"unsubscribe"


def make_token(secret: bytes, address: str) -> str:
    """An opaque token for one address: the address sealed with AES-SIV (RFC 5297) under a
    key derived from the secret; deterministic, so a rebuild gives the same link."""
    from cryptography.hazmat.primitives.ciphers.aead import AESSIV

    siv = AESSIV(derived_key(secret, _UNSUBSCRIBE_KEY, 64))
    return _b64(siv.encrypt(address.encode("utf-8"), [_UNSUBSCRIBE_AD]))


def _open_v3(secret: bytes, sealed: bytes) -> str | None:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESSIV

    try:
        plain = AESSIV(derived_key(secret, _UNSUBSCRIBE_KEY, 64)).decrypt(sealed, [_UNSUBSCRIBE_AD])
    except InvalidTag:
        return None
    return plain.decode("utf-8")


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
        if len(parts) == 1:
            sealed = _unb64(text)
            if len(sealed) <= 16:
                raise TokenError("the unsubscribe token is malformed")
            for candidate in candidates:
                address = _open_v3(candidate, sealed)
                if address is not None:
                    return address
        elif len(parts) == 3:
            # The second format (links in messages sent before AES-SIV), read only.
            nonce, sealed, tag = (_unb64(p) for p in parts)
            for candidate in candidates:
                address = _open_v2(candidate, nonce, sealed, tag)
                if address is not None:
                    return address
        elif len(parts) == 2:
            # The first format, read only.
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


# Return paths: each message's envelope sender names its delivery -------------------------

TOKEN_LENGTH = 17  # "1", then base32 of a 5-byte tag and the 5-byte masked delivery id
_TOKEN = re.compile(r"^[^@+]+\+(1[a-z2-7]{16}|[a-z2-7]{16})@", re.I)
_RETURN_MAC = b"civic-contacts return path v2 mac"
_RETURN_MASK = b"civic-contacts return path v2 mask"


def return_token(secret: bytes, delivery_id: int) -> str:
    """A short, opaque, verifiable token for one delivery (not the journalist's address).

    A keyed MAC over the delivery id (HMAC-SHA256, 40 bits) names it; the id itself goes
    masked by a second keyed function of that MAC (the synthetic-IV construction of RFC 5297,
    with HMAC in place of AES-CMAC and CTR), so consecutive deliveries' tokens share nothing
    visible. Both keys are derived from the secret by HKDF, each with its own label."""
    raw = delivery_id.to_bytes(5, "big")
    tag = hmac.digest(derived_key(secret, _RETURN_MAC), raw, "sha256")[:5]
    mask = hmac.digest(derived_key(secret, _RETURN_MASK), tag, "sha256")[:5]
    masked = bytes(a ^ b for a, b in zip(raw, mask, strict=True))
    return "1" + base64.b32encode(tag + masked).decode("ascii").lower()


def read_token(secrets: Sequence[bytes], token: str) -> int | None:
    """The delivery a token names, when one of the secrets made it (tokens of the first,
    16-character format, in messages sent before, are still read)."""
    text = token.lower()
    newer = len(text) == 17 and text.startswith("1")
    try:
        raw = base64.b32decode((text[1:] if newer else text).upper())
    except ValueError:
        return None
    if len(raw) != 10:
        return None
    for secret in secrets:
        if newer:
            tag, masked = raw[:5], raw[5:]
            mask = hmac.digest(derived_key(secret, _RETURN_MASK), tag, "sha256")[:5]
            plain = bytes(a ^ b for a, b in zip(masked, mask, strict=True))
            expected = hmac.digest(derived_key(secret, _RETURN_MAC), plain, "sha256")[:5]
            if hmac.compare_digest(tag, expected):
                return int.from_bytes(plain, "big")
        else:
            delivery_id = _unmask_v1(secret, int.from_bytes(raw[:5], "big"))
            if hmac.compare_digest(raw[5:], _tag_v1(secret, delivery_id)):
                return delivery_id
    return None


# The first return-path format (a Feistel mask and an HMAC tag), read only: tokens in
# messages already sent keep naming their delivery.


def _tag_v1(secret: bytes, delivery_id: int) -> bytes:
    return hmac.digest(
        secret, b"civic-contacts return path v1 " + delivery_id.to_bytes(5, "big"), "sha256"
    )[:5]


def _unmask_v1(secret: bytes, value: int) -> int:
    half = (1 << 20) - 1
    left, right = value >> 20, value & half
    for number in range(3, -1, -1):
        data = b"civic-contacts return path mask v1 " + bytes([number]) + left.to_bytes(3, "big")
        left, right = (
            right ^ (int.from_bytes(hmac.digest(secret, data, "sha256")[:3], "big") & half),
            left,
        )
    return (left << 20) | right


def check_return_path(value: str) -> str:
    """The configured return path: an address whose local part can carry `+TOKEN`."""
    local, at, domain = value.strip().rpartition("@")
    if not at or not local or not domain or "+" in local or not local.isascii():
        raise ConfigError(
            f'[bounces] return_path "{value}" must be a plain ASCII address without "+"'
            " (each message is sent from LOCAL+TOKEN@DOMAIN)"
        )
    return f"{local}@{domain.lower()}"


def envelope_sender(return_path: str, secret: bytes, delivery_id: int) -> str:
    """The envelope sender (MAIL FROM) of one delivery."""
    local, _at, domain = return_path.rpartition("@")
    return f"{local}+{return_token(secret, delivery_id)}@{domain}"


def tokens_in(addresses: Iterable[str], return_path: str | None) -> list[str]:
    """Tokens of our return path among the addresses a report was sent to."""
    found = []
    local, _at, domain = (return_path or "").rpartition("@")
    for address in addresses:
        match = _TOKEN.match(address)
        if not match:
            continue
        if return_path and (
            address.split("+", 1)[0].lower() != local.lower()
            or domain_of(address) != domain.lower()
        ):
            continue
        found.append(match.group(1).lower())
    return found
