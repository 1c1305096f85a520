"""The fast message builder against the reference stdlib construction, on varied data."""

from __future__ import annotations

import binascii
import datetime as dt
import email
from email import policy
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape

from civic_contacts.compose.assemble import Assembler, _qp_line, decoded_parts
from civic_contacts.compose.mime import build_message
from civic_contacts.compose.templates import Recipient, Renderer
from tests.compose.test_mime import CONTACT, RECIPIENT, variant

LONG = ("Une très longue ligne sans retour " * 20).strip()
NAMES = [
    "Zeinabou Hamani",
    "Aïssata Traoré-Ndiaye",
    "O'Brien & <Sons>",
    "Łukasz Żółć",
    "محمد",
    "a" * 150,
    "Ndèye Fatou Diop",
    "{{ 7*7 }}",
]


def same(assembler: Assembler, v, r: Recipient) -> bool:
    fast, _subject = assembler.build(v, r, CONTACT)
    reference = build_message(v, r, assembler.renderer.render(v, r), CONTACT)
    return decoded_parts(fast) == decoded_parts(reference)


def test_fast_path_is_used_and_equal_for_both_languages() -> None:
    """English and French variants go through the fast path, and match the reference; a
    title French typography changes (it is in the calendar entry too) included."""
    assembler = Assembler(Renderer())
    for language in ("fr", "en"):
        v = variant(
            language=language,
            title='Sahel: "protéger les civils" maintenant!',
            body_markdown=f"{LONG}\n\n- point\n- **gras** é\n",
        )
        for name in NAMES:
            recipient = Recipient(
                name,
                "x@example.com",
                "<m.1@example.org>",
                RECIPIENT.date,
                "mailto:unsubscribe@example.org?subject=unsubscribe%20abc",
            )
            assert same(assembler, v, recipient), (language, name)
        assert assembler.fast_languages[language] is True


def test_the_preference_link_is_spliced_per_recipient_and_equals_the_reference() -> None:
    """Messages with a preference page link (and, in the same batch or another, without)
    take the fast path and equal the fully rendered ones; each carries its own link."""
    assembler = Assembler(Renderer())
    for language in ("fr", "en"):
        v = variant(language=language, body_markdown=LONG + "\n")
        links = []
        for n, name in enumerate(NAMES):
            prefs = f"https://press.example.org/preferences?token=t{n}&amp;x=<{n}>&lang={language}"
            recipient = Recipient(
                name,
                f"x{n}@example.com",
                f"<m.{n}@example.org>",
                RECIPIENT.date,
                f"mailto:press@example.org?subject=unsubscribe%20t{n}",
                f"https://press.example.org/unsubscribe?token=t{n}",
                preferences_url=prefs,
            )
            assert same(assembler, v, recipient), (language, name)
            data, _ = assembler.build(v, recipient, CONTACT)
            msg = email.message_from_bytes(data, policy=policy.default)
            text = msg.get_body(("plain",)).get_content()
            html = msg.get_body(("html",)).get_content()
            assert prefs in text and escape(prefs) in html
            links.append(prefs)
        without = Recipient("A B", "y@example.com", "<m.y@example.org>", RECIPIENT.date, "mailto:u")
        assert same(assembler, v, without)
        data, _ = assembler.build(v, without, CONTACT)
        assert b"preferences" not in data
        assert assembler.fast_languages[language] is True


def test_fast_messages_parse_without_defects_and_keep_lines_short() -> None:
    """A fast-built message parses cleanly, with every line within 998 and headers within 78."""
    assembler = Assembler(Renderer())
    data, _ = assembler.build(variant(body_markdown=LONG + "\n"), RECIPIENT, CONTACT)
    msg = email.message_from_bytes(data, policy=policy.default)
    assert all(not part.defects for part in msg.walk())
    header = data.split(b"\r\n\r\n", 1)[0]
    assert max(len(line) for line in header.split(b"\r\n")) <= 78
    assert max(len(line) for line in data.split(b"\r\n")) <= 998
    assert b"\n" not in data.replace(b"\r\n", b""), "a bare LF"


