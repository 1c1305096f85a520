"""A send from the desk survives the desk: `civic-contacts serve` killed (SIGKILL) in the
middle of a send, started again, and Send pressed again: every journalist gets the release,
nothing is lost, and at most the one message in flight at the kill goes twice (the claim
ledger's promise, as for `batch send`)."""

from __future__ import annotations

import asyncio
import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from civic_contacts.db import make_engine, session_factory
from civic_contacts.registry.models import Delivery
from tests.conftest import Sink, free_port
from tests.desk.conftest import PASSWORDS, add_people


class Slow(Sink):
    """A server that takes a moment over each message, so a kill lands mid-send."""

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.05)
        return await super().handle_DATA(server, session, envelope)


class Browser:
    """A browser without JavaScript: cookies, forms and their CSRF token."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=20) as answer:
            return answer.read().decode()

    def post(self, path: str, fields: dict[str, str], page: str) -> str:
        csrf = re.search(r'name="csrf" value="([^"]+)"', self.get(page)).group(1)
        data = urllib.parse.urlencode({**fields, "csrf": csrf}).encode()
        with self.opener.open(self.base + path, data=data, timeout=20) as answer:
            return answer.read().decode()


def serve(db_url: str, port: int, tmp_path: Path, env: dict[str, str]) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "civic_contacts",
            "--db",
            db_url,
            "serve",
            "--port",
            str(port),
            "--outbox",
            str(tmp_path / "outboxes"),
            "--skip-doctor",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=1).close()
            return process
        except OSError:
            if process.poll() is not None:
                raise AssertionError(process.stderr.read().decode()) from None
            time.sleep(0.05)  # waiting for a process to listen, not timing anything
    raise AssertionError("the desk did not start")


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_desk_killed_mid_send_loses_nothing(demo, db_url: str, tmp_path: Path) -> None:
    from aiosmtpd.controller import Controller

    sink = Slow()
    smtp_port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_port}\nsecurity = "none"\n'
        "[web]\nrequire_approval = false\n",
        encoding="utf-8",
    )
    env = {**os.environ, "CIVIC_CONTACTS_CONFIG": str(config)}
    engine = make_engine(db_url)
    add_people(engine)
    try:
        port = free_port()
        first = serve(db_url, port, tmp_path, env)
        ana = Browser(f"http://127.0.0.1:{port}")
        ana.post("/login", {"name": "ana", "password": PASSWORDS["ana"]}, "/login")
        ana.post("/releases/sahel-civilians/build", {}, "/releases/sahel-civilians")
        ana.post("/releases/sahel-civilians/send", {}, "/releases/sahel-civilians")
        assert sink.wait_for(5, timeout=60), "the send never got going"
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        assert len(sink.received) < 41, "the send ended before the kill"

        port = free_port()
        second = serve(db_url, port, tmp_path, env)
        try:
            ana = Browser(f"http://127.0.0.1:{port}")
            ana.post("/login", {"name": "ana", "password": PASSWORDS["ana"]}, "/login")
            ana.post("/releases/sahel-civilians/send", {}, "/releases/sahel-civilians")
            counts = Counter(sink.ids())
            for _ in range(1200):
                if len(counts) >= 41 and '"running":false' in ana.get(
                    "/releases/sahel-civilians/progress"
                ).replace(" ", ""):
                    break
                sink.wait_for(len(sink.received) + 1, timeout=0.1)
                counts = Counter(sink.ids())
        finally:
            second.terminate()
            second.wait(10)
        with session_factory(engine)() as session:
            rows = session.scalars(select(Delivery).where(Delivery.notice_id.is_(None))).all()
            assert len(rows) == 41 and {d.status for d in rows} == {"sent"}
            assert set(counts) == {d.message_id for d in rows}
        assert sum(n - 1 for n in counts.values()) <= 1
    finally:
        controller.stop()
        engine.dispose()
