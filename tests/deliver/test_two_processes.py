"""A large build assembles and writes its messages in a second process (`render_worker`) while
the first plans and records: the outbox, the manifest, the preview and the recorded hashes
are byte for byte those of a build in one process, and an error in the second process is the
build's own error, with nothing written or recorded."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from civic_contacts.compose.outbox import Outbox
from civic_contacts.config import load_settings
from civic_contacts.db import session_factory
from civic_contacts.deliver import build, notices, plan
from civic_contacts.deliver.send import send_batch
from civic_contacts.deliver.sender import SendOptions
from civic_contacts.deliver.transport import MemoryTransport
from civic_contacts.errors import InputError, OutboxError
from civic_contacts.registry.models import Delivery, Journalist
from tests.deliver.test_send import make_registry

LIFT = dt.datetime(2031, 3, 4, 9, 30, tzinfo=dt.UTC)


def _build(
    engine: Engine,
    db_url: str,
    folder: Path,
    two: bool,
    monkeypatch: pytest.MonkeyPatch,
    cores: int = 2,
) -> tuple[int, dict[str, bytes], dict[str, tuple[str, str]], int]:
    """Build into `folder` in one process or two; what was written and recorded (rolled back),
    and how many second processes were started."""
    started: list[object] = []
    start = Outbox.start_worker

    def counted(box: Outbox, templates: Path | None) -> object:
        started.append(box)
        return start(box, templates)

    monkeypatch.setattr(Outbox, "start_worker", counted)
    monkeypatch.setattr(build, "SECOND_PROCESS_FROM", 1 if two else 10**9)
    monkeypatch.setattr(build, "CORES", cores)
    settings = load_settings(db=db_url)
    options = plan.BuildOptions(now=dt.datetime(2031, 3, 1, 8, 0, tzinfo=dt.UTC))
    with session_factory(engine)() as session, session.begin():
        report = build.build_batch(session, "sahel-civilians", folder, options, settings)
        recorded = {
            email: (content_hash, message_id)
            for email, content_hash, message_id in session.execute(
                select(Delivery.email, Delivery.content_hash, Delivery.message_id)
            )
        }
        session.rollback()
    files = {
        str(path.relative_to(folder)): path.read_bytes()
        for path in folder.rglob("*")
        if path.is_file()
    }
    return report.messages, files, recorded, len(started)


def test_a_build_in_two_processes_is_the_build_in_one_byte_for_byte(
    engine: Engine, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Outlets in several languages and zones, with an embargo (a calendar entry in each
    message): every file, the manifest, the preview and each recorded hash are the same."""
    make_registry(db_url, outlets=12, per_outlet=9, embargo=LIFT)
    one = _build(engine, db_url, tmp_path / "one", False, monkeypatch)
    two = _build(engine, db_url, tmp_path / "two", True, monkeypatch)
    assert one[3] == 0 and two[3] == 1
    count, files, recorded, _started = one
    assert count == 108 and len(recorded) == 108
    assert sum(name.endswith(".eml") for name in files) == 108
    assert {"manifest.jsonl", "preview.html"} <= set(files)
    assert two[:3] == one[:3]
    # With one core to run on, a large build stays in one process.
    alone = _build(engine, db_url, tmp_path / "alone", True, monkeypatch, cores=1)
    assert alone[3] == 0 and alone[:3] == one[:3]


def test_an_error_in_the_second_process_is_the_builds_own(
    engine: Engine, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name with a line break that reached the registry around the import's checks stops the
    build with the one-line error a build in one process gives; no outbox is left and nothing
    is recorded."""
    make_registry(db_url, outlets=3, per_outlet=4, embargo=LIFT)
    with session_factory(engine)() as session, session.begin():
        person = session.scalars(select(Journalist).order_by(Journalist.id.desc())).first()
        assert person is not None
        person.name = "Eve\r\nBcc: spy@example.net"
    said = []
    for two in (False, True):
        folder = tmp_path / f"out-{two}"
        with pytest.raises(InputError) as raised:
            _build(engine, db_url, folder, two, monkeypatch)
        said.append(str(raised.value))
        assert not folder.exists()
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(f".out-{two}")]
    assert said[0] == said[1] and "line break" in said[0]
    with session_factory(engine)() as session:
        assert session.scalar(select(Delivery.id).limit(1)) is None


def test_a_notice_in_two_processes_is_the_notice_in_one(
    engine: Engine, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A notice (rendered whole for each journalist, threaded with their original) to those
    sent the release: the same files, manifest and preview from one process or two."""
    make_registry(db_url, outlets=4, per_outlet=6, embargo=LIFT)
    settings = load_settings(db=db_url)
    factory = session_factory(engine)
    with factory() as session, session.begin():
        build.build_batch(session, "sahel-civilians", None, plan.BuildOptions(), settings)
    with factory() as session:
        report = send_batch(session, "sahel-civilians", MemoryTransport(), SendOptions(), settings)
    assert report.sent == 24
    options = plan.BuildOptions(now=dt.datetime(2031, 3, 2, 8, 0, tzinfo=dt.UTC))
    made = []
    for two in (False, True):
        monkeypatch.setattr(build, "SECOND_PROCESS_FROM", 1 if two else 10**9)
        monkeypatch.setattr(build, "CORES", 2)
        folder = tmp_path / f"reminder-{two}"
        with factory() as session, session.begin():
            notice = notices.build_notice(
                session, "sahel-civilians", "reminder", folder, options, settings
            )
            session.rollback()
        files = {
            str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()
        }
        made.append((notice.messages, files))
    assert made[0][0] == 24 and sum(n.endswith(".eml") for n in made[0][1]) == 24
    assert made[1] == made[0]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A folder on a disk of 256 KiB of its own (a tmpfs; mounting one needs root)."""
    folder = tmp_path / "small-disk"
    folder.mkdir()
    mounted = os.geteuid() == 0 and (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(folder)],
            capture_output=True,
        ).returncode
        == 0
    )
    if not mounted:
        pytest.skip("a small disk of its own needs root and mount")
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


def test_a_full_disk_stops_a_build_in_one_line_and_leaves_nothing(
    engine: Engine, db_url: str, small_disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An outbox on a disk that fills up half way: one process or two, the build stops with
    "the disk is full", leaves nothing on that disk and records nothing."""
    # Enough messages that this process is still handing them over when the second one stops.
    make_registry(db_url, outlets=40, per_outlet=50, embargo=LIFT)
    for two in (False, True):
        with pytest.raises(OutboxError) as raised:
            _build(engine, db_url, small_disk / "outbox", two, monkeypatch)
        assert str(raised.value) == (
            f"cannot write the outbox {small_disk / 'outbox'}: the disk is full;"
            " nothing was written"
        )
        assert list(small_disk.iterdir()) == []
    with session_factory(engine)() as session:
        assert session.scalar(select(Delivery.id).limit(1)) is None