def test_immediate_release_has_no_calendar_in_either_path() -> None:
    """Without an embargo both paths leave the calendar out."""
    assembler = Assembler(Renderer())
    assert same(assembler, variant(embargo=None), RECIPIENT)


def test_unusual_templates_fall_back_to_the_reference(tmp_path: Path) -> None:
    """A template that transforms the name is detected, and the reference path is used."""
    (tmp_path / "body.en.txt").write_text(
        "Hello {{ recipient_name|upper }}\n{{ body_text }}\n", encoding="utf-8"
    )
    assembler = Assembler(Renderer(tmp_path))
    v = variant(language="en")
    assert same(assembler, v, RECIPIENT)
    assert assembler.fast_languages["en"] is False
    data, _ = assembler.build(v, RECIPIENT, CONTACT)
    assert (
        "Hello ZEINABOU HAMANI"
        in email.message_from_bytes(data, policy=policy.default).get_body(("plain",)).get_content()
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.text(
        alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")),
        min_size=1,
        max_size=60,
    ),
    body=st.text(
        alphabet=st.characters(
            blacklist_categories=("Cs",),
            blacklist_characters="\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029",
        ),
        min_size=1,
        max_size=300,
    ),
    language=st.sampled_from(["en", "fr"]),
    days=st.integers(min_value=0, max_value=3),
)
@pytest.mark.slow
def test_fast_equals_reference_on_random_data(
    name: str, body: str, language: str, days: int
) -> None:
    """On arbitrary names and bodies the fast path's decoded parts equal the reference's."""
    assembler = Assembler(Renderer())
    v = variant(language=language, body_markdown=body, title=f"Titre {body[:40]}".strip() or "T")
    recipient = Recipient(
        name.strip() or "X",
        "x@example.com",
        "<m.2@example.org>",
        dt.datetime(2022, 6, 20, tzinfo=dt.UTC) + dt.timedelta(days=days),
        "mailto:unsubscribe@example.org?subject=unsubscribe",
    )
    try:
        result = same(assembler, v, recipient)
    except Exception as exc:  # our own refusal of a header-breaking value is fine
        from civic_contacts.errors import CivicContactsError

        assert isinstance(exc, CivicContactsError)
        return
    assert result


def test_the_fast_path_checks_every_recipients_header_values() -> None:
    """The whole header block is checked on a variant's first message; after it, a value
    that differs per recipient and would forge a header is still refused."""
    from civic_contacts.errors import InputError

    assembler = Assembler(Renderer())
    v = variant(language="en")
    assembler.build(v, RECIPIENT, CONTACT)
    forged = Recipient(
        "A B",
        "a@example.com",
        "<m.1@example.org>\r\nBcc: all@example.net",
        RECIPIENT.date,
        "mailto:press@example.org?subject=u",
    )
    with pytest.raises(InputError, match="Message-ID"):
        assembler.build(v, forged, CONTACT)
    two_mailtos = Recipient(
        "A B",
        "a@example.com",
        "<m.2@example.org>",
        RECIPIENT.date,
        "mailto:press@example.org?subject=u",
        unsubscribe_url="mailto:other@example.net",
    )
    with pytest.raises(InputError, match="List-Unsubscribe"):
        assembler.build(v, two_mailtos, CONTACT)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab .=\t-_é\x7f\x01~Z0,"), max_size=160))
def test_a_plain_line_skips_the_encoder_and_comes_out_as_binascii_encodes_it(line: str) -> None:
    """The shortcut for lines quoted-printable leaves alone (a greeting with a plain name)
    gives exactly what `binascii.b2a_qp` gives, for lines of any length and character."""
    reference = binascii.b2a_qp(line.encode("utf-8"), quotetabs=False, istext=True, header=False)
    assert _qp_line(line) == reference.replace(b"\n", b"\r\n") + b"\r\n"


@given(st.text(min_size=1, max_size=80))
def test_two_boundaries_are_the_two_made_one_by_one(message_id: str) -> None:
    """The assembly's two boundaries, from one digest, are those the reference gives each part."""
    from civic_contacts.compose.mime import boundary_for, two_boundaries

    outer, inner = two_boundaries(message_id)
    assert outer.decode() == boundary_for(message_id, 0)
    assert inner.decode() == boundary_for(message_id, 1)
