"""Writing to disk so that a failure leaves nothing half-written: a temporary name, then rename.

A batch's outbox is `DIR/manifest.jsonl` (one line per message), `DIR/<outlet>/<address>.eml`
and `DIR/preview.html`, built in a sibling temporary folder and renamed into place at the end.
The `.eml` files are created by a separate small process (`outbox_writer.py`) while this one
renders, or, in a large build, by the second process that assembles them (`render_worker.py`);
what a killed build left beside the outbox is removed by the next build.
"""

from __future__ import annotations

import base64
import contextlib
import email
import errno
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import policy
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, Protocol, TextIO

from civic_contacts.compose import outbox_writer
from civic_contacts.compose.outbox_writer import HEADER
from civic_contacts.errors import InputError, OutboxError

_PIPE_BUFFER = 1 << 20
# Records handed to the writer in one system call: with a write per message, the writer was
# woken once per file (a build of 20,000 spent a sixth of its time in those calls).
_BATCH = 1 << 16

_json_text = json.encoder.encode_basestring  # a str as JSON, non-ASCII kept (as ensure_ascii=False)

if TYPE_CHECKING:
    from civic_contacts.compose.render_worker import RenderWorker
    from civic_contacts.compose.templates import Recipient, Variant


class Planned(Protocol):
    """What the outbox reads of a planned message (`deliver.plan.PlannedMessage`)."""

    journalist_id: int
    revision: int
    outlet: str
    path: str
    variant: Variant
    recipient: Recipient
    contact_names: tuple[str, ...]
    language_reason: str
    routed: tuple[tuple[str, tuple[str, ...]], ...]


@dataclass
class BuiltMessage:
    """A rendered message and what the manifest says of it."""

    planned: Planned
    data: bytes
    content_hash: str
    subject: str


def write_text_atomic(path: Path, text: str) -> None:
    """Write a text file in one step: readers see the old file or the whole new one."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write a file in one step: readers see the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def open_text_atomic(path: Path) -> Iterator[TextIO]:
    """A text file written as it goes and put in place in one step when the block ends: readers
    see the old file or the whole new one, never a part (nothing at all if the block fails)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            yield handle
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class FileWriter:
    """Writes files under a folder from a separate small process (`outbox_writer.py`), so that
    creating 20,000 files, which is mostly kernel time, runs on the other core while this one
    renders the next messages. When the writer is behind (the pipe is full), this process
    writes the file itself rather than wait: both cores then create files, and no time is
    spent waiting. Records go to the pipe a few together (`_BATCH` bytes), so the writer wakes
    once for several files. Only the pipe's buffer and one batch wait in memory. The writer's
    first error is raised by `put` or `finish`. With `separate=False`, or where no interpreter
    can be started, `put` writes every file itself. The process starts with the first file."""

    def __init__(self, folder: Path, separate: bool = True) -> None:
        self.folder = folder
        self.made: set[str] = set()
        self.process: subprocess.Popen[bytes] | None = None
        # Records the pipe took only part of: the rest goes before anything else.
        self.unsent = b""
        # Records not yet handed to the pipe, and their size.
        self.batch: list[bytes] = []
        self.batched = 0
        self.written_here = 0
        self.separate = separate and bool(sys.executable)
        self.started = False

    def _start(self) -> None:
        """Start the writer process (at the first file: a build whose files another process
        writes never starts it)."""
        self.started = True
        if self.separate:
            with contextlib.suppress(OSError):
                self.process = subprocess.Popen(
                    [sys.executable, "-I", str(Path(outbox_writer.__file__)), str(self.folder)],
                    stdin=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    bufsize=0,
                )
        if self.process is None:
            return
        assert self.process.stdin is not None
        self.pipe = self.process.stdin
        self.fd = self.pipe.fileno()
        if sys.platform == "linux":
            import fcntl

            # A larger pipe means fewer switches between the two processes.
            with contextlib.suppress(OSError):
                fcntl.fcntl(self.fd, fcntl.F_SETPIPE_SZ, _PIPE_BUFFER)
        os.set_blocking(self.fd, False)

    def put(self, relative: str, data: bytes) -> None:
        """Hand one file (path relative to the folder, with `/`) to the writer, or write it
        here when the writer is behind."""
        if not self.started:
            self._start()
        if self.process is None or not self._send_unsent():
            self._write_here(relative, data)
            return
        path = relative.encode("utf-8")
        self.batch += (HEADER.pack(len(path), len(data)), path, data)
        self.batched += HEADER.size + len(path) + len(data)
        if self.batched >= _BATCH:
            self._send_batch()

    def _send_batch(self) -> None:
        """Hand the batch to the pipe; what it does not take now is sent before anything else
        (and, while it waits, new files are written here)."""
        records = b"".join(self.batch)
        self.batch, self.batched = [], 0
        try:
            taken = os.write(self.fd, records)
        except BlockingIOError:
            taken = 0
        except BrokenPipeError:
            self._raise_failure()
        self.unsent = records[taken:]

    def _send_unsent(self) -> bool:
        """Pass on what is left of a part-sent batch; whether the pipe took all of it."""
        while self.unsent:
            try:
                taken = os.write(self.fd, self.unsent)
            except BlockingIOError:
                return False
            except BrokenPipeError:
                self._raise_failure()
            self.unsent = self.unsent[taken:]
        return True

    def _write_here(self, relative: str, data: bytes) -> None:
        try:
            outbox_writer.write_file(str(self.folder), relative, data, self.made)
        except (OSError, ValueError) as exc:
            if self.process is not None:
                self.abandon()
            raise self._failure(str(exc)) from exc
        self.written_here += 1

    def finish(self) -> None:
        """Wait until every file is written; raise the writer's error if it had one."""
        if self.process is None:
            return
        os.set_blocking(self.fd, True)
        try:
            self._send_unsent()
            if self.batch:
                self._send_batch()
                self._send_unsent()
        finally:
            with contextlib.suppress(BrokenPipeError):
                self.pipe.close()
        if self.process.wait() != 0:
            self._raise_failure()
        self._close_stderr()

    def abandon(self) -> None:
        """Stop the writer (the folder is about to be removed)."""
        if self.process is None:
            return
        self.process.kill()
        with contextlib.suppress(BrokenPipeError):
            self.pipe.close()
        self.process.wait()
        self._close_stderr()

    def _close_stderr(self) -> None:
        if self.process is not None and self.process.stderr is not None:
            self.process.stderr.close()

    def _raise_failure(self) -> NoReturn:
        """Stop the writer process and raise what it said on its way out."""
        assert self.process is not None and self.process.stderr is not None
        self.process.kill()
        self.process.wait()
        reason = self.process.stderr.read().decode("utf-8", "replace").strip()
        self._close_stderr()
        raise self._failure(reason or "writer stopped")

    def _failure(self, reason: str) -> OSError:
        # The system's error number, when the reason gives one, is kept: it says why in words
        # of its own ("the disk is full"; see `_unwritable`).
        number = re.search(r"\[Errno (\d+)\]", reason)
        if number is None:
            return OSError(f"writing the outbox in {self.folder} failed: {reason}")
        return OSError(int(number[1]), f"writing the outbox in {self.folder} failed: {reason}")


