"""`batch send` against a real SMTP server on loopback: every message once, counted at the server."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import signal
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from civic_contacts import synthetic
from civic_contacts.config import load_settings
from civic_contacts.db import make_engine, session_factory
from civic_contacts.deliver.send import send_batch
from civic_contacts.deliver.sender import SendOptions
from civic_contacts.deliver.transport import MemoryTransport
from civic_contacts.errors import EmbargoLifted
from civic_contacts.migrations import ensure_schema
from civic_contacts.registry.models import Delivery


def make_registry(
    db_url: str, outlets: int, per_outlet: int, embargo: dt.datetime | None = None
) -> None:
    engine = make_engine(db_url)
    ensure_schema(engine)
    with session_factory(engine)() as session, session.begin():
        synthetic.load_base(session, embargo)
        synthetic.add_media_list(session, outlets, per_outlet)
    engine.dispose()


def deliveries(db_url: str) -> dict[str, Delivery]:
    engine = make_engine(db_url)
    with session_factory(engine)() as session:
        rows = {d.email: d for d in session.scalars(select(Delivery))}
    engine.dispose()
    return rows


def send_args(port: int, *extra: str) -> list[str]:
    return [
        "batch",
        "send",
        "sahel-civilians",
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        str(port),
        "--security",
        "none",
        "--yes",
        "--retry-wait",
        "0.05",
        *extra,
    ]


@pytest.mark.slow
@pytest.mark.smtp
def test_normal_send_of_a_few_thousand(cli, db_url: str, smtp_server) -> None:
    """2,000 messages arrive once each; status says all sent; the audit names server reply and user."""
    sink, port = smtp_server
    make_registry(db_url, outlets=100, per_outlet=20)
    result = cli(*send_args(port, "--connections", "4"))
    assert "2000 sent, 0 failed, 0 pending of 2000" in result.stderr
    ids = sink.ids()
    assert len(ids) == 2000 and len(set(ids)) == 2000
    assert set(ids) == {d.message_id for d in deliveries(db_url).values()}
    assert all(m["rcpt_tos"] == [m["to"]] for m in sink.received)
    assert json.loads(cli("batch", "status", "sahel-civilians", "--json").stdout) == {
        "total": 2000,
        "pending": 0,
        "claimed": 0,
        "sent": 2000,
        "failed": 0,
        "cancelled": 0,
        "in_progress": 0,
        "bounced": 0,
        "complained": 0,
        "auto_replied": 0,
    }
    row = json.loads(cli("batch", "audit", "sahel-civilians", "--json").stdout)[0]
    assert row["status"] == "sent" and row["server_reply"].startswith("250 2.0.0 Ok")
    assert row["sent_by"] and row["attempts"] == 1
    again = cli(*send_args(port), expect=0)
    assert "nothing to send" in again.stderr and len(sink.ids()) == 2000


@pytest.mark.smtp
def test_4xx_retried_and_5xx_failed(cli, db_url: str, smtp_server) -> None:
    """4xx replies are retried until accepted; 5xx mark that message failed and the run goes on."""
    sink, port = smtp_server
    make_registry(db_url, outlets=2, per_outlet=5)
    sink.faults[("outlet-00000.1@example.com", "rcpt")] = ["451 4.7.1 greylisted", "452 4.2.2 full"]
    sink.faults[("outlet-00000.2@example.com", "data")] = ["450 4.2.0 try later"]
    sink.faults[("outlet-00001.3@example.com", "rcpt")] = ["550 5.1.1 no such user"]
    result = cli(*send_args(port), expect=1)
    assert "9 sent, 1 failed, 0 pending of 10" in result.stderr
    rows = deliveries(db_url)
    assert (
        rows["outlet-00000.1@example.com"].status == "sent"
        and rows["outlet-00000.1@example.com"].attempts == 3
    )
    assert rows["outlet-00000.2@example.com"].status == "sent"
    failed = rows["outlet-00001.3@example.com"]
    assert failed.status == "failed" and failed.server_reply.startswith("550 5.1.1")
    assert Counter(sink.ids()).most_common(1)[0][1] == 1


@pytest.mark.smtp
def test_an_address_refused_as_gone_while_sending_is_suppressed(
    cli, db_url: str, smtp_server
) -> None:
    """A 550 5.1.1 in reply to RCPT TO during our own send is the hard bounce of that
    delivery: the address is suppressed, and the run says so. A refusal about how we send
    (5.7.1 policy) or one that is not final (4xx) suppresses nobody."""
    sink, port = smtp_server
    make_registry(db_url, outlets=2, per_outlet=5)
    gone, policy = "outlet-00001.3@example.com", "outlet-00001.4@example.com"
    sink.faults[(gone, "rcpt")] = ["550 5.1.1 <outlet-00001.3@example.com>: user unknown"]
    sink.faults[(policy, "rcpt")] = ["550 5.7.1 Delivery not authorized, message refused"]
    sink.faults[("outlet-00000.1@example.com", "rcpt")] = ["452 4.2.2 Mailbox full"]
    result = cli(*send_args(port), expect=1)
    said = " ".join(result.stderr.split())
    assert f"1 address(es) refused by the relay as gone, now suppressed: {gone}" in said
    suppressed = {
        r["email"]: r["reason"] for r in json.loads(cli("suppress", "list", "--json").stdout)
    }
    assert list(suppressed) == [gone]
    assert suppressed[gone].startswith("refused while sending: no-such-user: 550 5.1.1")
    rows = deliveries(db_url)
    assert rows[gone].server_reply.startswith("550 5.1.1")
    assert rows[policy].status == "failed"


@pytest.mark.smtp
def test_4xx_beyond_attempts_left_pending(cli, db_url: str, smtp_server) -> None:
    """A message refused with 4xx more often than allowed is left pending with the last error."""
    sink, port = smtp_server
    make_registry(db_url, outlets=1, per_outlet=3)
    sink.faults[("outlet-00000.0@example.com", "rcpt")] = ["421 4.3.2 shutting down"] * 3
    result = cli(*send_args(port, "--max-attempts", "3"), expect=1)
    assert "2 sent, 0 failed, 1 pending of 3" in result.stderr
    row = deliveries(db_url)["outlet-00000.0@example.com"]
    assert (row.status, row.attempts, row.claimed_by) == ("pending", 3, None)
    assert row.last_error.startswith("421 4.3.2")
    cli(*send_args(port))
    assert deliveries(db_url)["outlet-00000.0@example.com"].status == "sent"


@pytest.mark.smtp
def test_connection_dropped_mid_message(cli, db_url: str, smtp_server) -> None:
    """A connection dropped during DATA is reopened and the message sent, once."""
    sink, port = smtp_server
    make_registry(db_url, outlets=1, per_outlet=4)
    sink.faults[("outlet-00000.1@example.com", "data")] = ["drop"]
    cli(*send_args(port))
    assert sorted(Counter(sink.ids()).values()) == [1, 1, 1, 1]


@pytest.mark.slow
@pytest.mark.smtp
def test_rate_is_held_in_every_second(cli, db_url: str, smtp_server) -> None:
    """With --rate 20, no one-second window at the server holds more than 20 messages."""
    sink, port = smtp_server
    make_registry(db_url, outlets=2, per_outlet=40)
    cli(*send_args(port, "--rate", "20", "--connections", "4"))
    times = sorted(m["time"] for m in sink.received)
    assert len(times) == 80
    worst = max(sum(1 for t in times[i:] if t - start < 1.0) for i, start in enumerate(times))
    assert worst <= 20
    assert times[-1] - times[0] >= 3.0


class StepClock:
    """A clock that moves one second each time it is read: time passes with the messages, not
    with the wall clock."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start
        self.lock = threading.Lock()

    def __call__(self) -> dt.datetime:
        with self.lock:
            self.now += dt.timedelta(seconds=1)
            return self.now


