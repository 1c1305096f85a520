"""One message for one journalist: templates (Jinja2), Markdown, contact card, calendar entry and
MIME, from plain data in to bytes out.

Templates run with `StrictUndefined`, HTML ones autoescaped; data is passed as values and never
compiled, so a title containing `{{ 7*7 }}` prints as written. The Markdown body renders with
raw HTML off and links limited to http, https, mailto and tel.

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
from dataclasses import dataclass
from email import policy
from email.header import Header
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, getaddresses
from pathlib import Path

import jinja2
from markdown_it import MarkdownIt
from markupsafe import Markup

from civic_contacts.config import shipped_dir
from civic_contacts.embargo import EmbargoText, embargo_text
from civic_contacts.errors import InputError

POLICY = policy.SMTP.clone(cte_type="7bit", refold_source="none")
SAFE_SCHEMES = ("http:", "https:", "mailto:", "tel:")
_LINE_BREAKS = re.compile(r"[\r\n\x00\u2028\u2029\x85\x0b\x0c]")


@dataclass(frozen=True)
class PhoneView:
    """A number as a message shows it."""

    display: str
    tel: str
    whatsapp_url: str | None = None


@dataclass(frozen=True)
class ContactView:
    """A routed contact as a message shows it."""

    name: str
    role: str
    city: str
    email: str
    phones: tuple[PhoneView, ...] = ()


@dataclass(frozen=True)
class Variant:
    """Everything that is the same for every journalist who gets this message variant."""

    release_slug: str
    language: str
    title: str
    dateline: str
    body_markdown: str
    embargo: dt.datetime | None
    embargo_sequence: int
    outlet_name: str
    outlet_timezone: str
    contacts: tuple[ContactView, ...]
    vcard: str
    organisation: str
    from_name: str
    from_address: str
    test: bool = False

    @property
    def key(self) -> str:
        """A short stable id of this variant's content."""
        digest = hashlib.sha256(repr(self).encode("utf-8")).hexdigest()
        return digest[:12]


@dataclass(frozen=True)
class Recipient:
    """What differs per journalist."""

    name: str
    email: str
    message_id: str
    date: dt.datetime
    unsubscribe_mailto: str
    unsubscribe_url: str | None = None


@dataclass
class Parts:
    """The rendered pieces of one message."""

    subject: str
    text: str
    html: str
    vcard: str
    ics: str | None
    embargo: EmbargoText


def check_header_value(value: str, what: str) -> str:
    """A value that may reach a header: no line breaks or NUL, whatever the source."""
    if _LINE_BREAKS.search(value):
        raise InputError(
            f"{what} holds a line break or NUL, which could forge mail headers: {value[:60]!r}"
        )
    return value


def safe_link(url: str) -> bool:
    """Markdown links are kept only for http, https, mailto and tel."""
    return url.strip().lower().startswith(SAFE_SCHEMES)


@functools.cache
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.validateLink = safe_link  # type: ignore[method-assign]
    return md


@functools.lru_cache(maxsize=256)
def markdown_to_html(text: str) -> str:
    """Markdown body as HTML, raw HTML shown as text, unsafe links left as text."""
    return _markdown().render(text)


def _base_language(language: str) -> str:
    return language.split("-")[0].lower()


class Renderer:
    """Jinja2 templates: the user's folder first (if any), then the shipped ones."""

    def __init__(self, templates: Path | None = None) -> None:
        folders = []
        if templates is not None:
            if not templates.is_dir():
                raise InputError(f"{templates}: the templates folder does not exist")
            folders.append(str(templates))
        folders.append(str(shipped_dir("templates")))
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(folders),
            autoescape=jinja2.select_autoescape(
                enabled_extensions=("html",), default_for_string=False
            ),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
        )

    @functools.lru_cache(maxsize=64)  # noqa: B019  (one renderer per batch; bounded)
    def template(self, kind: str, language: str) -> jinja2.Template:
        """`subject`/`body` template for a language, English when there is none."""
        suffix = "html" if kind == "html" else "txt"
        stem = "body" if kind in ("html", "text") else kind
        for candidate in (language, _base_language(language), "en"):
            name = f"{stem}.{candidate}.{suffix}"
            try:
                return self.env.get_template(name)
            except jinja2.TemplateNotFound:
                continue
        raise InputError(f"no template {stem}.en.{suffix} in the templates folders")

    def render_embargo(self, variant: Variant) -> EmbargoText:
        """The embargo wording of a variant."""
        return embargo_text(variant.embargo, variant.language, variant.outlet_timezone)

    def render(self, variant: Variant, recipient: Recipient) -> Parts:
        """Subject, text, HTML, card and calendar entry of one message."""
        embargo = embargo_text(variant.embargo, variant.language, variant.outlet_timezone)
        unsubscribe = recipient.unsubscribe_url or recipient.unsubscribe_mailto
        context = {
            "language": variant.language,
            "title": variant.title,
            "dateline": variant.dateline,
            "embargo": embargo,
            "recipient_name": recipient.name,
            "outlet_name": variant.outlet_name,
            "organisation": variant.organisation,
            "contacts": variant.contacts,
            "body_text": variant.body_markdown.strip(),
            "body_html": Markup(markdown_to_html(variant.body_markdown)),
            "unsubscribe_link": unsubscribe,
        }
        try:
            subject = self.template("subject", variant.language).render(context).strip()
            text = self.template("text", variant.language).render(context)
            html = self.template("html", variant.language).render(context)
        except jinja2.TemplateError as exc:
            raise InputError(f"template error: {exc}") from None
        subject = " ".join(subject.split())
        if variant.test:
            subject = f"[TEST] {subject}"
        ics = calendar_entry(variant, recipient.date, embargo) if embargo.embargoed else None
        return Parts(subject, text, html, variant.vcard, ics, embargo)


