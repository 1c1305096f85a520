"""Rendering one message variant: Jinja2 templates, the Markdown body and the calendar entry,
from plain data in to text out (subject, plain text, HTML, card and calendar entry).

Templates run with `StrictUndefined`, HTML ones autoescaped; data is passed as values and never
compiled, so a title containing `{{ 7*7 }}` prints as written. The Markdown body renders with
raw HTML off and links limited to http, https, mailto and tel. Assembling these into MIME is
`mime.py`'s job.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
import textwrap
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from civic_contacts.compose.typography import french, is_french
from civic_contacts.config import shipped_dir
from civic_contacts.errors import InputError
from civic_contacts.registry.addresses import domain_of
from civic_contacts.releases.embargo import EmbargoText, embargo_text

if TYPE_CHECKING:
    import jinja2
    from markdown_it import MarkdownIt

SAFE_SCHEMES = ("http:", "https:", "mailto:", "tel:")


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
class NoticeContext:
    """What a follow-up notice says beyond the release itself (see `notices.py`)."""

    kind: str  # moved, cancelled, correction, reminder, lifted
    lift: dt.datetime | None  # the lift now
    previous_lift: dt.datetime | None  # the lift this journalist was last told
    moment: dt.datetime  # when it is rendered (a reminder counts down from it)
    link: str | None = None  # where the release is public, for `lifted`
    title_changed: bool = False
    dateline_changed: bool = False
    # (changed|added|removed, paragraph, text, the text before, the words changed)
    changes: tuple[tuple[str, int, str, str, tuple[tuple[str, str], ...]], ...] = ()


MARKS_SHOWN = 3  # word changes named in the summary of one changed paragraph

# The calendar METHOD a notice's entry carries: moved updates the event, cancelled removes it.
NOTICE_CALENDAR = {"moved": "REQUEST", "cancelled": "CANCEL"}


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
    notice: NoticeContext | None = None

    @functools.cached_property
    def contact_names(self) -> tuple[str, ...]:
        """The names of its contacts, in order (shared by every message of the variant)."""
        return tuple(c.name for c in self.contacts)

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
    in_reply_to: str | None = None  # the original's Message-ID, for a notice
    # The journalist's preference page (on the unsubscribe server), when it is served.
    preferences_url: str | None = None


@dataclass
class Parts:
    """The rendered pieces of one message."""

    subject: str
    text: str
    html: str
    vcard: str
    ics: str | None
    embargo: EmbargoText
    ics_method: str = "PUBLISH"


def safe_link(url: str) -> bool:
    """Markdown links are kept only for http, https, mailto and tel."""
    return url.strip().lower().startswith(SAFE_SCHEMES)


@functools.cache
def _markdown() -> MarkdownIt:
    from markdown_it import MarkdownIt  # imported when first needed, as jinja2 is

    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.validateLink = safe_link  # type: ignore[method-assign]
    return md


@functools.lru_cache(maxsize=256)
def markdown_to_html(text: str) -> str:
    """Markdown body as HTML, raw HTML shown as text, unsafe links left as text."""
    return _markdown().render(text)


TEXT_WIDTH = 76  # plain-text lines are wrapped here (RFC 5322 asks for 78 at most)


@functools.lru_cache(maxsize=256)
def markdown_to_text(text: str, width: int = TEXT_WIDTH) -> str:
    """Markdown body as readable plain text: no Markdown syntax left, headings underlined,
    lists with dashes or numbers, links as `text <url>`, paragraphs wrapped at `width`
    (a URL or any word longer than a line stays whole)."""
    return "\n\n".join(_text_blocks(_markdown().parse(text), width)).strip()


def _text_blocks(tokens: list[Any], width: int) -> list[str]:
    # (text, the outermost tight list it is a line of, if any)
    blocks: list[tuple[str, int | None]] = []
    lists = 0  # outermost lists seen so far
    prefixes: list[str] = []  # the markers of the lists and quotes around the current block
    numbers: list[int | None] = []  # per open list: the next number, None for bullets
    fresh: list[bool] = []  # per open list item: whether its marker is still to be written
    heading = ""
    tight = False

    def emit(text: str, underline: str = "") -> None:
        rest = "".join("> " if p == "> " else " " * len(p) for p in prefixes)
        lead = rest
        if fresh and fresh[-1]:  # an item's first line: its marker, under its parents' indent
            lead = rest[: len(rest) - len(prefixes[-1])] + prefixes[-1]
        if fresh:
            fresh[-1] = False
        lines: list[str] = []
        for hard_line in text.split("\n"):
            lines.extend(
                textwrap.wrap(
                    hard_line,
                    width=max(20, width - len(rest)),
                    break_long_words=False,
                    break_on_hyphens=False,
                )
                or [""]
            )
        out = [(lead if i == 0 else rest) + line for i, line in enumerate(lines)]
        if underline:
            out.append(underline * max(len(line) for line in lines))
        blocks.append(("\n".join(out), lists if tight else None))

    for token in tokens:
        kind = token.type
        if kind == "heading_open":
            heading = "=" if token.tag == "h1" else "-"
        elif kind == "paragraph_open":
            tight = bool(token.hidden)  # paragraphs of a tight list are hidden
        elif kind == "inline":
            content = _inline_text(token.children or [])
            if heading:
                emit(content.upper() if heading == "=" else content, heading)
                heading = ""
            else:
                emit(content)
            tight = False
        elif kind in ("bullet_list_open", "ordered_list_open"):
            start = token.attrGet("start") if kind == "ordered_list_open" else None
            if not numbers:
                lists += 1
            numbers.append(None if kind == "bullet_list_open" else int(start or 1))
        elif kind in ("bullet_list_close", "ordered_list_close"):
            numbers.pop()
        elif kind == "list_item_open":
            number = numbers[-1] if numbers else None
            prefixes.append("- " if number is None else f"{number}. ")
            if number is not None:
                numbers[-1] = number + 1
            fresh.append(True)
        elif kind == "list_item_close":
            prefixes.pop()
            fresh.pop()
        elif kind == "blockquote_open":
            prefixes.append("> ")
        elif kind == "blockquote_close":
            prefixes.pop()
        elif kind in ("fence", "code_block"):
            lead = "".join(prefixes)
            code = token.content.rstrip("\n").split("\n")
            blocks.append(("\n".join(lead + "    " + line for line in code), None))
        elif kind == "hr":
            blocks.append(("".join(prefixes) + "-" * 20, None))
    # The lines of a tight list follow one another; other blocks are a blank line apart.
    joined: list[str] = []
    previous: int | None = None
    for text, in_list in blocks:
        if joined and in_list is not None and in_list == previous:
            joined[-1] += "\n" + text
        else:
            joined.append(text)
        previous = in_list
    return joined


def _inline_text(children: list[Any]) -> str:
    out: list[str] = []
    links: list[str] = []
    starts: list[int] = []
    for child in children:
        kind = child.type
        if kind in ("text", "code_inline", "html_inline"):
            out.append(child.content)
        elif kind == "softbreak":
            out.append(" ")
        elif kind == "hardbreak":
            out.append("\n")
        elif kind == "link_open":
            links.append(str(child.attrGet("href") or ""))
            starts.append(len(out))
        elif kind == "link_close" and links:
            href, start = links.pop(), starts.pop()
            label = "".join(out[start:])
            target = href[len("mailto:") :] if href.startswith("mailto:") else href
            if target and target != label:
                out.append(f" <{target}>")
        elif kind == "image":
            out.append(child.content or "")
    return "".join(out)


_SUBJECT_SPACE = re.compile(r"[ \t\r\n]+")


def _base_language(language: str) -> str:
    return language.split("-")[0].lower()


TEMPLATE_FILES = {
    "subject": ("subject", "txt"),
    "text": ("body", "txt"),
    "html": ("body", "html"),
    "notice-subject": ("notice-subject", "txt"),
    "notice-text": ("notice", "txt"),
    "notice-html": ("notice", "html"),
}


class Renderer:
    """Jinja2 templates: the user's folder first (if any), then the shipped ones."""

    def __init__(self, templates: Path | None = None) -> None:
        self.templates = templates
        folders = []
        if templates is not None:
            if not templates.is_dir():
                raise InputError(f"{templates}: the templates folder does not exist")
            folders.append(str(templates))
        folders.append(str(shipped_dir("templates")))
        # Imported here: a send that reads its built outbox never renders anything.
        import jinja2

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
        """The template of one part (`subject`, `text`, `html`, and `notice-subject`,
        `notice-text`, `notice-html`) for a language, English when there is none."""
        import jinja2

        stem, suffix = TEMPLATE_FILES[kind]
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

    def render(self, variant: Variant, recipient: Recipient, calendar: bool = True) -> Parts:
        """Subject, text, HTML, card and calendar entry of one message (no calendar entry
        when not `calendar`: the fast assembly makes its own, once per zone)."""
        variant = as_read(variant)
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
            "body_text": markdown_to_text(variant.body_markdown),
            "body_html": Markup(markdown_to_html(variant.body_markdown)),
            "unsubscribe_link": unsubscribe,
            "preferences_link": recipient.preferences_url or "",
        }
        import jinja2

        prefix = ""
        if variant.notice is not None:
            context["notice"] = notice_context(
                variant.notice, variant.language, variant.outlet_timezone
            )
            prefix = "notice-"
        try:
            subject = self.template(prefix + "subject", variant.language).render(context).strip()
            text = self.template(prefix + "text", variant.language).render(context)
            html = self.template(prefix + "html", variant.language).render(context)
        except jinja2.TemplateSyntaxError as exc:
            raise InputError(
                f"template error in {exc.filename or exc.name}, line {exc.lineno}: {exc.message}"
            ) from None
        except jinja2.TemplateError as exc:
            raise InputError(f"template error: {exc}") from None
        subject = _SUBJECT_SPACE.sub(" ", subject).strip()  # no-break spaces stay
        if variant.test:
            subject = f"[TEST] {subject}"
        method = "PUBLISH"
        if variant.notice is not None:
            method = NOTICE_CALENDAR.get(variant.notice.kind, "")
        ics = (
            calendar_entry(variant, recipient.date, embargo, method)
            if calendar and embargo.embargoed and method
            else None
        )
        return Parts(subject, text, html, variant.vcard, ics, embargo, method or "PUBLISH")


