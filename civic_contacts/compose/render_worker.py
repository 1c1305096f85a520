"""The second process of a large build: it assembles each message (`Assembler.build`, the same
code a build runs in one process), writes its file into the outbox being built, and answers
with the message's hash and subject. The building process plans, records and writes the
manifest meanwhile, so a build uses both cores (`RenderWorker` is its side).

Frames both ways are a 4-byte little-endian length, then a pickle; the worker reads a list of
records per frame and answers each frame with one list of results:
- `("variant", slot, Variant)`: keep this variant in a slot (the parent decides which slots
  are reused, so both sides agree without a word more);
- `("message", slot, Recipient, reply_to, path, preview)`: assemble and write one message; the
  result is `(content_hash, subject, data, html)`, the data and HTML only when `preview`.
An error ends the worker after one frame `("error", exception)`. Pickles come only from the
parent, over a pipe it made.

Run by path (`python render_worker.py FOLDER TEMPLATES`), it imports this tree's package, and
the libraries the building process has (its environment is passed on).
"""

from __future__ import annotations

import contextlib
import pickle
import queue
import struct
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, NoReturn

LENGTH = struct.Struct("<I")
VARIANT = "variant"
MESSAGE = "message"
ERROR = "error"
# A message's content hash and subject; its bytes and HTML when the preview shows it.
Result = tuple[str, str, bytes | None, str | None]


def read_frame(stream: IO[bytes]) -> Any | None:
    """One frame's object; None at the end of the stream."""
    head = stream.read(LENGTH.size)
    if not head:
        return None
    if len(head) != LENGTH.size:
        raise EOFError("the stream ended inside a frame's length")
    (size,) = LENGTH.unpack(head)
    body = stream.read(size)
    if len(body) != size:
        raise EOFError(f"the stream ended inside a frame ({len(body)} of {size} bytes)")
    return pickle.loads(body)


def frame(value: Any) -> bytes:
    """A value as one frame."""
    body = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return LENGTH.pack(len(body)) + body


def serve(folder: str, templates: str, source: IO[bytes], sink: IO[bytes]) -> None:
    """Answer frames from `source` on `sink` until the end of `source`."""
    from civic_contacts.compose.assemble import Assembler, content_hash
    from civic_contacts.compose.outbox_writer import write_file
    from civic_contacts.compose.templates import Renderer

    assembler = Assembler(Renderer(Path(templates) if templates else None))
    slots: dict[int, Any] = {}
    made: set[str] = set()
    while True:
        records = read_frame(source)
        if records is None:
            return
        results: list[Result] = []
        try:
            for record in records:
                if record[0] == VARIANT:
                    slots[record[1]] = record[2]
                    continue
                _kind, slot, recipient, reply_to, path, preview = record
                variant = slots[slot]
                data, subject = assembler.build(variant, recipient, reply_to)
                write_file(folder, path, data, made)
                if preview:
                    html = assembler.html_for(variant, recipient)
                    results.append((content_hash(data), subject, data, html))
                else:
                    results.append((content_hash(data), subject, None, None))
        except Exception as exc:  # the parent raises it as its own
            try:
                said = frame((ERROR, exc))
            except Exception:  # an error that cannot be pickled: its words
                said = frame((ERROR, RuntimeError(f"{type(exc).__name__}: {exc}")))
            sink.write(said)
            sink.flush()
            raise
        sink.write(frame(results))
        sink.flush()