def preview_key(planned: Planned) -> tuple[str, str, tuple[str, ...]]:
    """What makes a variant in the preview: the outlet, the language and the contacts (not the
    variant object's id, which one made later may reuse once an earlier one is gone)."""
    return (planned.outlet, planned.variant.language, planned.contact_names)


@dataclass
class PreviewAttachment:
    """A file attached to a message, as the preview links it (a `data:` link, so the page
    stays one file that can be sent to a colleague)."""

    filename: str
    content_type: str
    size: int
    link: str


@dataclass
class PreviewVariant:
    """One distinct message as the preview shows it: what the reader sees in the message list
    (From, Reply-To, Subject), the attachments, the text part, the routed contacts and why."""

    outlet: str
    language: str
    recipients: int
    subject: str
    html: str
    path: str = ""  # the first recipient's .eml, relative to the outbox
    sender: str = ""
    reply_to: str = ""
    text: str = ""
    language_reason: str = ""
    attachments: list[PreviewAttachment] = field(default_factory=list)
    routed: tuple[tuple[str, tuple[str, ...]], ...] = ()


def preview_variant(
    built: BuiltMessage, html: str, language_reason: str = "", routed: Any = ()
) -> PreviewVariant:
    """The preview's view of a built message (read back from its bytes, as a mail program
    would read it)."""
    planned = built.planned
    # The parts are walked with the compat32 policy (a tenth of the default's time: no
    # header objects); the two headers shown are read as the default policy reads them.
    msg = email.message_from_bytes(built.data, policy=policy.compat32)
    text = ""
    attachments = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        if part.get_content_disposition() == "attachment":
            kind = part.get_content_type()
            attachments.append(
                PreviewAttachment(
                    part.get_filename() or "attachment",
                    kind,
                    len(data),
                    f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}",
                )
            )
        elif part.get_content_type() == "text/plain" and not text:
            text = data.decode(part.get_content_charset() or "utf-8", "replace")
    return PreviewVariant(
        planned.outlet,
        planned.variant.language,
        1,
        built.subject,
        _body_of(html),
        path=planned.path,
        sender=_header(msg, "From"),
        reply_to=_header(msg, "Reply-To"),
        text=text.replace("\r\n", "\n"),
        language_reason=language_reason,
        attachments=attachments,
        routed=tuple(routed),
    )