def test_embargo_stops_the_run(engine, db_url: str) -> None:
    """A run that reaches the lift stops: nothing embargoed is sent at or after it (less the
    margin), and a later run sends nothing more either. (Through the in-memory transport: the
    clock, not the wire, is what this is about.)"""
    lift = dt.datetime(2031, 3, 10, 0, 1, tzinfo=dt.UTC)
    make_registry(db_url, outlets=2, per_outlet=50, embargo=lift)
    transport = MemoryTransport()
    settings = load_settings(db=db_url)
    clock = StepClock(lift - dt.timedelta(seconds=31))
    with session_factory(engine)() as session:
        report = send_batch(
            session, "sahel-civilians", transport, SendOptions(clock=clock), settings
        )
    # Read once to prepare, then once before each message: the 24th goes at lift - 6 s, the
    # 25th would go at lift - 5 s, inside the margin.
    assert report.sent == 24 and len(transport.kept) == 24
    assert report.stopped and "the embargo lifts at 2031-03-10 00:01:00 UTC" in report.stopped
    assert report.final["sent"] == 24 and report.final["pending"] == 76 and not report.complete
    with session_factory(engine)() as session, pytest.raises(EmbargoLifted):
        send_batch(
            session, "sahel-civilians", transport, SendOptions(clock=StepClock(lift)), settings
        )
    assert len(transport.kept) == 24


