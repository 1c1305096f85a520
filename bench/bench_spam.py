"""How a spam filter scores the messages journalists get: SpamAssassin (Debian's package), local
tests only (no network look-ups), on every message the demo builds.

    python bench/bench_spam.py              # needs `spamassassin` (apt-get install spamassassin)

The demo is built into a temporary folder with its invented registry, and each message is run
through `spamassassin -L -t` as it would arrive (the envelope's Received headers are the only
thing missing). Prints each language's scores (min / median / max), the rules that fired, and
the worst message; the target is a score of at most 0.5.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

_SCORE = re.compile(r"^Content analysis details:\s+\((-?[\d.]+) points", re.M)
_RULE = re.compile(r"^\s*(-?[\d.]+)\s+([A-Z0-9_]+)\s", re.M)


def score(message: Path) -> tuple[float, list[str]]:
    """SpamAssassin's score of one message and the rules that fired (local tests only)."""
    done = subprocess.run(
        ["spamassassin", "-L", "-t"],
        stdin=message.open("rb"),
        capture_output=True,
        timeout=120,
    )
    report = done.stdout.decode("utf-8", "replace")
    found = _SCORE.search(report)
    if found is None:
        raise SystemExit(f"{message}: no SpamAssassin report\n{done.stderr.decode()[-500:]}")
    # The table of rules: after the line with the score, up to the next blank line.
    details = report[found.end() :].split("\n", 1)[-1].lstrip("\n").split("\n\n", 1)[0]
    return float(found.group(1)), [name for _points, name in _RULE.findall(details)]


def main() -> None:
    if shutil.which("spamassassin") is None:
        raise SystemExit("spamassassin is not installed (apt-get install -y spamassassin)")
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        env = {
            **os.environ,
            "CIVIC_CONTACTS_DB": f"sqlite:///{work / 'demo.sqlite3'}",
            "CIVIC_CONTACTS_CONFIG": str(work / "config.toml"),
        }
        subprocess.run(
            [sys.executable, "-m", "civic_contacts", "demo", "--out", str(work / "out")],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        by_language: dict[str, list[tuple[float, str]]] = {}
        rules: Counter[str] = Counter()
        for message in sorted((work / "out").glob("*/*.eml")):
            head = message.read_bytes().split(b"\r\n\r\n", 1)[0]
            language = re.search(rb"^Content-Language: (\S+)", head, re.M)
            points, fired = score(message)
            key = language.group(1).decode() if language else "?"
            by_language.setdefault(key, []).append((points, message.name))
            rules.update(fired)
    print("SpamAssassin, local tests only (spamassassin -L -t), every demo message")
    worst = max((s for scores in by_language.values() for s in scores), default=(0.0, ""))
    for language, scores in sorted(by_language.items()):
        values = [s for s, _name in scores]
        print(
            f"  {language}: {len(values)} messages, score min {min(values):.1f} /"
            f" median {statistics.median(values):.1f} / max {max(values):.1f}"
        )
    print(
        "  rules that fired: " + (", ".join(f"{r} ({n})" for r, n in rules.most_common()) or "none")
    )
    verdict = "within" if worst[0] <= 0.5 else "ABOVE"
    print(f"  worst: {worst[0]:.1f} ({worst[1]}), {verdict} the 0.5 target")


if __name__ == "__main__":
    main()
