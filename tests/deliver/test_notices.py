"""Follow-up notices, through the command line, on SQLite and PostgreSQL, with a real SMTP
server: each goes to exactly those who were sent the release, threaded with their original,
in their language, once; calendars move or cancel the same event."""

from __future__ import annotations

import datetime as dt
import email
import json
import os
import random
import shutil
import signal
import subprocess
import sys
from collections import Counter
from email import policy
from email.message import EmailMessage
from pathlib import Path

import icalendar
import pytest

from tests.conftest import need

pytestmark = pytest.mark.smtp


def smtp(port: int) -> list[str]:
    return ["--smtp-host", "127.0.0.1", "--smtp-port", str(port), "--security", "none"]


def audit(cli) -> dict[str, dict]:
    rows = json.loads(cli("batch", "audit", "sahel-civilians", "--json").stdout)
    return {r["email"]: r for r in rows}


def parsed(message: dict) -> EmailMessage:
    return email.message_from_bytes(message["data"], policy=policy.default)


def calendar_of(msg: EmailMessage) -> tuple[EmailMessage, icalendar.Calendar]:
    part = next(p for p in msg.walk() if p.get_content_type() == "text/calendar")
    return part, icalendar.Calendar.from_ical(part.get_content())


def text_of(msg: EmailMessage) -> str:
    return next(p for p in msg.walk() if p.get_content_type() == "text/plain").get_content()


def release_file(
    tmp_path: Path, cli, lang: str = "en", embargo: str | None = None, body: str | None = None
) -> Path:
    """The demo release's file in one language, with another embargo or body."""
    shown = json.loads(cli("release", "show", "sahel-civilians", "--json").stdout)
    text = next(t for t in shown["translations"] if t["language"] == lang)
    path = tmp_path / f"update-{lang}-{random.randrange(10**9)}.{lang}.md"
    path.write_text(
        "+++\n"
        + f'slug = "sahel-civilians"\nlang = "{lang}"\noffice = "{shown["office"]}"\n'
        + f"concerns = {json.dumps(shown['concerns'])}\n"
        + f'embargo = "{embargo or shown["embargo"]}"\n'
        + f"title = {json.dumps(text['title'], ensure_ascii=False)}\n"
        + f"dateline = {json.dumps(text['dateline'], ensure_ascii=False)}\n"
        + "+++\n"
        + (body if body is not None else text["body"]),
        encoding="utf-8",
    )
    return path


def embargo_of(cli) -> dt.datetime:
    shown = json.loads(cli("release", "show", "sahel-civilians", "--json").stdout)
    return dt.datetime.fromisoformat(shown["embargo"])


