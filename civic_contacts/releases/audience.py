"""Who a release goes to beyond language: a journalist's beats against the release's topics,
and what they chose on their preference page. Pure: plain data in, a verdict and its reason
out, so that `route show`, the build summary and the preview say the same thing.

In order, the first that leaves a journalist out says why:

1. Embargoed material, to a journalist who does not take it.
2. Offices and countries they follow (none: all): the release's owning office or one of the
   countries it concerns must be among them.
3. Topics: a release with topics goes to journalists whose beats (their own, else their
   outlet's) meet one of them, and to those with no beats unless `topics_open = false`.
4. At most N releases in seven days: the releases already sent to them in the last seven
   days are counted by the caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from civic_contacts.registry.views import JournalistInfo

WEEK_DAYS = 7


@dataclass(frozen=True)
class Verdict:
    """Whether one journalist gets the release, and why."""

    included: bool
    reason: str


@dataclass(frozen=True)
class Subject:
    """What a release is about, as the audience rules read it."""

    office: str
    concerns: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    topics_open: bool = True
    embargoed: bool = False  # under an embargo that has not lifted when it is built


def _listed(items: Sequence[str]) -> str:
    return ", ".join(items)


def decide(
    subject: Subject,
    journalist: JournalistInfo,
    outlet_beats: Sequence[str] = (),
    sent_this_week: int = 0,
) -> Verdict:
    """The verdict for one journalist (see the module's rules)."""
    if subject.embargoed and not journalist.accepts_embargoed:
        return Verdict(False, "does not take embargoed material")
    reasons: list[str] = []
    if journalist.follows:
        followed = [f for f in (subject.office, *subject.concerns) if f in journalist.follows]
        if not followed:
            return Verdict(False, f"follows only {_listed(journalist.follows)}")
        reasons.append(f"follows {_listed(followed)}")
    if subject.topics:
        own = bool(journalist.beats)
        beats = journalist.beats if own else tuple(outlet_beats)
        whose = "beat" if own else "outlet's beat"
        if beats:
            shared = [t for t in subject.topics if t in beats]
            if not shared:
                return Verdict(
                    False, f"no shared beat ({'' if own else 'outlet '}covers {_listed(beats)})"
                )
            plural = "s" if len(shared) > 1 else ""
            verb = "match" if len(shared) > 1 else "matches"
            reasons.append(f"{whose}{plural} {_listed(shared)} {verb}")
        elif subject.topics_open:
            reasons.append("no beats; the release is open to all")
        else:
            return Verdict(False, "no beats, and the release is only for its topics")
    if journalist.weekly_cap is not None and sent_this_week >= journalist.weekly_cap:
        return Verdict(
            False,
            f"weekly cap of {journalist.weekly_cap} reached"
            f" ({sent_this_week} in the last {WEEK_DAYS} days)",
        )
    return Verdict(True, "; ".join(reasons) or "on the list")


def chooses(journalist: JournalistInfo) -> bool:
    """Whether anything but beats can leave this journalist out (their own choices)."""
    return bool(
        journalist.follows or journalist.weekly_cap is not None or not journalist.accepts_embargoed
    )
