"""Peak memory of `bounce fetch` against a mailbox of large messages (a real Dovecot on
loopback, started as the tests start it).

    python bench/bench_mailbox.py [--messages 50] [--megabytes 10] [--rounds 3]

Each round: a fresh registry, the messages appended to INBOX, one `civic-contacts bounce
fetch` under /usr/bin/time -v (its own process: the peak RSS is its own, never the parent's).
Prints the wall time and peak RSS of each round, then min / median / max. The messages are
bounce reports padded to the given size (what a hostile sender, or a mail loop, can put in
the bounce mailbox). Nothing leaves this machine.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.after.test_bounces import mailbox_config, running_dovecot
from tests.bounce_cases import postfix


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50)
    parser.add_argument("--megabytes", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    padding = b"x" * (args.megabytes * 1024 * 1024)
    peaks: list[float] = []
    walls: list[float] = []
    for round_number in range(1, args.rounds + 1):
        with running_dovecot() as box, tempfile.TemporaryDirectory() as folder:
            work = Path(folder)
            config = work / "config.toml"
            config.write_text(
                '[bounces]\nreturn_path = "bounces@example.org"\n' + mailbox_config(box),
                encoding="utf-8",
            )
            with box.client() as client:
                for n in range(args.messages):
                    report = postfix(f"p{n}@example.com", "5.1.1", "550 5.1.1 user unknown")
                    client.append("INBOX", report + padding)
            env = {
                **os.environ,
                "CIVIC_CONTACTS_CONFIG": str(config),
                "CIVIC_CONTACTS_BOUNCES_PASSWORD": box.password,
                "CIVIC_CONTACTS_DB": f"sqlite:///{work / 'registry.sqlite3'}",
            }
            done = subprocess.run(
                ["/usr/bin/time", "-v", sys.executable, "-m", "civic_contacts", "bounce", "fetch"],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
            wall = re.search(
                r"Elapsed \(wall clock\) time .*: (?:(\d+):)?(\d+):([\d.]+)", done.stderr
            )
            assert rss and wall and done.returncode == 0, done.stderr[-2000:]
            seconds = (
                int(wall.group(1) or 0) * 3600 + int(wall.group(2)) * 60 + float(wall.group(3))
            )
            peaks.append(int(rss.group(1)) / 1024)
            walls.append(seconds)
            print(
                f"round {round_number}: {args.messages} messages of {args.megabytes} MB:"
                f" {seconds:.1f} s, peak RSS {peaks[-1]:.1f} MiB",
                flush=True,
            )
    print(
        f"peak RSS min/median/max: {min(peaks):.1f} / {statistics.median(peaks):.1f} /"
        f" {max(peaks):.1f} MiB; wall {min(walls):.1f} / {statistics.median(walls):.1f} /"
        f" {max(walls):.1f} s"
    )


if __name__ == "__main__":
    main()
