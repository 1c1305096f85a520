"""Reading numbers as people type them: labels, prefixes, placeholders, several per field."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civic_contacts.errors import CivicContactsError, InvalidPhone
from civic_contacts.registry.phones import (
    format_international,
    parse_phone,
    parse_phones,
    tel_uri,
    whatsapp_url,
)


def e164s(text: str, region: str | None = None) -> list[tuple[str | None, bool]]:
    return [(p.e164, p.whatsapp) for p in parse_phones(text, region)]


def test_issue_example_two_numbers_one_whatsapp() -> None:
    """The label after the second number belongs to it alone."""
    found = parse_phones("+33.6.03.50.53.93/ +1.917.889.5982 (WhatsApp)", "NL")
    assert [(p.e164, p.whatsapp, p.whatsapp_url) for p in found] == [
        ("+33603505393", False, None),
        ("+19178895982", True, "https://wa.me/19178895982"),
    ]


def test_a_label_between_two_numbers_ends_the_first_and_names_the_second() -> None:
    """Real Italian and Dutch blocks write "tel. 06-4490224 - cell. 348-6974361": two numbers
    (not one of 17 digits), "cell." the second's; a label in brackets stays the one before."""
    found = parse_phones("tel. 06-4490224 - cell. 348-6974361,", "IT")
    assert [(p.e164, p.labels) for p in found] == [
        ("+39064490224", []),
        ("+393486974361", ["mobile"]),
    ]
    found = parse_phones("Tel. +31 70 123 4567 Mob. +31 6 12345678")
    assert [(p.e164, p.labels) for p in found] == [
        ("+31701234567", []),
        ("+31612345678", ["mobile"]),
    ]
    assert e164s("+31 70 123 4567 (WhatsApp) +31 6 12345678") == [
        ("+31701234567", True),
        ("+31612345678", False),
    ]


def test_label_is_taken_off_before_parsing() -> None:
    """ "(WhatsApp)" is not read as keypad digits that would make the number too long."""
    assert parse_phone("+1.917.889.5982 (WhatsApp)").valid


def test_placeholder_letters_are_not_keypad_digits() -> None:
    """ "20 72 xx xx" is reported as a placeholder, never read as +227 20 72 99 99."""
    phone = parse_phone("(+227) 20 72 xx xx", "NE")
    assert not phone.valid and phone.e164 is None
    assert "placeholder" in (phone.problem or "")


def test_double_zero_prefix_with_us_region() -> None:
    """ "00227…" is an international call even when the default region is the US."""
    assert e164s("00227 20 20 12 34", "US") == [("+22720201234", False)]


def test_011_prefix_from_the_us_and_uk_national_011() -> None:
    """011 is the North American international prefix, but a UK number may start with 011."""
    assert e164s("011 44 20 7946 0000", "US") == [("+442079460000", False)]
    assert e164s("0113 496 0000", "GB") == [("+441134960000", False)]


def test_trunk_zero_in_brackets_stays_dutch() -> None:
    """ "+31 (0)6 …" is a Dutch mobile, whatever the default region."""
    for region in ("FR", "NL", None):
        phone = parse_phone("+31 (0)6 12345678", region)
        assert (phone.e164, phone.type) == ("+31612345678", "mobile")


@pytest.mark.parametrize(
    ("text", "extension"),
    [
        ("01 23 45 67 89 poste 12", "12"),
        ("01 23 45 67 89 ext. 12", "12"),
        ("01 23 45 67 89 x12", "12"),
        ("01 23 45 67 89, poste 7", "7"),
    ],
)
def test_extensions_are_kept(text: str, extension: str) -> None:
    """French "poste" and English "ext." extensions survive and reach the tel: URI."""
    phone = parse_phone(text, "FR")
    assert (phone.e164, phone.extension) == ("+33123456789", extension)
    assert phone.tel_uri == f"tel:+33-1-23-45-67-89;ext={extension}"


def test_us_number_can_be_whatsapp() -> None:
    """US numbers are "fixed line or mobile" and still carry the WhatsApp label."""
    phone = parse_phone("+1 202 555 0147 (WhatsApp)")
    assert phone.type == "fixed_line_or_mobile" and phone.whatsapp


@pytest.mark.parametrize(
    "text",
    [
        "WhatsApp: +227 93 12 34 56",
        "Whatsapp: +227 93 12 34 56",
        "WA +227 93 12 34 56",
        "+227 93 12 34 56 (WhatsApp)",
        "+227 93 12 34 56 WhatsApp only",
        "whatsapp +227 93123456",
    ],
)
def test_whatsapp_label_shapes(text: str) -> None:
    """Every way people write the WhatsApp label marks the number."""
    assert e164s(text, "NE") == [("+22793123456", True)]


def test_label_rule_colon_forward_bracket_backward() -> None:
    """A label with a colon belongs to the next number; one in brackets to the number before."""
    found = parse_phones("+33 1 23 45 67 89 (office), WhatsApp: +33 6 12 34 56 78", None)
    assert [(p.e164, p.whatsapp, p.labels) for p in found] == [
        ("+33123456789", False, ["office"]),
        ("+33612345678", True, ["whatsapp"]),
    ]


def test_label_only_segment_goes_to_number_before() -> None:
    """ "… / WhatsApp only" marks the number before the slash."""
    assert e164s("+227 93 12 34 56 / WhatsApp only", None) == [("+22793123456", True)]


