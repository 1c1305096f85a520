"""Turning rows people typed into checked registry records, and applying whole files.

Every importer reads the whole file first and reports every bad row with its row number and
field; only then does it apply, in the caller's transaction, either everything or (with
`skip_invalid`) the good rows. People are matched by email, offices by code, outlets by slug,
so importing the same file twice changes nothing.

One module: a column is checked (row to record) and applied (file to registry) here, and the
two change together whenever a column does.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import BigInteger, Column, Integer, MetaData, Table, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from civic_contacts.db import analyze_now, insert_rows, matching, refresh_statistics
from civic_contacts.errors import InputError
from civic_contacts.registry import history
from civic_contacts.registry import store as registry
from civic_contacts.registry.addresses import normalise_email
from civic_contacts.registry.codes import (
    OUTLET_KINDS,
    check_code,
    check_country,
    check_flag,
    check_language,
    check_languages,
    check_rank,
    check_text,
    check_timezone,
    split_list,
)
from civic_contacts.registry.erasure import erased_among
from civic_contacts.registry.extract import ExtractedPerson
from civic_contacts.registry.phones import ParsedPhone, parse_phones
from civic_contacts.registry.store import (
    ContactRecord,
    JournalistRecord,
    OfficeRecord,
    OutletRecord,
)
from civic_contacts.registry.tables import (
    Parsed,
    Row,
    check_cell,
    check_problems,
    iter_records,
    parse_file,
    report,
)
from civic_contacts.registry.topics import check_beats, known_topics

T = TypeVar("T")

OFFICE_COLUMNS = ["code", "name", "city", "country", "timezone", "languages", "covers"]
CONTACT_COLUMNS = ["name", "office", "role", "languages", "email", "phones", "rank"]
OUTLET_COLUMNS = ["slug", "name", "country", "languages", "timezone", "kind", "tags"]
JOURNALIST_COLUMNS = ["outlet", "name", "email", "language", "role", "phones"]


# Line breaks and other control characters (C0, DEL, C1), direction overrides and isolates
# (which can make "moc.elpmaxe@" read as an address) and byte-order marks.
@dataclass
class ImportReport:
    """What an import did: counts, rows left out (with --skip-invalid) and warnings."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def count(self, outcome: str) -> None:
        """Count one upsert outcome."""
        setattr(self, outcome, getattr(self, outcome) + 1)

    def summary(self, noun: str) -> str:
        """One line for people."""
        text = f"{noun}: {self.created} created, {self.updated} updated, {self.unchanged} unchanged"
        if self.skipped:
            text += f", {len(self.skipped)} rows skipped"
        return text


# Single values ---------------------------------------------------------------------------


def read_phones(text: str, region: str) -> tuple[list[ParsedPhone], list[str]]:
    """Numbers in a free-text cell, and a warning for each that is not valid."""
    numbers = parse_phones(text, region)
    warnings = [f'"{p.raw}" {p.problem}' for p in numbers if not p.valid]
    return numbers, warnings


def check_language_list(value: str) -> list[str]:
    """A `;` list of language codes, at least one."""
    languages = check_languages(split_list(value))
    if not languages:
        raise InputError("no language given (list codes such as fr;en)")
    return languages


# Offices ---------------------------------------------------------------------------------


def office_from_row(row: Row) -> OfficeRecord:
    """An office from a CSV row."""
    return OfficeRecord(
        code=check_cell("code", check_code, row.get("code")),
        name=check_cell("name", lambda v: check_text(v, "name"), row.get("name")),
        city=check_cell("city", lambda v: check_text(v, "city"), row.get("city")),
        country=check_cell("country", check_country, row.get("country")),
        timezone=check_cell("timezone", check_timezone, row.get("timezone")),
        languages=check_cell("languages", check_language_list, row.get("languages")),
        covers=check_cell("covers", lambda v: check_covers(split_list(v)), row.get("covers")),
        cities=by_language_from_row(row, CITY_COLUMNS, "city"),
    )


CITY_COLUMNS = "city_"  # city_fr, city_en…: the city's name in that language


def check_covers(values: list[str]) -> list[str]:
    """Countries an office covers: ISO codes, or `*` for all."""
    if not values:
        raise InputError("covers is empty (list countries, or * for all)")
    if "*" in values:
        return ["*"]
    out: list[str] = []
    for value in values:
        code = check_country(value)
        if code not in out:
            out.append(code)
    return out


