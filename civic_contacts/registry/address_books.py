"""Contacts exported as CSV by address books (Outlook, Google Contacts), read as journalists:
their columns mapped to ours, the other columns (addresses, birthdays, notes) passed over.

Outlook writes "First Name", "Last Name", "Company", "Job Title", "E-mail Address", "Mobile
Phone", "Business Phone"…; Google writes "Name" (or "First Name"…), "Organization 1 - Name",
"Organization 1 - Title", "E-mail 1 - Value", "Phone 1 - Type", "Phone 1 - Value"… A row's
company names its outlet (by the outlet's name), else the import's `--outlet`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

Mapper = Callable[[dict[str, str]], dict[str, str]]

# Outlook's phone columns and the label each gives the number.
_OUTLOOK_PHONES = (
    ("mobile phone", "mobile"),
    ("business phone", "office"),
    ("business phone 2", "office"),
    ("primary phone", ""),
    ("company main phone", "office"),
    ("other phone", ""),
)
_GOOGLE_PHONE = re.compile(r"^phone (\d+) - value$")


def mapper(header: list[str]) -> Mapper | None:
    """How to read rows with this (lower-cased) header as journalists; None when it is not
    an address book's."""
    columns = set(header)
    if "e-mail address" in columns and ("first name" in columns or "last name" in columns):
        return _outlook
    if "e-mail 1 - value" in columns:
        return _google
    return None


def _joined(*parts: str) -> str:
    return " ".join(p.strip() for p in parts if p and p.strip())


def _first_address(value: str) -> str:
    # Google puts several addresses in one cell, " ::: " between them.
    return value.split(":::")[0].strip()


def _numbers(found: list[tuple[str, str]]) -> str:
    """The phones cell: each number once (its labels together), " / " between them."""
    merged: dict[str, tuple[str, list[str]]] = {}
    for number, label in found:
        key = re.sub(r"\D", "", number)
        _text, labels = merged.setdefault(key, (number, []))
        if label and label not in labels:
            labels.append(label)
    return " / ".join(
        f"{text} ({', '.join(labels)})" if labels else text for text, labels in merged.values()
    )


def _outlook(cells: dict[str, str]) -> dict[str, str]:
    phones = _numbers(
        [
            (cells[column].strip(), label)
            for column, label in _OUTLOOK_PHONES
            if cells.get(column, "").strip()
        ]
    )
    return {
        "name": _joined(
            cells.get("first name", ""), cells.get("middle name", ""), cells.get("last name", "")
        ),
        "email": _first_address(cells.get("e-mail address", "")),
        "role": cells.get("job title", "").strip(),
        "phones": phones,
        "company": cells.get("company", "").strip(),
    }


def _google(cells: dict[str, str]) -> dict[str, str]:
    name = cells.get("name", "").strip() or _joined(
        cells.get("given name", "") or cells.get("first name", ""),
        cells.get("additional name", "") or cells.get("middle name", ""),
        cells.get("family name", "") or cells.get("last name", ""),
    )
    found: list[tuple[str, str]] = []
    for column, value in cells.items():
        matched = _GOOGLE_PHONE.match(column)
        if not matched or not value.strip():
            continue
        kind = cells.get(f"phone {matched.group(1)} - type", "").strip().lower().strip("* ")
        label = {"mobile": "mobile", "work": "office", "whatsapp": "WhatsApp"}.get(kind, "")
        found.extend((n.strip(), label) for n in value.split(":::") if n.strip())
    return {
        "name": name,
        "email": _first_address(cells.get("e-mail 1 - value", "")),
        "role": cells.get("organization 1 - title", "").strip(),
        "phones": _numbers(found),
        "company": cells.get("organization 1 - name", "").strip(),
    }
