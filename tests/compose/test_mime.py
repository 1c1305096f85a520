"""MIME details the standard library of this Python gets wrong unless told, and Markdown safety."""

from __future__ import annotations

import datetime as dt
import email
from email import policy

import icalendar

from civic_contacts.compose.mime import build_message, encode_unstructured
from civic_contacts.compose.templates import (
    ContactView,
    PhoneView,
    Recipient,
    Renderer,
    Variant,
    markdown_to_html,
    markdown_to_text,
)
from civic_contacts.deliver.recipients import message_id

EMBARGO = dt.datetime(2022, 6, 22, 0, 1, tzinfo=dt.UTC)
CONTACT = ContactView(
    "Mariam Diallo",
    "Chargée de presse",
    "Niamey",
    "mdiallo@example.org",
    (PhoneView("+227 93 12 34 56", "tel:+227-93-12-34-56", "https://wa.me/22793123456"),),
)


def variant(**changes: object) -> Variant:
    values: dict[str, object] = dict(
        release_slug="r",
        language="fr",
        title="Été",
        dateline="",
        body_markdown="Ça va.\n",
        embargo=EMBARGO,
        embargo_sequence=0,
        outlet_name="Le Courrier",
        outlet_timezone="Africa/Niamey",
        contacts=(CONTACT,),
        vcard="BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Mariam Diallo\r\nEND:VCARD\r\n",
        organisation="Press Office",
        from_name="Press Office",
        from_address="press@example.org",
    )
    values.update(changes)
    return Variant(**values)  # type: ignore[arg-type]


RECIPIENT = Recipient(
    "Zeinabou Hamani",
    "zeinabou.hamani@example.com",
    message_id("r", "z@example.com", "example.org"),
    EMBARGO - dt.timedelta(days=1),
    "mailto:unsubscribe@example.org?subject=unsubscribe",
)


def build(v: Variant, r: Recipient = RECIPIENT) -> bytes:
    parts = Renderer().render(v, r)
    return build_message(v, r, parts, CONTACT)


def test_short_accented_bodies_are_never_8bit() -> None:
    """Every part is 7bit ASCII, quoted-printable or base64, even a three-word accented body."""
    data = build(variant())
    assert all(byte < 128 for byte in data)
    msg = email.message_from_bytes(data, policy=policy.default)
    for p in msg.walk():
        if not p.is_multipart():
            assert p["Content-Transfer-Encoding"] in ("quoted-printable", "base64", "7bit")


def test_message_id_names_our_domain_not_localhost() -> None:
    """Message-IDs carry the press office's domain."""
    assert message_id("r", "a@example.com", "example.org").endswith("@example.org>")
    assert b"@localhost" not in build(variant())


def test_long_french_subject_with_em_dash_has_no_empty_encoded_word() -> None:
    """The subject that trips the stdlib folder is encoded without an empty encoded-word."""
    subject = "SOUS EMBARGO jusqu'au mercredi 22 juin 2022, 00h01 GMT — Rapport"
    encoded = encode_unstructured("Subject", subject)
    assert "=?utf-8?q??=" not in encoded
    title = "Rapport — la protection des civils au Sahel central, où la violence franchit les frontières"
    data = build(variant(title=title))
    assert b"=?utf-8?q??=" not in data
    msg = email.message_from_bytes(data, policy=policy.default)
    assert (
        msg["Subject"]
        == f"SOUS EMBARGO JUSQU'AU mercredi 22 juin 2022 à 00 h 01 GMT\u00a0: {title}"
    )


def test_calendar_part_keeps_its_charset_and_method() -> None:
    """The text/calendar part says charset=utf-8 and method=PUBLISH."""
    msg = email.message_from_bytes(build(variant()), policy=policy.default)
    cal = next(p for p in msg.walk() if p.get_content_type() == "text/calendar")
    assert cal.get_param("charset") == "utf-8" and cal.get_param("method") == "PUBLISH"
    event = icalendar.Calendar.from_ical(cal.get_content()).walk("VEVENT")[0]
    # French typography, as in the message: a no-break space before the colon, a typographic
    # apostrophe.
    assert str(event["SUMMARY"]) == "Levée de l’embargo\u00a0: Été"


