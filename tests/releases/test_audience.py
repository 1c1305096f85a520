"""Who a release goes to beyond language (`releases/audience.py`): beats against topics, and
each journalist's own choices, every verdict with its reason."""

from __future__ import annotations

from civic_contacts.registry.views import ContactInfo, JournalistInfo, OfficeInfo, OutletInfo
from civic_contacts.releases.audience import Subject, decide
from civic_contacts.releases.routing import ReleaseInfo, Router

WATER = Subject("niamey", ("ML",), ("water", "mali"))


def person(**chosen: object) -> JournalistInfo:
    return JournalistInfo(1, "Awa Sy", "awa.sy@example.com", "sahel-fm", **chosen)  # type: ignore[arg-type]


def test_a_shared_beat_is_in_and_says_which() -> None:
    verdict = decide(WATER, person(beats=("football", "water")))
    assert (verdict.included, verdict.reason) == (True, "beat water matches")
    both = decide(WATER, person(beats=("mali", "water")))
    assert both.reason == "beats water, mali match"


def test_no_shared_beat_is_out_and_names_what_they_cover() -> None:
    verdict = decide(WATER, person(beats=("football",)))
    assert (verdict.included, verdict.reason) == (False, "no shared beat (covers football)")


def test_the_outlets_beats_stand_for_a_journalist_with_none() -> None:
    assert decide(WATER, person(), outlet_beats=("water",)).reason == "outlet's beat water matches"
    out = decide(WATER, person(), outlet_beats=("sport",))
    assert (out.included, out.reason) == (False, "no shared beat (outlet covers sport)")
    # Their own beats win over the outlet's.
    assert decide(WATER, person(beats=("sport",)), outlet_beats=("water",)).included is False


def test_no_beats_are_in_when_the_release_is_open_and_out_when_it_is_not() -> None:
    assert decide(WATER, person()).reason == "no beats; the release is open to all"
    closed = Subject("niamey", ("ML",), ("water",), topics_open=False)
    verdict = decide(closed, person())
    assert (verdict.included, verdict.reason) == (
        False,
        "no beats, and the release is only for its topics",
    )


def test_a_release_without_topics_goes_to_every_beat() -> None:
    verdict = decide(Subject("niamey"), person(beats=("football",)))
    assert (verdict.included, verdict.reason) == (True, "on the list")


def test_what_they_follow_the_embargo_and_the_weekly_cap() -> None:
    follows = decide(WATER, person(follows=("the-hague", "NL")))
    assert (follows.included, follows.reason) == (False, "follows only the-hague, NL")
    assert (
        decide(WATER, person(follows=("ML",))).reason
        == "follows ML; no beats; the release is open to all"
    )
    embargoed = Subject("niamey", ("ML",), embargoed=True)
    refused = decide(embargoed, person(accepts_embargoed=False))
    assert (refused.included, refused.reason) == (False, "does not take embargoed material")
    assert decide(Subject("niamey", ("ML",)), person(accepts_embargoed=False)).included
    capped = decide(WATER, person(weekly_cap=2), sent_this_week=2)
    assert (capped.included, capped.reason) == (
        False,
        "weekly cap of 2 reached (2 in the last 7 days)",
    )
    assert decide(WATER, person(weekly_cap=2), sent_this_week=1).included


def test_the_router_lists_who_is_left_out_and_which_topics_it_covered() -> None:
    """An outlet routed for a release with topics: the journalists in, each with why, the ones
    left out with the reason; the topics someone covers are remembered for coverage gaps."""
    release = ReleaseInfo("water-mali", "niamey", ("fr",), ("ML",), topics=("water", "mali"))
    router = Router(
        release,
        [ContactInfo(1, "Mariam Diallo", "niamey", ("fr",), 1)],
        [OfficeInfo("niamey", "Niamey", "NE", ("fr",), ("ML",))],
    )
    outlet = OutletInfo("sahel-fm", "Sahel FM", "ML", ("fr",))
    people = [
        JournalistInfo(1, "A", "a@example.com", "sahel-fm", beats=("water",)),
        JournalistInfo(2, "B", "b@example.com", "sahel-fm", beats=("football",)),
        JournalistInfo(3, "C", "c@example.com", "sahel-fm", also_reads=("en",)),
    ]
    routed = router.route_outlet(outlet, people)
    assert [(j.journalist.email, j.why) for j in routed.journalists] == [
        ("a@example.com", "beat water matches"),
        ("c@example.com", "no beats; the release is open to all"),
    ]
    assert [(j.email, why) for j, why in routed.left_out] == [
        ("b@example.com", "no shared beat (covers football)")
    ]
    assert router.covered == {"water"}


def test_the_other_languages_a_journalist_reads_come_before_the_outlets() -> None:
    """Chosen on their preference page: a Dutch reader at a French outlet who also reads
    English gets the English text of a release in English and French."""
    release = ReleaseInfo("r", "niamey", ("en", "fr"))
    router = Router(release, [], [OfficeInfo("niamey", "Niamey", "NE", ("fr",), ())])
    outlet = OutletInfo("sahel-fm", "Sahel FM", "ML", ("fr",))
    reader = JournalistInfo(1, "A", "a@example.com", "sahel-fm", language="nl", also_reads=("en",))
    routed = router.route_outlet(outlet, [reader])
    choice = routed.journalists[0].choice
    assert (choice.language, choice.reason) == ("en", "journalist also reads en")
