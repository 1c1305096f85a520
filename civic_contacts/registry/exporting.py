"""Writing the registry out: CSV and JSON rows with the columns of the import files.

vCard is in `vcard.py`. An exported CSV imports back to the same registry.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from civic_contacts.registry.importing import (
    CITY_COLUMNS,
    CONTACT_COLUMNS,
    JOURNALIST_COLUMNS,
    OFFICE_COLUMNS,
    OUTLET_COLUMNS,
    ROLE_COLUMNS,
)
from civic_contacts.registry.models import Journalist, Office, Outlet, Phone, PressContact
from civic_contacts.registry.phones import format_international
from civic_contacts.registry.tables import write_csv


def phone_text(phone: Phone) -> str:
    """A stored number as people read it, with the labels that matter to a caller."""
    if not phone.valid or not phone.e164:
        return phone.raw
    text = format_international(phone.e164)
    if phone.extension:
        text += f" ext. {phone.extension}"
    labels = [label for label in phone.label.split(", ") if label and label != "whatsapp"]
    if phone.whatsapp:
        labels.append("WhatsApp")
    return f"{text} ({', '.join(labels)})" if labels else text


def phone_json(phone: Phone) -> dict[str, Any]:
    """A stored number as JSON."""
    return {
        "raw": phone.raw,
        "e164": phone.e164,
        "international": format_international(phone.e164) if phone.e164 else None,
        "extension": phone.extension,
        "type": phone.kind,
        "valid": phone.valid,
        "whatsapp": phone.whatsapp,
        "whatsapp_url": f"https://wa.me/{phone.e164.lstrip('+')}"
        if phone.whatsapp and phone.e164
        else None,
        "label": phone.label,
        "problem": phone.problem,
    }


def office_json(office: Office) -> dict[str, Any]:
    """An office with the CSV columns as keys."""
    return {
        "code": office.code,
        "name": office.name,
        "city": office.city,
        "country": office.country,
        "timezone": office.timezone,
        "languages": list(office.languages),
        "covers": list(office.covers),
        "cities": dict(office.cities or {}),
    }


def contact_json(contact: PressContact) -> dict[str, Any]:
    """A press contact with the CSV columns as keys (and a little more)."""
    return {
        "id": contact.id,
        "name": contact.name,
        "office": contact.office.code,
        "role": contact.role,
        "roles": dict(contact.roles or {}),
        "languages": list(contact.languages),
        "email": contact.email,
        "phones": [phone_text(p) for p in contact.phones],
        "rank": contact.rank,
        "active": contact.active,
        "phone_numbers": [phone_json(p) for p in contact.phones],
    }


def outlet_json(outlet: Outlet) -> dict[str, Any]:
    """An outlet with the CSV columns as keys."""
    return {
        "slug": outlet.slug,
        "name": outlet.name,
        "country": outlet.country,
        "languages": list(outlet.languages),
        "timezone": outlet.timezone,
        "kind": outlet.kind,
        "tags": list(outlet.tags),
        "also_reads": list(outlet.also_reads or []),
        "beats": list(outlet.beats or []),
    }


def journalist_json(journalist: Journalist, suppressed: set[str] | None = None) -> dict[str, Any]:
    """A journalist with the CSV columns as keys; `status` says suppressed (the address is
    on the suppression list, when `suppressed` is given) and opted-out."""
    is_suppressed = suppressed is not None and journalist.email in suppressed
    status = [
        s for s, on in (("suppressed", is_suppressed), ("opted-out", journalist.opted_out)) if on
    ]
    return {
        "outlet": journalist.outlet.slug,
        "name": journalist.name,
        "email": journalist.email,
        "language": journalist.language,
        "role": journalist.role,
        "phones": [phone_text(p) for p in journalist.phones],
        "beats": list(journalist.beats or []),
        "opted_out": journalist.opted_out,
        "suppressed": is_suppressed,
        "status": status,
        # What they chose on their preference page.
        "preferences": {
            "also_reads": list(journalist.also_reads or []),
            "follows": list(journalist.follows or []),
            "weekly_cap": journalist.weekly_cap,
            "accepts_embargoed": journalist.accepts_embargoed,
        },
    }


def _csv_row(data: dict[str, Any], columns: list[str]) -> dict[str, str]:
    row = {}
    for column in columns:
        value = data.get(column)
        if isinstance(value, list):
            row[column] = (" / " if column == "phones" else ";").join(str(v) for v in value)
        elif value is None:
            row[column] = ""
        else:
            row[column] = str(value)
    return row


def offices_csv(offices: Iterable[Office], raw: bool = False) -> str:
    """Offices as an import-ready CSV (with a `city_LANG` column for each language a city's
    name is given in)."""
    listed = list(offices)
    languages = sorted({language for o in listed for language in o.cities or {}})
    columns = [*OFFICE_COLUMNS, *(CITY_COLUMNS + language for language in languages)]
    rows = []
    for office in listed:
        data = office_json(office)
        for language, text in data["cities"].items():
            data[CITY_COLUMNS + language] = text
        rows.append(_csv_row(data, columns))
    return write_csv(rows, columns, raw)


def contacts_csv(contacts: Iterable[PressContact], raw: bool = False) -> str:
    """Press contacts as an import-ready CSV (with the `active` column, and a `role_LANG`
    column for each language a role is translated into)."""
    listed = list(contacts)
    languages = sorted({language for c in listed for language in c.roles or {}})
    columns = [*CONTACT_COLUMNS, "active", *(ROLE_COLUMNS + language for language in languages)]
    rows = []
    for contact in listed:
        data = contact_json(contact)
        data["active"] = "yes" if contact.active else "no"
        for language, text in data["roles"].items():
            data[ROLE_COLUMNS + language] = text
        rows.append(_csv_row(data, columns))
    return write_csv(rows, columns, raw)


def outlets_csv(outlets: Iterable[Outlet], raw: bool = False) -> str:
    """Outlets as an import-ready CSV."""
    columns = [*OUTLET_COLUMNS, "also_reads", "beats"]
    return write_csv([_csv_row(outlet_json(o), columns) for o in outlets], columns, raw)


def journalists_csv(
    journalists: Iterable[Journalist], raw: bool = False, suppressed: set[str] | None = None
) -> str:
    """Journalists as an import-ready CSV, with a status column (suppressed, opted-out) so
    that importing it elsewhere keeps them off the list."""
    columns = [*JOURNALIST_COLUMNS, "beats", "status"]
    return write_csv(
        [_csv_row(journalist_json(j, suppressed), columns) for j in journalists], columns, raw
    )
