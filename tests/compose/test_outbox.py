"""The outbox's file writer: a separate process (or, where none can start, the building process
itself) that creates each file once, or stops and says why."""

from __future__ import annotations

from pathlib import Path

import pytest

from civic_contacts.compose.outbox import FileWriter

SEPARATE = pytest.mark.parametrize("separate", [True, False], ids=["process", "in-process"])


@SEPARATE
def test_writes_every_file_with_its_bytes_in_its_folder(tmp_path: Path, separate: bool) -> None:
    """Files handed to the writer exist after `finish`, byte for byte, folders made as needed."""
    writer = FileWriter(tmp_path, separate)
    expected = {}
    for i in range(300):
        relative = f"outlet-{i % 7}/j{i}@example.org.eml"
        data = (f"message {i} Zoë\r\n".encode() * (i % 50 + 1)) + bytes(range(256))
        writer.put(relative, data)
        expected[relative] = data
    writer.finish()
    written = {
        str(p.relative_to(tmp_path)): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()
    }
    assert written == expected


@SEPARATE
def test_a_large_file_crosses_the_pipe_whole(tmp_path: Path, separate: bool) -> None:
    """A file larger than the pipe's buffer arrives complete."""
    data = bytes(range(256)) * 20_000  # 5 MB
    writer = FileWriter(tmp_path, separate)
    writer.put("big/one.eml", data)
    writer.finish()
    assert (tmp_path / "big" / "one.eml").read_bytes() == data


@SEPARATE
def test_refuses_a_path_outside_the_folder(tmp_path: Path, separate: bool) -> None:
    """A path that climbs out of the outbox stops the writer, and the error names the folder."""
    inside = tmp_path / "outbox"
    inside.mkdir()
    writer = FileWriter(inside, separate)
    with pytest.raises(OSError, match="outside the outbox") as caught:
        writer.put("../escaped.eml", b"x")
        writer.finish()
    assert str(inside) in str(caught.value)
    assert not (tmp_path / "escaped.eml").exists()


@SEPARATE
def test_never_overwrites_a_file(tmp_path: Path, separate: bool) -> None:
    """Two messages for the same path are a bug upstream: the writer refuses the second."""
    writer = FileWriter(tmp_path, separate)
    writer.put("a/same.eml", b"first")
    with pytest.raises(OSError, match="exists"):
        writer.put("a/same.eml", b"second")
        writer.finish()
    assert (tmp_path / "a" / "same.eml").read_bytes() == b"first"


@SEPARATE
def test_an_error_reaches_put_while_more_is_sent(tmp_path: Path, separate: bool) -> None:
    """Once the writer has stopped, the next puts fail instead of filling a dead pipe."""
    writer = FileWriter(tmp_path, separate)
    with pytest.raises(OSError, match="outside the outbox"):
        writer.put("../out.eml", b"x")
        for i in range(10_000):
            writer.put(f"a/{i}.eml", b"y" * 10_000)
    writer.abandon()


def test_abandon_stops_the_writer(tmp_path: Path) -> None:
    """Abandoning ends the writer process at once."""
    writer = FileWriter(tmp_path)
    writer.put("a/1.eml", b"x")
    writer.abandon()
    assert writer.process is not None and writer.process.returncode is not None


def test_an_outbox_that_cannot_be_written_is_one_line(demo, tmp_path: Path) -> None:
    """An outbox in a place no one may write (here /proc, read-only even for root) gives one
    line naming the folder, exit 2, and nothing recorded or left behind."""
    result = demo("batch", "build", "sahel-civilians", "--out", "/proc/civic-outbox", expect=2)
    assert result.stderr.startswith("error: cannot write the outbox /proc/civic-outbox")
    assert "nothing was written" in result.stderr and "Traceback" not in result.output


def test_when_the_writer_is_behind_this_process_writes_and_every_file_arrives_once(
    tmp_path: Path,
) -> None:
    """With the writer process stopped (SIGSTOP), the pipe fills and the building process
    writes the rest itself; once the writer resumes, every file is there with its bytes."""
    import os
    import signal

    writer = FileWriter(tmp_path)
    writer.put("o0/first@example.org.eml", b"x")  # the first file starts the writer process
    assert writer.process is not None
    os.kill(writer.process.pid, signal.SIGSTOP)
    expected = {"o0/first@example.org.eml": b"x"}
    try:
        for i in range(400):
            relative = f"o{i % 3}/j{i}@example.org.eml"
            expected[relative] = bytes([i % 251]) * 20_000
            writer.put(relative, expected[relative])
    finally:
        os.kill(writer.process.pid, signal.SIGCONT)
    writer.finish()
    assert writer.written_here > 0  # the pipe (1 MiB at most) cannot hold 8 MB
    written = {
        str(p.relative_to(tmp_path)): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()
    }
    assert written == expected


def test_a_manifest_line_is_what_json_dumps_writes(tmp_path: Path) -> None:
    """Manifest lines are assembled from parts encoded once per variant; each equals the
    `json.dumps` of its fields, quotes, line separators and non-ASCII names included."""
    import json
    from types import SimpleNamespace

    from civic_contacts.compose.outbox import BuiltMessage, Outbox

    box = Outbox(tmp_path / "outbox")
    try:
        for n, (name, subject) in enumerate(
            [
                ('Zoë "Z" O\'Brien', "SOUS EMBARGO : l’été\u2028«x»"),
                ("A\\B\tC", "Plain"),
                ("Ndiaye", "SOUS EMBARGO : l’été\u2028«x»"),
            ]
        ):
            planned = SimpleNamespace(
                outlet="outlet-1",
                path=f"outlet-1/x{n}@example.org.eml",
                variant=SimpleNamespace(language="fr"),
                contact_names=("Awa Diallo", 'Pieter "P" de Vries'),
                recipient=SimpleNamespace(
                    email=f"x{n}@example.org", name=name, message_id=f"<m.{n}@example.org>"
                ),
            )
            built = BuiltMessage(planned, b"", "ab" * 32, subject)  # type: ignore[arg-type]
            fields = {
                "outlet": "outlet-1",
                "email": f"x{n}@example.org",
                "name": name,
                "language": "fr",
                "message_id": f"<m.{n}@example.org>",
                "path": planned.path,
                "contacts": list(planned.contact_names),
                "fallback": n == 1,
                "content_hash": "ab" * 32,
                "subject": subject,
            }
            assert box._line(built, n == 1) == json.dumps(fields, ensure_ascii=False) + "\n"
    finally:
        box.abandon()
