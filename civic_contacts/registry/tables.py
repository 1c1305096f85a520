"""Reading CSV files the way spreadsheets write them, with every problem placed by row and field.

UTF-8 with or without a BOM (or cp1252/latin-1 when asked); `,` or `;` as the delimiter
(French-locale spreadsheets use `;`), told from the header row. Unknown columns are named with
the nearest expected one; every bad cell of every bad row is reported. Rows are numbered as a spreadsheet shows them: the header is row 1.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import hashlib
import io
import itertools
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TextIO, TypeVar, cast

from civic_contacts.errors import CivicContactsError, InputError, InvalidRow

T = TypeVar("T")


class FieldError(InputError):
    """A problem with one field of one row; the reader adds the file and row."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


@dataclass
class Row:
    """One data row: its spreadsheet row number and its cells by column name."""

    number: int
    cells: dict[str, str]

    def get(self, name: str) -> str:
        """A cell, stripped; empty when the column is absent. The `'` our exports put before a
        cell that a spreadsheet would run as a formula is taken off again."""
        value = (self.cells.get(name) or "").strip()
        if value[:1] == "'" and value[1:2] in FORMULA_STARTS:
            return value[1:]
        return value


@dataclass
class Parsed(Generic[T]):
    """Records read from a file, and the problems of the rows that could not be read."""

    records: list[tuple[int, T]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


_ENCODING: ContextVar[str | None] = ContextVar("input_encoding", default=None)
ENCODINGS = ("utf-8", "cp1252", "latin-1")


@contextmanager
def reading_as(encoding: str | None) -> Iterator[None]:
    """Read input files in this encoding (utf-8, cp1252, latin-1) inside the block."""
    if encoding is not None and encoding.lower().replace("_", "-") not in ENCODINGS:
        raise InputError(f'--encoding "{encoding}" is not one of {", ".join(ENCODINGS)}')
    token = _ENCODING.set(encoding.lower().replace("_", "-") if encoding else None)
    try:
        yield
    finally:
        _ENCODING.reset(token)


def decode(path: Path) -> str:
    """The file's text; a clear error for a missing, empty or non-UTF-8 file (naming the
    Windows encoding when the bytes look like a spreadsheet's export)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, not a file") from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data.strip():
        raise InputError(
            f"{path.name}: the file is empty", hint="the first row must name the columns"
        )
    chosen = _ENCODING.get()
    if chosen is not None and chosen != "utf-8":
        if not data.isascii() and _is_utf8(data):
            # Read as cp1252, "Aïchatou" would be stored as "AÃ¯chatou".
            raise InputError(
                f"{path.name}: the file is UTF-8, not {chosen} (its non-ASCII letters are UTF-8);"
                " nothing was imported",
                hint=f"leave out --encoding {chosen}",
            )
        return data.decode(chosen, errors="strict") if chosen != "cp1252" else _cp1252(path, data)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        looks = "looks like a Windows spreadsheet export (cp1252)"
        try:
            data.decode("cp1252")
        except UnicodeDecodeError:
            looks = "an unknown encoding"
        raise InputError(
            f"{path.name} row {line}: not UTF-8 (byte 0x{data[exc.start]:02x}); {looks}",
            hint='pass --encoding cp1252 (or latin-1), or save it again as "CSV UTF-8"',
        ) from None


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _cp1252(path: Path, data: bytes) -> str:
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            f"{path.name} row {line}: byte 0x{data[exc.start]:02x} is not cp1252",
            hint="try --encoding latin-1",
        ) from None


def read_rows(
    path: Path, required: list[str], optional: tuple[str, ...] | list[str] = ()
) -> Iterator[Row]:
    """The data rows of a CSV file, after checking its header; read as they are needed (a
    file of a million rows is never held whole)."""
    handle = _open_text(path)
    with handle:
        yield from _rows_of(path, handle, required, optional)


def _open_text(path: Path) -> TextIO:
    """The file opened as text in its encoding, after checking every byte decodes (block by
    block); a bad file gets `decode`'s one-line error, which names the row."""
    chosen = _ENCODING.get() or "utf-8"
    try:
        with open(path, "rb") as raw:
            head = raw.read(_BLOCK)
            if not head.removeprefix(b"\xef\xbb\xbf").strip() and not raw.read(1):
                decode(path)  # says the file is empty
            decoder = codecs.getincrementaldecoder(chosen)()
            # Another encoding asked for a file that is UTF-8 (with letters beyond ASCII):
            # refused, as `decode` says, rather than stored as mojibake.
            as_utf8 = codecs.getincrementaldecoder("utf-8")() if chosen != "utf-8" else None
            beyond_ascii = False
            block = head
            while block:
                decoder.decode(block)
                if as_utf8 is not None:
                    beyond_ascii = beyond_ascii or not block.isascii()
                    try:
                        as_utf8.decode(block)
                    except UnicodeDecodeError:
                        as_utf8 = None
                block = raw.read(_BLOCK)
            decoder.decode(b"", final=True)
            if as_utf8 is not None and beyond_ascii:
                decode(path)  # says the file is UTF-8
    except (FileNotFoundError, IsADirectoryError):
        decode(path)  # names what is wrong with the path
        raise
    except UnicodeDecodeError:
        decode(path)  # reads it whole to name the row and the likely encoding
        raise
    encoding = "utf-8-sig" if chosen == "utf-8" else chosen
    return open(path, encoding=encoding, newline="")


_BLOCK = 1 << 20


def _rows_of(
    path: Path, handle: TextIO, required: list[str], optional: tuple[str, ...] | list[str]
) -> Iterator[Row]:
    header_line = handle.readline()
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    reader = csv.reader(itertools.chain([header_line], handle), delimiter=delimiter)
    try:
        header = [name.strip().lower() for name in next(reader)]
    except csv.Error as exc:
        raise InputError(f"{path.name} row 1: {exc}") from None
    if {"name", "email"} <= set(required):
        from civic_contacts.registry.address_books import mapper

        book = mapper(header)
        if book is not None:
            # An address book's export: its rows in our columns, the rest passed over.
            yield from _address_book_rows(path, reader, header, book)
            return
    seen: set[str] = set()
    known = [*required, *optional]
    # An optional column written `prefix*` stands for a family of columns (`role_*`: role_fr…).
    families = tuple(name[:-1] for name in optional if name.endswith("*"))
    for name in header:
        if name and name in seen:
            raise InputError(f"{path.name} row 1: column {name} appears twice")
        seen.add(name)
        if name and name not in known and not (families and name.startswith(families)):
            near = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
            raise InputError(
                f'{path.name} row 1: unknown column "{name}"'
                + (f'; did you mean "{near[0]}"?' if near else ""),
                hint="expected columns: " + ",".join(n.replace("*", "<language>") for n in known),
            )
    missing = [name for name in required if name not in header]
    if missing:
        listed = ", ".join(missing)
        raise InputError(
            f"{path.name} row 1: missing column{'s' if len(missing) > 1 else ''} {listed}",
            hint="expected columns: " + ",".join([*required, *optional]),
        )
    for row_number, cells in _cells(path, reader):
        if len(cells) > len(header):
            extra = [c for c in cells[len(header) :] if c.strip()]
            if extra:
                yield Row(row_number, {"__extra__": str(len(cells) - len(header))})
                continue
        elif len(cells) < len(header):
            yield Row(row_number, {"__short__": f"{len(cells)} of {len(header)}"})
            continue
        yield Row(row_number, dict(zip(header, cells, strict=False)))


def _cells(path: Path, reader: Any) -> Iterator[tuple[int, list[str]]]:
    """Each data row's number and cells, blank rows left out; a broken row is one line."""
    row_number = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputError(f"{path.name} row {reader.line_num}: {exc}") from None
        row_number += 1
        if any(cell.strip() for cell in cells):
            yield row_number, cells


def _address_book_rows(
    path: Path,
    reader: Any,
    header: list[str],
    book: Callable[[dict[str, str]], dict[str, str]],
) -> Iterator[Row]:
    for row_number, cells in _cells(path, reader):
        yield Row(row_number, book(dict(zip(header, cells, strict=False))))


def parse_file(
    path: Path,
    required: list[str],
    optional: list[str],
    parse_row: Callable[[Row], T],
    key: Callable[[T], str],
    key_field: str,
) -> Parsed[T]:
    """Read every row into a record; collect each bad row's problem with file, row and field."""
    parsed: Parsed[T] = Parsed()
    parsed.records.extend(
        iter_records(path, required, optional, parse_row, key, key_field, parsed.problems)
    )
    return parsed


def iter_records(
    path: Path,
    required: list[str],
    optional: list[str],
    parse_row: Callable[[Row], T],
    key: Callable[[T], str],
    key_field: str,
    problems: list[str],
    check_keys: bool = True,
) -> Iterator[tuple[int, T]]:
    """`parse_file` as it reads: yields (row number, record) for each good row and appends each
    bad row's problems to `problems`. A repeated key is a problem too, naming its first row
    (a 64-bit digest and a row number are kept per key); with `check_keys` False the caller
    checks keys itself (as a large import does, in the database)."""
    first_row_of: dict[int, int] = {}
    for row in read_rows(path, required, optional):
        if "__extra__" in row.cells:
            problems.append(
                f"{path.name} row {row.number}: {row.cells['__extra__']} more cells than columns"
                " (a list not separated by ';'?)"
            )
            continue
        if "__short__" in row.cells:
            problems.append(
                f"{path.name} row {row.number}: {row.cells['__short__']} cells (a missing"
                " separator, or a line broken inside a cell?)"
            )
            continue
        found: list[FieldError] = []
        collecting = _ROW_PROBLEMS.set(found)
        record = None
        try:
            record = parse_row(row)
        except FieldError as exc:
            found.append(exc)
        except CivicContactsError as exc:
            problems.append(f"{path.name} row {row.number}: {exc.message}")
            continue
        finally:
            _ROW_PROBLEMS.reset(collecting)
        if found:
            # Every bad cell of the row, each once (a later check may trip on an earlier one).
            named: set[str] = set()
            for problem in found:
                if problem.field not in named:
                    named.add(problem.field)
                    problems.append(
                        f"{path.name} row {row.number}, {problem.field}: {problem.message}"
                    )
            continue
        assert record is not None
        if not check_keys:
            yield row.number, record
            continue
        record_key = key(record)
        digest = int.from_bytes(
            hashlib.blake2b(record_key.encode("utf-8"), digest_size=8).digest(), "big"
        )
        if digest in first_row_of:
            problems.append(
                f"{path.name} row {row.number}, {key_field}: {record_key} is already on row"
                f" {first_row_of[digest]}"
            )
            continue
        first_row_of[digest] = row.number
        yield row.number, record


def check_problems(parsed: Parsed[T], skip_invalid: bool, good_rows: int | None = None) -> None:
    """Refuse the whole file when any row is bad, unless the caller skips bad rows."""
    if parsed.problems and not skip_invalid:
        good = len(parsed.records) if good_rows is None else good_rows
        hint = f"pass --skip-invalid to import the {good} good rows" if good else None
        raise InvalidRow(parsed.problems, good_rows=good, hint=hint)


_ROW_PROBLEMS: ContextVar[list[FieldError] | None] = ContextVar("row_problems", default=None)


def report(field_name: str, message: str) -> None:
    """A bad cell found by a row reader itself: noted while a file is read (the row goes on),
    raised otherwise."""
    found = _ROW_PROBLEMS.get()
    if found is None:
        raise FieldError(field_name, message)
    found.append(FieldError(field_name, message))


def check_cell(name: str, check: Callable[[str], T], value: str) -> T:
    """Run a check on one cell, naming the field when it fails. While a file is read, a bad
    cell is noted and the row goes on, so every bad cell of a row is reported at once."""
    try:
        return check(value)
    except InputError as exc:
        error = exc if isinstance(exc, FieldError) else FieldError(name, exc.message)
        found = _ROW_PROBLEMS.get()
        if found is None:
            raise error from None
        found.append(error)
        return cast(T, None)


# A cell starting with one of these is run as a formula by spreadsheets (OWASP, "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    """A cell a spreadsheet shows as text: a leading `'` when it would start a formula."""
    return "'" + cell if cell[:1] in FORMULA_STARTS else cell


def write_csv(rows: list[dict[str, str]], columns: list[str], raw: bool = False) -> str:
    """CSV text with a header row; lists already joined with `;`. Unless `raw`, cells that a
    spreadsheet would run as formulas get a leading `'` (our imports take it off again)."""
    out = io.StringIO()
    write_csv_to(out, rows, columns, raw)
    return out.getvalue()


def write_csv_to(
    handle: TextIO, rows: Iterable[dict[str, str]], columns: list[str], raw: bool = False
) -> int:
    """`write_csv`, row by row to an open file (for rows streamed from the database); returns
    how many rows were written."""
    writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    written = 0
    for row in rows:
        writer.writerow(row if raw else {k: neutralise(v) for k, v in row.items()})
        written += 1
    return written