class RenderWorker:
    """The building process's side: messages go out in frames of `BATCH`, results come back
    in the same order (a thread reads them as they come, so neither process ever waits on a
    full pipe); `results` gives each answered frame's list."""

    BATCH = 64  # messages to a frame
    SLOTS = 64  # variants the worker keeps

    def __init__(self, folder: Path, templates: Path | None) -> None:
        # Its standard error goes to a file, not a pipe: warnings it may print could fill a
        # pipe nobody reads while it works, and stop it. Closed by `close`.
        self.said = tempfile.TemporaryFile()  # noqa: SIM115
        try:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    str(Path(__file__).resolve()),
                    str(folder),
                    str(templates or ""),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self.said,
            )
        except BaseException:
            self.said.close()
            raise
        self.answers: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.batch: list[tuple[Any, ...]] = []
        self.messages = 0  # in the batch
        self.unanswered = 0  # frames sent and not yet answered
        self.slot_of: dict[int, int] = {}
        self.in_slot: list[Any] = [None] * self.SLOTS
        self.next_slot = 0

    def _read(self) -> None:
        assert self.process.stdout is not None
        try:
            while True:
                value = read_frame(self.process.stdout)
                self.answers.put(value)
                if value is None:
                    return
        except Exception as exc:
            self.answers.put((ERROR, exc))

    def add(self, variant: Any, recipient: Any, reply_to: Any, path: str, preview: bool) -> None:
        """Hand one message over (sent with the next full frame)."""
        slot = self.slot_of.get(id(variant))
        if slot is None or self.in_slot[slot] is not variant:
            slot = self.next_slot % self.SLOTS
            self.next_slot += 1
            old = self.in_slot[slot]
            if old is not None:
                self.slot_of.pop(id(old), None)
            # Held here while in its slot, so that its id names no other variant meanwhile.
            self.in_slot[slot] = variant
            self.slot_of[id(variant)] = slot
            self.batch.append((VARIANT, slot, variant))
        self.batch.append((MESSAGE, slot, recipient, reply_to, path, preview))
        self.messages += 1
        if self.messages >= self.BATCH:
            self.flush()

    def flush(self) -> None:
        """Send the messages not yet sent."""
        if not self.batch:
            return
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(frame(self.batch))
            self.process.stdin.flush()
        except BrokenPipeError:
            self._failed()
        self.batch, self.messages = [], 0
        self.unanswered += 1

    def results(self, wait: bool) -> Iterator[list[Result]]:
        """The answered frames' results, in order: those already here, or (`wait`) at least
        the next one."""
        if wait:
            self.flush()
        while self.unanswered:
            try:
                answer = self.answers.get(block=wait)
            except queue.Empty:
                return
            wait = False
            if answer is None:
                self._failed()
            if isinstance(answer, tuple) and answer[:1] == (ERROR,):
                self.abandon()
                raise answer[1]
            self.unanswered -= 1
            yield answer

    def finish(self) -> Iterator[list[Result]]:
        """Send the rest, then every result left; the worker ends."""
        self.flush()
        while self.unanswered:
            yield from self.results(wait=True)
        assert self.process.stdin is not None
        self.process.stdin.close()
        if self.process.wait() != 0:
            self._failed()
        self.close()

    def abandon(self) -> None:
        """Stop the worker (the outbox is about to be removed)."""
        self.process.kill()
        with contextlib.suppress(OSError):
            assert self.process.stdin is not None
            self.process.stdin.close()
        self.process.wait()

    def close(self) -> None:
        """Close the pipes from the ended worker, once its reader has seen their end."""
        self.reader.join(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.said.close()

    def _failed(self) -> NoReturn:
        """The worker ended: the error it sent on its way out (it may still be in the pipe
        when this process finds the worker gone), or else its last words."""
        self.abandon()
        self.reader.join(timeout=5)
        while True:
            try:
                answer = self.answers.get(block=False)
            except queue.Empty:
                break
            if isinstance(answer, tuple) and answer[:1] == (ERROR,):
                self.close()
                raise answer[1]
        self.said.seek(0)
        said = self.said.read().decode("utf-8", "replace").strip().splitlines()
        self.close()
        raise OSError(f"the build's second process stopped: {said[-1] if said else 'no reason'}")


def main() -> int:
    """Serve standard input on standard output, for the outbox folder and templates named."""
    try:
        serve(sys.argv[1], sys.argv[2], sys.stdin.buffer, sys.stdout.buffer)
    except Exception as exc:  # told to the parent already; a last line for its error
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    # This tree's package, not the folder of this file (whose modules are not top-level ones).
    sys.path[0] = str(Path(__file__).resolve().parents[2])
    sys.exit(main())
