"""The fast way to build a batch's messages: everything a message variant shares is rendered
and encoded once, and each recipient adds only what differs.

What differs per recipient: the To header, the greeting name, the unsubscribe and preference
links, the Message-ID (and so the MIME boundaries), and the Date. The text and HTML bodies are
rendered once per variant with marker strings in place of the name and the links; per
recipient the markers are replaced (the HTML one with the escaped value) and the part is quoted-printable
encoded by `binascii` in C. The card, the calendar entry and the shared headers are encoded
once.

The straightforward construction in `mime.build_message` stays the reference: for each
template language, the first variant is rendered both ways with probe values that any
template filter would change, and the fast path is used for that language only when the
decoded parts are equal. `tests/test_assemble.py` checks the same on varied data.
"""

from __future__ import annotations

import binascii
import datetime as dt
import email
import functools
import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from email import policy
from email.utils import format_datetime

from markupsafe import escape

from civic_contacts.compose.mime import (
    build_message,
    check_header_value,
    check_headers,
    check_recipient_headers,
    encode_address,
    encode_unstructured,
    list_unsubscribe,
    two_boundaries,
)
from civic_contacts.compose.templates import (
    ContactView,
    Recipient,
    Renderer,
    Variant,
    as_read,
    calendar_entry,
)

KEEP_VARIANTS = 256
NAME_MARK = "\ue000name\ue001"
LINK_MARK = "\ue000link\ue001"
PREFS_MARK = "\ue000prefs\ue001"
MARKS = (NAME_MARK, LINK_MARK, PREFS_MARK)
# (name, unsubscribe link, preference page link or none), as no template filter leaves alone.
PROBES: tuple[tuple[str, str, str | None], ...] = (
    (
        'Zoë O\'Brien-<b>&amp;</b> "Ndiaye"',
        "mailto:unsubscribe@example.org?subject=unsubscribe%20Ab.Cd",
        None,
    ),
    (
        "ÉLODIE da silva {{ x }}",
        "https://press.example.org/u?token=Xy-z_0.1&a=b",
        "https://press.example.org/preferences?token=Xy-z_0.1&lang=fr",
    ),
)


def content_hash(data: bytes) -> str:
    """A message's content hash: recorded with its delivery when it is built, checked against
    the file before it is sent."""
    return hashlib.sha256(data).hexdigest()


def qp(text: str) -> bytes:
    """Quoted-printable body with CRLF lines, as the reference's `set_content` would decode."""
    return b"".join(_qp_line(line) for line in text.splitlines())


def _qp_line(line: str) -> bytes:
    # Soft line breaks restart at every hard one, so lines can be encoded one by one. Alone,
    # a line gets LF soft breaks ("=\n"); mail wants CRLF everywhere.
    if (
        len(line) <= 76
        and line.isascii()
        and line.isprintable()
        and "=" not in line
        and not line.endswith(" ")
        and line != "."
    ):
        # Nothing here is quoted-printable's to change (a greeting with a plain name).
        return line.encode("ascii") + b"\r\n"
    encoded = binascii.b2a_qp(line.encode("utf-8"), quotetabs=False, istext=True, header=False)
    return encoded.replace(b"\n", b"\r\n") + b"\r\n"


Body = list[bytes | list[str]]


def prepare_body(rendered: str) -> Body:
    """A rendered body as encoded lines, except the lines holding a marker, kept as pieces."""
    out: Body = []
    for line in rendered.splitlines():
        if any(mark in line for mark in MARKS):
            out.append(_split(line))
        elif out and isinstance(out[-1], bytes):
            out[-1] += _qp_line(line)
        else:
            out.append(_qp_line(line))
    return out


def encode_body(body: Body, values: dict[str, str]) -> bytes:
    """The body for one recipient (`values` by marker): only the lines with a marker are
    encoded now."""
    return b"".join(p if isinstance(p, bytes) else _qp_line(_fill(p, values)) for p in body)


def _split(template_output: str) -> list[str]:
    """Rendered text cut at the markers: [text, mark, text, mark, ...]."""
    pieces: list[str] = []
    rest = template_output
    while True:
        positions = [(rest.find(m), m) for m in MARKS if rest.find(m) >= 0]
        if not positions:
            pieces.append(rest)
            return pieces
        index, mark = min(positions)
        pieces.append(rest[:index])
        pieces.append(mark)
        rest = rest[index + len(mark) :]


@dataclass
class Shared:
    """The parts of one variant that every recipient shares, rendered and encoded once."""

    subject: str
    subject_header: bytes
    reply_to: bytes
    text: Body
    html: Body
    html_pieces: list[str]
    vcard: bytes
    language: str
    calendar: dict[dt.datetime, bytes]
    checked: bool = False  # whether a whole message of this variant passed `check_headers`


def _fill(pieces: list[str], values: dict[str, str]) -> str:
    return "".join(values.get(p, p) for p in pieces)