@pytest.mark.smtp
def test_send_needs_yes_without_terminal(cli, db_url: str, smtp_server) -> None:
    """Without a terminal and without --yes nothing is sent."""
    sink, port = smtp_server
    make_registry(db_url, outlets=1, per_outlet=2)
    args = [a for a in send_args(port) if a != "--yes"]
    assert "needs --yes" in cli(*args, expect=2).stderr
    assert sink.ids() == []


@pytest.mark.smtp
def test_dry_run_sends_and_records_nothing(cli, db_url: str, smtp_server) -> None:
    """--dry-run lists every message and leaves the database and server untouched."""
    sink, port = smtp_server
    make_registry(db_url, outlets=1, per_outlet=3)
    result = cli(*send_args(port, "--dry-run"))
    assert result.stdout.count("@example.com") == 3
    assert sink.ids() == [] and deliveries(db_url) == {}


@pytest.mark.smtp
def test_batch_test_sends_one_outlet_message_unrecorded(cli, db_url: str, smtp_server) -> None:
    """`batch test` sends "[TEST]" copies to the given addresses and records no delivery."""
    sink, port = smtp_server
    make_registry(db_url, outlets=1, per_outlet=2)
    cli(
        "batch",
        "test",
        "sahel-civilians",
        "--outlet",
        "outlet-00000",
        "--to",
        "officer@example.org",
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        str(port),
        "--security",
        "none",
    )
    [message] = sink.received
    assert message["to"] == "officer@example.org" and message["subject"].startswith("[TEST] ")
    assert deliveries(db_url) == {}


@pytest.mark.smtp
def test_audit_csv(cli, db_url: str, smtp_server, tmp_path: Path) -> None:
    """`batch audit --csv` writes one row per recipient."""
    _sink, port = smtp_server
    make_registry(db_url, outlets=1, per_outlet=3)
    cli(*send_args(port))
    out = tmp_path / "audit.csv"
    cli("batch", "audit", "sahel-civilians", "--csv", str(out))
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("outlet,email,language,contacts,message_id,content_hash")
    assert len(lines) == 4 and all(",sent," in line for line in lines[1:])


