"""The outbox's file writer, run as its own small process by `outbox.FileWriter`.

Creating tens of thousands of files is kernel work that threads of the building process do
badly: each system call gives up the interpreter lock, and getting it back means waiting for the
thread that renders. A separate process writes on the other core with no lock to share. It reads
framed records from standard input (path length and data length as two little-endian 32-bit
integers, then the path relative to the folder, then the data), creates each file (never one that
exists) and exits 0 at end of input. On the first error it prints one line and exits 1.

It uses the standard library only and imports nothing from the package, so it starts in
milliseconds: run it as `python -I outbox_writer.py FOLDER`.
"""

from __future__ import annotations

import os
import struct
import sys
from typing import BinaryIO

HEADER = struct.Struct("<II")


def _read_exactly(stream: BinaryIO, size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise EOFError(f"input ended inside a record ({len(data)} of {size} bytes)")
    return data


def write_files(folder: str, stream: BinaryIO) -> int:
    """Create every file the stream describes under `folder`; return how many."""
    made: set[str] = set()
    count = 0
    while True:
        header = stream.read(HEADER.size)
        if not header:
            return count
        if len(header) != HEADER.size:
            raise EOFError("input ended inside a record header")
        path_size, data_size = HEADER.unpack(header)
        relative = _read_exactly(stream, path_size).decode("utf-8")
        write_file(folder, relative, _read_exactly(stream, data_size), made)
        count += 1


_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)


def write_file(folder: str, relative: str, data: bytes, made: set[str]) -> None:
    """Create one new file at `relative` (with `/`) under `folder`, and its folders once."""
    parts = relative.split("/")
    if relative.startswith("/") or ".." in parts or "" in parts:
        raise ValueError(f"refusing to write outside the outbox: {relative!r}")
    directory = "/".join(parts[:-1])
    if directory and directory not in made:
        os.makedirs(os.path.join(folder, directory), exist_ok=True)
        made.add(directory)
    descriptor = os.open(os.path.join(folder, relative), _FLAGS, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(descriptor, view) :]
    finally:
        os.close(descriptor)


def main() -> int:
    """Write the files of standard input under the folder named by the only argument."""
    try:
        write_files(sys.argv[1], sys.stdin.buffer)
    except Exception as exc:  # one line for the parent, which turns it into its own error
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