def import_offices(session: Session, path: Path, skip_invalid: bool = False) -> ImportReport:
    """Import an offices CSV file (matched by code)."""
    parsed = parse_file(
        path, OFFICE_COLUMNS, [CITY_COLUMNS + "*"], office_from_row, lambda r: r.code, "code"
    )
    return _apply(parsed, skip_invalid, lambda r: registry.upsert_office(session, r))


# Press contacts --------------------------------------------------------------------------


# Whether an empty cell empties the field (`--blank-clears`); by default it leaves it alone.
_BLANK_CLEARS: ContextVar[bool] = ContextVar("blank_clears", default=False)


@contextlib.contextmanager
def blank_clearing(clears: bool) -> Iterator[None]:
    """Imports within the block empty a field for an empty cell (else they leave it)."""
    token = _BLANK_CLEARS.set(clears)
    try:
        yield
    finally:
        _BLANK_CLEARS.reset(token)


def beats_from_row(row: Row, known: frozenset[str]) -> list[str] | None:
    """The `beats` cell, checked against the office's topics; None (kept as they are) for
    an absent column, or an empty cell unless `--blank-clears`."""
    if "beats" in kept(row, ("beats",)):
        return None
    return check_cell("beats", lambda v: check_beats(v, known), row.get("beats"))


def kept(row: Row, fields: tuple[str, ...]) -> frozenset[str]:
    """The fields an existing record keeps: those whose cell is empty or whose column is
    absent (an absent column always; an empty cell unless `--blank-clears`)."""
    if _BLANK_CLEARS.get():
        return frozenset(f for f in fields if f not in row.cells)
    return frozenset(f for f in fields if not row.get(f))


def contact_from_row(
    row: Row, regions: dict[str, str], warnings: list[str], source: str
) -> ContactRecord:
    """A press contact from a CSV row; phones are read with the office's country."""
    office_code = check_cell("office", check_code, row.get("office"))
    region = regions.get(office_code)
    phones: list[ParsedPhone] = []
    phone_warnings: list[str] = []
    if region is None:
        if office_code is not None:
            known = ", ".join(sorted(regions)) or "none yet"
            report("office", f'unknown office "{row.get("office")}" (known: {known})')
    else:
        phones, phone_warnings = read_phones(row.get("phones"), region)
    warnings.extend(f"{source} row {row.number}, phones: {w}" for w in phone_warnings)
    return ContactRecord(
        name=check_cell("name", lambda v: check_text(v, "name"), row.get("name")),
        office=office_code,
        role=check_cell("role", lambda v: check_text(v, "role", required=False), row.get("role")),
        languages=check_cell("languages", check_language_list, row.get("languages")),
        email=check_cell("email", normalise_email, row.get("email")),
        phones=phones,
        rank=check_cell("rank", check_rank, row.get("rank")),
        active=check_cell("active", check_flag, row.get("active")),
        roles=roles_from_row(row),
        keep=kept(row, ("role", "phones", "rank", "active")),
    )


ROLE_COLUMNS = "role_"  # role_fr, role_en…: the role in that language


def roles_from_row(row: Row) -> dict[str, str] | None:
    """The role by language from a row's `role_LANG` cells; None when the file has none of
    those columns (a known contact keeps its translations)."""
    return by_language_from_row(row, ROLE_COLUMNS, "role")


def by_language_from_row(row: Row, prefix: str, what: str) -> dict[str, str] | None:
    """A text by language from a row's `PREFIXLANG` cells (`role_fr`, `city_fr`…); None
    when the file has none of those columns (what is stored stays)."""
    columns = [name for name in row.cells if name.startswith(prefix)]
    if not columns:
        return None
    found: dict[str, str] = {}
    for column in columns:
        language = check_cell(column, check_language, column[len(prefix) :])
        text = check_cell(column, lambda v: check_text(v, what, required=False), row.cells[column])
        if language and text:
            found[language] = text
    return found


def check_role_given(value: str) -> tuple[str, str]:
    """A `LANG=ROLE` pair typed on the command line (`fr=Porte-parole`); an empty role says
    "none in that language"."""
    return _in_language_given(value, "role", "LANG=ROLE (such as fr=Porte-parole)")


