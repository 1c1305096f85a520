"""One rate, whoever sends: the organisation's rate holds over two senders at once and across a
kill and restart; the per-domain pace keeps any one domain slow without holding up the others.
Measured at a real SMTP server on loopback, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.deliver.test_send import make_registry, send_args

pytestmark = [pytest.mark.smtp, pytest.mark.slow]


def busiest(times: list[float]) -> int:
    ordered = sorted(times)
    return max(sum(1 for t in ordered[i:] if t - start < 1.0) for i, start in enumerate(ordered))


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _spawn(db_url: str, port: int, config: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "CIVIC_CONTACTS_DB": db_url, "CIVIC_CONTACTS_CONFIG": str(config)}
    return subprocess.Popen(
        [sys.executable, "-m", "civic_contacts", *send_args(port, *extra)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_two_senders_share_the_organisations_rate(
    cli, db_url: str, smtp_server, tmp_path: Path
) -> None:
    """`[send] rate = 20` and two senders at once, two connections each: the server sees about
    20 in a second, never the 40 of two senders pacing themselves alone, and nothing goes
    twice.

    Slots start at least 1/20 s apart, so a second holds at most 21 starts (the senders'
    clocks and the sink's differ by a little). A server that stalls and then answers every
    waiting connection at once sees, besides, up to one message a connection whose slot began
    before the second: 21 + 4. CI's whole-suite runs saw 24 three times (the sink is a thread
    of the busy test process); a sink made to stall for a second reproduces it."""
    sink, port = smtp_server
    make_registry(db_url, outlets=3, per_outlet=40)
    config = _config(tmp_path, "[send]\nrate = 20\n")
    first = _spawn(db_url, port, config, "--connections", "2")
    second = _spawn(db_url, port, config, "--connections", "2")
    assert [first.wait(timeout=120), second.wait(timeout=120)] == [0, 0]
    times = [m["time"] for m in sink.received]
    assert len(times) == 120 and max(Counter(m["to"] for m in sink.received).values()) == 1
    assert busiest(times) <= 21 + 4


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_sender_killed_and_restarted_does_not_burst(
    cli, db_url: str, smtp_server, tmp_path: Path
) -> None:
    """Killed and started again at once, the run takes up the slots where the last one left
    them: no one-second window over 22 at `rate = 20`."""
    sink, port = smtp_server
    make_registry(db_url, outlets=2, per_outlet=40)
    config = _config(tmp_path, "[send]\nrate = 20\n")
    process = _spawn(db_url, port, config, "--connections", "4")
    assert sink.wait_for(15)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    again = _spawn(db_url, port, config, "--connections", "4")
    assert again.wait(timeout=120) == 0
    assert busiest([m["time"] for m in sink.received]) <= 22


def test_rate_can_only_be_lowered_by_the_command_line(
    cli, db_url: str, smtp_server, tmp_path: Path
) -> None:
    """`--rate 100` under `[send] rate = 10` sends at 10."""
    sink, port = smtp_server
    make_registry(db_url, outlets=1, per_outlet=30)
    config = _config(tmp_path, "[send]\nrate = 10\n")
    process = _spawn(db_url, port, config, "--rate", "100", "--connections", "4")
    assert process.wait(timeout=120) == 0
    assert busiest([m["time"] for m in sink.received]) <= 11


def test_one_busy_domain_is_paced_and_holds_up_no_other(
    demo, db_url: str, smtp_server, tmp_path: Path
) -> None:
    """At 4 per second per domain, no domain gets more than 4 in a second, and the 10 messages
    to the domain with the fewest recipients are all in within the first 3 seconds, while
    the busiest domain's 18 take more than 4. (On PostgreSQL the two connections' workers are
    processes of their own: the pace is kept in the database, for every sender.)"""
    sink, port = smtp_server
    # The environment sets it here: another config file would mean another unsubscribe
    # secret beside it, and so other message bytes than the ones built.
    env = {**os.environ, "CIVIC_CONTACTS_PER_DOMAIN_RATE": "4"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "civic_contacts",
            "--db",
            db_url,
            "batch",
            "send",
            "sahel-civilians",
            "--smtp-host",
            "127.0.0.1",
            "--smtp-port",
            str(port),
            "--security",
            "none",
            "--connections",
            "2",
            "--yes",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert process.wait(timeout=120) == 0, process.stderr.read().decode() if process.stderr else ""
    by_domain: dict[str, list[float]] = {}
    for m in sink.received:
        by_domain.setdefault(m["to"].rsplit("@", 1)[1], []).append(m["time"])
    assert sum(len(v) for v in by_domain.values()) == 41
    assert all(busiest(times) <= 5 for times in by_domain.values()), {
        d: busiest(t) for d, t in by_domain.items()
    }
    start = min(m["time"] for m in sink.received)
    assert max(by_domain["example.org"]) - start < 3.0
    assert max(by_domain["example.com"]) - start > 4.0
