"""The whole job at scale, phase by phase, with the references measured in the same run.

    python bench/bench_scale.py                            # 20,000 and 200,000, SQLite and PostgreSQL
    python bench/bench_scale.py --n 1000000 --db sqlite    # the full run (about 15 GB of outbox)
    python bench/bench_scale.py --n 1000000 --db sqlite --imports-only 3   # the import alone

For each size and database: a synthetic media list (N journalists in N/100 outlets, one phone
each) is imported from CSV, routed, built, sent with `--limit 1` and then whole to a loopback
SMTP sink with 8 connections, and its status and audit read, each phase as a user runs it: the
command line in its own process, timed, its peak RSS read by GNU time (`/usr/bin/time`), which
forks the command from a small process, so the figure cannot carry the parent's memory.

References in the same run, on the same machine and data, each a script of
`bench/baselines/` that shares no code with civic-contacts, run as a process of its own under
GNU time (see bench/baselines/README.md):
- the bare loader (`bare_loader.py`): the same CSV read with `csv`, addresses checked by
  email-validator, numbers parsed by phonenumbers directly, rows inserted with `executemany`
  into an SQLite file (on a PostgreSQL run too: it is the floor of the work, not of a server);
- the naive mail merge (`naive_build.py`): Jinja2 and one stdlib EmailMessage per message, on
  a sample of the same journalists;
- the send's floor, the pipelined client (`pipelined_smtp.py`), and a plain smtplib loop
  (`smtplib_loop.py`: threads, and processes, as `batch send` on PostgreSQL runs its
  connections: see sender.Sender._in_processes), the outbox's files to the same sink with the
  same connections.

PostgreSQL runs use a scratch database created and dropped here (CIVIC_CONTACTS_BENCH_PG names
the server, default postgresql+psycopg://postgres@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

CLI = [sys.executable, "-m", "civic_contacts"]
HERE = Path(__file__).resolve()
BASELINES = HERE.parent / "baselines"
RELEASE = "sahel-civilians"
NAIVE_SAMPLE = 1_000  # messages the naive merge builds (it runs at about 500 a second)


@dataclass
class Phase:
    """One process as a user runs it: wall seconds, peak RSS in MiB, CPU seconds."""

    name: str
    seconds: float
    rss_mib: float
    cpu: float
    note: str = ""


def timed(
    name: str, args: list[str], env: dict[str, str], stdout: Path | None = None, ok: int = 0
) -> Phase:
    """Run a command under GNU time; fail loudly if it exits other than `ok`."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        command = ["/usr/bin/time", "-f", "%e %M %U %S", "-o", report.name, *args]
        out = open(stdout, "wb") if stdout else subprocess.DEVNULL  # noqa: SIM115
        try:
            done = subprocess.run(command, env=env, stdout=out, stderr=subprocess.PIPE)
        finally:
            if stdout:
                out.close()  # type: ignore[union-attr]
        if done.returncode != ok:
            raise SystemExit(f"{name} failed ({' '.join(args)}):\n{done.stderr.decode()[-2000:]}")
        fields = report.read().split()[-4:]
    seconds, rss_kib, user, system = (
        float(fields[0]),
        int(fields[1]),
        float(fields[2]),
        float(fields[3]),
    )
    return Phase(name, seconds, rss_kib / 1024, user + system)


def baseline(name: str, *args: str) -> tuple[Phase, list[str]]:
    """Run a script of bench/baselines/ under GNU time: the process's figures, and the
    figures it printed (messages or rows, seconds, per second)."""
    with tempfile.NamedTemporaryFile("r", suffix=".out") as out:
        command = [sys.executable, str(BASELINES / name), *args]
        phase = timed(name, command, dict(os.environ), Path(out.name))
        return phase, out.read().split()


def copy_sqlite(source: Path, target: Path) -> None:
    """Copy an SQLite registry a command left, its write-ahead log folded into the file first
    (a plain copy of the file alone would miss the last command's writes)."""
    import contextlib
    import shutil
    import sqlite3

    with contextlib.closing(sqlite3.connect(source)) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(source, target)


def as_installed() -> str:
    """Compile our package's bytecode now, as `pip install` does, so that no timed command
    compiles our source: with PYTHONDONTWRITEBYTECODE set (this machine's sandbox sets it) or
    a checkout never run, every command would compile all of it again (about 0.1 s a run),
    while the baselines' libraries come compiled. Returns the line that says so."""
    import civic_contacts

    package = Path(civic_contacts.__file__).resolve().parent
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=True)
    return f"code: {package} (bytecode compiled first, as installed)"