def check_city_given(value: str) -> tuple[str, str]:
    """A `LANG=NAME` pair for an office's city (`fr=La Haye`)."""
    return _in_language_given(value, "city", "LANG=NAME (such as fr=La Haye)")


def _in_language_given(value: str, what: str, shape: str) -> tuple[str, str]:
    language, equals, text = value.partition("=")
    if not equals:
        raise InputError(f'"{value}" is not {shape}')
    return check_language(language), check_text(text, what, required=False)


def import_contacts(
    session: Session, path: Path, skip_invalid: bool = False, default_office: str | None = None
) -> ImportReport:
    """Import a press contacts file, CSV or vCard (matched by email).

    Cards without an X-CIVIC-OFFICE property go to `default_office`.
    """
    warnings: list[str] = []
    if path.suffix.lower() in (".vcf", ".vcard"):
        from civic_contacts.registry.vcard import contacts_from_vcards

        parsed = contacts_from_vcards(session, path, warnings, default_office)
    else:
        regions = {code: o.country for code, o in registry.offices_by_code(session).items()}
        parsed = parse_file(
            path,
            CONTACT_COLUMNS,
            ["active", ROLE_COLUMNS + "*"],
            lambda row: contact_from_row(row, regions, warnings, path.name),
            lambda r: r.email,
            "email",
        )
    report = _apply(parsed, skip_invalid, lambda r: registry.upsert_contact(session, r))
    report.warnings.extend(warnings)
    return report


@dataclass
class MergeStep:
    """One thing merging extracted people would do (or did): add a contact, add a number to
    one, fill an empty field, a conflict (kept unless --replace), or a skip."""

    kind: str  # add, update, conflict, skip
    who: str
    what: str

    def line(self) -> str:
        """One line for people."""
        return f"{self.kind} {self.who}: {self.what}"


