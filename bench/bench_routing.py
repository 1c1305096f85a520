"""Routing speed: 10,000 outlets (with 5 journalists each) and 50 press contacts.

    python bench/bench_routing.py [--outlets 10000] [--contacts 50] [--journalists-per-outlet 5]

Prints the time to route every outlet and journalist, best of several runs. Pure routing, no
database: the database side is measured by bench/bench_batch.py.
"""

from __future__ import annotations

import argparse
import random
import time

from civic_contacts.releases.routing import (
    ContactInfo,
    JournalistInfo,
    OfficeInfo,
    OutletInfo,
    ReleaseInfo,
    route_release,
)

COUNTRIES = [
    "NE",
    "ML",
    "BF",
    "TD",
    "MR",
    "SN",
    "FR",
    "GB",
    "US",
    "NL",
    "DE",
    "KE",
    "NG",
    "CM",
    "CI",
]
LANGUAGES = ["fr", "en", "ar", "ha", "nl", "de", "pt", "es"]


def synthetic(outlets: int, contacts: int, per_outlet: int, seed: int = 7):
    rng = random.Random(seed)
    offices = [
        OfficeInfo("niamey", "Niamey", "NE", ("fr", "en"), ("NE", "ML", "BF", "TD", "MR")),
        OfficeInfo("the-hague", "The Hague", "NL", ("en", "fr"), ("*",)),
        OfficeInfo("dakar", "Dakar", "SN", ("fr",), ("SN", "CI")),
        OfficeInfo("nairobi", "Nairobi", "KE", ("en",), ("KE",)),
    ]
    people = [
        ContactInfo(
            i,
            f"Contact {i:03d}",
            rng.choice(offices).code,
            tuple(rng.sample(LANGUAGES[:5], rng.randint(1, 3))),
            rng.randint(1, 9),
            rng.random() > 0.1,
        )
        for i in range(contacts)
    ]
    outlet_list = [
        OutletInfo(
            f"outlet-{i:05d}",
            f"Outlet {i}",
            rng.choice(COUNTRIES),
            tuple(rng.sample(LANGUAGES, rng.randint(1, 2))),
        )
        for i in range(outlets)
    ]
    journalists = [
        JournalistInfo(
            i * per_outlet + j,
            f"J {i}-{j}",
            f"j{i}-{j}@example.com",
            o.slug,
            rng.choice([None, None, None, "fr", "en"]),
        )
        for i, o in enumerate(outlet_list)
        for j in range(per_outlet)
    ]
    return offices, people, outlet_list, journalists


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outlets", type=int, default=10_000)
    parser.add_argument("--contacts", type=int, default=50)
    parser.add_argument("--journalists-per-outlet", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    offices, contacts, outlets, journalists = synthetic(
        args.outlets, args.contacts, args.journalists_per_outlet
    )
    release = ReleaseInfo("bench", "the-hague", ("en", "fr"), ("ML",))
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        routings = route_release(release, outlets, journalists, contacts, offices)
        times.append(time.perf_counter() - start)
    routed = sum(len(r.journalists) for r in routings)
    best = min(times)
    print(f"routing: {len(outlets)} outlets, {routed} journalists, {len(contacts)} press contacts")
    print(f"  best of {args.repeat}: {best * 1000:.1f} ms  ({len(outlets) / best:,.0f} outlets/s)")
    print(f"  median: {sorted(times)[len(times) // 2] * 1000:.1f} ms")


if __name__ == "__main__":
    main()
