"""How well `bounces classify` reads real reports, and how fast.

    python bench/bench_bounces.py [CORPUS]

CORPUS defaults to ../shared/corpora/bounces (589 real reports from real servers, with
sisimai's labels in expected.jsonl; see its README). Prints, per sisimai reason, how many
recipients were suppressed, alerted, retried or left alone; the targets of issue 34 (dead
addresses suppressed, other failures wrongly suppressed, complaints with the complained
address, auto-replies, status codes); the invented fixtures of tests/bounce_cases.py as a
second line; and the time per message (min / median / max of 3 passes over the corpus).

Reading sisimai's reasons (the corpus README): hard = 1 (userunknown, hostunknown, hasmoved,
notaccept) and ARF feedback should be suppressed; a vacation is an auto-reply; everything
else must not be suppressed. Status codes are scored where sisimai gives an explicit one
(not its own X.0.9xx codes for reports that carry none).
"""

from __future__ import annotations

import email
import email.policy
import json
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from civic_contacts.after.classify import Report, classify, messages_in  # noqa: E402
from tests.bounce_cases import CASES, OURS  # noqa: E402

ALERT = set(
    [
        "authfailure",
        "badreputation",
        "blocked",
        "norelaying",
        "policyviolation",
        "requireptr",
        "securityerror",
        "spamdetected",
        "virusdetected",
        "contenterror",
        "notcompliantrfc",
        "rejected",
        "filtered",
    ]
)
RETRY = set(
    [
        "mailboxfull",
        "expired",
        "networkerror",
        "toomanyconn",
        "speeding",
        "systemfull",
        "systemerror",
        "exceedlimit",
        "mesgtoobig",
        "suspend",
        "onhold",
        "mailererror",
        "syntaxerror",
        "undefined",
    ]
)
INTERNAL = re.compile(r"^\d\.0\.9\d\d$")  # sisimai's own codes for reports with none


def wanted(expect: dict[str, object]) -> str:
    """Our action for one of sisimai's labels."""
    reason = str(expect["reason"])
    if expect["hard"] or reason == "feedback":
        return "suppress"
    if reason in ALERT:
        return "alert"
    if reason in RETRY:
        return "retry"
    return "none"


_ADDRESS = re.compile(r"[^\s<>@\"',;:]+@[\w.-]+\.\w+")
_NAMING_FIELDS = ("original-rcpt-to", "removal-recipient", "redacted-address")
_COPY_FIELDS = ("to", "cc", "x-hmxmroriginalrecipient", "delivered-to", "x-original-to")


def names_an_address(data: bytes) -> bool:
    """Whether a complaint names the complained address anywhere: a feedback report's
    Original-Rcpt-To (or Removal-Recipient, Redacted-Address), or a recipient field of, or
    a `for <x>` in a Received line of, the copy it carries. Some real feedback loops name
    nobody (the copy went to "undisclosed recipients"): such a report can only act on its
    token's own recipient, and is scored apart. Read here without the classifier's code."""
    message = email.message_from_bytes(data, policy=email.policy.compat32)
    seen_parts = False
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/feedback-report":
            seen_parts = True
            text = part.get_payload()
            text = text[0].as_string() if isinstance(text, list) else str(text)
            for line in text.splitlines():
                field, _, value = line.partition(":")
                if field.strip().lower() in _NAMING_FIELDS and "@" in value:
                    return True
        elif kind in ("message/rfc822", "text/rfc822-headers"):
            seen_parts = True
            payload = part.get_payload()
            copy = (
                payload[0]
                if isinstance(payload, list)
                else email.message_from_string(str(payload), policy=email.policy.compat32)
            )
            for field in _COPY_FIELDS:
                if any(_ADDRESS.search(str(v)) for v in copy.get_all(field) or []):
                    return True
            received = " ".join(str(v) for v in copy.get_all("received") or [])
            if re.search(r"\bfor\s+<?[^\s<>;]+@", received):
                return True
    return not seen_parts


def load(corpus: Path) -> list[tuple[str, bytes, list[dict[str, object]]]]:
    rows = []
    for line in (corpus / "expected.jsonl").read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        _name, data = next(iter(messages_in(corpus / entry["file"])))
        rows.append((entry["file"], data, entry["expect"]))
    return rows