@dataclass
class MergeReport:
    """What merging extracted people did (or, in a dry run, would do)."""

    steps: list[MergeStep] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for people."""
        conflicts = sum(1 for s in self.steps if s.kind == "conflict")
        skipped = sum(1 for s in self.steps if s.kind == "skip")
        return (
            f"contacts: {self.created} created, {self.updated} updated, {self.unchanged}"
            f" unchanged, {conflicts} conflict(s), {skipped} skipped"
        )


def import_extracted(
    session: Session,
    people: list[ExtractedPerson],
    office: str,
    source: str,
    replace: bool = False,
    include_desks: bool = False,
) -> MergeReport:
    """Merge people read from a release into the press contacts of one office.

    Each is matched by email, then by name within the office. A match keeps what the
    registry says: new numbers are added, empty fields filled, and a field the release
    writes otherwise is a conflict, applied only with `replace`. A desk (no person) is
    imported, under its label, only with `include_desks`. Nothing is written here beyond
    the session: a dry run rolls it back.
    """
    from civic_contacts.registry.codes import fold
    from civic_contacts.registry.models import PressContact

    office_row = registry.get_office(session, office)
    report = MergeReport()
    in_office = {
        fold(c.name): c
        for c in session.scalars(
            select(PressContact).where(PressContact.office_id == office_row.id)
        )
    }
    for number, person in enumerate(people, start=1):
        label = person.name if person.name is not None else f"{person.role or 'desk'} (desk)"
        who = f"{label}" + (f" <{person.emails[0]}>" if person.emails else "")
        if person.name is None and not include_desks:
            report.steps.append(
                MergeStep("skip", who, "a desk, not a person (--include-desks imports it)")
            )
            continue
        if not person.emails:
            report.steps.append(MergeStep("skip", who, "no email address (a contact needs one)"))
            continue
        where = f"{source} person {number} ({label})"
        try:
            email = normalise_email(person.emails[0])
            name = check_text(
                person.name if person.name is not None else person.role or "Press desk", "name"
            )
            role = check_text(person.role, "role", required=False)
        except InputError as exc:
            report.steps.append(MergeStep("skip", who, exc.message))
            continue
        phones = [p for p in person.phones if p.valid]
        report.warnings.extend(
            f'{where}: "{p.raw}" {p.problem}' for p in person.phones if not p.valid
        )
        contact = session.scalar(select(PressContact).where(PressContact.email == email))
        matched_by = "email"
        if contact is None:
            contact = in_office.get(fold(name))
            matched_by = "name"
        if contact is None:
            record = ContactRecord(
                name=name,
                office=office_row.code,
                role=role if person.name is not None else "",
                languages=list(office_row.languages),
                email=email,
                phones=phones,
            )
            registry.upsert_contact(session, record)
            report.created += 1
            shown = f"{len(phones)} number(s)" if phones else "no number"
            report.steps.append(MergeStep("add", who, f"new contact of {office_row.code}, {shown}"))
            continue
        watched = ("name", "role", "email", "phones")
        before = {f: registry.shown(contact, f) for f in watched}
        was = {f: registry.raw_value(contact, f) for f in watched}
        changed = _merge_into(
            contact, name, role, email, office_row, phones, matched_by, replace, who, report
        )
        session.flush()
        diff = {f: [before[f], registry.shown(contact, f)] for f in watched}
        diff = {f: pair for f, pair in diff.items() if pair[0] != pair[1]}
        if diff:
            history.record(
                session,
                "contact",
                contact.email,
                "updated",
                {**diff, "_was": {f: was[f] for f in diff}},
            )
        if changed:
            report.updated += 1
        else:
            report.unchanged += 1
    session.flush()
    return report


def _merge_into(
    contact: Any,
    name: str,
    role: str,
    email: str,
    office_row: Any,
    phones: list[ParsedPhone],
    matched_by: str,
    replace: bool,
    who: str,
    report: MergeReport,
) -> bool:
    """Bring one matched contact in line with what the release says, keeping what the
    registry says unless `replace`; True when anything changed."""
    from civic_contacts.registry.codes import fold

    changed = False
    known = {p.e164 for p in contact.phones if p.e164}
    for phone in phones:
        if phone.e164 and phone.e164 not in known:
            (row,) = registry.phones_from_parsed([phone])
            row.position = len(contact.phones)
            contact.phones.append(row)
            known.add(phone.e164)
            changed = True
            report.steps.append(MergeStep("update", who, f"add number {phone.international}"))
    fields = [("role", contact.role, role)]
    if matched_by == "email":
        fields.append(("name", contact.name, name))
    else:
        fields.append(("email", contact.email, email))
    if contact.office_id != office_row.id:
        fields.append(("office", contact.office.code, office_row.code))
    translated = {fold(text) for text in (contact.roles or {}).values()}
    for attribute, stored, said in fields:
        if not said or fold(stored) == fold(said):
            continue
        if attribute == "role" and fold(said) in translated:
            continue  # the role in one of the languages the registry has it in
        if not stored:
            setattr(contact, attribute, said)
            changed = True
            report.steps.append(MergeStep("update", who, f'{attribute} set to "{said}"'))
            continue
        if replace:
            if attribute == "office":
                contact.office_id = office_row.id
            else:
                setattr(contact, attribute, said)
            changed = True
            report.steps.append(
                MergeStep("update", who, f'{attribute} "{stored}" replaced by "{said}"')
            )
        else:
            report.steps.append(
                MergeStep(
                    "conflict",
                    who,
                    f'{attribute} is "{stored}", the release says "{said}" (kept; --replace takes the release\'s)',
                )
            )
    return changed


# Outlets and journalists -----------------------------------------------------------------


def check_kind(value: str) -> str:
    """An outlet kind: wire, broadcaster, print, online (and radio, tv, agency)."""
    kind = value.strip().lower() or "online"
    if kind not in OUTLET_KINDS:
        raise InputError(f'"{value}" is not an outlet kind ({", ".join(OUTLET_KINDS)})')
    return kind


def outlet_from_row(row: Row, known: frozenset[str] = frozenset()) -> OutletRecord:
    """An outlet from a CSV row (`known`: the office's topics, for its beats)."""
    return OutletRecord(
        slug=check_cell("slug", lambda v: check_code(v, "slug"), row.get("slug")),
        name=check_cell("name", lambda v: check_text(v, "name"), row.get("name")),
        country=check_cell("country", check_country, row.get("country")),
        languages=check_cell("languages", check_language_list, row.get("languages")),
        timezone=check_cell("timezone", check_timezone, row.get("timezone")),
        kind=check_cell("kind", check_kind, row.get("kind")),
        tags=check_cell(
            "tags",
            lambda v: [check_text(t, "tag", max_length=50) for t in split_list(v)],
            row.get("tags"),
        ),
        # An absent column or an empty cell leaves an outlet's as they are.
        also_reads=check_cell("also_reads", check_language_list, row.get("also_reads"))
        if row.get("also_reads")
        else None,
        beats=beats_from_row(row, known),
    )


def import_outlets(session: Session, path: Path, skip_invalid: bool = False) -> ImportReport:
    """Import an outlets CSV file (matched by slug)."""
    known = known_topics(session)
    parsed = parse_file(
        path,
        OUTLET_COLUMNS,
        ["also_reads", "beats"],
        lambda row: outlet_from_row(row, known),
        lambda r: r.slug,
        "slug",
    )
    return _apply(parsed, skip_invalid, lambda r: registry.upsert_outlet(session, r))


def journalist_from_row(
    row: Row,
    outlets: dict[str, str],
    warnings: list[str],
    source: str,
    phones_of: Callable[[str, str], tuple[list[ParsedPhone], list[str]]] | None = None,
    by_name: dict[str, str] | None = None,
    default_outlet: str | None = None,
    known: frozenset[str] = frozenset(),
) -> JournalistRecord:
    """A journalist from a CSV row; phones are read with the outlet's country. An address
    book's row names its outlet by the company (matched to outlets' names in `by_name`),
    else `default_outlet`."""
    slug: str | None
    if "outlet" not in row.cells:  # an address book's row: its company, else --outlet
        company = row.get("company")
        slug = (by_name or {}).get(company.casefold()) if company else None
        slug = slug or default_outlet
        if slug is None:
            report(
                "outlet",
                f'no outlet named "{company}" (pass --outlet)'
                if company
                else "no company on this row (pass --outlet)",
            )
    else:
        slug = check_cell("outlet", lambda v: check_code(v, "outlet"), row.get("outlet"))
    phones: list[ParsedPhone] = []
    phone_warnings: list[str] = []
    if slug not in outlets:
        if slug is not None:
            report("outlet", f'unknown outlet "{row.get("outlet")}"')
    else:
        phones, phone_warnings = (phones_of or read_phones)(row.get("phones"), outlets[slug])
    warnings.extend(f"{source} row {row.number}, phones: {w}" for w in phone_warnings)
    language = row.get("language")
    status = row.get("status")
    return JournalistRecord(
        outlet=slug or "",
        name=check_cell("name", lambda v: check_text(v, "name"), row.get("name")),
        email=check_cell("email", normalise_email, row.get("email")),
        language=check_cell("language", check_language, language) if language else None,
        role=check_cell("role", lambda v: check_text(v, "role", required=False), row.get("role")),
        phones=phones,
        status=check_cell("status", check_status, status) if status else frozenset(),
        keep=kept(row, ("language", "role", "phones")),
        beats=beats_from_row(row, known),
    )


STATUSES = ("suppressed", "opted-out")


def check_status(value: str) -> frozenset[str]:
    """An export's status cell: suppressed, opted-out, both (; between) or nothing."""
    words = {w.strip().lower() for w in re.split(r"[;,]", value) if w.strip()}
    unknown = sorted(words - set(STATUSES))
    if unknown:
        raise InputError(f'"{unknown[0]}" is not a status (these are: {", ".join(STATUSES)})')
    return frozenset(words)


def import_journalists(
    session: Session, path: Path, skip_invalid: bool = False, default_outlet: str | None = None
) -> ImportReport:
    """Import a journalists file, CSV or vCard (matched by email).

    Cards whose outlet is not named by X-CIVIC-OUTLET or ORG go to `default_outlet`.
    """
    warnings: list[str] = []
    if path.suffix.lower() in (".vcf", ".vcard"):
        from civic_contacts.registry.vcard import journalists_from_vcards

        parsed = journalists_from_vcards(session, path, warnings, default_outlet)
        erased = erased_among(session, [record.email for _n, record in parsed.records])
        parsed.problems.extend(
            f"{path.name} card {n}, EMAIL: {record.email} was erased on request; it is not"
            " added again"
            for n, record in parsed.records
            if record.email in erased
        )
        parsed.records = [(n, r) for n, r in parsed.records if r.email not in erased]
        check_problems(parsed, skip_invalid)
        report = ImportReport(skipped=list(parsed.problems), warnings=warnings)
        for outcome in registry.upsert_journalists(
            session, [record for _row, record in parsed.records]
        ):
            report.count(outcome)
        return report
    # A CSV file streams: each chunk of good rows is applied as it is read, in the caller's
    # one transaction; a bad row anywhere refuses the whole file (the caller rolls back), so
    # the import stays all-or-nothing while holding one chunk, not the file. Repeated
    # addresses are found through a temporary table of the same transaction.
    outlets = registry.outlet_countries_by_slug(session)
    outlet_ids = registry.outlet_ids_by_slug(session)
    by_name = {o.name.casefold(): o.slug for o in registry.list_outlets(session)}
    problems: list[str] = []
    report = ImportReport(skipped=problems, warnings=warnings)
    good = 0
    chunk: list[tuple[int, JournalistRecord]] = []
    phones_of = PhoneCache()
    seen = SeenKeys(session)
    known = known_topics(session)

    analyzed = IMPORT_CHUNK // 2

    def apply() -> None:
        nonlocal good, analyzed
        repeated = seen.check(
            [(row, record.email) for row, record in chunk], path.name, "email", problems
        )
        erased = erased_among(session, [record.email for _row, record in chunk])
        for row, record in chunk:
            if record.email in erased:
                problems.append(
                    f"{path.name} row {row}, email: {record.email} was erased on request;"
                    " it is not added again"
                )
                repeated.add(row)
        records = [record for row, record in chunk if row not in repeated]
        good += len(records)
        chunk.clear()
        if problems and not skip_invalid:
            return  # refused in the end: no need to write it
        for outcome in registry.upsert_journalists(session, records, outlet_ids):
            report.count(outcome)
        registry.keep_statuses(session, [r for r in records if r.status])
        if good >= 2 * analyzed:
            # The look-ups of the next chunks are planned for the tables as they are now
            # (PostgreSQL; nothing elsewhere): at 5,000, 10,000, 20,000 ... rows.
            analyze_now(session, ("journalists", "phones", seen.table.name))
            analyzed = good

    try:
        for row, record in iter_records(
            path,
            ["outlet", "name", "email"],
            ["language", "role", "phones", "status", "beats"],
            lambda row: journalist_from_row(
                row, outlets, warnings, path.name, phones_of, by_name, default_outlet, known
            ),
            lambda r: r.email,
            "email",
            problems,
            check_keys=False,
        ):
            chunk.append((row, record))
            if len(chunk) >= IMPORT_CHUNK:
                apply()
        apply()
    finally:
        seen.close()
    problems.sort(key=_row_of)
    check_problems(Parsed(records=[], problems=problems), skip_invalid, good)
    refresh_statistics(session, ("journalists", "phones"))
    return report


def _row_of(problem: str) -> int:
    found = re.search(r" row (\d+)", problem)
    return int(found.group(1)) if found else 0


class SeenKeys:
    """The keys already read from a file, and on which row, kept in a temporary table of the
    import's own transaction: a file of any size is checked for repeats without holding its
    keys in memory (a 64-bit hash of each key is stored).

    The hash is Python's own, keyed afresh in each process: the table lives no longer than
    the process, and it is twenty times quicker than a cryptographic digest."""

    def __init__(self, session: Session) -> None:
        self.connection = session.connection()
        self.table = Table(
            f"import_keys_{uuid.uuid4().hex[:12]}",
            MetaData(),
            # INTEGER on SQLite makes the hash the row's own id: one b-tree, not a table and
            # an index beside it.
            Column("digest", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
            Column("row", Integer, nullable=False),
            prefixes=["TEMPORARY"],
        )
        self.table.create(self.connection)

    def check(
        self, keyed: list[tuple[int, str]], source: str, field_name: str, problems: list[str]
    ) -> set[int]:
        """Note these (row, key) pairs; returns the rows whose key came earlier, each named in
        `problems` with the row it first appeared on."""
        digests: dict[int, tuple[int, str]] = {}
        repeated: set[int] = set()
        for row, key in keyed:
            digest = hash(key)
            first = digests.get(digest)
            if first is not None:
                problems.append(
                    f"{source} row {row}, {field_name}: {key} is already on row {first[0]}"
                )
                repeated.add(row)
                continue
            digests[digest] = (row, key)
        if self.connection.dialect.name == "sqlite":
            earlier = self._add_sqlite(digests)
        else:
            earlier = self._add(digests)
        for digest, first_row in earlier:
            row, key = digests[digest]
            problems.append(
                f"{source} row {row}, {field_name}: {key} is already on row {first_row}"
            )
            repeated.add(row)
        return repeated

    def _add(self, digests: dict[int, tuple[int, str]]) -> list[tuple[int, int]]:
        """Look the hashes up, then store the new ones: (hash, first row) of those seen."""
        earlier = list(self._stored(digests))
        seen = {digest for digest, _row in earlier}
        insert_rows(
            self.connection,
            self.table,
            [{"digest": d, "row": r} for d, (r, _k) in digests.items() if d not in seen],
        )
        return earlier

    def _add_sqlite(self, digests: dict[int, tuple[int, str]]) -> list[tuple[int, int]]:
        """`_add` in one statement when no key repeats (most chunks): store them all, a hash
        already there left as it is, and look up only when fewer rows went in than were given
        (the stored row then differs from this chunk's)."""
        raw: Any = self.connection.connection.dbapi_connection
        cursor = raw.cursor()
        try:
            cursor.executemany(
                f'INSERT INTO "{self.table.name}" (digest, "row") VALUES (?, ?)'
                " ON CONFLICT DO NOTHING",
                # In order: each page of the table's b-tree is reached once a chunk.
                sorted((d, r) for d, (r, _k) in digests.items()),
            )
            stored_all = cursor.rowcount == len(digests)
        finally:
            cursor.close()
        if stored_all:
            return []
        return [(d, row) for d, row in self._stored(digests) if row != digests[d][0]]

    def _stored(self, digests: dict[int, tuple[int, str]]) -> Iterator[tuple[int, int]]:
        """(hash, row) of those of `digests` already in the table."""
        dialect = self.connection.dialect.name
        for condition in matching(self.table.c.digest, list(digests), dialect):
            yield from self.connection.execute(
                select(self.table.c.digest, self.table.c.row).where(condition)
            )

    def close(self) -> None:
        """Drop the table (it would otherwise live as long as the database connection)."""
        # When the transaction failed, rolling it back takes the table with it.
        with contextlib.suppress(DBAPIError):
            self.table.drop(self.connection)


IMPORT_CHUNK = 5000


class PhoneCache:
    """`read_phones` with the answers for the last few thousand (text, country) pairs kept: a
    list repeats desk numbers and switchboards, and phonenumbers is the slowest part of a row.

    A pair is kept from its second sighting on: in a list whose every number differs (most
    journalists' own mobiles), the cache then costs a look-up a row and never a copy."""

    SIZE = 4096

    def __init__(self) -> None:
        self.known: OrderedDict[tuple[str, str], tuple[list[ParsedPhone], list[str]]]
        self.known = OrderedDict()
        self.sighted: OrderedDict[tuple[str, str], None] = OrderedDict()

    def __call__(self, text: str, region: str) -> tuple[list[ParsedPhone], list[str]]:
        key = (text, region)
        found = self.known.get(key)
        if found is not None:
            # Copies: a record may be changed after it is read.
            return [p.copy() for p in found[0]], list(found[1])
        numbers, warnings = read_phones(text, region)
        if key not in self.sighted:
            _remember(self.sighted, key, None, 4 * self.SIZE)
            return numbers, warnings
        _remember(self.known, key, ([p.copy() for p in numbers], list(warnings)), self.SIZE)
        return numbers, warnings


def _remember(store: OrderedDict[Any, Any], key: Any, value: Any, size: int) -> None:
    """Put `key` in a store of at most `size` keys, the oldest going first. (A plain dict's
    oldest key is found by stepping over the slots of every key taken out before it: at a
    few thousand keys that cost more than the cache saved.)"""
    if len(store) >= size:
        store.popitem(last=False)
    store[key] = value


def _apply(parsed: Parsed[T], skip_invalid: bool, upsert: Callable[[T], str]) -> ImportReport:
    check_problems(parsed, skip_invalid)
    report = ImportReport(skipped=list(parsed.problems))
    for _row, record in parsed.records:
        report.count(upsert(record))
    return report