def domain_of(address: str) -> str:
    """The domain of an address, for Message-IDs and calendar UIDs."""
    return address.rsplit("@", 1)[-1].lower()


def calendar_entry(variant: Variant, stamp: dt.datetime, embargo: EmbargoText) -> str:
    """An iCalendar PUBLISH entry at the embargo lift (same UID when the embargo moves)."""
    import icalendar  # only batches with an embargo need it

    assert variant.embargo is not None
    cal = icalendar.Calendar()
    cal.add("prodid", "-//civic-contacts//embargo//EN")
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    event = icalendar.Event()
    event.add("uid", f"embargo-{variant.release_slug}@{domain_of(variant.from_address)}")
    event.add("dtstamp", stamp.astimezone(dt.UTC))
    event.add("dtstart", variant.embargo.astimezone(dt.UTC))
    event.add("dtend", variant.embargo.astimezone(dt.UTC) + dt.timedelta(minutes=30))
    event.add("sequence", variant.embargo_sequence)
    event.add("transp", "TRANSPARENT")
    event.add("summary", f"{embargo.summary}: {variant.title}")
    event.add("description", f"{embargo.label}\n{variant.title}")
    cal.add_component(event)
    return cal.to_ical().decode("utf-8")


def encode_unstructured(name: str, value: str) -> str:
    """A header value, RFC 2047-encoded when it is not plain ASCII, folded under 78 columns.

    Text that merely looks like an encoded-word ("=?utf-8?q?Hi=0ABcc:...?=") is encoded too,
    so no reader can decode it into a line break (CVE-2024-6923 in Python before 3.11.10).
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
    """The List-Unsubscribe value: the mailto and, when configured, the https link."""
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
    msg.set_raw("List-Unsubscribe", list_unsubscribe(recipient))
    if recipient.unsubscribe_url:
        msg.set_raw("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
    msg.set_content(parts.text)
    msg.add_alternative(parts.html, subtype="html")
    msg.add_attachment(parts.vcard, subtype="vcard", filename="contacts.vcf")
    if parts.ics is not None:
        msg.add_attachment(
            parts.ics, subtype="calendar", filename="embargo.ics", params={"method": "PUBLISH"}
        )
    set_boundaries(msg, recipient.message_id)
    # After the parts: set_content() drops any Content-* header set before it.
    msg.set_raw("Content-Language", check_header_value(variant.language, "Content-Language"))
    return msg.as_bytes(policy=POLICY)


ALLOWED_HEADERS = {
    "from",
    "to",
    "reply-to",
    "subject",
    "date",
    "message-id",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "mime-version",
    "content-type",
    "content-language",
    "dkim-signature",
}


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
    head = data.split(b"\r\n\r\n", 1)[0].decode("ascii", "replace")
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
    single = _ONE_MAILBOX.fullmatch(seen["to"])
    if single is not None:
        address = single.group(1) or single.group(2)
    else:
        addresses = getaddresses([seen["to"]])
        address = addresses[0][1] if len(addresses) == 1 else ""
    if address.lower() != recipient.lower():
        raise InputError(
            f"refusing a message to {recipient}: To must name exactly that one recipient"
        )


def boundary_for(message_id: str, index: int) -> str:
    """A boundary that is the same on every build of a message, so equal content hashes equal.

    It starts with "=_", which quoted-printable and base64 bodies can never contain.
    """
    digest = hashlib.sha256(message_id.encode("utf-8")).hexdigest()[:24]
    return f"=_cc{index}_{digest}"


def set_boundaries(msg: EmailMessage, message_id: str) -> None:
    """Give every multipart of the message its stable boundary."""
    for index, part in enumerate(p for p in msg.walk() if p.is_multipart()):
        part.set_boundary(boundary_for(message_id, index))