def score(rows: list[tuple[str, bytes, list[dict[str, object]]]]) -> dict[str, object]:
    per_reason: dict[str, Counter[str]] = defaultdict(Counter)
    found = Counter[str]()
    misses: list[str] = []
    for name, data, expect in rows:
        report: Report = classify(data)
        actions = [r.action for r in report.recipients]
        reasons = {str(e["reason"]) for e in expect}
        hard = any(e["hard"] for e in expect)
        if hard:
            found["hard"] += 1
            found["hard_suppressed"] += "suppress" in actions
            if "suppress" not in actions:
                misses.append(f"dead, not suppressed: {name} {_said(report)}")
        elif not reasons & {"feedback", "vacation"}:
            found["other"] += 1
            found["other_suppressed"] += "suppress" in actions
            if "suppress" in actions:
                misses.append(f"suppressed, not dead: {name} {sorted(reasons)} {_said(report)}")
        if "feedback" in reasons and not names_an_address(data):
            found["complaints_unnamed"] += 1
            found["complaints_unnamed_right"] += (
                report.kind == "complaint" and report.unnamed[0] == "suppress"
            )
        elif "feedback" in reasons:
            found["complaints"] += 1
            named = report.kind == "complaint" and any(
                "@" in r.email and r.action == "suppress" for r in report.recipients
            )
            found["complaints_named"] += named
            if not named:
                misses.append(f"complaint without its address: {name}")
        if "vacation" in reasons:
            found["auto"] += 1
            found["auto_right"] += report.kind == "auto-reply" and "suppress" not in actions
        statuses = Counter(r.status for r in report.recipients)
        for e in expect:
            per_reason[str(e["reason"])][_bucket(wanted(e), actions)] += 1
            status = str(e["status"] or "")
            if not status or INTERNAL.match(status):
                continue
            found["statuses"] += 1
            if statuses[status] > 0:
                statuses[status] -= 1
                found["statuses_right"] += 1
    return {"found": found, "per_reason": per_reason, "misses": misses}


def _bucket(want: str, actions: list[str]) -> str:
    return "right" if want in actions else (actions[0] if actions else "missing")


def _said(report: Report) -> str:
    return "; ".join(f"{r.action} {r.reason}" for r in report.recipients) or report.kind


def fixtures() -> tuple[int, int, int]:
    """Invented fixtures: recipients, right actions, wrongly suppressed."""
    total = right = wrong = 0
    for case in CASES:
        got = {r.email: r.action for r in classify(case.data, OURS).recipients}
        for expected in case.recipients:
            total += 1
            right += got.get(expected.email) == expected.action
            wrong += got.get(expected.email) == "suppress" and expected.action != "suppress"
    return total, right, wrong


def timing(datas: list[bytes], repeats: int = 3) -> list[float]:
    """Milliseconds per message, one figure per pass."""
    figures = []
    for _ in range(repeats):
        start = time.perf_counter()
        for data in datas:
            classify(data)
        figures.append((time.perf_counter() - start) * 1000 / len(datas))
    return figures


def _share(part: int, whole: int) -> str:
    return f"{part}/{whole} ({part / whole:.1%})" if whole else "0/0"


def main() -> None:
    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared/corpora/bounces"
    rows = load(corpus)
    result = score(rows)
    found: Counter[str] = result["found"]  # type: ignore[assignment]
    print(f"{len(rows)} real reports from {corpus}")
    print(
        f"  dead addresses suppressed:          {_share(found['hard_suppressed'], found['hard'])}"
        "  (target >= 97%)"
    )
    print(
        f"  other failures wrongly suppressed:  {_share(found['other_suppressed'], found['other'])}"
        "  (target <= 1%)"
    )
    print(
        f"  complaints with the address:        {_share(found['complaints_named'], found['complaints'])}"
        "  (target >= 97%)"
    )
    print(
        "  complaints naming no address:       "
        f"{found['complaints_unnamed']}, of which {found['complaints_unnamed_right']} act on"
        " their token's own recipient"
    )
    print(
        f"  auto-replies read as auto-replies:  {_share(found['auto_right'], found['auto'])}"
        "  (target >= 95%)"
    )
    print(
        f"  explicit status codes right:        {_share(found['statuses_right'], found['statuses'])}"
        "  (target >= 95%)"
    )
    print("  per sisimai reason (our action wanted): right / otherwise")
    per_reason: dict[str, Counter[str]] = result["per_reason"]  # type: ignore[assignment]
    for reason, counts in sorted(per_reason.items(), key=lambda kv: -sum(kv[1].values())):
        others = ", ".join(f"{k} {v}" for k, v in counts.items() if k != "right")
        want = wanted(
            {
                "reason": reason,
                "hard": reason in ("userunknown", "hostunknown", "hasmoved", "notaccept"),
            }
        )
        print(
            f"    {reason:16} {want:8} {counts['right']}/{sum(counts.values())}"
            + (f"  ({others})" if others else "")
        )
    total, right, wrong = fixtures()
    print(f"invented fixtures: {right}/{total} actions right, {wrong} wrongly suppressed")
    ms = timing([data for _n, data, _e in rows])
    print(
        f"time per message: min {min(ms):.2f} / median {statistics.median(ms):.2f} /"
        f" max {max(ms):.2f} ms (3 passes)"
    )
    for line in result["misses"]:  # type: ignore[attr-defined]
        print("  miss:", line)


if __name__ == "__main__":
    main()
