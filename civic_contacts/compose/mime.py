"""MIME assembly: one message's rendered parts in, the bytes that go on the wire out, and the
check every outgoing message passes (only our headers, each once, one To with its recipient).

MIME is built with the standard library, with three corrections for this Python (3.11):
- a 7bit clone of `policy.SMTP`, so every part is quoted-printable or base64, never 8bit;
- non-ASCII headers are encoded by `email.header.Header` and stored raw, because the stdlib
  folder can emit an empty encoded-word (`=?utf-8?q??=`, forbidden by RFC 2047) for long
  subjects with an em dash;
- the calendar part is attached as text so it keeps `charset=utf-8`.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import re
from email import policy
from email.header import Header
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, getaddresses

from civic_contacts.compose.templates import ContactView, Parts, Recipient, Variant
from civic_contacts.errors import InputError

POLICY = policy.SMTP.clone(cte_type="7bit", refold_source="none")
UTF8_HEADERS = POLICY.clone(utf8=True)
_LINE_BREAKS = re.compile(r"[\r\n\x00\u2028\u2029\x85\x0b\x0c]")


def check_header_value(value: str, what: str) -> str:
    """A value that may reach a header: no line breaks or NUL, whatever the source."""
    if _LINE_BREAKS.search(value):
        raise InputError(
            f"{what} holds a line break or NUL, which could forge mail headers: {value[:60]!r}"
        )
    return value


@functools.lru_cache(maxsize=1024)
def encode_unstructured(name: str, value: str) -> str:
    """A header value, RFC 2047-encoded when it is not plain ASCII, folded under 78 columns.

    Text that merely looks like an encoded-word ("=?utf-8?q?Hi=0ABcc:...?=") is encoded too,
    so no reader can decode it into a line break (CVE-2024-6923 in Python before 3.11.10).
    Kept for the values met last: a batch's outlets share a handful of subjects, and
    `Header` takes half a millisecond for one.
    """
    check_header_value(value, name)
    if value.isascii() and "=?" not in value:
        return Header(value, "us-ascii", header_name=name).encode(linesep="\r\n", maxlinelen=78)
    return Header(value, "utf-8", header_name=name).encode(linesep="\r\n", maxlinelen=76)


def encoded_words(text: str, max_bytes: int = 45) -> list[str]:
    """RFC 2047 "B" encoded-words of at most `max_bytes` of UTF-8 each (72 characters),
    never splitting a character; read back they join into `text` exactly."""
    words: list[str] = []
    chunk: list[str] = []
    size = 0
    for char in text:
        width = len(char.encode("utf-8"))
        if chunk and size + width > max_bytes:
            words.append("".join(chunk))
            chunk, size = [], 0
        chunk.append(char)
        size += width
    words.append("".join(chunk))
    return [
        "=?utf-8?b?" + base64.b64encode(w.encode("utf-8")).decode("ascii") + "?=" for w in words
    ]


def encode_address(name: str, display: str, address: str) -> str:
    """`Display Name <address>`, the name encoded, never concatenated raw; folded under 78."""
    check_header_value(display, name)
    check_header_value(address, name)
    if not address.isascii():
        # An internationalised name part stays UTF-8 (RFC 6532; sent with SMTPUTF8).
        words = (
            [formataddr((display, "x@x")).rsplit(" <", 1)[0]]
            if display.isascii() and "=?" not in display
            else encoded_words(display)
        )
        return "\r\n ".join(w for w in words if w) + f" <{address}>"
    if display.isascii() and "=?" not in display:
        text = formataddr((display, address))
    else:
        text = "\r\n ".join(encoded_words(display)) + f" <{address}>"
    last = text.rsplit("\r\n", 1)[-1]
    limit = 78 - (len(name) + 2 if "\r\n" not in text else 0)
    if len(last) > limit and " <" in last:
        head, _sep, tail = text.rpartition(" <")
        text = f"{head}\r\n <{tail}"
    return text


def list_unsubscribe(recipient: Recipient) -> str:
    """The List-Unsubscribe value: the mailto and, when configured, the https link.

    A URI cannot be folded, so a line holding one may pass 78 characters (never 998)."""
    links = [f"<{recipient.unsubscribe_mailto}>"]
    if recipient.unsubscribe_url:
        links.append(f"<{recipient.unsubscribe_url}>")
    return ",\r\n ".join(links)


def build_message(
    variant: Variant, recipient: Recipient, parts: Parts, reply_to: ContactView | None
) -> bytes:
    """The message as bytes, built the straightforward way with the standard library.

    This is the reference construction: any faster path must produce messages whose decoded
    parts equal these.
    """
    msg = EmailMessage(policy=POLICY)
    msg.set_raw("From", encode_address("From", variant.from_name, variant.from_address))
    msg.set_raw("To", encode_address("To", recipient.name, recipient.email))
    if reply_to is not None:
        msg.set_raw("Reply-To", encode_address("Reply-To", reply_to.name, reply_to.email))
    msg.set_raw("Subject", encode_unstructured("Subject", parts.subject))
    msg.set_raw("Date", format_datetime(recipient.date.astimezone(dt.UTC)))
    msg.set_raw("Message-ID", check_header_value(recipient.message_id, "Message-ID"))
    if recipient.in_reply_to:
        original = check_header_value(recipient.in_reply_to, "In-Reply-To")
        msg.set_raw("In-Reply-To", original)
        msg.set_raw("References", original)
    msg.set_raw("List-Unsubscribe", list_unsubscribe(recipient))
    if recipient.unsubscribe_url:
        msg.set_raw("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
    msg.set_content(parts.text)
    msg.add_alternative(parts.html, subtype="html")
    # `name=` on Content-Type as well as `filename=`: older clients read only the former.
    msg.add_attachment(
        parts.vcard, subtype="vcard", filename="contacts.vcf", params={"name": "contacts.vcf"}
    )
    if parts.ics is not None:
        msg.add_attachment(
            parts.ics,
            subtype="calendar",
            filename="embargo.ics",
            # The part's method matches the calendar's METHOD (RFC 6047).
            params={"method": parts.ics_method, "name": "embargo.ics"},
        )
    set_boundaries(msg, recipient.message_id)
    # After the parts: set_content() drops any Content-* header set before it.
    msg.set_raw("Content-Language", check_header_value(variant.language, "Content-Language"))
    if recipient.email.isascii() and variant.from_address.isascii():
        return msg.as_bytes(policy=POLICY)
    # An internationalised name part is written in UTF-8 in the header (RFC 6532), as the
    # release's own messages write it; the parts stay 7-bit.
    return msg.as_bytes(policy=UTF8_HEADERS)


ALLOWED_HEADERS = {
    "from",
    "to",
    "reply-to",
    "subject",
    "date",
    "message-id",
    "in-reply-to",
    "references",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "mime-version",
    "content-type",
    "content-language",
}
# Headers that must hold exactly one mailbox, and the shape of each List-Unsubscribe entry.
_ONE_MAILBOX_HEADERS = ("from", "reply-to")
_UNSUBSCRIBE_ENTRY = re.compile(r"<(?:mailto:[^\s<>,\"]+|https?://[^\s<>,\"]+)>")


# One mailbox and nothing else, in the shapes `encode_address` writes: a phrase of atoms (encoded
# words are atoms too) or quoted strings, then one <address>; or a bare address. Anything else
# (comments, groups, commas) goes to the full parser, which decides.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]++"
_QUOTED = r'"(?:[^"\\]|\\.)*"'
_ADDRESS = r'[^\s<>()\[\]",;:\\@]+@[^\s<>()\[\]",;:\\@]+'
_ONE_MAILBOX = re.compile(rf"\s*+(?:(?:(?:{_ATOM}|{_QUOTED})\s*+)*+<({_ADDRESS})>|({_ADDRESS}))\s*")


def check_headers(data: bytes, recipient: str) -> None:
    """Refuse a built message whose header block is not exactly what we mean to send.

    Each header appears once and is one we write; there is exactly one To, holding exactly the
    one recipient. Cheap enough to run on every message, fast path or not.
    """
    head = data.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    seen: dict[str, str] = {}
    current = ""
    for line in head.split("\r\n"):
        if line[:1] in (" ", "\t") and current:
            seen[current] += line
            continue
        name, sep, value = line.partition(":")
        current = name.strip().lower()
        if not sep or current not in ALLOWED_HEADERS or current in seen:
            raise InputError(
                f"refusing a message to {recipient}: unexpected header line {line[:60]!r}"
            )
        seen[current] = value
    if "to" not in seen or "from" not in seen:
        raise InputError(f"refusing a message to {recipient}: From or To missing")
    for name in _ONE_MAILBOX_HEADERS:
        if name in seen and _mailbox(seen[name]) is None:
            raise InputError(
                f"refusing a message to {recipient}: {name.title()} must be exactly one mailbox"
            )
    if "list-unsubscribe" in seen:
        entries = [e.strip() for e in seen["list-unsubscribe"].split(",")]
        kinds = [e[1:5] for e in entries if _UNSUBSCRIBE_ENTRY.fullmatch(e)]
        if len(kinds) != len(entries) or kinds not in (["mail"], ["mail", "http"]):
            raise InputError(
                f"refusing a message to {recipient}: List-Unsubscribe must be one <mailto:> and"
                " at most one <https:> address"
            )
    address = _mailbox(seen["to"]) or ""
    if address.lower() != recipient.lower():
        raise InputError(
            f"refusing a message to {recipient}: To must name exactly that one recipient"
        )


def check_recipient_headers(to: str, recipient: str, message_id: str, unsubscribe: str) -> None:
    """The header values that differ per recipient, held to what `check_headers` asks of
    them: a To of exactly the recipient, a Message-ID on one line, List-Unsubscribe entries
    of the allowed kinds. The fast path checks these for every message and the whole header
    block once per variant."""
    check_header_value(message_id, "Message-ID")
    to = to.replace("\r\n ", " ")  # unfolded, as `check_headers` reads it
    if _LINE_BREAKS.search(to) or (_mailbox(to) or "").lower() != recipient.lower():
        raise InputError(
            f"refusing a message to {recipient}: To must name exactly that one recipient"
        )
    entries = unsubscribe.split(",\r\n ")
    kinds = [e[1:5] for e in entries if _UNSUBSCRIBE_ENTRY.fullmatch(e)]
    if len(kinds) != len(entries) or kinds not in (["mail"], ["mail", "http"]):
        raise InputError(
            f"refusing a message to {recipient}: List-Unsubscribe must be one <mailto:> and"
            " at most one <https:> address"
        )


def _mailbox(value: str) -> str | None:
    """The one address of a header holding exactly one mailbox; None otherwise."""
    single = _ONE_MAILBOX.fullmatch(value)
    if single is not None:
        return single.group(1) or single.group(2)
    addresses = getaddresses([value])
    if len(addresses) == 1 and addresses[0][1] and "@" in addresses[0][1]:
        return addresses[0][1]
    return None


def boundary_for(message_id: str, index: int) -> str:
    """A boundary that is the same on every build of a message, so equal content hashes equal.

    It starts with "=_", which quoted-printable and base64 bodies can never contain.
    """
    digest = hashlib.sha256(message_id.encode("utf-8")).hexdigest()[:24]
    return f"=_cc{index}_{digest}"


def two_boundaries(message_id: str) -> tuple[bytes, bytes]:
    """`boundary_for(message_id, 0)` and `(message_id, 1)`, as ASCII bytes, from one digest."""
    digest = hashlib.sha256(message_id.encode("utf-8")).hexdigest()[:24].encode("ascii")
    return b"=_cc0_" + digest, b"=_cc1_" + digest


def set_boundaries(msg: EmailMessage, message_id: str) -> None:
    """Give every multipart of the message its stable boundary."""
    for index, part in enumerate(p for p in msg.walk() if p.is_multipart()):
        part.set_boundary(boundary_for(message_id, index))


@functools.lru_cache(maxsize=8)
def _date_header(second: int) -> bytes:
    """The Date header of a second since the epoch (a send stamps many messages a second)."""
    moment = dt.datetime.fromtimestamp(second, dt.UTC)
    return b"Date: " + format_datetime(moment).encode("ascii")


def stamp_date(data: bytes, moment: dt.datetime) -> bytes:
    """The message with its Date header set to `moment` (the instant it is handed to the
    server), the rest byte for byte as built."""
    stamp = _date_header(int(moment.timestamp()))
    head_end = data.find(b"\r\n\r\n")
    start = 0 if data.startswith(b"Date: ") else data.find(b"\r\nDate: ", 0, head_end) + 2
    if start >= 2 or data.startswith(b"Date: "):
        # The header as we build it: replaced in place, one copy of the message.
        end = data.find(b"\r\n", start)
        return data[:start] + stamp + data[end:]
    head, sep, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    for index, line in enumerate(lines):
        if line[:5].lower() == b"date:":
            lines[index] = stamp
            break
    else:
        lines.append(stamp)
    return b"\r\n".join(lines) + sep + body