def test_label_only_segment_first_goes_to_next_number() -> None:
    """ "Mobile / WhatsApp: 93 …" gives both labels to the one number."""
    phone = parse_phone("Mobile / WhatsApp: 93 12 34 56", "NE")
    assert phone.whatsapp and "mobile" in phone.labels


def test_signal_and_telegram_are_not_whatsapp() -> None:
    """Signal and Telegram labels are kept but do not make a WhatsApp link."""
    found = parse_phones("+31 6 12345678 (Signal); +33 6 12 34 56 78 Telegram", None)
    assert [(p.whatsapp, p.labels) for p in found] == [(False, ["signal"]), (False, ["telegram"])]


def test_fax_is_never_whatsapp() -> None:
    """A fax number is not WhatsApp even if the field says WhatsApp beside it."""
    phone = parse_phone("fax +33 1 23 45 67 89 (WhatsApp)", None)
    assert not phone.whatsapp


@pytest.mark.parametrize("separator", [" / ", ", ", "; ", " or ", " ou ", "\n", " +"])
def test_several_numbers_in_one_field(separator: str) -> None:
    """Slashes, commas, semicolons, "or", "ou", line breaks and a second + all separate numbers."""
    text = (
        "+227 93 12 34 56"
        + separator
        + ("227 20 20 12 34" if separator == " +" else "+227 20 20 12 34")
    )
    assert [p.e164 for p in parse_phones(text, None)] == ["+22793123456", "+22720201234"]


def test_national_number_uses_default_region() -> None:
    """A number without a country code is read with the region given."""
    assert e164s("93 12 34 56", "NE") == [("+22793123456", False)]
    assert e164s("06 12345678", "NL") == [("+31612345678", False)]


def test_no_region_no_country_code_is_reported() -> None:
    """Without a region a national number is invalid with a reason, not dropped."""
    phone = parse_phone("93 12 34 56", None)
    assert not phone.valid and phone.problem


def test_too_long_is_reported_not_fixed() -> None:
    """A number with extra digits is kept as typed with its problem."""
    phone = parse_phone("+227 93 12 34 56 78 90", None)
    assert phone.raw == "+227 93 12 34 56 78 90" and not phone.valid and phone.problem


def test_dashes_dots_brackets() -> None:
    """Punctuation people use inside numbers is ignored."""
    assert e164s("+1 (202) 555-0147", None) == [("+12025550147", False)]
    assert e164s("+223.65.01.23.45", None) == [("+22365012345", False)]


def test_unknown_region_is_our_error() -> None:
    """An unknown --region is a clear error."""
    with pytest.raises(InvalidPhone, match="not a region"):
        parse_phones("93 12 34 56", "QQ")


def test_parse_phone_wants_exactly_one() -> None:
    """parse_phone refuses text with no number."""
    with pytest.raises(InvalidPhone):
        parse_phone("no number here", "NE")


def test_formats() -> None:
    """International display, RFC 3966 and wa.me links from E.164."""
    assert format_international("+22793123456") == "+227 93 12 34 56"
    assert tel_uri("+22793123456") == "tel:+227-93-12-34-56"
    assert whatsapp_url("+22793123456") == "https://wa.me/22793123456"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80), st.sampled_from(["NE", "NL", "US", "FR", None]))
def test_parsing_never_raises_on_any_text(text: str, region: str | None) -> None:
    """Any text gives a list of numbers, each valid with E.164 or invalid with a reason."""
    try:
        found = parse_phones(text, region)
    except CivicContactsError:
        return
    for phone in found:
        assert phone.valid == (phone.e164 is not None)
        assert phone.valid or phone.problem


REGIONS = ["NE", "ML", "BF", "TD", "MR", "SN", "FR", "GB", "US", "NL", "CH", "KE"]


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(REGIONS),
    st.sampled_from([phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE]),
    st.sampled_from(
        [
            phonenumbers.PhoneNumberFormat.INTERNATIONAL,
            phonenumbers.PhoneNumberFormat.NATIONAL,
            phonenumbers.PhoneNumberFormat.E164,
            phonenumbers.PhoneNumberFormat.RFC3966,
        ]
    ),
    st.sampled_from(["", " (WhatsApp)", " mobile", "WhatsApp: "]),
)
def test_e164_round_trips(region: str, kind: int, fmt: int, label: str) -> None:
    """An example number written in any standard format, with a label, reads back to its E.164."""
    number = phonenumbers.example_number_for_type(region, kind)
    expected = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    written = phonenumbers.format_number(number, fmt).removeprefix("tel:")
    text = label + written if label.endswith(": ") else written + label
    phone = parse_phone(text, region)
    assert phone.e164 == expected
    assert phone.whatsapp == ("WhatsApp" in label)
    assert parse_phone(phone.e164 or "", None).e164 == expected


def test_numbers_written_with_an_area_code_slash_are_one_number_in_imports() -> None:
    """'0476/23.45.67', '030/123456' and "079/637'62'85" are one number each, as `contact
    extract` reads them (a slash split them into two junk entries); two numbers with a
    slash between them, each with its own prefix, stay two."""
    from civic_contacts.registry.importing import read_phones

    for text, region, e164 in (
        ("0476/23.45.67", "BE", "+32476234567"),
        ("030/123456", "DE", "+4930123456"),
        ("079/637'62'85", "CH", "+41796376285"),
    ):
        numbers, warnings = read_phones(text, region)
        assert [(n.e164, n.valid) for n in numbers] == [(e164, True)] and not warnings
    numbers, _warnings = read_phones("01 23 45 67 89 / 06 12 34 56 78", "FR")
    assert [n.e164 for n in numbers] == ["+33123456789", "+33612345678"]