def _spawn(db_url: str, port: int, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "CIVIC_CONTACTS_DB": db_url}
    return subprocess.Popen(
        [sys.executable, "-m", "civic_contacts", *send_args(port, *extra)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.mark.slow
@pytest.mark.smtp
@pytest.mark.parametrize(("connections", "rate"), [(1, "60"), (4, "200"), (4, None)])
def test_killed_and_resumed_sends_each_message_once(
    cli, db_url: str, smtp_server, tmp_path: Path, connections: int, rate: str | None
) -> None:
    """SIGKILL at random points, then resume: nothing lost, at most one duplicate per
    connection per kill (each worker's last mark is committed while the next envelope goes).
    Without a rate, on PostgreSQL, the workers are processes of their own."""
    sink, port = smtp_server
    make_registry(db_url, outlets=10, per_outlet=40)
    cli("batch", "build", "sahel-civilians", "--out", str(tmp_path / "out"))
    rng = random.Random(1234)
    kills = 3
    for _ in range(kills):
        # Kill at a random point of the run: after a random number of messages have arrived
        # (so a slow start never decides it), counted at the server.
        before = len(sink.received)
        pace = ["--rate", rate] if rate else []
        process = _spawn(db_url, port, *pace, "--connections", str(connections))
        assert sink.wait_for(before + rng.randint(1, 40)), "the send never got going"
        assert process.poll() is None, "a run finished before it could be killed"
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    assert 0 < len(sink.received) < 400
    final = _spawn(db_url, port)
    assert final.wait(timeout=300) == 0, final.stderr.read().decode() if final.stderr else ""
    rows = deliveries(db_url)
    assert len(rows) == 400 and all(d.status == "sent" for d in rows.values())
    counts = Counter(sink.ids())
    assert set(counts) == {d.message_id for d in rows.values()}
    duplicates = sum(n - 1 for n in counts.values())
    assert duplicates <= kills * connections


@pytest.mark.slow
@pytest.mark.smtp
def test_a_killed_run_leaves_no_worker_sending(db_url: str, smtp_server) -> None:
    """Killed, a run with four connections stops sending, all of it: on PostgreSQL its
    workers are processes of their own, and they die with it."""
    sink, port = smtp_server
    make_registry(db_url, outlets=10, per_outlet=200)
    process = _spawn(db_url, port, "--connections", "4")
    assert sink.wait_for(20), "the send never got going"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    # What was on its way lands (at most one a connection); after that, nothing more comes.
    landed = len(sink.received)
    while sink.wait_for(landed + 1, timeout=0.5):
        landed = len(sink.received)
    assert not sink.wait_for(landed + 1, timeout=1.5)
    assert len(sink.received) == landed < 2000


@pytest.mark.slow
@pytest.mark.smtp
@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_worker_process_that_dies_stops_the_run_and_loses_nothing(
    db_url: str, smtp_server
) -> None:
    """One of a run's worker processes killed: the run stops and says so, and a second run
    sends the rest, with at most the dead worker's message in hand sent twice."""
    sink, port = smtp_server
    make_registry(db_url, outlets=10, per_outlet=100)
    process = _spawn(db_url, port, "--connections", "4")
    assert sink.wait_for(20), "the send never got going"
    workers = [
        int(pid)
        for pid in os.listdir("/proc")
        if pid.isdigit() and _parent_of(int(pid)) == process.pid
    ]
    assert len(workers) == 4
    os.kill(workers[0], signal.SIGKILL)
    assert process.wait(timeout=60) == 2
    assert "a sending process ended with code -9" in (
        process.stderr.read().decode() if process.stderr else ""
    )
    final = _spawn(db_url, port, "--connections", "4")
    assert final.wait(timeout=300) == 0, final.stderr.read().decode() if final.stderr else ""
    rows = deliveries(db_url)
    assert all(d.status == "sent" for d in rows.values())
    counts = Counter(sink.ids())
    assert set(counts) == {d.message_id for d in rows.values()}
    assert sum(n - 1 for n in counts.values()) <= 1


def _parent_of(pid: int) -> int | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1])