def _values(recipient: Recipient, html: bool) -> dict[str, str]:
    """A recipient's values by marker, escaped for HTML when `html`."""
    values = {
        NAME_MARK: recipient.name,
        LINK_MARK: _link(recipient),
        PREFS_MARK: recipient.preferences_url or "",
    }
    return {k: str(escape(v)) for k, v in values.items()} if html else values


class Assembler:
    """Builds messages from shared parts; falls back to the reference where it must."""

    def __init__(self, renderer: Renderer) -> None:
        self.renderer = renderer
        # The shared parts of the variants met last, by id(variant) and whether recipients
        # have a preference page; each entry keeps its variant alive, so an id stays valid
        # while it is cached. Bounded: a batch of a million recipients meets its variants
        # outlet after outlet and never needs the old ones.
        self.shared: OrderedDict[tuple[int, bool], tuple[Variant, Shared]] = OrderedDict()
        self.fast_languages: dict[str, bool] = {}
        self.from_headers: dict[tuple[str, str], bytes] = {}
        # Calendar entries by what they are made of: outlets in one zone share theirs.
        self.calendars: OrderedDict[tuple[object, ...], bytes] = OrderedDict()

    def _prepare(self, variant: Variant, reply_to: ContactView | None, prefs: bool) -> Shared:
        probe = Recipient(
            NAME_MARK,
            "probe@example.org",
            "<probe@example.org>",
            dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
            LINK_MARK,
            preferences_url=PREFS_MARK if prefs else None,
        )
        parts = self.renderer.render(variant, probe, calendar=False)
        if any(mark in parts.subject for mark in MARKS):
            raise _NotFast
        reply = (
            b"Reply-To: "
            + encode_address("Reply-To", reply_to.name, reply_to.email).encode("ascii")
            + b"\r\n"
            if reply_to is not None
            else b""
        )
        return Shared(
            subject=parts.subject,
            subject_header=b"Subject: "
            + encode_unstructured("Subject", parts.subject).encode("ascii")
            + b"\r\n",
            reply_to=reply,
            text=prepare_body(parts.text),
            html=prepare_body(parts.html),
            html_pieces=_split(parts.html),
            vcard=qp(variant.vcard),
            language=variant.language,
            calendar={},
        )

    def _language_is_fast(self, variant: Variant, reply_to: ContactView | None) -> bool:
        """Whether the templates of this language use the name and link only as plain values."""
        language = variant.language
        known = self.fast_languages.get(language)
        if known is not None:
            return known
        ok = True
        for name, link, prefs in PROBES:
            recipient = Recipient(
                name,
                "probe@example.org",
                "<probe.1@example.org>",
                dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
                link,
                preferences_url=prefs,
            )
            try:
                fast = self._build_fast(variant, recipient, reply_to, check=False)
            except _NotFast:
                ok = False
                break
            reference = build_message(
                variant, recipient, self.renderer.render(variant, recipient), reply_to
            )
            if decoded_parts(fast) != decoded_parts(reference):
                ok = False
                break
        self.fast_languages[language] = ok
        return ok

    def build(
        self, variant: Variant, recipient: Recipient, reply_to: ContactView | None
    ) -> tuple[bytes, str]:
        """The message bytes and its subject, its header block checked (`check_headers`):
        whole for the first message of a variant, then the lines that differ per recipient."""
        # Notices are few and varied: they take the reference construction.
        if variant.notice is not None or not self._language_is_fast(variant, reply_to):
            parts = self.renderer.render(variant, recipient)
            data = build_message(variant, recipient, parts, reply_to)
            check_headers(data, recipient.email)
            return data, parts.subject
        data = self._build_fast(variant, recipient, reply_to)
        shared = self.shared[(id(variant), bool(recipient.preferences_url))][1]
        if not shared.checked:
            check_headers(data, recipient.email)
            shared.checked = True
        return data, shared.subject

    def html_for(self, variant: Variant, recipient: Recipient) -> str:
        """The HTML part of a recipient's message (for the preview)."""
        cached = self.shared.get((id(variant), bool(recipient.preferences_url)))
        if cached is None:
            return self.renderer.render(variant, recipient).html
        return _fill(cached[1].html_pieces, _values(recipient, html=True))

    def _build_fast(
        self,
        variant: Variant,
        recipient: Recipient,
        reply_to: ContactView | None,
        check: bool = True,
    ) -> bytes:
        key = (id(variant), bool(recipient.preferences_url))
        cached = self.shared.get(key)
        if cached is None:
            shared = self._prepare(variant, reply_to, key[1])
            self.shared[key] = (variant, shared)
            if len(self.shared) > KEEP_VARIANTS:
                self.shared.popitem(last=False)
        else:
            shared = cached[1]
            self.shared.move_to_end(key)
        check_header_value(recipient.name, "To")
        to = encode_address("To", recipient.name, recipient.email)
        unsubscribe = list_unsubscribe(recipient)
        if check:  # (the probes that compare the two constructions are not mail)
            check_recipient_headers(to, recipient.email, recipient.message_id, unsubscribe)
        text = encode_body(shared.text, _values(recipient, html=False))
        html = encode_body(shared.html, _values(recipient, html=True))
        calendar = b""
        if variant.embargo is not None:
            calendar = shared.calendar.get(recipient.date) or b""
            if not calendar:
                calendar = self._calendar(variant, recipient.date)
                shared.calendar[recipient.date] = calendar
        outer, inner = two_boundaries(recipient.message_id)
        from_header = self.from_headers.get((variant.from_name, variant.from_address))
        if from_header is None:
            from_header = (
                b"From: "
                + encode_address("From", variant.from_name, variant.from_address).encode()
                + b"\r\n"
            )
            self.from_headers[(variant.from_name, variant.from_address)] = from_header
        pieces = [
            from_header,
            b"To: ",
            to.encode("utf-8"),
            b"\r\n",
            shared.reply_to,
            shared.subject_header,
            b"Date: ",
            _date(recipient.date),
            b"\r\n",
            b"Message-ID: ",
            recipient.message_id.encode("ascii"),
            b"\r\n",
            b"List-Unsubscribe: ",
            unsubscribe.encode("ascii"),
            b"\r\n",
        ]
        if recipient.unsubscribe_url:
            pieces.append(b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n")
        pieces += [
            b"MIME-Version: 1.0\r\n",
            b'Content-Type: multipart/mixed; boundary="',
            outer,
            b'"\r\n',
            b"Content-Language: ",
            variant.language.encode("ascii"),
            b"\r\n",
            b"\r\n--",
            outer,
            b"\r\n",
            b'Content-Type: multipart/alternative; boundary="',
            inner,
            b'"\r\n\r\n',
            b"--",
            inner,
            b"\r\n",
            b'Content-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n',
            text,
            b"\r\n--",
            inner,
            b"\r\n",
            b'Content-Type: text/html; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n',
            html,
            b"\r\n--",
            inner,
            b"--\r\n\r\n",
            b"--",
            outer,
            b"\r\n",
            b'Content-Type: text/vcard; charset="utf-8"; name="contacts.vcf"\r\n'
            b"Content-Transfer-Encoding: quoted-printable\r\n"
            b'Content-Disposition: attachment; filename="contacts.vcf"\r\n\r\n',
            shared.vcard,
            b"\r\n",
        ]
        if calendar:
            pieces += [
                b"--",
                outer,
                b"\r\n",
                b'Content-Type: text/calendar; charset="utf-8"; method="PUBLISH";'
                b' name="embargo.ics"\r\n'
                b"Content-Transfer-Encoding: quoted-printable\r\n"
                b'Content-Disposition: attachment; filename="embargo.ics"\r\n\r\n',
                calendar,
                b"\r\n",
            ]
        pieces += [b"--", outer, b"--\r\n"]
        return b"".join(pieces)

    def _calendar(self, variant: Variant, stamp: dt.datetime) -> bytes:
        """The encoded calendar entry, made once for what it is made of (the variants of
        outlets in one zone and language share it)."""
        key = (
            variant.release_slug,
            variant.language,
            variant.title,
            variant.embargo,
            variant.embargo_sequence,
            variant.outlet_timezone,
            variant.from_address,
            stamp,
        )
        entry = self.calendars.get(key)
        if entry is None:
            embargo = self.renderer.render_embargo(variant)
            entry = qp(calendar_entry(as_read(variant), stamp, embargo))
            self.calendars[key] = entry
            if len(self.calendars) > KEEP_VARIANTS:
                self.calendars.popitem(last=False)
        return entry


class _NotFast(Exception):
    """The templates use per-recipient values in a way the fast path cannot reproduce."""


def _link(recipient: Recipient) -> str:
    return recipient.unsubscribe_url or recipient.unsubscribe_mailto


@functools.lru_cache(maxsize=64)
def _date(moment: dt.datetime) -> bytes:
    return format_datetime(moment.astimezone(dt.UTC)).encode("ascii")


def decoded_parts(data: bytes) -> list[tuple[object, ...]]:
    """What a mail program sees: headers that matter, and each part's type, parameters,
    disposition and decoded content. Equal lists mean equivalent messages."""
    msg = email.message_from_bytes(data, policy=policy.default)
    out: list[tuple[object, ...]] = [
        tuple(
            (name, str(msg[name]))
            for name in (
                "From",
                "To",
                "Reply-To",
                "Subject",
                "Date",
                "Message-ID",
                "List-Unsubscribe",
                "List-Unsubscribe-Post",
                "Content-Language",
            )
        ),
        tuple(sorted(h.lower() for h in msg)),
    ]
    for part in msg.walk():
        params = tuple(sorted((k, v) for k, v in part.get_params() or [] if k != "boundary"))
        content = None if part.is_multipart() else part.get_content()
        out.append(
            (
                part.get_content_type(),
                params,
                part.get_content_disposition(),
                part.get_filename(),
                content,
                tuple(part.defects),
            )
        )
    return out
