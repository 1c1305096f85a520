"""The floor of a send that keeps a ledger: `pipelined_smtp.py`'s client, with every message
claimed from a table and marked sent in it, the mark committed before the next message's body
goes (so a killed run leaves at most one message per connection in doubt, as ours promises).

    python bench/baselines/pipelined_ledger.py setup DATABASE FOLDER
    python bench/baselines/pipelined_ledger.py send DATABASE HOST PORT CONNECTIONS

DATABASE is a PostgreSQL conninfo (`postgresql://...`, through psycopg) or an SQLite file.
`setup` makes the table `floor_ledger` (one pending row per `.eml` file under FOLDER, sorted
by path) and is not timed; `send` sends every pending row's file. Each connection claims 100
rows at a time (`FOR UPDATE SKIP LOCKED` on PostgreSQL), and marks each message with one
statement of its own transaction (PostgreSQL: `synchronous_commit` off, prepared; SQLite: WAL,
`synchronous=NORMAL`), sent while the server reads the next envelope and finished before the
next body. It does not read a release's state or check suppressions, as ours does before
each message. Prints: messages, seconds, messages per second. Shares no code with
civic-contacts.
"""

import argparse
import asyncio
import os
import sqlite3
import time

CLAIM = 100


def is_postgresql(database: str) -> bool:
    return database.startswith(("postgresql://", "postgres://"))


