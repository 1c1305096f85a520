"""How faithfully `contact extract` reads the fixture contact blocks, and how fast.

    python bench/bench_extract.py [--misses]

Runs the extractor over every block in tests/extract_cases.py and tests/extract_more.py and
prints precision and recall per field (names, roles where the fixture gives one, emails,
valid numbers, WhatsApp flags), the count of numbers that are in no fixture (invented or
look-alikes taken for numbers), and the time per block (min / median / max of 3 passes).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from civic_contacts.registry.extract import extract_contacts, make_region_lookup
from tests.extract_cases import CASES
from tests.extract_more import MORE

LOOKUP = make_region_lookup([("niamey", "Niamey", "NE"), ("the-hague", "The Hague", "NL")])
ALL = [*CASES, *MORE]


def _pr(found: Counter[str], field: str) -> str:
    right, got, wanted = found[field + ":right"], found[field + ":got"], found[field + ":wanted"]
    precision = right / got if got else 1.0
    recall = right / wanted if wanted else 1.0
    return f"{field:9} precision {precision:6.1%} recall {recall:6.1%} ({right}/{wanted})"


def score(show: bool) -> Counter[str]:
    found: Counter[str] = Counter()
    for name, text, region, expected in ALL:
        people = extract_contacts(text, LOOKUP, region=region)
        got_names = [p.name for p in people]
        wanted_names = [e[0] for e in expected]
        for field, got, wanted in (
            ("names", got_names, wanted_names),
            ("emails", [e for p in people for e in p.emails], [e for x in expected for e in x[2]]),
            (
                "numbers",
                [ph.e164 for p in people for ph in p.phones if ph.e164],
                [n for x in expected for n, _wa in x[3] if n],
            ),
            (
                "whatsapp",
                [ph.e164 for p in people for ph in p.phones if ph.whatsapp],
                [n for x in expected for n, wa in x[3] if wa],
            ),
        ):
            remaining = Counter(wanted)
            right = 0
            for item in got:
                if remaining[item] > 0:
                    remaining[item] -= 1
                    right += 1
            found[field + ":right"] += right
            found[field + ":got"] += len(got)
            found[field + ":wanted"] += len(wanted)
            if field == "numbers":
                found["invented"] += len(got) - right
        by_name = {p.name: p for p in people}
        for person in expected:
            role = person[4] if len(person) > 4 else None  # type: ignore[misc]
            if role is None:
                continue
            found["roles:wanted"] += 1
            if person[0] in by_name:
                found["roles:got"] += 1
                found["roles:right"] += by_name[person[0]].role == role
        got_shape = [
            (p.name, p.office, p.emails, [(ph.e164, ph.whatsapp) for ph in p.phones])
            for p in people
        ]
        wanted_shape = [tuple(x[:4]) for x in expected]
        if [tuple(g) for g in got_shape] != wanted_shape:
            found["blocks:wrong"] += 1
            if show:
                print(f"miss {name}:\n  got    {got_shape}\n  wanted {wanted_shape}")
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--misses", action="store_true", help="print each block read wrongly")
    args = parser.parse_args()
    found = score(args.misses)
    print(f"{len(ALL)} blocks, {found['blocks:wrong']} not read exactly")
    for field in ("names", "roles", "emails", "numbers", "whatsapp"):
        print("  " + _pr(found, field))
    print(f"  numbers in no fixture (invented or look-alikes): {found['invented']}")
    times = []
    for _ in range(3):
        start = time.perf_counter()
        for _name, text, region, _expected in ALL:
            extract_contacts(text, LOOKUP, region=region)
        times.append((time.perf_counter() - start) * 1000 / len(ALL))
    print(
        f"  time per block: min {min(times):.2f} / median {statistics.median(times):.2f} /"
        f" max {max(times):.2f} ms (3 passes)"
    )


if __name__ == "__main__":
    main()
