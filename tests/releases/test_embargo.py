"""Embargo wording: GMT and the outlet's own local time, weekday and date, in English and French."""

from __future__ import annotations

import datetime as dt

import pytest

from civic_contacts.errors import EmbargoLifted
from civic_contacts.releases.embargo import check_embargo, embargo_text

WEDNESDAY = dt.datetime(2022, 6, 22, 0, 1, tzinfo=dt.UTC)


def test_english_label_and_paris_time() -> None:
    """The English label gives GMT first, then Paris time."""
    text = embargo_text(WEDNESDAY, "en", "Europe/Paris")
    assert text.label == "EMBARGOED UNTIL 00:01 GMT, Wednesday 22 June 2022"
    assert text.banner == "EMBARGOED UNTIL 00:01 GMT, Wednesday 22 June 2022 (02:01 in Paris)"


def test_french_label() -> None:
    """The French label follows French usage."""
    text = embargo_text(WEDNESDAY, "fr", "Africa/Niamey")
    assert text.label == "SOUS EMBARGO JUSQU'AU mercredi 22 juin 2022 à 00 h 01 GMT"
    assert text.local == "01 h 01 à Niamey"


def test_weekday_of_the_place_named() -> None:
    """00:01 GMT on a Wednesday is 20:01 on Tuesday in New York."""
    assert (
        embargo_text(WEDNESDAY, "en", "America/New_York").local
        == "20:01 on Tuesday 21 June in New York"
    )
    assert (
        embargo_text(WEDNESDAY, "fr", "America/New_York").local
        == "mardi 21 juin à 20 h 01 à New York"
    )


def test_gmt_in_june_is_not_london_time() -> None:
    """In June London is an hour ahead of GMT, and says so."""
    assert embargo_text(WEDNESDAY, "en", "Europe/London").local == "01:01 in London"


def test_immediate_release() -> None:
    """No embargo reads FOR IMMEDIATE RELEASE / POUR DIFFUSION IMMÉDIATE."""
    assert embargo_text(None, "en", "Europe/Paris").banner == "FOR IMMEDIATE RELEASE"
    assert embargo_text(None, "fr-ML", "Africa/Bamako").banner == "POUR DIFFUSION IMMÉDIATE"


def test_other_languages_use_english_wording() -> None:
    """A language without its own wording gets the English one."""
    assert embargo_text(WEDNESDAY, "ar", "Africa/Ndjamena").label.startswith("EMBARGOED UNTIL")


def test_lifted_embargo_is_refused_unless_relabelled() -> None:
    """After the lift the build is refused; with after_embargo it becomes immediate."""
    later = WEDNESDAY + dt.timedelta(minutes=1)
    with pytest.raises(EmbargoLifted) as info:
        check_embargo(WEDNESDAY, later, False, "r")
    assert "--after-embargo" in (info.value.hint or "")
    embargo, warnings = check_embargo(WEDNESDAY, later, True, "r")
    assert embargo is None and "FOR IMMEDIATE RELEASE" in warnings[0]


def test_close_embargo_warns() -> None:
    """Less than the warning time before the lift gives a warning, not a refusal."""
    embargo, warnings = check_embargo(WEDNESDAY, WEDNESDAY - dt.timedelta(minutes=10), False, "r")
    assert embargo == WEDNESDAY and "lifts in 10 minute(s)" in warnings[0]
    assert check_embargo(WEDNESDAY, WEDNESDAY - dt.timedelta(hours=2), False, "r")[1] == []
    assert check_embargo(
        WEDNESDAY, WEDNESDAY - dt.timedelta(minutes=50), False, "r", warn_minutes=60
    )[1]
