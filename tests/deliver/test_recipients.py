"""Pieces of the batch core that need no database: outbox file names."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from civic_contacts.deliver.recipients import file_name


def test_plain_addresses_are_their_own_file_names() -> None:
    """The usual address is its own name, so a person finds a message by address."""
    assert file_name("adama.kone@example.com") == "adama.kone@example.com.eml"


def test_addresses_that_would_share_a_name_do_not() -> None:
    """`a+b@`, `a_b@` and `A_b@` (one name under a plain replacement) get three names."""
    names = {file_name(a) for a in ("a+b@example.org", "a_b@example.org", "A_b@example.org")}
    assert len(names) == 3
    assert file_name("a+b@example.org").startswith("a_b@example.org~")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=300), min_size=2, max_size=2, unique=True))
def test_any_two_addresses_get_two_safe_short_names(pair: list[str]) -> None:
    """Whatever the text, names are distinct, stable, at most 100 characters plus `.eml`, and
    never a path or a hidden file."""
    first, second = (file_name(a) for a in pair)
    assert first != second
    for address, name in zip(pair, (first, second), strict=True):
        assert name == file_name(address)
        assert len(name) <= 104 and "/" not in name and "\x00" not in name
        assert not name.startswith(".")
