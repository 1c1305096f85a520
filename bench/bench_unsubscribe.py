"""The unsubscribe endpoint under load: 1,000 one-click POSTs from 50 concurrent clients while
300 slow clients hold connections open, against `serve-unsubscribe` (waitress) and, side by
side in the same run, the same application on the standard library's threading WSGI server
(the bare reference).

    python bench/bench_unsubscribe.py                 # 3 rounds of each
    python bench/bench_unsubscribe.py --posts 200 --rounds 1

Prints, per server and round: answered, lost (a POST that got no 200 and whose address is not
on the list afterwards), 503s (retried by the client, as a mailbox provider would), p50/p99
latency, and the server process's peak RSS from /usr/bin/time -v (never inherited from this
process). Everything runs on loopback with a temporary SQLite registry.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

SECRET = "bench-secret-3f9a-6c2e8b1d-7a04"


def serve_reference(db_url: str, port: int) -> None:
    """The same WSGI application on wsgiref with one thread per connection."""
    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    from civic_contacts.after.serve import UnsubscribeApp
    from civic_contacts.db import make_engine

    class Threading(ThreadingMixIn, WSGIServer):
        daemon_threads = True

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    app = UnsubscribeApp(make_engine(db_url), SECRET.encode(), "Press Office")
    make_server("127.0.0.1", port, app, server_class=Threading, handler_class=Quiet).serve_forever()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(kind: str, db_url: str, port: int) -> subprocess.Popen:
    env = {**os.environ, "CIVIC_CONTACTS_DB": db_url, "CIVIC_CONTACTS_UNSUBSCRIBE_SECRET": SECRET}
    if kind == "waitress":
        command = [sys.executable, "-m", "civic_contacts", "serve-unsubscribe", "--port", str(port)]
    else:
        command = [sys.executable, __file__, "--serve-reference", db_url, str(port)]
    process = subprocess.Popen(
        ["/usr/bin/time", "-v", *command],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"{kind} did not start")


def hold_slowly(port: int, stop: threading.Event, holders: list[socket.socket]) -> None:
    """A slow client: half a request, then a byte every second until told to stop."""
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        holders.append(sock)
        sock.sendall(b"POST /unsubscribe HTTP/1.1\r\nHost: x\r\n")
        while not stop.wait(1.0):
            sock.sendall(b"X")
    except OSError:
        pass  # the server cut it off: that is what it should do


def one_round(kind: str, posts: int, clients: int, slow: int) -> dict[str, float]:
    from civic_contacts.db import make_engine, session_factory
    from civic_contacts.deliver.tokens import make_token
    from civic_contacts.migrations import ensure_schema
    from civic_contacts.registry.models import Suppression

    folder = Path(tempfile.mkdtemp(prefix="bench-unsub-"))
    db_url = f"sqlite:///{folder / 'registry.sqlite3'}"
    engine = make_engine(db_url)
    ensure_schema(engine)
    port = free_port()
    server = start(kind, db_url, port)
    stop = threading.Event()
    holders: list[socket.socket] = []
    slow_threads = [
        threading.Thread(target=hold_slowly, args=(port, stop, holders), daemon=True)
        for _ in range(slow)
    ]
    for thread in slow_threads:
        thread.start()
    time.sleep(1.0)
    addresses = [f"reader{i:05d}@example.org" for i in range(posts)]
    tokens = {a: make_token(SECRET.encode(), a) for a in addresses}
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    retries = 0
    lock = threading.Lock()
    queue = list(addresses)

    def client() -> None:
        nonlocal retries
        while True:
            with lock:
                if not queue:
                    return
                address = queue.pop()
            for attempt in range(3):
                began = time.perf_counter()
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                    conn.request(
                        "POST",
                        f"/unsubscribe?token={tokens[address]}",
                        body=b"List-Unsubscribe=One-Click",
                        headers={"Content-Type": "application/x-www-form-urlencoded"},
                    )
                    status = conn.getresponse().status
                    conn.close()
                except OSError:
                    status = 0
                with lock:
                    latencies.append(time.perf_counter() - began)
                    statuses[address] = status
                if status != 503:
                    break
                with lock:
                    retries += 1
                time.sleep(0.5 * (attempt + 1))

    began = time.perf_counter()
    workers = [threading.Thread(target=client) for _ in range(clients)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - began
    stop.set()
    for sock in holders:
        with contextlib.suppress(OSError):
            sock.close()
    # SIGTERM to the server only: /usr/bin/time then reports its peak memory.
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    for child in children:
        os.kill(int(child), signal.SIGTERM)
    _out, err = server.communicate(timeout=30)
    rss = re.search(rb"Maximum resident set size \(kbytes\): (\d+)", err)
    with session_factory(engine)() as session:
        recorded = {e for (e,) in session.query(Suppression.email)}
    engine.dispose()
    lost = sum(1 for a in addresses if statuses.get(a) != 200 and a not in recorded)
    ordered = sorted(latencies)
    return {
        "ok": sum(1 for s in statuses.values() if s == 200),
        "lost": lost,
        "retried_503": retries,
        "p50_ms": 1000 * ordered[len(ordered) // 2],
        "p99_ms": 1000 * ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        "seconds": elapsed,
        "rss_mb": int(rss.group(1)) / 1024 if rss else float("nan"),
        "tracebacks": err.count(b"Traceback"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--slow", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--serve-reference", nargs=2, metavar=("DB", "PORT"))
    args = parser.parse_args()
    if args.serve_reference:
        serve_reference(args.serve_reference[0], int(args.serve_reference[1]))
        return
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "unknown CPU",
    )
    print(
        f"{args.posts} one-click POSTs, {args.clients} clients, {args.slow} slow clients holding"
        f" connections; {os.cpu_count()} cores, {cpu}"
    )
    results: dict[str, list[dict[str, float]]] = {"waitress": [], "reference": []}
    for round_number in range(1, args.rounds + 1):
        for kind in ("waitress", "reference"):
            found = one_round(kind, args.posts, args.clients, args.slow)
            results[kind].append(found)
            print(
                f"round {round_number} {kind:9}: ok {found['ok']:.0f}, lost {found['lost']:.0f},"
                f" 503 retried {found['retried_503']:.0f}, p50 {found['p50_ms']:.1f} ms,"
                f" p99 {found['p99_ms']:.1f} ms, {found['seconds']:.1f} s,"
                f" server RSS {found['rss_mb']:.0f} MB, tracebacks {found['tracebacks']:.0f}"
            )
    for name in ("lost", "p50_ms", "p99_ms", "seconds", "rss_mb"):
        line = []
        for kind in ("waitress", "reference"):
            values = [r[name] for r in results[kind]]
            line.append(
                f"{kind} min/median/max {min(values):.1f}/{statistics.median(values):.1f}/{max(values):.1f}"
            )
        print(f"{name:8}: " + "; ".join(line))
    ratio = [
        w["p99_ms"] / r["p99_ms"]
        for w, r in zip(results["waitress"], results["reference"], strict=True)
        if r["p99_ms"]
    ]
    if ratio:
        print(f"p99 waitress/reference per round: {', '.join(f'{x:.2f}' for x in ratio)}")


if __name__ == "__main__":
    main()
