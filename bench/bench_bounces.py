"""How well `bounces classify` reads the fixture reports, and how fast.

    python bench/bench_bounces.py

Runs the classifier over every invented report in tests/bounce_cases.py (delivery status
notifications, prose notices in five languages, feedback reports, auto-replies) and prints:
agreement per expected action, how many suppress decisions were right (precision) and how many
address problems were caught (recall), how many failures that were not the address's fault
were suppressed (the mistake that loses a journalist), reason and status agreement, and the
time per message (min / median / max of 3 runs over the whole corpus).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from civic_contacts.after.classify import classify
from tests.bounce_cases import CASES, OURS


def score() -> dict[str, object]:
    """Agreement figures over the corpus."""
    per_action: Counter[str] = Counter()
    right_action: Counter[str] = Counter()
    kinds = reasons = statuses = recipients = 0
    suppressed = suppressed_right = should_suppress = 0
    wrongly_suppressed = not_address = 0
    misses = []
    for case in CASES:
        report = classify(case.data, OURS)
        kinds += report.kind == case.kind
        got = {r.email: r for r in report.recipients}
        for expected in case.recipients:
            recipients += 1
            per_action[expected.action] += 1
            found = got.get(expected.email)
            action = found.action if found else "missing"
            if action == expected.action:
                right_action[expected.action] += 1
            else:
                misses.append(f"{case.name}: {expected.email} {action} (wanted {expected.action})")
            if found is not None:
                reasons += found.reason == expected.reason
                statuses += found.status == expected.status
                if (found.reason, found.status) != (expected.reason, expected.status):
                    misses.append(
                        f"{case.name}: {found.reason} {found.status}"
                        f" (wanted {expected.reason} {expected.status})"
                    )
            should_suppress += expected.action == "suppress"
            if expected.action != "suppress":
                not_address += 1
            if action == "suppress":
                suppressed += 1
                suppressed_right += expected.action == "suppress"
                wrongly_suppressed += expected.action != "suppress"
        for email in set(got) - {e.email for e in case.recipients}:
            misses.append(f"{case.name}: unexpected recipient {email}")
            if got[email].action == "suppress":
                suppressed += 1
                wrongly_suppressed += 1
    return {
        "cases": len(CASES),
        "recipients": recipients,
        "kinds": kinds,
        "per_action": per_action,
        "right_action": right_action,
        "suppress_precision": suppressed_right / suppressed if suppressed else 1.0,
        "suppress_recall": suppressed_right / should_suppress if should_suppress else 1.0,
        "wrongly_suppressed": wrongly_suppressed,
        "not_address": not_address,
        "reasons": reasons,
        "statuses": statuses,
        "misses": misses,
    }


def timing(repeats: int = 3) -> list[float]:
    """Milliseconds per message, one figure per pass over the corpus."""
    figures = []
    for _ in range(repeats):
        start = time.perf_counter()
        for case in CASES:
            classify(case.data, OURS)
        figures.append((time.perf_counter() - start) * 1000 / len(CASES))
    return figures


def main() -> None:
    found = score()
    total = found["recipients"]
    print(
        f"{found['cases']} reports, {total} recipients; kinds right: {found['kinds']}/{found['cases']}"
    )
    per_action = found["per_action"]
    right = found["right_action"]
    assert isinstance(per_action, Counter) and isinstance(right, Counter)
    for action in ("suppress", "alert", "retry", "none"):
        print(f"  {action:8} {right[action]}/{per_action[action]} right")
    print(
        f"  suppress precision {found['suppress_precision']:.1%}, recall"
        f" {found['suppress_recall']:.1%}; failures not of the address suppressed:"
        f" {found['wrongly_suppressed']}/{found['not_address']}"
    )
    print(
        f"  reasons right {found['reasons']}/{total}, status codes right {found['statuses']}/{total}"
    )
    ms = timing()
    print(
        f"  time per message: min {min(ms):.2f} / median {statistics.median(ms):.2f} /"
        f" max {max(ms):.2f} ms (3 passes)"
    )
    for line in found["misses"]:  # type: ignore[attr-defined]
        print("  miss:", line)


if __name__ == "__main__":
    main()
