"""A release's routing over the whole registry as a build would route it now, outlet by outlet: what `route show` prints and
the desk's release page lists.

The journalists are streamed in outlet order, never held whole: of each outlet only its count,
its exceptions and (for a release with topics) who is in and why are kept.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy.orm import Session

from civic_contacts.db import utcnow
from civic_contacts.deliver.plan import sent_in_week
from civic_contacts.registry import store as registry
from civic_contacts.releases import routing
from civic_contacts.releases import store as releases


def router_for(session: Session, slug: str, max_contacts: int = 2) -> routing.Router:
    """The router of a release as a build would route it now (its embargo, the journalists'
    own choices and what they were sent this week)."""
    found = releases.get_release(session, slug)
    now = utcnow()
    return routing.Router(
        releases.release_info(found),
        registry.routing_contacts(session),
        registry.routing_offices(session),
        max_contacts,
        embargoed=found.embargo is not None and found.embargo > now,
        recent=sent_in_week(session, found.id, now),
    )


def routed_outlets(
    session: Session,
    slug: str,
    max_contacts: int = 2,
    outlet: str | None = None,
    router: routing.Router | None = None,
) -> Iterator[tuple[routing.OutletRouting, int]]:
    """Each outlet's routing and its number of journalists, in the outlets' order (both
    queries are ordered by slug, so the stream of journalists is merged in, not looked up).
    A router given is the one used (afterwards it knows which topics were covered)."""
    router = router or router_for(session, slug, max_contacts)
    outlets = registry.routing_outlets(session, outlet)
    only = outlets[0].slug if outlet and outlets else None
    wanted = {o.slug for o in outlets}
    stream = registry.journalists_by_outlet(session, only)
    pending = next(stream, None)
    for info in outlets:
        while pending is not None and pending[0] not in wanted:
            pending = next(stream, None)  # journalists of an outlet routing leaves out
        if pending is not None and pending[0] == info.slug:
            routed = router.route_outlet(info, pending[1])
            count = len(routed.journalists)
            if not router.release.topics:
                routed.journalists = routed.exceptions  # the others say nothing more
            pending = next(stream, None)
            yield routed, count
        else:
            yield router.route_outlet(info), 0


def gap_lines(session: Session, slug: str, router: routing.Router | None = None) -> list[str]:
    """The release's coverage gaps, a line each: outlet languages nobody can serve (and who
    could), and, given the router that routed every outlet, topics no routed journalist
    covers."""
    info = releases.release_info(releases.get_release(session, slug))
    gaps = routing.coverage_gaps(
        registry.routing_outlets(session),
        registry.routing_contacts(session),
        registry.routing_offices(session),
        info,
    )
    lines = [
        f"{g.outlet.slug} ({g.language}): {g.problem}"
        + (f"; could: {', '.join(g.could)}" if g.could else "")
        for g in gaps
    ]
    if router is not None and info.topics:
        lines += routing.topic_gaps(info, router.covered)
    return lines
