"""Where a send's CPU goes: ours, the database server's, and the baselines', per message.

    python bench/bench_send_cpu.py                      # PostgreSQL, 20,000 built, 10,000 sent
    python bench/bench_send_cpu.py --db sqlite --runs 5

A batch of N journalists is imported and built once; then, `--runs` times, the batch is put
back as built and sent: `batch send --limit 1` (its CPU is the send's own start), then
`batch send --limit K --connections C` to the loopback sink, then, on K files of the same
outbox with the same connections, the send's floor (`bench/baselines/pipelined_smtp.py`, a
plain pipelined asyncio client) and a plain smtplib loop (`bench/baselines/smtplib_loop.py`,
its connections in threads of one process, then in processes of their own); neither shares
any code with civic-contacts. Each process's CPU comes from GNU time (a process's figure
holds its children's); the PostgreSQL server's (when it runs on this machine) from /proc,
summed over its processes, before and after our send; the sink's from this process's own
(its thread is all that runs here while a command does).
Prints per message: ours (the start taken off), the server's, the pipelined client's, the
sink's for ours and for the client, the smtplib loop's, and our rate as a share of each
baseline's, then min / median / max of each.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_scale import (
    CLI,
    RELEASE,
    as_installed,
    base_registry,
    baseline,
    cli_env,
    copy_sqlite,
    timed,
    two_databases,
    write_csvs,
)


def server_cpu() -> float:
    """CPU seconds used so far by the PostgreSQL processes of this machine (ended ones too:
    the postmaster's children's time)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if not Path(f"/proc/{pid}/comm").read_text().startswith("postgres"):
                continue
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15]) / ticks
    return total


def _own_cpu() -> float:
    """CPU seconds of this process so far: the sink's thread, since the main one only waits
    for the commands it runs."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--n", type=int, default=20_000, help="journalists built")
    parser.add_argument("--send", type=int, default=10_000, help="messages sent per run")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(as_installed())
    from sink import LeanSink

    with tempfile.TemporaryDirectory(prefix="cc-send-cpu-") as tmp:
        work = Path(tmp)
        outlet_csv, journalist_csv = write_csvs(work, args.n)
        url, built_url, drops = two_databases(args.db, work, "built")
        env = cli_env(url, work)
        try:
            base_registry(url)
            timed("outlet import", [*CLI, "outlet", "import", str(outlet_csv)], env)
            timed("journalist import", [*CLI, "journalist", "import", str(journalist_csv)], env)
            outbox = work / "outbox"
            timed("batch build", [*CLI, "batch", "build", RELEASE, "--out", str(outbox)], env)
            if args.db == "sqlite":
                copy_sqlite(work / "registry.sqlite3", work / "built.sqlite3")
            else:
                _copy_pg(url, built_url)
            sink = LeanSink()
            port = sink.start()
            smtp = ["--smtp-host", "127.0.0.1", "--smtp-port", str(port), "--security", "none"]
            rows = []
            print(
                f"{args.db}, {args.n:,} built, {args.send:,} sent per run with"
                f" {args.connections} connections; CPU ms per message"
            )
            for _ in range(args.runs):
                used: list[float] = []
                sink_used: list[float] = []
                phases = []
                for limit, connections in ((1, 1), (args.send, args.connections)):
                    _restore(args.db, work, url, built_url)
                    before = server_cpu()
                    sink_before = _own_cpu()
                    options = ["--limit", str(limit), "--connections", str(connections)]
                    command = [*CLI, "batch", "send", RELEASE, *smtp, "--yes", *options]
                    received = sink.count
                    phases.append(timed("batch send", command, env))
                    if sink.count - received != limit:
                        raise SystemExit(f"the sink received {sink.count - received} of {limit}")
                    used.append(server_cpu() - before)
                    sink_used.append(_own_cpu() - sink_before)
                share = [str(args.connections), "--limit", str(args.send)]
                server_args = ["127.0.0.1", str(port), str(outbox), *share]
                sink_before = _own_cpu()
                floor, _ = baseline("pipelined_smtp.py", *server_args)
                floor_sink = _own_cpu() - sink_before
                loop, _ = baseline("smtplib_loop.py", *server_args)
                apart, _ = baseline("smtplib_loop.py", *server_args, "--processes")
                start, ours = phases
                row = (
                    (ours.cpu - start.cpu) / args.send * 1000,
                    (used[1] - used[0]) / args.send * 1000 if args.db != "sqlite" else 0.0,
                    floor.cpu / args.send * 1000,
                    floor.seconds / ours.seconds,
                    (sink_used[1] - sink_used[0]) / args.send * 1000,
                    floor_sink / args.send * 1000,
                    loop.cpu / args.send * 1000,
                    loop.seconds / ours.seconds,
                    apart.seconds / ours.seconds,
                )
                rows.append(row)
                print(
                    f"ours {row[0]:.3f}  server {row[1]:.3f}  pipelined client {row[2]:.3f}"
                    f"  sink {row[4]:.3f} (for the client {row[5]:.3f})  smtplib loop {row[6]:.3f};"
                    f" our rate is {row[3]:.0%} of the pipelined client's (the floor),"
                    f" {row[7]:.0%} of the smtplib loop's ({row[8]:.0%} in processes)",
                    flush=True,
                )
            sink.stop()
            names = [
                "ours",
                "server",
                "pipelined client",
                "rate / pipelined client",
                "sink",
                "sink (pipelined client)",
                "smtplib loop",
                "rate / smtplib loop",
                "rate / smtplib loop in processes",
            ]
            for i, name in enumerate(names):
                values = sorted(r[i] for r in rows)
                print(
                    f"{name:33} min / median / max: {values[0]:.3f} /"
                    f" {statistics.median(values):.3f} / {values[-1]:.3f}"
                )
        finally:
            for drop_one in drops:
                drop_one()


def _copy_pg(source: str, target: str) -> None:
    """Make `target` a copy of `source` (dropped and created from it as a template)."""
    from sqlalchemy import create_engine, text

    server = source.rsplit("/", 1)[0] + "/postgres"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    source_name, target_name = source.rsplit("/", 1)[1], target.rsplit("/", 1)[1]
    with admin.connect() as connection:
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname IN (:a, :b) AND pid <> pg_backend_pid()"
            ),
            {"a": source_name, "b": target_name},
        )
        connection.execute(text(f'DROP DATABASE IF EXISTS "{target_name}"'))
        connection.execute(text(f'CREATE DATABASE "{target_name}" TEMPLATE "{source_name}"'))
    admin.dispose()


def _restore(db: str, work: Path, url: str, built_url: str) -> None:
    """Put the batch back as it was built."""
    if db == "sqlite":
        for suffix in ("-wal", "-shm"):
            Path(f"{work / 'registry.sqlite3'}{suffix}").unlink(missing_ok=True)
        shutil.copy(work / "built.sqlite3", work / "registry.sqlite3")
    else:
        _copy_pg(built_url, url)


if __name__ == "__main__":
    main()
