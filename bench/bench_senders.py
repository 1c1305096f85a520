"""Many senders on one PostgreSQL registry: 1, 2 and 4 `batch send` processes share one batch.

    python bench/bench_senders.py                    # 4,000 recipients, 3 rounds
    python bench/bench_senders.py --n 2000 --rounds 1

For each number of senders, with no rate cap: messages per second at the server and
duplicates (must be 0). Then with `[send] rate = 200`: the busiest one-second window at the
server for 1 and 4 senders (the organisation's rate is shared through the database, so it
must stay near 200 whatever the number of senders). Needs PostgreSQL at
CIVIC_CONTACTS_BENCH_PG (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres);
a scratch database is created and dropped. The SMTP server is the lean loopback sink.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sink import LeanSink
from sqlalchemy import create_engine, text

from civic_contacts import synthetic
from civic_contacts.db import make_engine, session_factory
from civic_contacts.migrations import ensure_schema

ADMIN = os.environ.get(
    "CIVIC_CONTACTS_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def scratch_database() -> tuple[str, str]:
    name = f"cc_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name, ADMIN.rsplit("/", 1)[0] + "/" + name


def drop_database(name: str) -> None:
    admin = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def fill(url: str, n: int, folder: Path) -> None:
    engine = make_engine(url)
    ensure_schema(engine)
    with session_factory(engine)() as session, session.begin():
        synthetic.load_base(session)
        synthetic.add_media_list(session, max(1, n // 100), 100 if n >= 100 else n)
    engine.dispose()
    env = {**os.environ, "CIVIC_CONTACTS_DB": url, "CIVIC_CONTACTS_CONFIG": str(folder / "c.toml")}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "civic_contacts",
            "batch",
            "build",
            "sahel-civilians",
            "--out",
            str(folder / "out"),
        ],
        env=env,
        check=True,
        capture_output=True,
    )


def send(url: str, port: int, senders: int, folder: Path, rate: int | None) -> None:
    config = folder / "c.toml"
    config.write_text(f"[send]\nrate = {rate}\n" if rate else "", encoding="utf-8")
    env = {
        **os.environ,
        "CIVIC_CONTACTS_DB": url,
        "CIVIC_CONTACTS_CONFIG": str(config),
        "CIVIC_CONTACTS_PER_DOMAIN_RATE": "0",
    }
    command = [
        sys.executable,
        "-m",
        "civic_contacts",
        "batch",
        "send",
        "sahel-civilians",
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        str(port),
        "--security",
        "none",
        "--connections",
        "4",
        "--yes",
        "--skip-doctor",
    ]
    processes = [
        subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(senders)
    ]
    for process in processes:
        if process.wait(timeout=1800) != 0:
            raise SystemExit(process.stderr.read().decode() if process.stderr else "send failed")


def busiest(times: list[float]) -> int:
    ordered = sorted(times)
    best, j = 0, 0
    for i, start in enumerate(ordered):
        while j < len(ordered) and ordered[j] - start < 1.0:
            j += 1
        best = max(best, j - i)
    return best


def one_run(n: int, senders: int, rate: int | None) -> dict[str, float]:
    folder = Path(tempfile.mkdtemp(prefix="bench-senders-"))
    (folder / "c.toml").write_text("", encoding="utf-8")
    name, url = scratch_database()
    try:
        fill(url, n, folder)
        sink = LeanSink()
        port = sink.start()
        began = time.perf_counter()
        send(url, port, senders, folder, rate)
        elapsed = time.perf_counter() - began
        sink.stop()
        return {
            "messages": sink.count,
            "duplicates": sink.count - len(sink.ids),
            "per_second": sink.count / (sink.last - sink.first) if sink.last > sink.first else 0.0,
            "busiest": busiest(sink.times),
            "seconds": elapsed,
        }
    finally:
        drop_database(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "unknown CPU",
    )
    print(
        f"{args.n} recipients on PostgreSQL, 4 connections per sender; {os.cpu_count()} cores, {cpu}"
    )
    uncapped: dict[int, list[dict[str, float]]] = {}
    for _ in range(args.rounds):
        for senders in (1, 2, 4):
            found = one_run(args.n, senders, None)
            uncapped.setdefault(senders, []).append(found)
            print(
                f"no cap, {senders} sender(s): {found['per_second']:.0f} msg/s at the server,"
                f" {found['duplicates']:.0f} duplicates, {found['messages']:.0f} messages"
            )
    for senders, runs in uncapped.items():
        rates = [r["per_second"] for r in runs]
        ratio = statistics.median(rates) / statistics.median(r["per_second"] for r in uncapped[1])
        print(
            f"no cap, {senders} sender(s): msg/s min/median/max {min(rates):.0f}/"
            f"{statistics.median(rates):.0f}/{max(rates):.0f} ({ratio:.2f}x one sender);"
            f" duplicates {sum(r['duplicates'] for r in runs):.0f}"
        )
    for senders in (1, 4):
        windows = [one_run(min(args.n, 2000), senders, 200)["busiest"] for _ in range(args.rounds)]
        print(
            f"rate = 200, {senders} sender(s): busiest one-second window min/median/max"
            f" {min(windows)}/{statistics.median(windows):.0f}/{max(windows)}"
        )


if __name__ == "__main__":
    main()
