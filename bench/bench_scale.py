"""The whole job at scale, phase by phase, with the references measured in the same run.

    python bench/bench_scale.py                            # 20,000 and 200,000, SQLite and PostgreSQL
    python bench/bench_scale.py --n 1000000 --db sqlite    # the full run (about 15 GB of outbox)
    python bench/bench_scale.py --n 1000000 --db sqlite --imports-only 3   # the import alone

For each size and database: a synthetic media list (N journalists in N/100 outlets, one phone
each) is imported from CSV, routed, built, sent with `--limit 1` and then whole to a loopback
SMTP sink with 8 connections, and its status and audit read, each phase as a user runs it: the
command line in its own process, timed, its peak RSS read by GNU time (`/usr/bin/time`), which
forks the command from a small process, so the figure cannot carry the parent's memory.

References in the same run, on the same machine and data:
- a bare loader: the same CSV parsed and validated with the same libraries (phonenumbers,
  email-validator), inserted with plain `executemany` (its own process, also under GNU time);
- a naive renderer: every message built with one stdlib EmailMessage (messages per second);
- a bare smtplib loop: the outbox's files sent to the same sink with the same connections,
  each in a thread of one process, and again each in a process of its own (`batch send` on
  PostgreSQL runs its connections in processes of their own; see sender.Sender._in_processes).

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
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_batch import bench_naive

CLI = [sys.executable, "-m", "civic_contacts"]
HERE = Path(__file__).resolve()
RELEASE = "sahel-civilians"


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


# The references ---------------------------------------------------------------------------------


def bare_load(url: str, path: Path) -> None:
    """The floor for `journalist import`: the same parsing and validation (civic-contacts'
    own number reader and address check), then plain `executemany` in chunks of 5,000, with
    nothing else: no streaming checks, no repeated-address check, no upsert."""
    from sqlalchemy import column, create_engine, insert, table, text

    from civic_contacts.registry.addresses import normalise_email
    from civic_contacts.registry.phones import parse_phones

    engine = create_engine(url)
    journalists = table(
        "journalists",
        *(column(c) for c in ("id", "outlet_id", "name", "email", "language", "role")),
        *(column(c) for c in ("opted_out", "created_at", "updated_at")),
    )
    phones = table(
        "phones",
        *(column(c) for c in ("journalist_id", "position", "raw", "e164", "extension")),
        *(column(c) for c in ("kind", "valid", "whatsapp", "label", "problem")),
    )
    with engine.begin() as connection:
        outlets = {
            slug: (oid, country)
            for slug, oid, country in connection.execute(
                text("SELECT slug, id, country FROM outlets")
            )
        }
        now = dt.datetime.now(dt.UTC)
        people: list[dict[str, object]] = []
        numbers: dict[str, list[object]] = {}

        def flush() -> None:
            ids = connection.execute(
                insert(journalists).returning(journalists.c.id, journalists.c.email), people
            ).all()
            rows = [
                {
                    "journalist_id": journalist,
                    "position": i,
                    "raw": p.raw,
                    "e164": p.e164,
                    "extension": p.extension,
                    "kind": p.kind,
                    "valid": p.valid,
                    "whatsapp": p.whatsapp,
                    "label": p.label,
                    "problem": p.problem,
                }
                for journalist, email in ids
                for i, p in enumerate(numbers[email])
            ]
            if rows:
                connection.execute(insert(phones), rows)
            people.clear()
            numbers.clear()

        with open(path, encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            next(reader)
            for outlet, name, email, language, role, phone in reader:
                address = normalise_email(email)
                outlet_id, country = outlets[outlet]
                people.append(
                    {
                        "outlet_id": outlet_id,
                        "name": name.strip(),
                        "email": address,
                        "language": language or None,
                        "role": role,
                        "opted_out": False,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
                numbers[address] = parse_phones(phone, country)  # type: ignore[assignment]
                if len(people) >= 5000:
                    flush()
            if people:
                flush()
    engine.dispose()


def bare_smtp(
    port: int, folder: Path, connections: int, limit: int = 0, processes: bool = False
) -> None:
    """The floor for `batch send`: the outbox's files sent with plain smtplib, N connections
    (the first `limit` files in the manifest's order, when a limit is given), each in a thread
    of this process, or each in a process of its own (`processes`: no turns at Python's lock,
    which with threads cost as much CPU as the sending)."""
    import json
    import multiprocessing
    import smtplib

    files = []
    with open(folder / "manifest.jsonl", encoding="utf-8") as manifest:
        for line in manifest:
            files.append(folder / json.loads(line)["path"])
            if limit and len(files) >= limit:
                break
    shares = [files[i::connections] for i in range(connections)]

    def run(share: list[Path]) -> None:
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            for path in share:
                smtp.sendmail("press@example.org", [path.name[:-4]], path.read_bytes())

    context = multiprocessing.get_context("fork")
    workers: list[Any] = [
        context.Process(target=run, args=(share,))
        if processes
        else threading.Thread(target=run, args=(share,))
        for share in shares
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


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
    url, bare_url, drops = two_databases(db, work, "bare")
    env = cli_env(url, work)
    phases: list[Phase] = []
    try:
        for target in (url, bare_url):
            base_registry(target)
            timed("outlet import", [*CLI, "--db", target, "outlet", "import", str(outlet_csv)], env)
        phases.append(
            timed("journalist import", [*CLI, "journalist", "import", str(journalist_csv)], env)
        )
        phases.append(
            timed(
                "  bare loader (reference)",
                [sys.executable, str(HERE), "--bare-load", bare_url, str(journalist_csv)],
                env,
            )
        )
        phases.append(timed("route show --json", [*CLI, "route", "show", RELEASE, "--json"], env))
        out = work / "outbox"
        phases.append(
            timed("batch build", [*CLI, "batch", "build", RELEASE, "--out", str(out)], env)
        )
        naive = bench_naive(url, 1000)  # the yardstick bench_batch.py uses
        build = phases[-1]
        build.note = f"{n / build.seconds:,.0f} msg/s; naive renderer {naive:,.0f} msg/s; ratio {n / build.seconds / naive:.1f}x"
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
                    ok=1,  # stopped with messages left: exit code 1 by design
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
                    ok=1 if send_limit and count < n - 1 else 0,
                )
                sent = sink.count
                ours_steady = steady_rate(sink.times[start_count:])
                whole.note = (
                    f"{count / whole.seconds:,.0f} msg/s ({ours_steady:,.0f} first to last"
                    f" message); {sent:,} received, {len(sink.ids):,} distinct"
                )
                phases.append(whole)
                for how in ("threads", "processes"):
                    before = sink.count
                    bare = timed(
                        f"  bare smtplib loop, {how} (reference)",
                        [
                            sys.executable,
                            str(HERE),
                            "--bare-smtp",
                            str(port),
                            str(out),
                            str(connections),
                            str(count),
                            how,
                        ],
                        env,
                    )
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
        url, bare_url, drops = two_databases(db, work, f"bare-{round_}")
        if db == "sqlite":
            url = url.replace("registry.sqlite3", f"registry-{round_}.sqlite3")
        env = cli_env(url, work)
        try:
            for target in (url, bare_url):
                base_registry(target)
                timed(
                    "outlet import",
                    [*CLI, "--db", target, "outlet", "import", str(outlet_csv)],
                    env,
                )
            ours = timed(
                "journalist import", [*CLI, "journalist", "import", str(journalist_csv)], env
            )
            bare = timed(
                "  bare loader (reference)",
                [sys.executable, str(HERE), "--bare-load", bare_url, str(journalist_csv)],
                env,
            )
        finally:
            for drop in drops:
                drop()  # type: ignore[operator]
        for target in (url, bare_url):
            if db == "sqlite":
                for suffix in ("", "-wal", "-shm"):
                    Path(target.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
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
    parser.add_argument("--bare-load", nargs=2, metavar=("URL", "CSV"), help=argparse.SUPPRESS)
    parser.add_argument(
        "--bare-smtp",
        nargs=5,
        metavar=("PORT", "DIR", "N", "LIMIT", "HOW"),
        help=argparse.SUPPRESS,
    )
    parser.add_argument(
        "--send-limit",
        type=int,
        default=0,
        help="send only this many (and as many in the bare loop); 0: all",
    )
    args = parser.parse_args()
    if args.bare_load:
        bare_load(args.bare_load[0], Path(args.bare_load[1]))
        return
    if args.bare_smtp:
        port, folder, connections, limit, how = args.bare_smtp
        bare_smtp(int(port), Path(folder), int(connections), int(limit), how == "processes")
        return
    sizes = args.n or [20_000, 200_000]
    databases = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    print(machine())
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
                        f"{phase.name:44} {phase.seconds:8.2f} s {phase.rss_mib:8.1f} MiB  {phase.note}",
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
                    f"{db:10} {a.name:44} time {b.seconds / a.seconds:7.1f}x   RSS {b.rss_mib / a.rss_mib:5.2f}x"
                )
        for db in databases:
            phases = {p.name: p for p in results[(db, large)]}
            ours, bare = phases["journalist import"], phases["  bare loader (reference)"]
            print(
                f"{db:10} import at {large:,}: {ours.seconds / bare.seconds:.2f}x the bare loader's time"
            )


if __name__ == "__main__":
    main()