@pytest.mark.slow
@pytest.mark.smtp
def test_ctrl_c_stops_every_worker_with_each_mark_committed(db_url: str, smtp_server) -> None:
    """Ctrl-C in a run with four connections (threads on SQLite, processes of their own on
    PostgreSQL): every worker stops after its message in hand, each message the server took
    is marked sent, nothing stays claimed, nothing went twice. (When Ctrl-C raised
    KeyboardInterrupt in the threads' `join`, Python took a running thread for ended and the
    run exited under it: on a loaded machine, one time in 24, a message the server took
    stayed unmarked.)"""
    sink, port = smtp_server
    make_registry(db_url, outlets=10, per_outlet=200)
    process = _spawn(db_url, port, "--connections", "4")
    assert sink.wait_for(20), "the send never got going"
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 1
    assert "stopped: interrupted" in (process.stderr.read().decode() if process.stderr else "")
    rows = deliveries(db_url)
    statuses = Counter(d.status for d in rows.values())
    assert statuses["claimed"] == 0 and 0 < statuses["sent"] < 2000
    counts = Counter(sink.ids())
    assert max(counts.values()) == 1
    assert set(counts) == {d.message_id for d in rows.values() if d.status == "sent"}


@pytest.mark.smtp
def test_a_limit_holds_over_every_connection(cli, db_url: str, smtp_server) -> None:
    """`--limit 7` with four connections sends seven messages in all (the workers share it,
    threads or processes), and exits 0: it did what was asked."""
    sink, port = smtp_server
    make_registry(db_url, outlets=10, per_outlet=20)
    result = cli(*send_args(port, "--connections", "4", "--limit", "7"))
    assert "sent 7 now" in result.stderr
    assert len(sink.ids()) == 7 == len(set(sink.ids()))
    statuses = Counter(d.status for d in deliveries(db_url).values())
    assert (statuses["sent"], statuses["pending"], statuses["claimed"]) == (7, 193, 0)


@pytest.mark.slow
@pytest.mark.smtp
@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_two_concurrent_senders_never_both_send(db_url: str, smtp_server) -> None:
    """Two runs on one PostgreSQL registry at once share the work; no message goes twice."""
    sink, port = smtp_server
    make_registry(db_url, outlets=10, per_outlet=60)
    first = _spawn(db_url, port, "--connections", "2")
    second = _spawn(db_url, port, "--connections", "2")
    codes = [first.wait(timeout=300), second.wait(timeout=300)]
    errors = [p.stderr.read().decode() if p.stderr else "" for p in (first, second)]
    assert codes == [0, 0], "\n---\n".join(errors)
    counts = Counter(sink.ids())
    assert len(counts) == 600 and max(counts.values()) == 1
    assert all(d.status == "sent" for d in deliveries(db_url).values())


@pytest.mark.slow
@pytest.mark.smtp
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_two_concurrent_senders_on_sqlite(db_url: str, smtp_server) -> None:
    """Two runs on one SQLite file at once never both send a message."""
    sink, port = smtp_server
    make_registry(db_url, outlets=5, per_outlet=60)
    first = _spawn(db_url, port, "--connections", "2")
    second = _spawn(db_url, port, "--connections", "2")
    assert [first.wait(timeout=300), second.wait(timeout=300)] == [0, 0]
    counts = Counter(sink.ids())
    assert len(counts) == 300 and max(counts.values()) == 1


@pytest.mark.smtp
def test_address_suppressed_after_build_is_never_sent(
    cli, db_url: str, smtp_server, tmp_path: Path
) -> None:
    """An address suppressed between build and send gets nothing; the others all go."""
    sink, port = smtp_server
    make_registry(db_url, outlets=1, per_outlet=4)
    cli("batch", "build", "sahel-civilians", "--out", str(tmp_path / "out"))
    cli("suppress", "add", "outlet-00000.2@example.com")
    cli(*send_args(port))
    assert sorted(m["to"] for m in sink.received) == [
        "outlet-00000.0@example.com",
        "outlet-00000.1@example.com",
        "outlet-00000.3@example.com",
    ]
    assert deliveries(db_url)["outlet-00000.2@example.com"].status == "cancelled"
    blocked = cli(
        "batch",
        "test",
        "sahel-civilians",
        "--outlet",
        "outlet-00000",
        "--to",
        "outlet-00000.2@example.com",
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        str(port),
        "--security",
        "none",
        expect=2,
    )
    assert "is suppressed" in blocked.stderr and len(sink.received) == 3


