"""The unsubscribe endpoint as a real server (`serve-unsubscribe`, waitress) under hostile
clients: bodies it must not read, clients that never finish, a busy database, duplicates,
garbage; a confirmed unsubscribe is never lost and nothing prints a traceback."""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
import time

import pytest

from tests.after.serving import ONE_CLICK, SERVER_SECRET, Server, suppressed, token

SECRET = SERVER_SECRET


def test_bodies_it_must_not_read_are_refused_and_change_nothing(server: Server, demo) -> None:
    """A negative Content-Length, a body past 16 KiB and a 300 MiB announcement are refused
    without reading them; nothing is applied."""
    good = token("adama.kone@example.com")
    negative = server.raw(
        f"POST /unsubscribe?token={good} HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n".encode()
        + ONE_CLICK * 100
    )
    assert negative.split(b" ", 2)[1] in (b"400", b"413"), negative[:80]
    huge = server.raw(
        f"POST /unsubscribe?token={good} HTTP/1.1\r\nHost: x\r\nContent-Length: 314572800\r\n\r\n".encode()
        + b"x" * 65536
    )
    assert huge.split(b" ", 2)[1] == b"413", huge[:80]
    status, _headers, _body = server.post(good, ONE_CLICK + b"&pad=" + b"x" * 17000)
    assert status == 413
    assert suppressed(demo) == []
    assert "Traceback" not in server.stop()


def test_slow_and_idle_clients_never_starve_real_requests(server: Server, demo) -> None:
    """300 clients that send half a request and 100 that send nothing: a real one-click POST
    is still answered at once, and the slow ones are cut off after the idle timeout."""
    holders = []
    for i in range(400):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        if i < 300:
            sock.sendall(b"POST /unsubscribe HTTP/1.1\r\nHost: x\r\nContent-Le")
        holders.append(sock)
    started = time.monotonic()
    status, _headers, body = server.post(token("adama.kone@example.com"), timeout=10)
    assert status == 200 and b"unsubscribed" in body
    assert time.monotonic() - started < 5
    assert suppressed(demo) == ["adama.kone@example.com"]
    for sock in holders:
        sock.close()
    assert "Traceback" not in server.stop()


def test_concurrent_duplicates_are_one_unsubscribe(server: Server, demo) -> None:
    """20 identical one-click POSTs at once all succeed; the address is on the list once."""
    good = token("moussa.keita@example.com")
    results: list[int] = []
    barrier = threading.Barrier(20)

    def click() -> None:
        barrier.wait()
        results.append(server.post(good)[0])

    threads = [threading.Thread(target=click) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results == [200] * 20
    assert suppressed(demo) == ["moussa.keita@example.com"]
    assert "Traceback" not in server.stop()


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_busy_database_gets_503_with_retry_after_and_the_retry_lands(
    server: Server, demo, db_url: str
) -> None:
    """While another process holds the write lock the answer is 503 with Retry-After (the
    provider retries, RFC 8058), never a lost unsubscribe; the retry after the lock records it."""
    database = db_url.removeprefix("sqlite:///")
    locker = sqlite3.connect(database, timeout=5)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        status, headers, _body = server.post(token("adama.kone@example.com"))
    finally:
        locker.rollback()
        locker.close()
    assert status == 503 and int(headers["Retry-After"]) > 0
    status, _headers, _body = server.post(token("adama.kone@example.com"))
    assert status == 200
    assert suppressed(demo) == ["adama.kone@example.com"]
    assert "Traceback" not in server.stop()


@pytest.mark.slow
def test_garbage_and_disconnects_never_print_a_traceback(server: Server, demo) -> None:
    """Malformed request lines and headers, bad methods, and clients that vanish mid-body get
    an answer or a closed socket, never a traceback; the server keeps serving."""
    garbage = [
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(64),  # a TLS hello
        b"GET /unsubscribe?token=%ZZ HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /unsubscribe HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        b"GET / HTTP/1.1\r\nBad Header Without Colon\r\n\r\n",
        b"DELETE /unsubscribe HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /unsubscribe HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nList-Unsub",
    ]
    for data in garbage:
        answer = server.raw(data, timeout=3)
        assert answer == b"" or answer.startswith(b"HTTP/1."), answer[:60]
    status, _headers, _body = server.post(token("adama.kone@example.com"))
    assert status == 200
    log = server.stop()
    assert "Traceback" not in log, log[-2000:]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_database_file_replaced_under_the_server_is_never_confirmed(
    demo, db_url: str, tmp_path
) -> None:
    """The SQLite file is replaced while the server runs (a restore from a backup): the next
    unsubscribe is answered 503, not "you are unsubscribed" for a write to the old file, and
    its retry lands in the file now at the path."""
    import io
    import shutil
    from urllib.parse import urlencode

    from civic_contacts.after.serve import UnsubscribeApp
    from civic_contacts.db import make_engine

    path = db_url.removeprefix("sqlite:///")
    backup = tmp_path / "backup.sqlite3"
    with sqlite3.connect(path) as source, sqlite3.connect(backup) as copy:
        source.backup(copy)
    engine = make_engine(db_url)
    app = UnsubscribeApp(engine, SECRET.encode(), "Press Office")

    def post(address: str) -> str:
        body = urlencode({"token": token(address), "List-Unsubscribe": "One-Click"}).encode()
        answered: list[str] = []
        app(
            {
                "REQUEST_METHOD": "POST",
                "PATH_INFO": "/unsubscribe",
                "QUERY_STRING": "",
                "CONTENT_LENGTH": str(len(body)),
                "wsgi.input": io.BytesIO(body),
            },
            lambda status, headers: answered.append(status),
        )
        return answered[0]

    assert post("adama.kone@example.com").startswith("200")
    shutil.copyfile(backup, tmp_path / "restored.sqlite3")
    os.replace(tmp_path / "restored.sqlite3", path)  # what a restore does: a new file
    assert post("moussa.keita@example.com").startswith("503")
    assert "moussa.keita@example.com" not in suppressed(demo)
    assert post("moussa.keita@example.com").startswith("200")
    engine.dispose()
    assert "moussa.keita@example.com" in suppressed(demo)