def _header(msg: email.message.Message, name: str) -> str:
    """A header's value as a mail program shows it (decoded, as the default policy reads it)."""
    raw = msg.get(name)
    return str(policy.default.header_factory(name, str(raw))) if raw else ""


_BODY_RE = re.compile(r"<body[^>]*>(.*)</body>", re.DOTALL | re.IGNORECASE)


def _body_of(html: str) -> str:
    match = _BODY_RE.search(html)
    return match.group(1) if match else html


# Written into every outbox this tool makes. Only a folder holding it is ever replaced, and
# only when it holds nothing but what the tool wrote there.
MARKER = ".civic-contacts-outbox"
MARKER_TEXT = "This folder is an outbox written by civic-contacts; a new build replaces it whole.\n"


def _prepare(folder: Path) -> Path:
    folder = folder.expanduser().resolve()
    if folder.exists():
        if not folder.is_dir():
            raise InputError(
                f"{folder} exists and is not a folder; nothing was written",
                hint="choose an empty or new folder for --out",
            )
        if any(folder.iterdir()):
            _check_ours(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    return folder


def _check_ours(folder: Path) -> None:
    """Refuse to replace a folder this tool did not make, or one holding files it did not write."""
    if not (folder / MARKER).is_file():
        raise InputError(
            f"{folder} is not empty and was not made by civic-contacts; nothing was written",
            hint="choose an empty or new folder for --out (an outbox is replaced whole)",
        )
    ours = {MARKER, "manifest.jsonl", "preview.html"}
    try:
        with open(folder / "manifest.jsonl", encoding="utf-8") as manifest:
            for line in manifest:
                with contextlib.suppress(ValueError, TypeError, KeyError):
                    ours.add(str(json.loads(line)["path"]))
    except OSError:
        pass
    # The folders the tool made are the ones its files are in; it never makes a link.
    folders = {str(Path(name).parent) for name in ours} - {"."}
    foreign = sorted(
        str(path.relative_to(folder))
        for path in folder.rglob("*")
        if path.is_symlink()
        or str(path.relative_to(folder)) not in (folders if path.is_dir() else ours)
    )
    if foreign:
        shown = ", ".join(foreign[:3]) + (
            f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
        )
        raise InputError(
            f"{folder} holds files civic-contacts did not write ({shown}); nothing was written",
            hint="move them out of the outbox, or choose another folder for --out",
        )


class Outbox:
    """A batch's outbox folder, built beside its final place and swapped in whole.

    `add` writes one message (its file and its manifest line), `commit` writes the preview and
    puts the new outbox where the old one was; `abandon` (or any failure before `commit`)
    leaves the previous outbox, or nothing, where it was.
    """

    def __init__(self, folder: Path, max_preview_variants: int = 60) -> None:
        try:
            self.folder = _prepare(folder)
            _remove_leftovers(self.folder)
            self.building = Path(
                tempfile.mkdtemp(
                    prefix=f".{self.folder.name}.building-{os.getpid()}-",
                    dir=self.folder.parent,
                )
            )
        except OSError as exc:
            raise _unwritable(folder, exc) from None
        self.max_preview_variants = max_preview_variants
        self.messages = 0
        self._encoded: dict[tuple[object, ...], tuple[str, str, str, str]] = {}
        self.variants: dict[tuple[str, str, tuple[str, ...]], PreviewVariant] = {}
        try:
            (self.building / MARKER).write_text(MARKER_TEXT, encoding="utf-8")
            self.writer = FileWriter(self.building)
            self.worker: RenderWorker | None = None
            self.manifest = open(self.building / "manifest.jsonl", "w", encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            shutil.rmtree(self.building, ignore_errors=True)
            raise _unwritable(self.folder, exc) from None

    @property
    def more_variants(self) -> bool:
        """Whether the preview had to leave some variants out."""
        return len(self.variants) >= self.max_preview_variants

    def add(self, built: BuiltMessage, fallback: bool, html: Callable[[], str]) -> None:
        """Write one message and its manifest line; `html` gives its HTML for the preview."""
        try:
            self.writer.put(built.planned.path, built.data)
            self.note(built, fallback, html)
        except OSError as exc:
            raise _unwritable(self.folder, exc) from None

    def note(self, built: BuiltMessage, fallback: bool, html: Callable[[], str]) -> None:
        """A message's manifest line, and its place in the preview, when its file is written
        (by `add`, or by the build's second process: see `start_worker`)."""
        planned = built.planned
        self.manifest.write(self._line(built, fallback))
        self.messages += 1
        key = preview_key(planned)
        if key in self.variants:
            self.variants[key].recipients += 1
        elif len(self.variants) < self.max_preview_variants:
            self.variants[key] = preview_variant(
                built, html(), planned.language_reason, planned.routed
            )

    def wants_preview(self, key: tuple[str, str, tuple[str, ...]]) -> bool:
        """Whether a message of this variant (`preview_key`) would be the first of it in the
        preview."""
        return key not in self.variants and len(self.variants) < self.max_preview_variants

    def start_worker(self, templates: Path | None) -> RenderWorker | None:
        """A second process that assembles the messages and writes their files into this
        outbox (None where none can be started); `abandon` stops it."""
        from civic_contacts.compose.render_worker import RenderWorker

        if not sys.executable:
            return None
        try:
            self.worker = RenderWorker(self.building, templates)
        except OSError:
            return None
        return self.worker

    def unwritable(self, exc: OSError) -> OutboxError:
        """The one-line error of a file that could not be written here."""
        return _unwritable(self.folder, exc)

    def _line(self, built: BuiltMessage, fallback: bool) -> str:
        """The message's manifest line: what `json.dumps` of its fields would write, with the
        parts its variant shares encoded once."""
        planned = built.planned
        shared = (planned.outlet, planned.variant.language, planned.contact_names, built.subject)
        middle = self._encoded.get(shared)
        if middle is None:
            if len(self._encoded) > 1024:
                self._encoded.clear()
            middle = self._encoded[shared] = (
                f'{{"outlet": {_json_text(planned.outlet)}, "email": ',
                f', "language": {_json_text(planned.variant.language)}, "message_id": ',
                f', "contacts": {json.dumps(list(planned.contact_names), ensure_ascii=False)}',
                f', "subject": {_json_text(built.subject)}}}\n',
            )
        recipient = planned.recipient
        return "".join(
            (
                middle[0],
                _json_text(recipient.email),
                ', "name": ',
                _json_text(recipient.name),
                middle[1],
                _json_text(recipient.message_id),
                ', "path": ',
                _json_text(planned.path),
                middle[2],
                ', "fallback": true, "content_hash": "'
                if fallback
                else ', "fallback": false, "content_hash": "',
                built.content_hash,
                '"',
                middle[3],
            )
        )

    def commit(self, preview: str) -> Path:
        """Wait for every file, write the preview page and swap the new outbox into place."""
        try:
            self.manifest.close()
            self.writer.finish()
            (self.building / "preview.html").write_text(preview, encoding="utf-8")
            _swap_in(self.building, self.folder)
        except OSError as exc:
            self.abandon()
            raise _unwritable(self.folder, exc) from None
        except BaseException:
            self.abandon()
            raise
        return self.folder

    def abandon(self) -> None:
        """Stop writing and remove the half-built copy."""
        # (Closing flushes the manifest's last lines: on a full disk that fails too, and the
        # copy is removed all the same.)
        with contextlib.suppress(OSError):
            self.manifest.close()
        self.writer.abandon()
        if self.worker is not None:
            self.worker.abandon()
            self.worker.close()
        shutil.rmtree(self.building, ignore_errors=True)


def _unwritable(folder: Path, exc: OSError) -> OutboxError:
    """A one-line reason why the outbox could not be written (nothing half-written is left)."""
    reason = exc.strerror or str(exc)
    if exc.errno == errno.ENOSPC:
        reason = "the disk is full"
    elif exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        reason = f"{reason} (read-only or not yours)"
    return OutboxError(
        f"cannot write the outbox {folder}: {reason}; nothing was written",
        hint="free some space or choose another folder for --out",
    )


_LEFTOVER = re.compile(r"\.(?P<name>.+)\.(?:building|old)-(?P<pid>\d+)(?:-.*)?")


def _remove_leftovers(folder: Path) -> None:
    """Remove the half-built or replaced copies of this outbox that a killed build left beside
    it (their names carry the builder's process id); a build still running keeps its own."""
    if sys.platform == "win32":  # os.kill(pid, 0) would end the process there
        return
    for path in folder.parent.glob(f".{glob.escape(folder.name)}.*-*"):
        match = _LEFTOVER.fullmatch(path.name)
        if match is None or match["name"] != folder.name or not (path / MARKER).is_file():
            continue
        pid = int(match["pid"])
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except PermissionError:
            continue  # alive, and someone else's


def _swap_in(building: Path, folder: Path) -> None:
    if folder.exists():
        old = folder.parent / f".{folder.name}.old-{os.getpid()}"
        os.replace(folder, old)
        os.replace(building, folder)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(building, folder)
