"""Reading CSV files the way spreadsheets write them, with every problem placed by row and field.

UTF-8 with or without a BOM; `,` or `;` as the delimiter (French-locale spreadsheets use `;`),
told from the header row. Rows are numbered as a spreadsheet shows them: the header is row 1.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

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
        """A cell, stripped; empty when the column is absent."""
        return (self.cells.get(name) or "").strip()


@dataclass
class Parsed(Generic[T]):
    """Records read from a file, and the problems of the rows that could not be read."""

    records: list[tuple[int, T]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def decode(path: Path) -> str:
    """The file's text; a clear error for a missing, empty or non-UTF-8 file."""
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
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            f"{path.name} row {line}: not UTF-8 (byte 0x{data[exc.start]:02x})",
            hint='save it again as "CSV UTF-8" from your spreadsheet',
        ) from None


def read_rows(
    path: Path, required: list[str], optional: tuple[str, ...] | list[str] = ()
) -> Iterator[Row]:
    """The data rows of a CSV file, after checking its header."""
    text = decode(path)
    header_line = text.splitlines()[0]
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [name.strip().lower() for name in next(reader)]
    except csv.Error as exc:
        raise InputError(f"{path.name} row 1: {exc}") from None
    missing = [name for name in required if name not in header]
    if missing:
        listed = ", ".join(missing)
        raise InputError(
            f"{path.name} row 1: missing column{'s' if len(missing) > 1 else ''} {listed}",
            hint="expected columns: " + ",".join([*required, *optional]),
        )
    seen: set[str] = set()
    for name in header:
        if name and name in seen:
            raise InputError(f"{path.name} row 1: column {name} appears twice")
        seen.add(name)
    row_number = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputError(f"{path.name} row {reader.line_num}: {exc}") from None
        row_number += 1
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(header):
            extra = [c for c in cells[len(header) :] if c.strip()]
            if extra:
                yield Row(row_number, {"__extra__": str(len(cells) - len(header))})
                continue
        yield Row(row_number, dict(zip(header, cells, strict=False)))


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
    first_row_of: dict[str, int] = {}
    for row in read_rows(path, required, optional):
        if "__extra__" in row.cells:
            parsed.problems.append(
                f"{path.name} row {row.number}: {row.cells['__extra__']} more cells than columns"
                " (a list not separated by ';'?)"
            )
            continue
        try:
            record = parse_row(row)
        except FieldError as exc:
            parsed.problems.append(f"{path.name} row {row.number}, {exc.field}: {exc.message}")
            continue
        except CivicContactsError as exc:
            parsed.problems.append(f"{path.name} row {row.number}: {exc.message}")
            continue
        record_key = key(record)
        if record_key in first_row_of:
            parsed.problems.append(
                f"{path.name} row {row.number}, {key_field}: {record_key} is already on row"
                f" {first_row_of[record_key]}"
            )
            continue
        first_row_of[record_key] = row.number
        parsed.records.append((row.number, record))
    return parsed


def check_problems(parsed: Parsed[T], skip_invalid: bool) -> None:
    """Refuse the whole file when any row is bad, unless the caller skips bad rows."""
    if parsed.problems and not skip_invalid:
        good = len(parsed.records)
        hint = f"pass --skip-invalid to import the {good} good rows" if good else None
        raise InvalidRow(parsed.problems, good_rows=good, hint=hint)


def check_cell(name: str, check: Callable[[str], T], value: str) -> T:
    """Run a check on one cell, naming the field when it fails."""
    try:
        return check(value)
    except FieldError:
        raise
    except InputError as exc:
        raise FieldError(name, exc.message) from None


def write_csv(rows: list[dict[str, str]], columns: list[str]) -> str:
    """CSV text with a header row; lists already joined with `;`."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return out.getvalue()
