"""The demo: the shipped offices, press contacts, media list and sample release, loaded into
the configured registry, ready for the main job.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from civic_contacts.config import shipped_dir
from civic_contacts.db import utcnow
from civic_contacts.registry import importing
from civic_contacts.registry import store as registry
from civic_contacts.registry.importing import ImportReport
from civic_contacts.registry.models import Release
from civic_contacts.releases import store as releases


def next_embargo(now: dt.datetime) -> dt.datetime:
    """The next 00:01 UTC that is at least 12 hours after `now`."""
    now = now.astimezone(dt.UTC)
    candidate = now.replace(hour=0, minute=1, second=0, microsecond=0)
    while candidate < now + dt.timedelta(hours=12):
        candidate += dt.timedelta(days=1)
    return candidate


DEMO_RELEASE = "sahel-civilians"


@dataclass
class DemoLoad:
    """What loading the demo data did, file by file."""

    reports: dict[str, ImportReport] = field(default_factory=dict)
    release: str = DEMO_RELEASE
    embargo: dt.datetime | None = None


def load_demo_data(session: Session, now: dt.datetime | None = None) -> DemoLoad:
    """Import the shipped demo files into the registry (idempotent).

    The sample release's embargo is set to the next 00:01 UTC at least 12 hours after `now`,
    so the demo never meets the embargo guard.
    """
    data = shipped_dir("data")
    load = DemoLoad()
    load.reports["offices"] = importing.import_offices(session, data / "offices.csv")
    load.reports["contacts"] = importing.import_contacts(session, data / "contacts.csv")
    load.reports["outlets"] = importing.import_outlets(session, data / "outlets.csv")
    load.reports["journalists"] = importing.import_journalists(session, data / "journalists.csv")
    embargo = next_embargo(now or dt.datetime.now(dt.UTC))
    files = [
        releases.read_release_file(p)
        for p in sorted((data / "releases").glob(f"{DEMO_RELEASE}.*.md"))
    ]
    known = session.scalar(select(Release).where(Release.slug == DEMO_RELEASE))
    if known is not None and known.embargo is not None and known.embargo > (now or utcnow()):
        embargo = known.embargo  # loaded before and still ahead: left as it is
    for item in files:
        item.embargo = embargo
    if known is None:
        release, _outcome = releases.add_release(session, files)
    else:
        release, _changes = releases.update_release(session, files, now)
    registry.mark_demo(session)
    load.release, load.embargo = release.slug, release.embargo
    return load
