"""The main job at scale, measured in one run: import, routing, batch build, batch send, and
the naive mail merge of bench/baselines/ (no civic-contacts code) as the yardstick.

    python bench/bench_batch.py                      # 20,000 recipients in 200 outlets
    python bench/bench_batch.py --outlets 20 --per-outlet 100 --skip-send

Prints rates (messages or rows per second), peak memory (RSS) of the `batch build` process
for 2,000 and for the full size, and the ratios the performance issue asks about. Everything
runs on a temporary SQLite registry and a loopback SMTP sink; nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from civic_contacts import synthetic
from civic_contacts.db import make_engine, session_factory
from civic_contacts.migrations import ensure_schema
from civic_contacts.registry import importing
from civic_contacts.registry import store as registry
from civic_contacts.releases import routing
from civic_contacts.releases import store as releases

CLI = [sys.executable, "-m", "civic_contacts"]


def registry_of(folder: Path, name: str, outlets: int, per_outlet: int) -> str:
    url = f"sqlite:///{folder / name}"
    engine = make_engine(url)
    ensure_schema(engine)
    with session_factory(engine)() as session, session.begin():
        synthetic.load_base(session, dt.datetime.now(dt.UTC) + dt.timedelta(days=30))
        synthetic.add_media_list(session, outlets, per_outlet)
    engine.dispose()
    return url


@dataclass
class Run:
    """One command as a user runs it: wall time, CPU time in the program and in the kernel
    (with its child processes, such as the outbox writer), and peak RSS in MiB."""

    seconds: float
    user: float
    kernel: float
    rss: int


def timed_process(args: list[str], env: dict[str, str]) -> Run:
    """Run one command as a user runs it and measure it with GNU time, which forks it from a
    small process: its peak RSS is the command's own (`os.wait4` here would also count this
    bench's memory, which a forked child carries until it runs the command)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        done = subprocess.run(
            ["/usr/bin/time", "-f", "%e %M %U %S", "-o", report.name, *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr.decode()}")
        seconds, rss_kib, user, kernel = report.read().split()[-4:]
    return Run(float(seconds), float(user), float(kernel), int(rss_kib) // 1024)


def bench_import(folder: Path, rows: int, phones: bool) -> float:
    """Rows per second for `journalist import` of a CSV (in-process, one transaction)."""
    url = f"sqlite:///{folder / f'import-{rows}-{phones}.sqlite3'}"
    engine = make_engine(url)
    ensure_schema(engine)
    with session_factory(engine)() as session, session.begin():
        synthetic.load_base(session)
        synthetic.add_media_list(session, 50, 0)
    path = folder / f"journalists-{phones}.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["outlet", "name", "email", "language", "role", "phones"])
        for i in range(rows):
            writer.writerow(
                [
                    f"outlet-{i % 50:05d}",
                    f"Journaliste {i} Diallo",
                    f"j{i}@example.com",
                    "",
                    "Reporter",
                    "+1 202 555 0123 (WhatsApp)" if phones else "",
                ]
            )
    start = time.perf_counter()
    with session_factory(engine)() as session, session.begin():
        report = importing.import_journalists(session, path)
    elapsed = time.perf_counter() - start
    assert report.created == rows
    engine.dispose()
    return rows / elapsed


def bench_routing(url: str) -> tuple[int, float]:
    engine = make_engine(url)
    with session_factory(engine)() as session:
        release = releases.get_release(session, "sahel-civilians")
        args = (
            releases.release_info(release),
            registry.routing_outlets(session),
            registry.routing_journalists(session),
            registry.routing_contacts(session),
            registry.routing_offices(session),
        )
        start = time.perf_counter()
        routings = routing.route_release(*args)
        elapsed = time.perf_counter() - start
    engine.dispose()
    return sum(len(r.journalists) for r in routings), elapsed


def bench_naive(url: str, folder: Path, sample: int) -> float:
    """The yardstick: `bench/baselines/naive_build.py` (a naive mail merge that shares no code
    with civic-contacts) on the first `sample` journalists of the registry, in messages per
    second of its whole process."""
    import contextlib
    import sqlite3

    from bench_scale import baseline

    csv_path = folder / "naive-journalists.csv"
    with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as connection:
        rows = connection.execute(
            "SELECT o.slug, j.name, j.email FROM journalists j JOIN outlets o"
            " ON o.id = j.outlet_id ORDER BY j.id LIMIT ?",
            (sample,),
        ).fetchall()
    with open(csv_path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["outlet", "name", "email"])
        writer.writerows(rows)
    merge, _figures = baseline("naive_build.py", str(csv_path), str(folder / "naive-out"))
    return len(rows) / merge.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outlets", type=int, default=200)
    parser.add_argument("--per-outlet", type=int, default=100)
    parser.add_argument("--naive-sample", type=int, default=1000)
    parser.add_argument("--import-rows", type=int, default=10_000)
    parser.add_argument("--skip-send", action="store_true")
    args = parser.parse_args()
    total = args.outlets * args.per_outlet
    small_outlets = max(1, args.outlets // 10)
    with tempfile.TemporaryDirectory(prefix="cc-bench-") as tmp:
        folder = Path(tmp)
        env = {
            **os.environ,
            "CIVIC_CONTACTS_CONFIG": str(folder / "none.toml"),
            # Every synthetic address is at one domain: the per-domain pace would measure
            # itself, not the sender.
            "CIVIC_CONTACTS_PER_DOMAIN_RATE": "0",
        }
        env.pop("CIVIC_CONTACTS_UNSUBSCRIBE_SECRET", None)
        print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
        from bench_scale import as_installed

        print(as_installed())

        rate = bench_import(folder, args.import_rows, phones=False)
        print(f"journalist import, no phones:  {rate:9,.0f} rows/s  ({args.import_rows:,} rows)")
        rate = bench_import(folder, args.import_rows // 2, phones=True)
        print(
            f"journalist import, one phone:  {rate:9,.0f} rows/s  ({args.import_rows // 2:,} rows)"
        )

        big = registry_of(folder, "big.sqlite3", args.outlets, args.per_outlet)
        small = registry_of(folder, "small.sqlite3", small_outlets, args.per_outlet)
        routed, seconds = bench_routing(big)
        print(
            f"routing:                       {routed / seconds:9,.0f} journalists/s  ({routed:,} in {seconds:.2f} s)"
        )

        naive = bench_naive(big, folder, args.naive_sample)
        print(
            f"naive mail merge:              {naive:9,.0f} messages/s  (sample of {args.naive_sample:,};"
            " bench/baselines/naive_build.py)"
        )

        def build(url: str, out: str) -> Run:
            return timed_process(
                [
                    *CLI,
                    "--db",
                    url,
                    "batch",
                    "build",
                    "sahel-civilians",
                    "--out",
                    str(folder / out),
                ],
                env,
            )

        small_run = build(small, "out-small")
        big_run = build(big, "out-big")
        small_n = small_outlets * args.per_outlet
        build_rate = total / big_run.seconds
        for n, run in ((small_n, small_run), (total, big_run)):
            print(
                f"batch build, {n:,} messages: {n / run.seconds:9,.0f} messages/s end to end "
                f"({run.seconds:.2f} s; CPU {run.user:.2f} s in Python, {run.kernel:.2f} s in the kernel),"
                f" peak RSS {run.rss} MiB"
            )
        print(f"  ratio to naive mail merge:   {build_rate / naive:9.1f}x  (target >= 25x)")
        if big_run.kernel > big_run.user:
            print(
                "  note: the kernel took longer to create the files than Python took to build them;"
                " on ext4 without a journal that happens for a few minutes after tens of thousands"
                " of files were deleted nearby (a previous run's outbox): see README, Performance"
            )
        print(
            f"  RSS {total:,} / {small_n:,}:        {big_run.rss / small_run.rss:9.2f}   (target <= 1.5)"
        )
        eml = sum(1 for _ in (folder / "out-big").glob("*/*.eml"))
        assert eml == total, f"{eml} files for {total} messages"

        if not args.skip_send:
            from sink import LeanSink

            sink = LeanSink()
            port = sink.start()
            try:
                send_run = timed_process(
                    [
                        *CLI,
                        "--db",
                        big,
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
                    ],
                    env,
                )
            finally:
                sink.stop()
            print(
                f"batch send, 4 connections:     {total / send_run.seconds:9,.0f} messages/s end to end "
                f"({send_run.seconds:.2f} s), {sink.count / max(sink.last - sink.first, 1e-9):,.0f}/s at the server, "
                f"peak RSS {send_run.rss} MiB"
            )
            print(
                f"  received {sink.count:,}, distinct Message-IDs {len(sink.ids):,} (expected {total:,} of each)"
            )


if __name__ == "__main__":
    main()