def test_moved_correction_and_cancelled_reach_exactly_those_sent(
    demo, smtp_server, tmp_path: Path
) -> None:
    """Sent to 30 of 41; a journalist added after and one suppressed get nothing; the moved
    notice is threaded to each one's original and moves the same calendar event; the late
    sends carry the new lift and need no notice; a correction says what changed; the
    cancellation withdraws the release and nothing can follow it."""
    sink, port = smtp_server
    demo("batch", "send", "sahel-civilians", *smtp(port), "--limit", "30", "--yes")
    originals = {m["to"]: parsed(m) for m in sink.received}
    assert len(originals) == 30
    sent = sorted(originals)
    suppressed = sent[0]
    demo("suppress", "add", suppressed)
    demo(
        "journalist",
        "add",
        "--outlet",
        "world-desk-london",
        "--name",
        "Late Comer",
        "--email",
        "late.comer@example.org",
    )
    old_lift = embargo_of(demo)
    new_lift = old_lift + dt.timedelta(days=2)
    stamp = new_lift.strftime("%Y-%m-%dT%H:%M:%SZ")
    files = [release_file(tmp_path, demo, lang, stamp) for lang in ("en", "fr")]
    # `release add` of an existing release with other content is refused, pointing to update.
    refused = demo("release", "add", *map(str, files), expect=2)
    assert "civic-contacts release update" in refused.stderr
    updated = demo("release", "update", *map(str, files))
    said = " ".join(updated.stderr.split())
    assert "revision 2" in said and "embargo moved later by 2 days" in said
    assert "moved notice due: 29 journalist(s) were sent the release with another lift time" in said
    assert "notice build sahel-civilians --kind moved --out DIR" in said

    # A notice for nobody yet: send before build is refused with the command.
    early = demo(
        "notice", "send", "sahel-civilians", "--kind", "moved", *smtp(port), "--yes", expect=2
    )
    assert "hint: run: civic-contacts notice build sahel-civilians --kind moved" in early.stderr

    box = tmp_path / "moved"
    dry = demo(
        "notice", "build", "sahel-civilians", "--kind", "moved", "--out", str(box), "--dry-run"
    )
    assert "would build 29 messages" in " ".join(dry.stderr.split()) and not box.exists()
    demo("notice", "build", "sahel-civilians", "--kind", "moved", "--out", str(box))
    assert (box / "preview.html").exists()
    assert len((box / "manifest.jsonl").read_text().splitlines()) == 29
    sink.received.clear()
    demo("notice", "send", "sahel-civilians", "--kind", "moved", *smtp(port), "--yes")
    moved = {m["to"]: parsed(m) for m in sink.received}
    assert sorted(moved) == sent[1:], "exactly those sent, minus the suppressed one"
    assert len(sink.received) == 29
    for address, msg in moved.items():
        original = originals[address]
        assert msg["In-Reply-To"] == original["Message-ID"] == msg["References"]
        assert msg["Message-ID"] != original["Message-ID"]
        assert msg["Content-Language"] == original["Content-Language"]
        prefix = "Embargo reporté\u00a0: " if msg["Content-Language"] == "fr" else "Embargo moved: "
        assert str(msg["Subject"]).startswith(prefix)
        part, cal = calendar_of(msg)
        _opart, ocal = calendar_of(original)
        assert part.get_param("method") == "REQUEST" == str(cal["METHOD"])
        event, first = cal.walk("VEVENT")[0], ocal.walk("VEVENT")[0]
        assert event["UID"] == first["UID"]
        assert int(event["SEQUENCE"]) == int(first["SEQUENCE"]) + 1
        assert event.decoded("DTSTART") == new_lift
        assert str(event["ORGANIZER"]).startswith("mailto:")
        # The routed contacts of the original, not routed again.
        assert msg["Reply-To"] == original["Reply-To"]
    french = next(m for m in moved.values() if m["Content-Language"] == "fr")
    assert "N'est plus valable\u00a0: " in text_of(french)
    assert "~~" not in text_of(french)  # plain text, no Markdown strike-through

    # Sending again sends nothing more; status shows the notice, nothing due.
    sink.received.clear()
    demo("notice", "send", "sahel-civilians", "--kind", "moved", *smtp(port), "--yes")
    assert sink.received == []
    status = json.loads(demo("notice", "status", "sahel-civilians", "--json").stdout)
    assert [(n["kind"], n["sent"], n["pending"]) for n in status["notices"]] == [("moved", 29, 0)]
    assert status["due"] == []

    # The rest of the release goes with the new lift; they need no moved notice.
    demo("batch", "build", "sahel-civilians", "--out", str(tmp_path / "out"))
    demo("batch", "send", "sahel-civilians", *smtp(port), "--yes")
    late = {m["to"]: parsed(m) for m in sink.received}
    assert "late.comer@example.org" in late and len(late) == 12
    assert all(
        calendar_of(m)[1].walk("VEVENT")[0].decoded("DTSTART") == new_lift for m in late.values()
    )
    status = json.loads(demo("notice", "status", "sahel-civilians", "--json").stdout)
    assert status["due"] == []

    # A correction of the English text: English readers only, with what changed.
    english = release_file(tmp_path, demo, "en")
    body = english.read_text(encoding="utf-8").split("+++\n", 2)[2]
    paragraphs = body.strip().split("\n\n")
    was = paragraphs[1]
    paragraphs[1] = "The report counts 4,210 people displaced, not 42,100 as first stated."
    corrected = release_file(tmp_path, demo, "en", body="\n\n".join(paragraphs) + "\n")
    out = demo("release", "update", str(corrected))
    assert "en: paragraph 2 changed" in out.stderr and "correction notice due" in out.stderr
    demo("notice", "build", "sahel-civilians", "--kind", "correction", "--out", str(tmp_path / "c"))
    sink.received.clear()
    demo("notice", "send", "sahel-civilians", "--kind", "correction", *smtp(port), "--yes")
    corrections = {m["to"]: parsed(m) for m in sink.received}
    rows = audit(demo)
    readers = {e for e, r in rows.items() if r["status"] == "sent" and r["language"] == "en"}
    assert set(corrections) == readers - {suppressed} and corrections
    for msg in corrections.values():
        assert str(msg["Subject"]).startswith("Correction: ")
        text = " ".join(text_of(msg).split())
        # The old and the new text of the paragraph, whole, the changed words named.
        assert "Now: The report counts 4,210 people displaced, not 42,100 as first stated." in text
        assert "Was: " + " ".join(was.split()) in text
        assert "Paragraph 2 changed (" in text
        assert "EMBARGOED UNTIL" in text
        assert msg["In-Reply-To"] == rows[msg["To"].addresses[0].addr_spec]["message_id"]

    # Cancelled: everyone sent (but the suppressed), METHOD:CANCEL of the same event.
    demo(
        "notice",
        "build",
        "sahel-civilians",
        "--kind",
        "cancelled",
        "--out",
        str(tmp_path / "x"),
        "--yes",
    )
    sink.received.clear()
    demo("notice", "send", "sahel-civilians", "--kind", "cancelled", *smtp(port), "--yes")
    cancelled = {m["to"]: parsed(m) for m in sink.received}
    assert len(cancelled) == len(sink.received) == 41  # the 41, the late comer, not the suppressed
    for address, msg in cancelled.items():
        part, cal = calendar_of(msg)
        event = cal.walk("VEVENT")[0]
        assert part.get_param("method") == "CANCEL" == str(cal["METHOD"])
        assert str(event["STATUS"]) == "CANCELLED"
        assert (
            event["UID"]
            == calendar_of(originals.get(address) or late[address])[1].walk("VEVENT")[0]["UID"]
        )
        assert int(event["SEQUENCE"]) >= 2
    # Nothing can follow a cancellation: no moved, no release message.
    later = release_file(
        tmp_path, demo, "en", (new_lift + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    assert "was cancelled" in demo("release", "update", str(later), expect=2).stderr
    assert (
        "no moved notice can follow"
        in demo(
            "notice",
            "build",
            "sahel-civilians",
            "--kind",
            "moved",
            "--out",
            str(tmp_path / "m2"),
            expect=2,
        ).stderr
    )
    assert (
        "was cancelled"
        in demo("batch", "send", "sahel-civilians", *smtp(port), "--yes", expect=2).stderr
    )
    shown = demo("release", "show", "sahel-civilians").stdout
    assert "cancelled: journalists told not to publish" in shown


@pytest.mark.slow
def test_reminder_and_lift_are_scheduled_around_the_lift(demo, smtp_server, tmp_path: Path) -> None:
    """A reminder counts down and is refused at or after the lift; the lift notice is refused
    before the lift and, scheduled with --at, waits for it."""
    sink, port = smtp_server
    demo("batch", "send", "sahel-civilians", *smtp(port), "--limit", "3", "--yes")
    lift = embargo_of(demo)
    after = (lift + dt.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    demo("notice", "build", "sahel-civilians", "--kind", "reminder", "--out", str(tmp_path / "r"))
    refused = demo(
        "notice",
        "send",
        "sahel-civilians",
        "--kind",
        "reminder",
        "--at",
        after,
        *smtp(port),
        "--yes",
        expect=2,
    )
    assert "only sent before it" in refused.stderr
    sink.received.clear()
    demo("notice", "send", "sahel-civilians", "--kind", "reminder", *smtp(port), "--yes")
    assert len(sink.received) == 3
    for msg in map(parsed, sink.received):
        subject = str(msg["Subject"])
        assert subject.startswith(
            ("Reminder, embargo lifts in ", "Rappel, levée de l'embargo dans ")
        )
        assert msg["In-Reply-To"]

    demo("notice", "build", "sahel-civilians", "--kind", "lifted", "--out", str(tmp_path / "l"))
    early = demo(
        "notice", "send", "sahel-civilians", "--kind", "lifted", *smtp(port), "--yes", expect=2
    )
    assert "never sent before it" in early.stderr and "--at" in early.stderr
    too_soon = demo(
        "notice",
        "send",
        "sahel-civilians",
        "--kind",
        "lifted",
        "--at",
        "2020-01-01T00:00:00Z",
        *smtp(port),
        "--yes",
        expect=2,
    )
    assert "before the lift" in too_soon.stderr
    bad = demo(
        "notice",
        "send",
        "sahel-civilians",
        "--kind",
        "lifted",
        "--at",
        "tomorrow",
        *smtp(port),
        "--yes",
        expect=2,
    )
    assert "--at" in bad.stderr and "Africa/Niamey" in bad.stderr
    # Bring the lift close (a moved embargo), rebuild the lift notice and schedule it.
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=4)).replace(microsecond=0)
    files = [
        release_file(tmp_path, demo, lang, soon.strftime("%Y-%m-%dT%H:%M:%SZ"))
        for lang in ("en", "fr")
    ]
    demo("release", "update", *map(str, files))
    demo("notice", "build", "sahel-civilians", "--kind", "lifted", "--out", str(tmp_path / "l"))
    sink.received.clear()
    at = soon.strftime("%Y-%m-%d %H:%M:%S").rsplit(":", 1)[0]
    zone_time = soon.astimezone(dt.timezone(dt.timedelta(hours=1)))
    demo(
        "notice",
        "send",
        "sahel-civilians",
        "--kind",
        "lifted",
        "--at",
        zone_time.isoformat(),
        *smtp(port),
        "--yes",
    )
    assert at  # the RFC 3339 form with an offset was used above
    assert len(sink.received) == 3 and dt.datetime.now(dt.UTC) >= soon
    for msg in map(parsed, sink.received):
        assert str(msg["Subject"]).startswith(("Embargo lifted: ", "Embargo levé\u00a0: "))
        assert not any(p.get_content_type() == "text/calendar" for p in msg.walk())


def _spawn_notice(db_url: str, port: int, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "CIVIC_CONTACTS_DB": db_url}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "civic_contacts",
            "notice",
            "send",
            "sahel-civilians",
            "--kind",
            "moved",
            *smtp(port),
            "--yes",
            *extra,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _moved_notice_for(cli, db_url: str, port: int, sink, tmp_path: Path, journalists: int) -> None:
    from tests.deliver.test_send import make_registry

    make_registry(db_url, outlets=max(1, journalists // 40), per_outlet=min(40, journalists))
    cli("batch", "send", "sahel-civilians", *smtp(port), "--connections", "2", "--yes")
    assert len(sink.received) == journalists
    lift = embargo_of(cli) + dt.timedelta(hours=6)
    shown = json.loads(cli("release", "show", "sahel-civilians", "--json").stdout)
    files = [
        release_file(tmp_path, cli, t["language"], lift.strftime("%Y-%m-%dT%H:%M:%SZ"))
        for t in shown["translations"]
    ]
    cli("release", "update", *map(str, files))
    cli("notice", "build", "sahel-civilians", "--kind", "moved", "--out", str(tmp_path / "moved"))
    sink.received.clear()


@pytest.mark.slow
def test_killed_notice_send_resumes_with_nothing_lost(
    cli, db_url: str, smtp_server, tmp_path: Path
) -> None:
    """kill -9 during `notice send`, then resume: every journalist gets the notice, at most
    one duplicate per kill."""
    sink, port = smtp_server
    _moved_notice_for(cli, db_url, port, sink, tmp_path, 200)
    rng = random.Random(99)
    kills = 2
    for _ in range(kills):
        before = len(sink.received)
        process = _spawn_notice(db_url, port, "--rate", "60")
        assert sink.wait_for(before + rng.randint(1, 30)), "the send never got going"
        assert process.poll() is None
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    final = _spawn_notice(db_url, port)
    assert final.wait(timeout=300) == 0, final.stderr.read().decode() if final.stderr else ""
    counts = Counter(m["to"] for m in sink.received)
    assert len(counts) == 200
    assert sum(n - 1 for n in counts.values()) <= kills
    status = json.loads(cli("notice", "status", "sahel-civilians", "--json").stdout)
    assert status["notices"][0]["sent"] == 200


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_two_notice_senders_never_both_send(cli, db_url: str, smtp_server, tmp_path: Path) -> None:
    """Two `notice send` runs on one PostgreSQL registry at once: no journalist gets it twice."""
    sink, port = smtp_server
    _moved_notice_for(cli, db_url, port, sink, tmp_path, 240)
    first = _spawn_notice(db_url, port, "--connections", "2")
    second = _spawn_notice(db_url, port, "--connections", "2")
    codes = [first.wait(timeout=300), second.wait(timeout=300)]
    assert codes == [0, 0], [p.stderr.read().decode() for p in (first, second) if p.stderr]
    counts = Counter(m["to"] for m in sink.received)
    assert len(counts) == 240 and max(counts.values()) == 1


@pytest.mark.slow
def test_khal_moves_the_event_instead_of_adding_one(demo, smtp_server, tmp_path: Path) -> None:
    """The original's calendar entry, then the moved notice's, imported into khal: one event,
    at the new time."""
    if shutil.which("khal") is None:
        need("khal", "install the test extras (pip install -e '.[test]')")
    sink, port = smtp_server
    demo("batch", "send", "sahel-civilians", *smtp(port), "--limit", "1", "--yes")
    original = parsed(sink.received[0])
    new_lift = embargo_of(demo) + dt.timedelta(days=1, hours=3)
    stamp = new_lift.strftime("%Y-%m-%dT%H:%M:%SZ")
    demo(
        "release",
        "update",
        *(str(release_file(tmp_path, demo, lang, stamp)) for lang in ("en", "fr")),
    )
    demo("notice", "build", "sahel-civilians", "--kind", "moved", "--out", str(tmp_path / "m"))
    sink.received.clear()
    demo("notice", "send", "sahel-civilians", "--kind", "moved", *smtp(port), "--yes")
    moved = parsed(sink.received[0])
    calendars = tmp_path / "calendars" / "press"
    calendars.mkdir(parents=True)
    config = tmp_path / "khal.conf"
    config.write_text(
        f"[calendars]\n[[press]]\npath = {calendars}\ntype = calendar\n"
        "[locale]\ntimeformat = %H:%M\ndateformat = %Y-%m-%d\nlongdateformat = %Y-%m-%d\n"
        "datetimeformat = %Y-%m-%d %H:%M\nlongdatetimeformat = %Y-%m-%d %H:%M\n"
        "default_timezone = UTC\nlocal_timezone = UTC\n",
        encoding="utf-8",
    )
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "xdg")}

    def khal(*args: str) -> str:
        done = subprocess.run(
            ["khal", "-c", str(config), *args], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    for msg, name in ((original, "first.ics"), (moved, "moved.ics")):
        path = tmp_path / name
        path.write_text(calendar_of(msg)[0].get_content(), encoding="utf-8")
        khal("import", "--batch", "-a", "press", str(path))
    assert len(list(calendars.glob("*.ics"))) == 1
    listed = khal("list", "--format", "{start} {title}", "2020-01-01", "3000d")
    lines = [line for line in listed.splitlines() if "Embargo" in line or "embargo" in line]
    assert len(lines) == 1, listed
    assert lines[0].startswith(new_lift.strftime("%Y-%m-%d %H:%M")), listed


def test_a_notice_for_an_older_revision_is_refused(demo, smtp_server, tmp_path: Path) -> None:
    """Built for revision 2, then the embargo moves again: sending the old notice is refused
    with the command that builds the current one; building it cancels the old one's messages."""
    sink, port = smtp_server
    demo("batch", "send", "sahel-civilians", *smtp(port), "--limit", "4", "--yes")
    lift = embargo_of(demo)
    for days in (1, 2):
        stamp = (lift + dt.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")
        demo("release", "update", str(release_file(tmp_path, demo, "en", stamp)))
        if days == 1:
            demo(
                "notice",
                "build",
                "sahel-civilians",
                "--kind",
                "moved",
                "--out",
                str(tmp_path / "m"),
            )
    refused = demo(
        "notice", "send", "sahel-civilians", "--kind", "moved", *smtp(port), "--yes", expect=2
    )
    said = " ".join(refused.stderr.split())
    assert "was built for revision 2, and the release is now at revision 3" in said
    assert "hint: run: civic-contacts notice build sahel-civilians --kind moved" in said
    status = json.loads(demo("notice", "status", "sahel-civilians", "--json").stdout)
    assert [d["kind"] for d in status["due"]] == ["moved"] and status["due"][0]["journalists"] == 4
    demo("notice", "build", "sahel-civilians", "--kind", "moved", "--out", str(tmp_path / "m"))
    status = json.loads(demo("notice", "status", "sahel-civilians", "--json").stdout)
    assert [
        (n["revision"], n["current"], n["pending"], n["cancelled"]) for n in status["notices"]
    ] == [
        (2, False, 0, 4),
        (3, True, 4, 0),
    ]
    sink.received.clear()
    demo("notice", "send", "sahel-civilians", "--kind", "moved", *smtp(port), "--yes")
    assert len(sink.received) == 4
    assert all(".moved.3." in m["message_id"] for m in sink.received)


def test_notices_need_a_sent_release_and_a_known_kind(demo, tmp_path: Path) -> None:
    """Nothing sent yet: a cancellation has nobody to tell; an unknown kind is refused."""
    nobody = demo(
        "notice",
        "build",
        "sahel-civilians",
        "--kind",
        "cancelled",
        "--out",
        str(tmp_path / "x"),
        "--yes",
        expect=2,
    )
    assert "nobody was sent sahel-civilians yet" in nobody.stderr
    assert not (tmp_path / "x").exists()
    unknown = demo(
        "notice",
        "build",
        "sahel-civilians",
        "--kind",
        "postponed",
        "--out",
        str(tmp_path / "x"),
        expect=2,
    )
    assert "postponed" in unknown.stderr
    built = demo(
        "notice", "build", "sahel-civilians", "--kind", "reminder", "--out", str(tmp_path / "r")
    )
    assert "built 0 messages" in built.stderr


@pytest.mark.slow
def test_batch_send_at_waits_and_refuses_what_cannot_finish_before_the_lift(
    demo, smtp_server, tmp_path: Path
) -> None:
    """`batch send --at` refuses a start the rate cannot finish before the lift (naming the
    rate that would) or one too close to the lift, then waits and sends at the time given."""
    sink, port = smtp_server
    lift = embargo_of(demo)
    now = dt.datetime.now(dt.UTC)
    slow = demo(
        "batch",
        "send",
        "sahel-civilians",
        *smtp(port),
        "--yes",
        "--at",
        now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "--rate",
        "0.1",
        "--margin",
        str(int((lift - now).total_seconds() // 60) - 5),
        expect=2,
    )
    said = " ".join(slow.stderr.split())
    assert (
        "41 messages at 0.1 per second take" in said
        and "hint: start earlier, or use --rate" in said
    )
    late = demo(
        "batch",
        "send",
        "sahel-civilians",
        *smtp(port),
        "--yes",
        "--at",
        (lift - dt.timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        expect=2,
    )
    assert "less than 30 minutes before the lift" in late.stderr
    assert sink.received == []
    start = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=3)).replace(microsecond=0)
    demo("batch", "send", "sahel-civilians", *smtp(port), "--yes", "--at", start.isoformat())
    assert len(sink.received) == 41 and dt.datetime.now(dt.UTC) >= start
    status = demo("batch", "status", "sahel-civilians")
    assert "left at" not in status.stderr


def test_batch_status_estimates_the_time_left(demo, smtp_server) -> None:
    """After part of a send, `batch status` says how long the rest takes at the last minute's
    pace."""
    _sink, port = smtp_server
    demo("batch", "send", "sahel-civilians", *smtp(port), "--limit", "20", "--yes")
    said = " ".join(demo("batch", "status", "sahel-civilians").stderr.split())
    assert "left at" in said and "per second (the last minute's pace)" in said
    pace = float(said.split("left at ")[1].split(" per second")[0])
    assert pace > 1  # 20 messages in a few seconds, not spread over a minute


def test_a_changed_paragraph_shows_before_and_after_with_the_words_marked() -> None:
    """23% → 27%: the words that changed, in order, and the whole text before and after;
    an added and a removed paragraph are numbered in the text they belong to."""
    from civic_contacts.releases.store import paragraph_changes

    old = "One.\n\nFood prices rose 23% in Tillabéri this year.\n\nGone paragraph."
    new = "One.\n\nFood prices rose 27% in Tillabéri and Dosso this year.\n\nA new one."
    changes = paragraph_changes(old, new)
    assert [(c.kind, c.number) for c in changes] == [("changed", 2), ("changed", 3)]
    first = changes[0]
    assert first.old == "Food prices rose 23% in Tillabéri this year."
    assert first.text == "Food prices rose 27% in Tillabéri and Dosso this year."
    assert first.marks == (("23%", "27%"), ("", "and Dosso"))
    added = paragraph_changes("A.", "A.\n\nB.")
    assert [(c.kind, c.number, c.text, c.old) for c in added] == [("added", 2, "B.", "")]
