"""Email addresses are validated and stored normalised, without DNS lookups."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civic_contacts.errors import InvalidEmail
from civic_contacts.registry.addresses import normalise_email


def test_normalised_form_is_lower_case() -> None:
    """Addresses differing only in case are one person."""
    assert normalise_email("  MDiallo@Example.ORG ") == "mdiallo@example.org"


@pytest.mark.parametrize(
    "bad", ["jdoe@", "@example.org", "no at sign", "a@b", "", "a b@example.org"]
)
def test_invalid_addresses_say_why(bad: str) -> None:
    """An invalid address raises our error with the address and the reason."""
    with pytest.raises(InvalidEmail) as info:
        normalise_email(bad)
    assert info.value.message


def test_international_domain() -> None:
    """Internationalised domains are accepted, stored in the ASCII form SMTP carries (so
    either spelling is one person) and shown to people in Unicode."""
    from civic_contacts.registry.addresses import display_email

    assert normalise_email("presse@exämple.org") == "presse@xn--exmple-cua.org"
    assert normalise_email("Presse@XN--EXMPLE-CUA.org") == "presse@xn--exmple-cua.org"
    assert display_email("presse@xn--exmple-cua.org") == "presse@exämple.org"


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.emails(),
        st.from_regex(r"[a-zA-Z0-9.+_-]{1,20}@[a-zA-Z0-9.-]{1,20}\.[a-z]{2,5}", fullmatch=True),
    )
)
def test_quick_check_agrees_with_email_validator(address: str) -> None:
    """Every address the quick check accepts, email-validator accepts with the same normal form."""
    from email_validator import EmailNotValidError, validate_email

    from civic_contacts.registry.addresses import _plain

    if not _plain(address):
        return
    try:
        result = validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        raise AssertionError(f"quick check accepted {address!r}: {exc}") from None
    assert result.normalized.lower() == address.lower()