def machine() -> str:
    """The line that says what the figures were measured on."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return f"machine: {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


# The data ---------------------------------------------------------------------------------------


def write_outlets(path: Path, count: int, suffix: str = "") -> Path:
    """`count` invented outlets ("Outlet 7" and `suffix`), over synthetic's countries."""
    from civic_contacts import synthetic

    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["slug", "name", "country", "languages", "timezone", "kind", "tags"])
        for i in range(count):
            country, zone, languages = synthetic.COUNTRIES[i % len(synthetic.COUNTRIES)]
            name = f"Outlet {i}{suffix}"
            writer.writerow(
                [f"outlet-{i:06d}", name, country, ";".join(languages), zone, "online", ""]
            )
    return path


def write_csvs(folder: Path, n: int) -> tuple[Path, Path]:
    """Outlets (one per 100 journalists) and journalists with one phone each, all invented."""
    from civic_contacts import synthetic

    outlets = max(1, n // 100)
    outlet_csv = write_outlets(folder / "outlets.csv", outlets, " Média")
    journalist_csv = folder / "journalists.csv"
    with open(journalist_csv, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["outlet", "name", "email", "language", "role", "phones"])
        for i in range(n):
            outlet = i % outlets
            # Numbers from the +1 202 555 01xx range set aside for fiction, one per journalist.
            writer.writerow(
                [
                    f"outlet-{outlet:06d}",
                    f"{synthetic.FIRST[i % len(synthetic.FIRST)]} {synthetic.LAST[(i // 7) % len(synthetic.LAST)]}",
                    f"j{i}@example.com",
                    "",
                    "Reporter",
                    f"+1 202 555 01{i % 100:02d} x{i}",
                ]
            )
    return outlet_csv, journalist_csv


def base_registry(url: str) -> None:
    """The demo offices, press contacts and release, and the schema (small, not measured)."""
    from civic_contacts import synthetic
    from civic_contacts.db import make_engine, session_factory
    from civic_contacts.migrations import ensure_schema

    engine = make_engine(url)
    ensure_schema(engine)
    with session_factory(engine)() as session, session.begin():
        synthetic.load_base(session, dt.datetime.now(dt.UTC) + dt.timedelta(days=30))
    engine.dispose()


def steady_rate(times: list[float]) -> float:
    """Messages per second at the sink from the first message to the last (the start of the
    sending process, and its end, left out)."""
    if len(times) < 2 or times[-1] <= times[0]:
        return 0.0
    return (len(times) - 1) / (times[-1] - times[0])


def warm_outbox(folder: Path, limit: int) -> None:
    """Read the first `limit` files of the outbox's manifest once (into the page cache)."""
    import json

    with open(folder / "manifest.jsonl", encoding="utf-8") as manifest:
        for number, line in enumerate(manifest):
            if number >= limit:
                break
            (folder / json.loads(line)["path"]).read_bytes()


# One run ----------------------------------------------------------------------------------------


def scratch_pg(server: str) -> tuple[str, object]:
    """A fresh PostgreSQL database and a function that drops it."""
    from sqlalchemy import create_engine, text

    name = f"cc_scale_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.rsplit("/", 1)[0] + f"/{name}"

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


def single_database(db: str, work: Path) -> tuple[str, list[Any]]:
    """The registry's URL (an SQLite file in `work`, or a PostgreSQL scratch database) and the
    functions that drop what was made for it."""
    if db == "sqlite":
        return f"sqlite:///{work / 'registry.sqlite3'}", []
    server = os.environ.get(
        "CIVIC_CONTACTS_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    url, drop = scratch_pg(server)
    return url, [drop]


def two_databases(db: str, work: Path, second: str) -> tuple[str, str, list[Any]]:
    """URLs of the registry and of a second database (SQLite files in `work`, or PostgreSQL
    scratch databases), and the functions that drop the scratch ones."""
    if db == "sqlite":
        return (
            f"sqlite:///{work / 'registry.sqlite3'}",
            f"sqlite:///{work / f'{second}.sqlite3'}",
            [],
        )
    server = os.environ.get(
        "CIVIC_CONTACTS_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    url, drop = scratch_pg(server)
    other, drop_other = scratch_pg(server)
    return url, other, [drop, drop_other]


def cli_env(url: str, work: Path) -> dict[str, str]:
    """The environment of a command line run on `url`, with no config file of the user's."""
    env = {
        **os.environ,
        "CIVIC_CONTACTS_DB": url,
        "CIVIC_CONTACTS_CONFIG": str(work / "none.toml"),
        # Every synthetic address is at one domain: a per-domain pace would measure itself.
        "CIVIC_CONTACTS_PER_DOMAIN_RATE": "0",
    }
    env.pop("CIVIC_CONTACTS_UNSUBSCRIBE_SECRET", None)
    return env


def run_one(
    n: int, db: str, folder: Path, connections: int, skip_send: bool, send_limit: int = 0
) -> list[Phase]:
    from sink import LeanSink

    work = folder / f"{db}-{n}"
    work.mkdir()
    outlet_csv, journalist_csv = write_csvs(work, n)
    url, drops = single_database(db, work)
    env = cli_env(url, work)
    phases: list[Phase] = []
    try:
        base_registry(url)
        timed("outlet import", [*CLI, "outlet", "import", str(outlet_csv)], env)
        phases.append(
            timed("journalist import", [*CLI, "journalist", "import", str(journalist_csv)], env)
        )
        bare, _ = baseline("bare_loader.py", str(journalist_csv), str(work / "bare.sqlite3"))
        bare.name = "  bare loader (baselines/bare_loader.py)"
        bare.note = f"the floor; import / bare loader {phases[-1].seconds / bare.seconds:.2f}x"
        phases.append(bare)
        phases.append(timed("route show --json", [*CLI, "route", "show", RELEASE, "--json"], env))
        out = work / "outbox"
        phases.append(
            timed("batch build", [*CLI, "batch", "build", RELEASE, "--out", str(out)], env)
        )
        build = phases[-1]
        sample = min(n, NAIVE_SAMPLE)
        merge, _figures = baseline(
            "naive_build.py", str(journalist_csv), str(work / "naive"), "--limit", str(sample)
        )
        naive = sample / merge.seconds
        build.note = (
            f"{n / build.seconds:,.0f} msg/s; naive mail merge (baselines/naive_build.py)"
            f" {naive:,.0f} msg/s; ratio {n / build.seconds / naive:.1f}x"
        )
        if not skip_send:
            sink = LeanSink()
            port = sink.start()
            smtp = [
                "--smtp-host",
                "127.0.0.1",
                "--smtp-port",
                str(port),
                "--security",
                "none",
                "--yes",
            ]
            try:
                start = time.perf_counter()
                first = timed(
                    "batch send --limit 1",
                    [*CLI, "batch", "send", RELEASE, *smtp, "--limit", "1"],
                    env,
                )
                first.note = f"first message {sink.first - start:.2f} s after start"
                phases.append(first)
                count = min(send_limit, n - 1) if send_limit else n - 1
                limited = ["--limit", str(count)] if send_limit else []
                # Both sends read the same files: read them once first, so that neither
                # pays for the disk and the other not (a million messages do not all stay
                # in the page cache after the build).
                warm_outbox(out, count + 1)
                start_count = sink.count
                whole = timed(
                    f"batch send, {connections} connections"
                    + (f", {count:,} of {n - 1:,}" if send_limit else ""),
                    [
                        *CLI,
                        "batch",
                        "send",
                        RELEASE,
                        *smtp,
                        "--connections",
                        str(connections),
                        *limited,
                    ],
                    env,
                )
                sent = sink.count
                ours_steady = steady_rate(sink.times[start_count:])
                whole.note = (
                    f"{count / whole.seconds:,.0f} msg/s ({ours_steady:,.0f} first to last"
                    f" message); {sent:,} received, {len(sink.ids):,} distinct"
                )
                phases.append(whole)
                references = [
                    ("pipelined_smtp.py", "the floor: pipelined client", []),
                    ("smtplib_loop.py", "smtplib loop, threads", []),
                    ("smtplib_loop.py", "smtplib loop, processes", ["--processes"]),
                ]
                for script, what, extra in references:
                    before = sink.count
                    bare, _ = baseline(
                        script,
                        "127.0.0.1",
                        str(port),
                        str(out),
                        str(connections),
                        "--limit",
                        str(count),
                        *extra,
                    )
                    bare.name = f"  {what} (baselines/{script})"
                    bare_rate = (sink.count - before) / bare.seconds
                    bare_steady = steady_rate(sink.times[before:])
                    bare.note = (
                        f"{bare_rate:,.0f} msg/s ({bare_steady:,.0f} first to last message);"
                        f" ours is {count / whole.seconds / bare_rate:.0%} of it"
                        f" ({ours_steady / bare_steady:.0%} first to last message)"
                    )
                    phases.append(bare)
            finally:
                sink.stop()
        phases.append(timed("batch status", [*CLI, "batch", "status", RELEASE, "--json"], env))
        phases.append(
            timed(
                "batch audit --csv",
                [*CLI, "batch", "audit", RELEASE, "--csv", str(work / "audit.csv")],
                env,
            )
        )
    finally:
        for drop in drops:
            drop()  # type: ignore[operator]
    return phases


def run_imports(n: int, db: str, folder: Path, repeat: int) -> list[float]:
    """`journalist import` and the bare loader side by side, `repeat` times, each on fresh
    databases: the ratio of their times in each round."""
    work = folder / f"{db}-{n}-imports"
    work.mkdir()
    outlet_csv, journalist_csv = write_csvs(work, n)
    ratios: list[float] = []
    for round_ in range(1, repeat + 1):
        url, drops = single_database(db, work)
        if db == "sqlite":
            url = url.replace("registry.sqlite3", f"registry-{round_}.sqlite3")
        env = cli_env(url, work)
        bare_file = work / f"bare-{round_}.sqlite3"
        try:
            base_registry(url)
            timed("outlet import", [*CLI, "outlet", "import", str(outlet_csv)], env)
            ours = timed(
                "journalist import", [*CLI, "journalist", "import", str(journalist_csv)], env
            )
            bare, _ = baseline("bare_loader.py", str(journalist_csv), str(bare_file))
        finally:
            for drop in drops:
                drop()  # type: ignore[operator]
        bare_file.unlink(missing_ok=True)
        if db == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
        ratios.append(ours.seconds / bare.seconds)
        print(
            f"round {round_}: import {ours.seconds:8.2f} s {ours.rss_mib:6.1f} MiB;"
            f" bare loader {bare.seconds:8.2f} s {bare.rss_mib:6.1f} MiB; ratio {ratios[-1]:.2f}x",
            flush=True,
        )
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--n", type=int, action="append", help="journalists (repeat for several sizes)"
    )
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--skip-send", action="store_true")
    parser.add_argument(
        "--imports-only",
        type=int,
        metavar="ROUNDS",
        help="only `journalist import` against the bare loader, side by side, ROUNDS times",
    )
    parser.add_argument(
        "--send-limit",
        type=int,
        default=0,
        help="send only this many (and as many in each reference); 0: all",
    )
    args = parser.parse_args()
    sizes = args.n or [20_000, 200_000]
    databases = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    print(machine())
    print(as_installed())
    print("sink: lean asyncio SMTP sink on loopback (bench/sink.py); offers PIPELINING: yes")
    print("peak RSS: GNU time (/usr/bin/time), per process")
    print("sends: the outbox files to send are read once first, so both sends read them cached")
    if args.imports_only:
        with tempfile.TemporaryDirectory(prefix="cc-scale-") as tmp:
            for db in databases:
                for n in sizes:
                    print(f"\n== {db}, {n:,} journalists: import and bare loader", flush=True)
                    ratios = sorted(run_imports(n, db, Path(tmp), args.imports_only))
                    print(
                        f"{db:10} import at {n:,}: {ratios[0]:.2f}x / {ratios[len(ratios) // 2]:.2f}x"
                        f" / {ratios[-1]:.2f}x the bare loader's time (min / median / max)"
                    )
        return
    results: dict[tuple[str, int], list[Phase]] = {}
    with tempfile.TemporaryDirectory(prefix="cc-scale-") as tmp:
        for db in databases:
            for n in sizes:
                print(f"\n== {db}, {n:,} journalists", flush=True)
                phases = run_one(
                    n, db, Path(tmp), args.connections, args.skip_send, args.send_limit
                )
                results[(db, n)] = phases
                for phase in phases:
                    print(
                        f"{phase.name:58} {phase.seconds:8.2f} s {phase.rss_mib:8.1f} MiB  {phase.note}",
                        flush=True,
                    )
                import shutil

                shutil.rmtree(Path(tmp) / f"{db}-{n}", ignore_errors=True)
    if len(sizes) > 1:
        print("\n== growth (largest / smallest size)")
        small, large = min(sizes), max(sizes)
        for db in databases:
            for a, b in zip(results[(db, small)], results[(db, large)], strict=True):
                print(
                    f"{db:10} {a.name:58} time {b.seconds / a.seconds:7.1f}x   RSS {b.rss_mib / a.rss_mib:5.2f}x"
                )
        for db in databases:
            phases = {p.name: p for p in results[(db, large)]}
            ours, bare = (
                phases["journalist import"],
                phases["  bare loader (baselines/bare_loader.py)"],
            )
            print(
                f"{db:10} import at {large:,}: {ours.seconds / bare.seconds:.2f}x the bare loader's time"
            )


if __name__ == "__main__":
    main()
