"""How near the floor: each of our commands beside a baseline that shares none of our code
(`bench/baselines/`), side by side in every round, three rounds, min / median / max.

    python bench/bench_floor.py                       # every part at 20,000 and 200,000
    python bench/bench_floor.py --part build --n 20000 --rounds 3
    python bench/bench_floor.py --part send --db postgresql

Parts (each prints the floor it is measured against beside the ratio):
- build: `batch build` (into `--outputs` when given: /dev/shm takes the disk out) against
  merely writing as many files of our messages' mean size
  (`write_files.py`: the floor) and against a naive Jinja2 + EmailMessage mail merge
  (`naive_build.py`, run on the first 5,000 journalists: its rate does not depend on the size);
- memory: `batch build`'s peak RSS with every journalist in one outlet, at each size;
- send: `batch send --connections C` against a plain pipelined asyncio client
  (`pipelined_smtp.py`) sending the same outbox to the same lean sink with the same C
  connections, and against the same client keeping a ledger in the same kind of database
  (`pipelined_ledger.py`: each message claimed, and marked sent before the next body goes);
  CPU per message of ours (the start, `--limit 1`, taken off), and of the PostgreSQL server
  when it runs here;
- import: `journalist import` into a registry with the outlets only, against the bare loader
  (`bare_loader.py`: csv, email-validator, phonenumbers directly, sqlite3);
- startup: `batch send --limit 1` on the largest size's pending batch, and `batch --help`.

Every figure is a whole process run as a user runs it, timed by GNU time (`/usr/bin/time`),
which also gives its peak RSS: a child's figure cannot carry this process's memory. Builds and
the baselines write to the same disk; before each send the outbox is read once, so both sends
read cached files.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_scale import (
    BASELINES,
    CLI,
    RELEASE,
    as_installed,
    base_registry,
    baseline,
    cli_env,
    copy_sqlite,
    machine,
    scratch_pg,
    timed,
    write_outlets,
)
from bench_send_cpu import _copy_pg, server_cpu

PY = sys.executable
NAIVE_SAMPLE = 5_000


def write_csvs(folder: Path, n: int, outlets: int) -> tuple[Path, Path]:
    """`outlets` outlets, `n` journalists shared among them, one phone each, all invented."""
    from civic_contacts import synthetic

    folder.mkdir(parents=True, exist_ok=True)
    outlet_csv = write_outlets(folder / "outlets.csv", outlets)
    journalist_csv = folder / "journalists.csv"
    with open(journalist_csv, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["outlet", "name", "email", "language", "role", "phones"])
        for i in range(n):
            first = synthetic.FIRST[i % len(synthetic.FIRST)]
            last = synthetic.LAST[(i // 7) % len(synthetic.LAST)]
            # Numbers from the +1 202 555 01xx range set aside for fiction.
            writer.writerow(
                [
                    f"outlet-{i % outlets:06d}",
                    f"{first} {last}",
                    f"j{i}@example.com",
                    "",
                    "Reporter",
                    f"+1 202 555 01{i % 100:02d}",
                ]
            )
    return outlet_csv, journalist_csv


class Registry:
    """A registry at three stages (outlets only, journalists imported, batch built), each kept
    so that a round starts from a copy of it: SQLite files, or PostgreSQL template databases."""

    def __init__(self, db: str, work: Path) -> None:
        self.db = db
        self.work = work
        self.drops: list[Callable[[], None]] = []
        if db == "sqlite":
            self.url = f"sqlite:///{work / 'registry.sqlite3'}"
        else:
            server = os.environ.get(
                "CIVIC_CONTACTS_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
            )
            self.url, drop = scratch_pg(server)
            self.drops.append(drop)  # type: ignore[arg-type]
        self.saved: dict[str, str] = {}

    def save(self, stage: str) -> None:
        if self.db == "sqlite":
            copy_sqlite(self.work / "registry.sqlite3", self.work / f"{stage}.sqlite3")
            self.saved[stage] = str(self.work / f"{stage}.sqlite3")
            return
        if stage not in self.saved:
            url, drop = scratch_pg(self.url.rsplit("/", 1)[0] + "/postgres")
            self.drops.append(drop)  # type: ignore[arg-type]
            self.saved[stage] = url
        _copy_pg(self.url, self.saved[stage])

    def restore(self, stage: str) -> None:
        if self.db == "sqlite":
            self._sqlite_files_settled()
            shutil.copy(self.saved[stage], self.work / "registry.sqlite3")
            return
        _copy_pg(self.saved[stage], self.url)

    def _sqlite_files_settled(self) -> None:
        for suffix in ("-wal", "-shm"):
            Path(f"{self.work / 'registry.sqlite3'}{suffix}").unlink(missing_ok=True)

    def close(self) -> None:
        for drop in reversed(self.drops):
            drop()


def summary(values: list[float], unit: str = "", digits: int = 2) -> str:
    ordered = sorted(values)
    return (
        f"{ordered[0]:,.{digits}f} / {statistics.median(ordered):,.{digits}f} /"
        f" {ordered[-1]:,.{digits}f}{unit}"
    )


def mean_size(outbox: Path) -> int:
    sizes = [p.stat().st_size for p in outbox.rglob("*.eml")]
    return int(sum(sizes) / len(sizes))


def setup(db: str, work: Path, n: int, outlets: int) -> tuple[Registry, dict[str, str], Path]:
    outlet_csv, journalist_csv = write_csvs(work, n, outlets)
    registry = Registry(db, work)
    env = cli_env(registry.url, work)
    base_registry(registry.url)
    timed("outlet import", [*CLI, "outlet", "import", str(outlet_csv)], env)
    registry.save("outlets")
    timed("journalist import", [*CLI, "journalist", "import", str(journalist_csv)], env)
    registry.save("imported")
    return registry, env, journalist_csv


def part_build(db: str, work: Path, n: int, rounds: int, outputs: Path | None = None) -> None:
    registry, env, journalist_csv = setup(db, work, n, max(1, n // 100))
    out = outputs or work
    try:
        ours, floor, naive, ratio_floor, ratio_naive = [], [], [], [], []
        for i in range(rounds):
            registry.restore("imported")
            outbox = out / "outbox"
            shutil.rmtree(outbox, ignore_errors=True)
            build = timed(
                "batch build", [*CLI, "batch", "build", RELEASE, "--out", str(outbox)], env
            )
            size = mean_size(outbox)
            shutil.rmtree(outbox)
            files = out / "files"
            written, _ = baseline("write_files.py", str(n), str(size), str(files))
            shutil.rmtree(files)
            plain = out / "naive"
            sample = min(n, NAIVE_SAMPLE)
            merged, _ = baseline(
                "naive_build.py", str(journalist_csv), str(plain), "--limit", str(sample)
            )
            shutil.rmtree(plain)
            ours.append(n / build.seconds)
            floor.append(n / written.seconds)
            naive.append(sample / merged.seconds)
            ratio_floor.append(ours[-1] / floor[-1])
            ratio_naive.append(ours[-1] / naive[-1])
            print(
                f"  round {i + 1}: ours {ours[-1]:,.0f} msg/s ({build.rss_mib:.0f} MiB),"
                f" writing the files {floor[-1]:,.0f}/s ({size:,} B each),"
                f" naive {naive[-1]:,.0f} msg/s",
                flush=True,
            )
        print(f"build {db} {n:,}: ours {summary(ours, ' msg/s', 0)}")
        print(f"build {db} {n:,}: floor (writing the files) {summary(floor, ' files/s', 0)}")
        print(f"build {db} {n:,}: naive mail merge {summary(naive, ' msg/s', 0)}")
        print(f"build {db} {n:,}: ours / floor {summary(ratio_floor, 'x')}")
        print(f"build {db} {n:,}: ours / naive {summary(ratio_naive, 'x', 1)}")
    finally:
        registry.close()


def part_memory(db: str, work: Path, sizes: list[int], rounds: int) -> None:
    peaks: dict[int, list[float]] = {}
    for n in sizes:
        folder = work / f"one-outlet-{n}"
        registry, env, _csv = setup(db, folder, n, 1)
        try:
            for _ in range(rounds):
                registry.restore("imported")
                outbox = folder / "outbox"
                shutil.rmtree(outbox, ignore_errors=True)
                phase = timed(
                    "batch build", [*CLI, "batch", "build", RELEASE, "--out", str(outbox)], env
                )
                peaks.setdefault(n, []).append(phase.rss_mib)
            shutil.rmtree(folder / "outbox", ignore_errors=True)
        finally:
            registry.close()
        print(f"memory {db}: one outlet of {n:,}: peak RSS {summary(peaks[n], ' MiB', 0)}")
    small, large = min(sizes), max(sizes)
    if small != large:
        growth = [b / a for a, b in zip(peaks[small], peaks[large], strict=True)]
        print(f"memory {db}: {large:,} / {small:,} in one outlet: {summary(growth, 'x')}")


def part_send(db: str, work: Path, n: int, rounds: int, connections: int) -> None:
    from sink import LeanSink

    registry, env, _csv = setup(db, work, n, max(1, n // 100))
    outbox = work / "outbox"
    timed("batch build", [*CLI, "batch", "build", RELEASE, "--out", str(outbox)], env)
    registry.save("built")
    sink = LeanSink()
    port = sink.start()
    smtp = ["--smtp-host", "127.0.0.1", "--smtp-port", str(port), "--security", "none", "--yes"]
    ledger = ledger_database(registry, work)
    try:
        share, ours_cpu, server, floor_cpu, ledgered = [], [], [], [], []
        for i in range(rounds):
            registry.restore("built")
            start = timed(
                "batch send --limit 1",
                [*CLI, "batch", "send", RELEASE, *smtp, "--limit", "1"],
                env,
            )
            registry.restore("built")
            for path in outbox.rglob("*.eml"):
                path.read_bytes()
            before_server, before = server_cpu(), sink.count
            ours = timed(
                "batch send",
                [*CLI, "batch", "send", RELEASE, *smtp, "--connections", str(connections)],
                env,
            )
            server_used = server_cpu() - before_server
            if sink.count - before != n:
                raise SystemExit(f"the sink received {sink.count - before} of {n}")
            plain, _ = baseline(
                "pipelined_smtp.py", "127.0.0.1", str(port), str(outbox), str(connections)
            )
            subprocess.run(
                [PY, str(BASELINES / "pipelined_ledger.py"), "setup", ledger, str(outbox)],
                check=True,
            )
            before = sink.count
            kept, _ = baseline(
                "pipelined_ledger.py", "send", ledger, "127.0.0.1", str(port), str(connections)
            )
            if sink.count - before != n:
                raise SystemExit(f"the ledgered client sent {sink.count - before} of {n}")
            share.append(plain.seconds / ours.seconds)
            ledgered.append(kept.seconds / ours.seconds)
            ours_cpu.append((ours.cpu - start.cpu) / n * 1000)
            server.append(server_used / n * 1000 if db == "postgresql" else 0.0)
            floor_cpu.append(plain.cpu / n * 1000)
            print(
                f"  round {i + 1}: ours {n / ours.seconds:,.0f} msg/s, pipelined client"
                f" {n / plain.seconds:,.0f} msg/s, with a ledger {n / kept.seconds:,.0f} msg/s;"
                f" CPU ms per message: ours {ours_cpu[-1]:.3f},"
                f" server {server[-1]:.3f}, pipelined client {floor_cpu[-1]:.3f}",
                flush=True,
            )
        print(
            f"send {db} {n:,}, {connections} connections: ours / pipelined client {summary(share, 'x')}"
        )
        print(
            f"send {db} {n:,}, {connections} connections: ours / pipelined client with a ledger"
            f" {summary(ledgered, 'x')}"
        )
        print(f"send {db} {n:,}: our CPU per message {summary(ours_cpu, ' ms', 3)}")
        if db == "postgresql":
            print(f"send {db} {n:,}: the server's CPU per message {summary(server, ' ms', 3)}")
        print(
            f"send {db} {n:,}: the pipelined client's CPU per message {summary(floor_cpu, ' ms', 3)}"
        )
    finally:
        sink.stop()
        registry.close()


def ledger_database(registry: Registry, work: Path) -> str:
    """Where `pipelined_ledger.py` keeps its table: a scratch database on the registry's
    PostgreSQL server (as libpq names it), or an SQLite file beside the registry."""
    if registry.db == "sqlite":
        return str(work / "ledger.sqlite3")
    url, drop = scratch_pg(registry.url.rsplit("/", 1)[0] + "/postgres")
    registry.drops.append(drop)  # type: ignore[arg-type]
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def part_import(db: str, work: Path, n: int, rounds: int) -> None:
    registry, env, journalist_csv = setup(db, work, n, max(1, n // 100))
    try:
        ratios = []
        for i in range(rounds):
            registry.restore("outlets")
            ours = timed(
                "journalist import", [*CLI, "journalist", "import", str(journalist_csv)], env
            )
            target = work / "bare.sqlite3"
            target.unlink(missing_ok=True)
            bare, _ = baseline("bare_loader.py", str(journalist_csv), str(target))
            ratios.append(ours.seconds / bare.seconds)
            print(
                f"  round {i + 1}: ours {ours.seconds:.2f} s, bare loader {bare.seconds:.2f} s",
                flush=True,
            )
        print(f"import {db} {n:,}: ours / bare loader (time) {summary(ratios, 'x')}")
    finally:
        registry.close()


def part_startup(db: str, work: Path, n: int, rounds: int) -> None:
    registry, env, _csv = setup(db, work, n, max(1, n // 100))
    try:
        timed("batch build", [*CLI, "batch", "build", RELEASE, "--out", str(work / "outbox")], env)
        registry.save("built")
        smtp = ["--smtp-host", "127.0.0.1", "--smtp-port", "1", "--security", "none", "--yes"]
        first, helps, bare = [], [], []
        from sink import LeanSink

        sink = LeanSink()
        smtp[3] = str(sink.start())
        try:
            for _ in range(rounds):
                registry.restore("built")
                one = timed(
                    "send --limit 1",
                    [*CLI, "batch", "send", RELEASE, *smtp, "--limit", "1"],
                    env,
                )
                first.append(one.seconds)
                helps.append(timed("batch --help", [*CLI, "batch", "--help"], env).seconds)
                bare.append(timed("python -c pass", [PY, "-c", "pass"], env).seconds)
        finally:
            sink.stop()
        print(f"startup {db}: batch send --limit 1 on {n:,} pending {summary(first, ' s')}")
        print(f"startup: batch --help {summary(helps, ' s')}; bare python {summary(bare, ' s')}")
    finally:
        registry.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--part", action="append", choices=["build", "memory", "send", "import", "startup"]
    )
    parser.add_argument("--n", type=int, action="append")
    parser.add_argument("--db", choices=["sqlite", "postgresql"], action="append")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument(
        "--outputs",
        type=Path,
        help="where builds and their baselines write their files (default: beside the"
        " registry, on the same disk); /dev/shm takes the disk out of the comparison",
    )
    args = parser.parse_args()
    parts = args.part or ["build", "memory", "send", "import", "startup"]
    sizes = args.n or [20_000, 200_000]
    print(machine())
    print(as_installed())
    with tempfile.TemporaryDirectory(prefix="cc-floor-") as tmp:
        root = Path(tmp)

        def fresh(name: str) -> Path:
            folder = root / name
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            return folder

        for part in parts:
            for db in args.db or (["sqlite", "postgresql"] if part == "send" else ["sqlite"]):
                print(f"\n== {part}, {db}", flush=True)
                if part == "memory":
                    part_memory(db, fresh("memory"), sizes, args.rounds)
                elif part == "startup":
                    part_startup(db, fresh("startup"), max(sizes), args.rounds)
                else:
                    for n in sizes:
                        work = fresh(f"{part}-{n}")
                        if part == "build":
                            part_build(db, work, n, args.rounds, args.outputs)
                        elif part == "send":
                            part_send(db, work, n, args.rounds, args.connections)
                        else:
                            part_import(db, work, n, args.rounds)


if __name__ == "__main__":
    main()
