"""Server time of the desk's journalist list at 200,000 journalists (the issue's bound: a
page of 50 in under 300 ms), measured through the whole application (Flask's test client:
routing, the session, the query, the page rendered), beside the bare query run with the
database's own driver (sqlite3 or psycopg) as the reference.

    python bench/bench_desk.py [--journalists 200000] [--rounds 3] [--pg URL]

Each request is timed `--rounds` times, interleaved with the reference; min/median/max in ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

QUERIES = [
    "/journalists",  # everyone, the first page
    "/journalists?page=2000",  # everyone, the last page
    "/journalists?q=diallo",  # a common surname: 1 in 10
    "/journalists?q=diallo&page=400",  # its last page
    "/journalists?q=awa+diallo&page=20",  # 1 in 120
    "/journalists?q=kone",  # nobody
    "/journalists?q=outlet-01999.5",  # one address
    "/journalists?country=NE",  # an outlet's country: 1 in 10
    "/journalists?status=active&page=2000",  # a status over everyone, the last page
    "/journalists?status=active&language=fr",  # nobody
]


def build(url: str, journalists: int) -> None:
    from sqlalchemy import text

    from civic_contacts import synthetic
    from civic_contacts.db import make_engine, session_factory
    from civic_contacts.migrations import ensure_schema
    from civic_contacts.registry import users

    engine = make_engine(url)
    ensure_schema(engine)
    with session_factory(engine)() as session:
        synthetic.load_base(session)
        synthetic.add_media_list(session, journalists // 100, 100)
        user, once = users.add_user(session, "vic", "viewer")
        users.change_password(session, user, once, "a viewer's password")
        session.commit()
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
    engine.dispose()


def bare(url: str):
    """The same page's two queries (count, then 50 rows) with the driver alone."""
    count = (
        "SELECT count(*) FROM journalists j JOIN outlets o ON o.id = j.outlet_id"
        " LEFT JOIN suppressions s ON s.email = j.email"
        " WHERE lower(j.name) LIKE lower(%(p)s) OR lower(j.email) LIKE lower(%(p)s)"
        " OR lower(o.name) LIKE lower(%(p)s) OR lower(o.slug) LIKE lower(%(p)s)"
    )
    rows = (
        "SELECT j.id, j.name, j.email, o.slug, o.name, o.country, j.language FROM journalists j"
        " JOIN outlets o ON o.id = j.outlet_id LEFT JOIN suppressions s ON s.email = j.email"
        " ORDER BY j.name, j.email LIMIT 50 OFFSET %(o)s"
    )
    if url.startswith("sqlite"):
        import sqlite3

        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        count = count.replace("%(p)s", ":p")
        rows = rows.replace("%(o)s", ":o")

        def run(pattern: str, offset: int) -> None:
            conn.execute(count, {"p": pattern}).fetchall()
            conn.execute(rows, {"o": offset}).fetchall()

        return run
    import psycopg

    conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))

    def run_pg(pattern: str, offset: int) -> None:
        with conn.cursor() as cur:
            cur.execute(count, {"p": pattern})
            cur.fetchall()
            cur.execute(rows, {"o": offset})
            cur.fetchall()

    return run_pg


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--journalists", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pg", help="a scratch PostgreSQL database URL (emptied first)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-desk-"))
    os.environ.setdefault("CIVIC_CONTACTS_CONFIG", str(work / "none.toml"))
    url = args.pg or f"sqlite:///{work / 'desk.sqlite3'}"
    if args.pg:
        from sqlalchemy import create_engine, text

        with create_engine(url).begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    started = time.perf_counter()
    build(url, args.journalists)
    print(
        f"registry of {args.journalists:,} journalists on {url.split(':')[0]}"
        f" built in {time.perf_counter() - started:.0f} s"
    )

    from civic_contacts.config import load_settings
    from civic_contacts.db import make_engine
    from civic_contacts.desk.app import create_app

    engine = make_engine(url)
    app = create_app(
        engine, load_settings(db=url), work / "out", b"bench-secret-0123456789abcdef", lambda: None
    )  # type: ignore[arg-type,return-value]
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    csrf = page.split('name="csrf" value="')[1].split('"')[0]
    client.post("/login", data={"name": "vic", "password": "a viewer's password", "csrf": csrf})
    reference = bare(url)
    print(f"{'request':42} {'desk ms min/med/max':>24} {'bare query ms (med)':>20}")
    worst = 0.0
    for query in QUERIES:
        desk, plain = [], []
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            answer = client.get(query)
            desk.append((time.perf_counter() - t0) * 1000)
            assert answer.status_code == 200, (query, answer.status_code)
            words = query.split("q=")[1].split("&")[0] if "q=" in query else ""
            page_no = int(query.split("page=")[1]) if "page=" in query else 1
            t0 = time.perf_counter()
            reference(f"%{words}%", (page_no - 1) * 50)
            plain.append((time.perf_counter() - t0) * 1000)
        worst = max(worst, max(desk))
        print(
            f"{query:42} {min(desk):7.1f} {statistics.median(desk):7.1f} {max(desk):7.1f}"
            f" {statistics.median(plain):18.1f}"
        )
    print(f"slowest page: {worst:.0f} ms (bound: 300 ms); CPU: {_cpu()}")


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


if __name__ == "__main__":
    main()