def setup(database: str, folder: str) -> None:
    files = sorted(
        os.path.join(root, name)
        for root, _dirs, names in os.walk(folder)
        for name in names
        if name.endswith(".eml")
    )
    rows = [(i + 1, path) for i, path in enumerate(files)]
    ddl = (
        "CREATE TABLE floor_ledger (id integer PRIMARY KEY, path text NOT NULL,"
        " status text NOT NULL DEFAULT 'pending', claimed_by integer, sent_at timestamp)"
    )
    if is_postgresql(database):
        import psycopg

        with psycopg.connect(database) as db:
            db.execute("DROP TABLE IF EXISTS floor_ledger")
            db.execute(ddl)
            with (
                db.cursor() as cursor,
                cursor.copy("COPY floor_ledger (id, path) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
            db.execute("ANALYZE floor_ledger")
        return
    db = sqlite3.connect(database)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("DROP TABLE IF EXISTS floor_ledger")
    db.execute(ddl)
    db.executemany("INSERT INTO floor_ledger (id, path) VALUES (?, ?)", rows)
    db.commit()
    db.close()


async def reply(reader: asyncio.StreamReader) -> bytes:
    """One whole reply (its last line); fails on anything but 2xx or 3xx."""
    while True:
        line = await reader.readline()
        if not line:
            raise ConnectionError("server closed the connection")
        if line[3:4] != b"-":
            if line[:1] not in (b"2", b"3"):
                raise RuntimeError(line.decode(errors="replace").strip())
            return line


def stuffed(data: bytes) -> bytes:
    """The message as DATA carries it: CRLF lines, leading dots doubled, the end marker."""
    if data.startswith(b"."):
        data = b"." + data
    data = data.replace(b"\r\n.", b"\r\n..")
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


class PostgresLedger:
    """One connection's claims and marks, on its own PostgreSQL connection."""

    CLAIM_SQL = (
        "UPDATE floor_ledger SET status = 'claimed', claimed_by = %s WHERE id = ANY(ARRAY("
        "SELECT id FROM floor_ledger WHERE status = 'pending' ORDER BY id LIMIT %s"
        " FOR UPDATE SKIP LOCKED)) RETURNING id, path"
    )
    MARK_SQL = (
        "UPDATE floor_ledger SET status = 'sent', sent_at = now(), claimed_by = NULL"
        " WHERE id = %s AND status = 'claimed' AND claimed_by = %s"
    )

    def __init__(self, database: str, me: int) -> None:
        self.database = database
        self.me = me

    async def open(self) -> None:
        import psycopg

        self.db = await psycopg.AsyncConnection.connect(self.database, autocommit=True)
        await self.db.execute("SET synchronous_commit TO off")
        self.cursor = self.db.cursor()

    async def claim(self) -> list[tuple[int, str]]:
        await self.cursor.execute(self.CLAIM_SQL, (self.me, CLAIM), prepare=True)
        return sorted(await self.cursor.fetchall())

    async def mark(self, row_id: int) -> None:
        await self.cursor.execute(self.MARK_SQL, (row_id, self.me), prepare=True)

    async def close(self) -> None:
        await self.db.close()


class SqliteLedger:
    """One connection's claims and marks on a shared SQLite connection (one event loop, so
    one statement at a time, as SQLite's single writer wants)."""

    def __init__(self, db: sqlite3.Connection, me: int) -> None:
        self.db = db
        self.me = me

    async def open(self) -> None:
        return None

    async def claim(self) -> list[tuple[int, str]]:
        rows = self.db.execute(
            "UPDATE floor_ledger SET status = 'claimed', claimed_by = ? WHERE id IN ("
            "SELECT id FROM floor_ledger WHERE status = 'pending' ORDER BY id LIMIT ?)"
            " RETURNING id, path",
            (self.me, CLAIM),
        ).fetchall()
        self.db.commit()
        return sorted(rows)

    async def mark(self, row_id: int) -> None:
        self.db.execute(
            "UPDATE floor_ledger SET status = 'sent', sent_at = CURRENT_TIMESTAMP,"
            " claimed_by = NULL WHERE id = ? AND status = 'claimed' AND claimed_by = ?",
            (row_id, self.me),
        )
        self.db.commit()

    async def close(self) -> None:
        return None


async def connection(host: str, port: int, ledger: PostgresLedger | SqliteLedger) -> int:
    await ledger.open()
    reader, writer = await asyncio.open_connection(host, port)
    await reply(reader)
    writer.write(b"EHLO baseline.example.org\r\n")
    await reply(reader)
    sent = 0
    unmarked: int | None = None
    while True:
        rows = await ledger.claim()
        if not rows:
            break
        for row_id, path in rows:
            recipient = os.path.basename(path)[: -len(".eml")]
            with open(path, "rb") as handle:
                data = handle.read()
            writer.write(
                b"MAIL FROM:<press@example.org>\r\nRCPT TO:<%s>\r\nDATA\r\n" % recipient.encode()
            )
            # The last message's mark is committed while the server reads this envelope,
            # and before this body goes.
            if unmarked is not None:
                await ledger.mark(unmarked)
                unmarked = None
            await reply(reader)
            await reply(reader)
            await reply(reader)
            writer.write(stuffed(data))
            await reply(reader)
            unmarked = row_id
            sent += 1
    if unmarked is not None:
        await ledger.mark(unmarked)
    writer.write(b"QUIT\r\n")
    await writer.drain()
    writer.close()
    await ledger.close()
    return sent


async def send_all(database: str, host: str, port: int, connections: int) -> int:
    if is_postgresql(database):
        ledgers: list[PostgresLedger | SqliteLedger] = [
            PostgresLedger(database, me) for me in range(1, connections + 1)
        ]
    else:
        db = sqlite3.connect(database, isolation_level="DEFERRED")
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        ledgers = [SqliteLedger(db, me) for me in range(1, connections + 1)]
    counts = await asyncio.gather(*(connection(host, port, ledger) for ledger in ledgers))
    return sum(counts)


def main() -> None:
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    made = commands.add_parser("setup")
    made.add_argument("database")
    made.add_argument("folder")
    send = commands.add_parser("send")
    send.add_argument("database")
    send.add_argument("host")
    send.add_argument("port", type=int)
    send.add_argument("connections", type=int)
    args = parser.parse_args()
    if args.command == "setup":
        setup(args.database, args.folder)
        return
    start = time.perf_counter()
    count = asyncio.run(send_all(args.database, args.host, args.port, args.connections))
    seconds = time.perf_counter() - start
    print(f"{count} {seconds:.3f} {count / seconds:.0f}")


if __name__ == "__main__":
    main()