@pytest.mark.smtp
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_smtp_settings_from_the_config_file(
    cli, db_url: str, smtp_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Host, port, security and rate can come from [smtp] in the config file."""
    sink, port = smtp_server
    config = tmp_path / "config.toml"
    config.write_text(
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\nrate = 50\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("CIVIC_CONTACTS_CONFIG", str(config))
    make_registry(db_url, outlets=1, per_outlet=3)
    result = cli("batch", "send", "sahel-civilians", "--yes")
    assert f"server 127.0.0.1:{port} (none)" in result.stderr
    assert len(sink.ids()) == 3


@pytest.mark.smtp
def test_a_server_that_refuses_connections_stops_the_run_at_once(cli, db_url: str) -> None:
    """Nothing listening: one line naming host:port and the cause, exit 2, nothing claimed,
    tried or failed."""
    from tests.conftest import free_port

    make_registry(db_url, outlets=2, per_outlet=20)
    port = free_port()
    result = cli(*send_args(port), expect=2)
    assert result.stderr.startswith(
        f"error: cannot connect to 127.0.0.1:{port}: Connection refused; nothing was sent\n"
    )
    assert "--connect-timeout" in result.stderr
    rows = deliveries(db_url).values()
    assert len(rows) == 40 and {(d.status, d.attempts) for d in rows} == {("pending", 0)}


@pytest.mark.slow
@pytest.mark.smtp
def test_a_server_that_never_answers_times_out(cli, db_url: str) -> None:
    """A server that takes the connection and never greets stops the run after
    --connect-timeout, with the cause, nothing marked."""
    import socket

    make_registry(db_url, outlets=1, per_outlet=3)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        result = cli(*send_args(port, "--connect-timeout", "1"), expect=2)
    assert result.stderr.startswith(
        f"error: cannot connect to 127.0.0.1:{port}: timed out; nothing was sent\n"
    )
    assert {d.status for d in deliveries(db_url).values()} == {"pending"}


@pytest.mark.smtp
def test_a_dropped_connection_is_released_never_marked_sent(cli, db_url: str, smtp_server) -> None:
    """A message whose connection drops mid-DATA on every try is given back pending (claimed,
    then released), never marked sent, and goes once on the next run."""
    sink, port = smtp_server
    make_registry(db_url, outlets=1, per_outlet=3)
    sink.faults[("outlet-00000.1@example.com", "data")] = ["drop"] * 2
    result = cli(*send_args(port, "--max-attempts", "2"), expect=1)
    assert "connection lost" in result.stderr
    row = deliveries(db_url)["outlet-00000.1@example.com"]
    assert (row.status, row.claimed_by, row.sent_at) == ("pending", None, None)
    cli(*send_args(port))
    assert Counter(sink.ids())[row.message_id] == 1


@pytest.mark.smtp
def test_date_is_when_the_message_is_handed_over(
    cli, engine, db_url: str, smtp_server, tmp_path: Path
) -> None:
    """A batch built on Monday and sent later says the later time in Date; the outbox keeps
    the build's Date as a faithful preview."""
    import email as email_module
    from email import policy as email_policy
    from email.utils import parsedate_to_datetime

    from civic_contacts.deliver.build import build_batch
    from civic_contacts.deliver.plan import BuildOptions

    sink, port = smtp_server
    make_registry(db_url, outlets=1, per_outlet=2)
    monday = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)
    with session_factory(engine)() as session:
        build_batch(
            session,
            "sahel-civilians",
            tmp_path / "out",
            BuildOptions(now=monday),
            load_settings(db=db_url),
        )
        session.commit()
    built = next((tmp_path / "out").glob("*/*.eml")).read_bytes()
    assert (
        parsedate_to_datetime(
            email_module.message_from_bytes(built, policy=email_policy.default)["Date"]
        )
        == monday
    )
    cli(*send_args(port))
    for message in sink.received:
        parsed = email_module.message_from_bytes(message["data"], policy=email_policy.default)
        assert parsedate_to_datetime(parsed["Date"]) > monday + dt.timedelta(hours=1)
        assert len(parsed.get_all("Date")) == 1