def as_read(variant: Variant) -> Variant:
    """The variant's texts as its reader sees them: typeset in French for a French reader.
    Everything a message is made of (parts, calendar entry) is made from this."""
    return typeset_french(variant) if is_french(variant.language) else variant


def typeset_french(variant: Variant) -> Variant:
    """A French variant's own texts with French spacing and quotes (see `typography.py`);
    the templates' wording is written that way already."""
    notice = variant.notice
    if notice is not None and notice.changes:
        notice = replace(
            notice,
            changes=tuple(
                (
                    kind,
                    n,
                    french(text),
                    french(old),
                    tuple((french(a), french(b)) for a, b in marks),
                )
                for kind, n, text, old, marks in notice.changes
            ),
        )
    return replace(
        variant,
        title=french(variant.title),
        dateline=french(variant.dateline),
        body_markdown=french(variant.body_markdown),
        contacts=tuple(replace(c, role=french(c.role)) for c in variant.contacts),
        notice=notice,
    )


def notice_context(notice: NoticeContext, language: str, zone: str) -> dict[str, object]:
    """What the notice templates get as `notice`: the kind, the lift now and before in the
    reader's language and zone, a countdown, the link and what changed."""
    from babel.dates import format_timedelta

    lift = embargo_text(notice.lift, language, zone)
    previous = embargo_text(notice.previous_lift, language, zone)
    countdown = ""
    if notice.lift is not None and notice.lift > notice.moment:
        countdown = format_timedelta(
            notice.lift - notice.moment,
            add_direction=True,
            threshold=1.5,
            locale=_base_language(language) if _base_language(language) in ("en", "fr") else "en",
        )
    later = (
        notice.lift is not None
        and notice.previous_lift is not None
        and notice.lift > notice.previous_lift
    )
    return {
        "kind": notice.kind,
        "lift": lift,
        "previous": previous,
        "had_embargo": notice.previous_lift is not None,
        "later": later,
        "countdown": countdown,
        "link": notice.link or "",
        "title_changed": notice.title_changed,
        "dateline_changed": notice.dateline_changed,
        "changes": [
            {
                "kind": kind,
                "number": number,
                "text": text,
                "old": old,
                "marks": [{"before": a, "after": b} for a, b in marks[:MARKS_SHOWN]],
                "more_marks": len(marks) > MARKS_SHOWN,
            }
            for kind, number, text, old, marks in notice.changes
        ],
    }


