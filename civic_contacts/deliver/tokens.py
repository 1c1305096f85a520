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
import datetime as dt
import functools
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from civic_contacts.config import (
    ENV_UNSUBSCRIBE_SECRET,
    KEY_NAMES,
    SECRET_HINT,
    config_path,
    read_config_file,
    weak_secret,
)
from civic_contacts.errors import ConfigError, TokenError
from civic_contacts.registry.addresses import domain_of

_CONTEXT = b"civic-contacts unsubscribe v1\x00"
SECRETS_FILE = "unsubscribe-secrets"


def secrets_path() -> Path:
    """The file of generated secrets, beside the config file; newest first."""
    return config_path().parent / SECRETS_FILE


@dataclass(frozen=True)
class StoredSecret:
    """One generated secret of the secrets file: the current one (first, never retired), or
    a retired one, which opens the links it sealed until `retired_secret_days` have passed."""

    value: bytes
    retired: dt.datetime | None = None

    @property
    def fingerprint(self) -> str:
        """A name for the secret that says nothing of it."""
        return hashlib.sha256(b"civic-contacts secret fingerprint " + self.value).hexdigest()[:12]

    def line(self) -> str:
        """The secret as the file keeps it."""
        value = self.value.decode("ascii")
        return value if self.retired is None else f"{value} retired={self.retired.isoformat()}"


def stored_secrets() -> list[StoredSecret]:
    """Every generated secret the file holds, newest first (expired ones included)."""
    path = secrets_path()
    if not path.is_file():
        return []
    found = []
    for line in path.read_text(encoding="ascii").splitlines():
        value, _space, rest = line.strip().partition(" ")
        if not value:
            continue
        retired = None
        if rest.startswith("retired="):
            try:
                retired = dt.datetime.fromisoformat(rest.removeprefix("retired="))
            except ValueError:
                retired = dt.datetime.fromtimestamp(0, dt.UTC)  # unreadable: treat as old
        found.append(StoredSecret(value.encode("ascii"), retired))
    return found


def _stored() -> list[bytes]:
    """The generated secrets that still open links: the current one, and those retired less
    than `retired_secret_days` ago."""
    days = int(
        read_config_file().get("retired_secret_days") or KEY_NAMES["retired_secret_days"].default
    )
    oldest = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    return [s.value for s in stored_secrets() if s.retired is None or s.retired > oldest]


def _write(entries: list[StoredSecret]) -> None:
    path = secrets_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write("".join(entry.line() + "\n" for entry in entries))
    os.replace(temporary, path)


def _given() -> bytes | None:
    value = os.environ.get(ENV_UNSUBSCRIBE_SECRET)
    if value:
        weak = weak_secret(value)
        if weak:
            raise ConfigError(
                f"{ENV_UNSUBSCRIBE_SECRET} {weak}; nothing was sealed with it",
                hint=SECRET_HINT,
            )
        return value.encode("utf-8")
    # The config file's value was checked when the file was read.
    value = read_config_file().get("unsubscribe_secret")
    return str(value).encode("utf-8") if value else None


def signing_secret() -> bytes:
    """The secret new tokens are made with: the given one, else the newest generated one
    (generated and stored, mode 0600, on first need)."""
    given = _given()
    if given is not None:
        return given
    entries = stored_secrets()
    current = next((e.value for e in entries if e.retired is None), None)
    if current is not None:
        return current
    fresh = secrets.token_hex(32).encode("ascii")
    _write([StoredSecret(fresh), *stored_secrets()])
    return fresh


def verification_secrets() -> list[bytes]:
    """Every secret a token may have been made with: the given one, then the generated ones."""
    given = _given()
    return ([given] if given is not None else []) + _stored()


def _refuse_when_given(doing: str) -> None:
    if os.environ.get(ENV_UNSUBSCRIBE_SECRET) or read_config_file().get("unsubscribe_secret"):
        where = (
            ENV_UNSUBSCRIBE_SECRET
            if os.environ.get(ENV_UNSUBSCRIBE_SECRET)
            else f"unsubscribe_secret of {config_path()}"
        )
        raise ConfigError(
            f"the unsubscribe secret is given in {where}, which links are sealed with: {doing}"
            " the generated ones would change nothing; nothing was changed",
            hint=f"put a new secret in {where} instead ({SECRET_HINT})",
        )


def rotate_secret(now: dt.datetime | None = None) -> Path:
    """Put a new generated secret first and retire the one before it: links it sealed keep
    opening for `retired_secret_days`. Refused while a secret is given (environment or config
    file): that one, not the file's, seals the links."""
    _refuse_when_given("rotating")
    moment = now or dt.datetime.now(dt.UTC)
    entries = stored_secrets()
    retired = [e if e.retired else StoredSecret(e.value, moment) for e in entries]
    _write([StoredSecret(secrets.token_hex(32).encode("ascii")), *retired])
    return secrets_path()


def retire_secret(fingerprint: str | None = None, every: bool = False) -> list[str]:
    """Drop one retired secret (by its fingerprint), or every retired one, at once (after a
    leak): the links they sealed stop opening. The current secret is never dropped here
    (rotate first). Returns the fingerprints dropped."""
    entries = stored_secrets()
    retired = [e for e in entries if e.retired is not None]
    if every:
        dropped = retired
    else:
        wanted = (fingerprint or "").strip().lower()
        current = [
            e for e in entries if e.retired is None and wanted and e.fingerprint.startswith(wanted)
        ]
        if current:
            raise ConfigError(
                f"secret {current[0].fingerprint} is the current one; nothing was dropped",
                hint="run civic-contacts config rotate-secret first, then retire it",
            )
        dropped = [e for e in retired if wanted and e.fingerprint.startswith(wanted)]
        if not dropped:
            known = ", ".join(e.fingerprint for e in retired) or "none"
            raise ConfigError(
                f'no retired secret "{fingerprint}" (retired ones: {known}); nothing was dropped'
            )
    _write([e for e in entries if e not in dropped])
    return [e.fingerprint for e in dropped]


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


PREFERENCES_PATH = "/preferences"


def preferences_link(base_url: str, token: str, language: str | None = None) -> str:
    """The journalist's preference page, on the server behind the one-click link: the same
    sealed token, at /preferences beside /unsubscribe (or under the base's own path)."""
    parts = urlsplit(base_url)
    path = parts.path.rstrip("/")
    if path.endswith("/unsubscribe"):
        path = path[: -len("/unsubscribe")]
    base = urlunsplit((parts.scheme, parts.netloc, path + PREFERENCES_PATH, parts.query, ""))
    return https_link(base, token, language)


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