@pytest.mark.smtp
def test_a_test_send_is_the_journalists_message_for_the_tester_only(
    demo, smtp_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`batch test --as` sends that journalist's variant (language, zone, contacts) to the test
    address with "[TEST]", passes the header checks, records nothing, and its unsubscribe link
    can only ever unsubscribe the tester."""
    from email import message_from_bytes
    from email import policy as email_policy
    from urllib.parse import unquote

    from civic_contacts.deliver.tokens import verify_token

    monkeypatch.setenv("CIVIC_CONTACTS_UNSUBSCRIBE_SECRET", "secret-for-the-test-send-4e7a9c1b")
    sink, port = smtp_server
    before = json.loads(demo("batch", "status", "sahel-civilians", "--json").stdout)
    result = demo(
        "batch",
        "test",
        "sahel-civilians",
        "--to",
        "officer@example.org",
        "--as",
        "adama.kone@example.com",
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        str(port),
        "--security",
        "none",
    )
    assert "as adama.kone@example.com (agence-sahel-presse, fr)" in result.stderr
    [received] = sink.received
    msg = message_from_bytes(received["data"], policy=email_policy.default)
    assert received["rcpt_tos"] == ["officer@example.org"]
    assert [a.addr_spec for a in msg["To"].addresses] == ["officer@example.org"]
    assert msg["Subject"].startswith("[TEST] SOUS EMBARGO")
    assert "Bonjour Adama Koné," in msg.get_body(("plain",)).get_content()
    assert "adama.kone@example.com" not in received["data"].decode("ascii", "replace")
    link = str(msg["List-Unsubscribe"])
    token = unquote(link.split("subject=", 1)[1].split(">", 1)[0]).removeprefix("unsubscribe ")
    assert verify_token(b"secret-for-the-test-send-4e7a9c1b", token) == "officer@example.org"
    assert json.loads(demo("batch", "status", "sahel-civilians", "--json").stdout) == before


@pytest.mark.slow
@pytest.mark.smtp
def test_address_suppressed_while_the_send_runs_is_never_sent(
    cli, db_url: str, smtp_server, tmp_path: Path
) -> None:
    """Suppressed while a run is sending: checked as each message is claimed, so the address
    claimed after the suppression gets nothing, its delivery is cancelled, the run ends well."""
    sink, port = smtp_server
    make_registry(db_url, outlets=1, per_outlet=40)
    cli("batch", "build", "sahel-civilians", "--out", str(tmp_path / "out"))
    last = "outlet-00000.39@example.com"
    process = _spawn(db_url, port, "--rate", "10")
    assert sink.wait_for(3), "the send never got going"
    cli("suppress", "add", last)
    assert process.wait(timeout=120) == 0, process.stderr.read().decode() if process.stderr else ""
    received = {m["to"] for m in sink.received}
    assert last not in received and len(received) == 39
    row = deliveries(db_url)[last]
    assert (row.status, row.last_error) == ("cancelled", "suppressed during the send")


@pytest.mark.slow
@pytest.mark.smtp
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_database_deleted_during_the_send_is_never_reported_as_success(
    cli, db_url: str, smtp_server, tmp_path: Path
) -> None:
    """The SQLite file is deleted while the run sends: the run does not say "sent" and exit 0;
    it names the file and says the record is lost."""
    sink, port = smtp_server
    make_registry(db_url, outlets=1, per_outlet=40)
    cli("batch", "build", "sahel-civilians", "--out", str(tmp_path / "out"))
    process = _spawn(db_url, port, "--rate", "20")
    assert sink.wait_for(3), "the send never got going"
    database = Path(db_url.removeprefix("sqlite:///"))
    for path in [database, *database.parent.glob(database.name + "-*")]:
        path.unlink()
    assert process.wait(timeout=120) == 2
    said = process.stderr.read().decode() if process.stderr else ""
    assert f"the database file {database} was deleted or replaced while sending" in said
    assert "Traceback" not in said