def calendar_entry(
    variant: Variant, stamp: dt.datetime, embargo: EmbargoText, method: str = "PUBLISH"
) -> str:
    """An iCalendar entry at the embargo lift: PUBLISH with the release, REQUEST when the
    embargo moves (same UID, higher SEQUENCE, so calendars move the event), CANCEL when the
    release is withdrawn."""
    import icalendar  # only batches with an embargo need it

    assert variant.embargo is not None
    cal = icalendar.Calendar()
    cal.add("prodid", "-//civic-contacts//embargo//EN")
    cal.add("version", "2.0")
    cal.add("method", method)
    event = icalendar.Event()
    event.add("uid", f"embargo-{variant.release_slug}@{domain_of(variant.from_address)}")
    event.add("dtstamp", stamp.astimezone(dt.UTC))
    event.add("dtstart", variant.embargo.astimezone(dt.UTC))
    event.add("dtend", variant.embargo.astimezone(dt.UTC) + dt.timedelta(minutes=30))
    event.add("sequence", variant.embargo_sequence)
    event.add("transp", "TRANSPARENT")
    # French typography in the calendar as in the message: "Levée de l’embargo : …".
    summary = f"{embargo.summary}: {variant.title}"
    event.add("summary", french(summary) if is_french(variant.language) else summary)
    # The lift in the outlet's own time as well as GMT (the banner carries both).
    event.add("description", f"{embargo.banner}\n{variant.title}")
    if method != "PUBLISH":
        # RFC 5546: a REQUEST or CANCEL names its organizer.
        organizer = icalendar.vCalAddress(f"mailto:{variant.from_address}")
        organizer.params["cn"] = icalendar.vText(variant.from_name)
        event.add("organizer", organizer)
    if method == "CANCEL":
        event.add("status", "CANCELLED")
    cal.add_component(event)
    return cal.to_ical().decode("utf-8")
