"""How faithfully `contact extract` reads real contact blocks, and the invented fixtures.

    python bench/bench_extract.py [--misses] [--real FILE]

First the real blocks (FILE, default ../shared/corpora/contact_blocks_real.jsonl: blocks
copied verbatim from public press releases, with their expected reading; see its README),
per language and per field: precision and recall of names, roles, emails, numbers and
WhatsApp flags, and the numbers read that are not there. Then the invented blocks of
tests/extract_cases.py and tests/extract_more.py (unit tests: they count toward no target),
and the time per block (min / median / max of 3 passes).
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
            right = _matched(got, wanted)
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


def _matched(got: list[str], wanted: list[str]) -> int:
    remaining = Counter(wanted)
    right = 0
    for item in got:
        if remaining[item] > 0:
            remaining[item] -= 1
            right += 1
    return right


def score_real(path: Path, show: bool) -> dict[str, Counter[str]]:
    """Per language (and "all"): right, got and wanted per field on the real blocks."""
    import json

    found: dict[str, Counter[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        expected = entry["expected"]
        regions = {p.get("default_region") for x in expected for p in x["phones"]} - {None}
        region = next(iter(regions)) if len(regions) == 1 else None
        people = extract_contacts(entry["block"], LOOKUP, region=region)
        fields = {
            "names": (
                [p.name for p in people if p.name],  # a desk (no name) is no name read
                [x["name"] for x in expected if x["name"]],
            ),
            "roles": (
                [p.role for p in people if p.role],
                [x["role"] for x in expected if x["role"]],
            ),
            "emails": (
                [e for p in people for e in p.emails],
                [e.lower() for x in expected for e in x["emails"]],
            ),
            "numbers": (
                [ph.e164 for p in people for ph in p.phones if ph.e164],
                [ph["e164"] for x in expected for ph in x["phones"] if ph["e164"]],
            ),
            "whatsapp": (
                [ph.e164 for p in people for ph in p.phones if ph.whatsapp and ph.e164],
                [ph["e164"] for x in expected for ph in x["phones"] if ph["whatsapp"]],
            ),
        }
        for language in (entry["language"], "all"):
            counts = found.setdefault(language, Counter())
            counts["blocks"] += 1
            for field, (got, wanted) in fields.items():
                right = _matched(got, wanted)
                counts[field + ":right"] += right
                counts[field + ":got"] += len(got)
                counts[field + ":wanted"] += len(wanted)
                if field == "numbers":
                    counts["phantom"] += len(got) - right
        if show and any(_matched(g, w) != len(w) or len(g) != len(w) for g, w in fields.values()):
            print(f"miss {entry['source_url']}:")
            for field, (got, wanted) in fields.items():
                if sorted(got) != sorted(wanted):
                    print(f"  {field}: got {got} wanted {wanted}")
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--misses", action="store_true", help="print each block read wrongly")
    parser.add_argument(
        "--real",
        type=Path,
        default=Path(__file__).resolve().parent.parent.parent
        / "shared/corpora/contact_blocks_real.jsonl",
        help="the real blocks (JSON lines)",
    )
    args = parser.parse_args()
    if args.real.exists():
        real = score_real(args.real, args.misses)
        print(f"real blocks ({args.real}): {real['all']['blocks']}")
        for language in sorted(real, key=lambda k: (k != "all", k)):
            counts = real[language]
            print(
                f"  {language} ({counts['blocks']} blocks), numbers read that are not there:"
                f" {counts['phantom']}"
            )
            for field in ("names", "roles", "emails", "numbers", "whatsapp"):
                print("    " + _pr(counts, field))
    found = score(args.misses)
    print(f"invented blocks (unit tests): {len(ALL)}, {found['blocks:wrong']} not read exactly")
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