def test_calendar_keeps_uid_and_raises_sequence_when_embargo_moves() -> None:
    """A moved embargo gives the same UID with a higher SEQUENCE."""

    def event(v: Variant) -> icalendar.Event:
        msg = email.message_from_bytes(build(v), policy=policy.default)
        cal = next(p for p in msg.walk() if p.get_content_type() == "text/calendar")
        return icalendar.Calendar.from_ical(cal.get_content()).walk("VEVENT")[0]

    first = event(variant())
    moved = event(variant(embargo=EMBARGO + dt.timedelta(days=1), embargo_sequence=1))
    assert first["UID"] == moved["UID"]
    assert (int(first["SEQUENCE"]), int(moved["SEQUENCE"])) == (0, 1)


def test_same_input_same_bytes() -> None:
    """A message is built identically twice (boundaries included), so its hash is stable."""
    assert build(variant()) == build(variant())


def test_markdown_raw_html_off_and_safe_links() -> None:
    """Raw HTML shows as text; only http, https, mailto and tel links are links."""
    html = markdown_to_html(
        "<script>x</script> [a](https://example.org) [b](javascript:alert(1)) [c](mailto:a@example.org)"
        " [d](tel:+22793123456) [e](data:text/html,x)"
    )
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="https://example.org"' in html and 'href="mailto:a@example.org"' in html
    assert 'href="tel:+22793123456"' in html
    assert "javascript:" not in html.split("[b]")[0] and 'href="javascript' not in html
    assert 'href="data:' not in html


def test_no_tracking_pixels() -> None:
    """The HTML part loads nothing from the network."""
    msg = email.message_from_bytes(build(variant()), policy=policy.default)
    html = next(p for p in msg.walk() if p.get_content_type() == "text/html").get_content()
    assert "<img" not in html and "src=" not in html


def test_markdown_becomes_readable_plain_text() -> None:
    """Headings underlined, emphasis unmarked, lists with dashes and numbers (nested ones
    indented), links as `text <url>`, quotes kept, paragraphs wrapped at 76, URLs whole."""
    long_url = "https://example.org/reports/2026/" + "a" * 80
    text = markdown_to_text(
        "# Civilians caught in fighting\n\n## What we saw\n\n"
        "Our teams in **Niamey** and *Bamako* report that more than 12,000 people have fled"
        " their homes since the start of the month, many of them women and children.\n\n"
        "- Water points destroyed\n- Two clinics closed\n  1. one in Ménaka\n  2. one in Ansongo\n\n"
        '> "We need safe access now," said a nurse.\n\n'
        f"Read the [full report](https://example.org/r) or {long_url} or <press@example.org>."
    )
    lines = text.splitlines()
    assert lines[:2] == ["CIVILIANS CAUGHT IN FIGHTING", "=" * 28]
    assert lines[3:5] == ["What we saw", "-----------"]
    assert "**" not in text and "*Bamako*" not in text and "Niamey and Bamako" in text
    assert "- Water points destroyed\n- Two clinics closed\n  1. one in Ménaka\n  2. one" in text
    assert '> "We need safe access now," said a nurse.' in text
    assert "full report <https://example.org/r>" in text
    assert "press@example.org." in text and "mailto:" not in text
    assert long_url in lines  # a word longer than a line stays whole, on a line of its own
    assert all(len(line) <= 76 for line in lines if line != long_url)
    # French spacing survives, and a loose list keeps its items a paragraph apart.
    assert markdown_to_text("1. un\n\n2. deux") == "1. un\n\n2. deux"


def test_the_date_is_the_moment_of_sending_in_utc() -> None:
    """stamp_date replaces the built Date with the instant given (in UTC, to the second),
    whatever zone the instant comes in, and leaves every other byte as it was."""
    from civic_contacts.compose.mime import stamp_date

    built = (
        b"From: a@example.org\r\nDate: Mon, 30 Nov 2026 08:00:00 +0000\r\nSubject: x\r\n\r\nbody"
    )
    niamey = dt.timezone(dt.timedelta(hours=1))
    moment = dt.datetime(2026, 12, 1, 10, 30, 15, 700_000, tzinfo=niamey)
    stamped = stamp_date(built, moment)
    assert stamped == built.replace(
        b"Mon, 30 Nov 2026 08:00:00 +0000", b"Tue, 01 Dec 2026 09:30:15 +0000"
    )
    later = stamp_date(built, moment + dt.timedelta(seconds=1))
    assert b"Date: Tue, 01 Dec 2026 09:30:16 +0000\r\n" in later
