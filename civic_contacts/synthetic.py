"""Invented registries of any size, for benchmarks and tests: the demo offices, contacts and
release, plus as many outlets and journalists as asked for (all at example.* addresses)."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from civic_contacts.config import shipped_dir
from civic_contacts.db import utcnow
from civic_contacts.registry import importing
from civic_contacts.registry import store as registry
from civic_contacts.registry.models import Journalist, Outlet, Phone
from civic_contacts.releases import store as releases

COUNTRIES = [
    ("NE", "Africa/Niamey", ("fr",)),
    ("ML", "Africa/Bamako", ("fr",)),
    ("BF", "Africa/Ouagadougou", ("fr",)),
    ("TD", "Africa/Ndjamena", ("fr", "ar")),
    ("SN", "Africa/Dakar", ("fr",)),
    ("FR", "Europe/Paris", ("fr",)),
    ("GB", "Europe/London", ("en",)),
    ("US", "America/New_York", ("en",)),
    ("NL", "Europe/Amsterdam", ("nl", "en")),
    ("KE", "Africa/Nairobi", ("en",)),
]
FIRST = [
    "Awa",
    "Moussa",
    "Fatima",
    "Ibrahim",
    "Claire",
    "Jan",
    "Grace",
    "Omar",
    "Léa",
    "Sékou",
    "Anna",
    "Noé",
]
LAST = [
    "Diallo",
    "Traoré",
    "Dupont",
    "Jansen",
    "Okoro",
    "Mensah",
    "Cissé",
    "Smith",
    "Kaboré",
    "Müller",
]


def load_base(session: Session, embargo: dt.datetime | None = None) -> str:
    """The demo offices and press contacts and the sample release; returns the release slug."""
    data = shipped_dir("data")
    importing.import_offices(session, data / "offices.csv")
    importing.import_contacts(session, data / "contacts.csv")
    files = [
        releases.read_release_file(p)
        for p in sorted((data / "releases").glob("sahel-civilians.*.md"))
    ]
    for item in files:
        item.embargo = embargo if embargo is not None else utcnow() + dt.timedelta(days=30)
    release, _ = releases.add_release(session, files)
    registry.mark_demo(session)
    return release.slug


def add_media_list(
    session: Session, outlets: int, journalists_per_outlet: int, phones: bool = False, seed: int = 1
) -> int:
    """Insert invented outlets and journalists in bulk; returns the number of journalists."""
    rng = random.Random(seed)
    start = len(session.scalars(select(Outlet.id)).all())
    outlet_rows: list[dict[str, Any]] = []
    for i in range(start, start + outlets):
        country, zone, languages = COUNTRIES[i % len(COUNTRIES)]
        outlet_rows.append(
            {
                "slug": f"outlet-{i:05d}",
                "name": f"Outlet {i} Média",
                "country": country,
                "languages": list(languages),
                "timezone": zone,
                "kind": "online",
                "tags": [],
            }
        )
    session.execute(insert(Outlet), outlet_rows)
    ids = dict(session.execute(select(Outlet.slug, Outlet.id)).all())
    now = utcnow()
    people = []
    for row in outlet_rows:
        for j in range(journalists_per_outlet):
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            people.append(
                {
                    "outlet_id": ids[row["slug"]],
                    "name": name,
                    "email": f"{row['slug']}.{j}@example.com",
                    "language": None,
                    "role": "",
                    "opted_out": False,
                    "created_at": now,
                    "updated_at": now,
                }
            )
    if people:
        session.execute(insert(Journalist), people)
    if phones:
        journalist_ids = session.scalars(
            select(Journalist.id).where(Journalist.email.like("outlet-%"))
        ).all()
        session.execute(
            insert(Phone),
            [
                {
                    "journalist_id": jid,
                    "position": 0,
                    "raw": "+1 202 555 0123",
                    "e164": "+12025550123",
                    "kind": "fixed_line_or_mobile",
                    "valid": True,
                    "whatsapp": False,
                    "label": "",
                }
                for jid in journalist_ids
            ],
        )
    return len(people)
