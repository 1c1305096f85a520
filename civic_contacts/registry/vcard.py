"""Contact cards: writing vCard 3.0 (default) and 4.0, reading both (vobject).

3.0 is the default because Android contacts apps reject 4.0 cards that they accept as 3.0.
Office lines are typed WORK, mobiles CELL, faxes FAX; an extension follows the number after a
dialling pause (`+31101234567,12`; `;ext=12` in a 4.0 tel: URI), so a phone dials it. A WhatsApp
number is marked the way WhatsApp's own shared cards do (`TEL;TYPE=CELL;TYPE=VOICE;waid=<digits>`;
`waid` is WhatsApp's vendor parameter, the one thing a strict 3.0 validator objects to) and
given a labelled link that Apple's and Google's address books show
(`item1.URL:https://wa.me/<digits>` with `item1.X-ABLabel:WhatsApp`).
Text is UTF-8; `,` `;` `\\` and newlines are escaped; lines are folded at 75 octets without
splitting a character. Numbers that are not valid are left out of cards: a card is for
dialling. The office, languages and rank travel in `X-CIVIC-*` properties so that a card
exported here imports back to the same contact.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import vobject

from civic_contacts.errors import InputError
from civic_contacts.registry import store as registry
from civic_contacts.registry.addresses import normalise_email
from civic_contacts.registry.codes import (
    check_language,
    check_languages,
    check_rank,
    check_text,
    in_language,
)
from civic_contacts.registry.codes import fold as fold_text
from civic_contacts.registry.models import Phone, PressContact
from civic_contacts.registry.phones import ParsedPhone, parse_phones
from civic_contacts.registry.store import ContactRecord, JournalistRecord
from civic_contacts.registry.tables import Parsed, decode
from civic_contacts.registry.topics import list_topics

VERSIONS = ("3.0", "4.0")
_PARTICLES = {
    "de",
    "da",
    "di",
    "du",
    "del",
    "della",
    "van",
    "von",
    "der",
    "den",
    "le",
    "la",
    "ter",
    "ten",
    "dos",
    "das",
    "ben",
    "ibn",
    "bin",
    "al",
    "el",
    "ould",
    "mint",
}


def escape(text: str) -> str:
    """A text value escaped for vCard (RFC 6350 §3.4, RFC 2426 §5)."""
    return (
        text.replace("\\", "\\\\")
        .replace(",", "\\,")
        .replace(";", "\\;")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line: str) -> str:
    """A content line folded at 75 octets, never inside a UTF-8 character."""
    out: list[str] = []
    current = ""
    size = 0
    limit = 75
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            out.append(current)
            current = " "
            size = 1
        current += char
        size += width
    out.append(current)
    return "\r\n".join(out)


def split_name(name: str) -> tuple[str, str]:
    """(family, given) for the N property: family names starting with a particle are kept whole."""
    words = name.split()
    if len(words) < 2:
        return name, ""
    start = len(words) - 1
    for i in range(1, len(words) - 1):
        if words[i].lower() in _PARTICLES:
            start = i
            break
    return " ".join(words[start:]), " ".join(words[:start])


def _tel_line(phone: Phone, version: str, whatsapp: frozenset[str] = frozenset()) -> list[str]:
    """A TEL line a phone can dial: office numbers WORK, mobiles CELL, faxes FAX; an
    extension after a pause (`+31101234567,12` in 3.0, `;ext=12` in a 4.0 tel: URI)."""
    if not phone.valid or not phone.e164:
        return []
    digits = phone.e164.lstrip("+")
    labels = phone.label.split(", ") if phone.label else []
    on_whatsapp = phone.whatsapp or phone.e164 in whatsapp
    if "fax" in labels:
        types = ["WORK", "FAX"]
    elif on_whatsapp or "mobile" in labels or phone.kind == "mobile":
        types = ["CELL", "VOICE"]
    else:
        # A press contact's number that is not a mobile is their office line.
        types = ["WORK", "VOICE"]
    # `waid` is WhatsApp's own parameter (its exports write it, its import reads it): a
    # vendor extension, kept beside the labelled link that address books show.
    waid = f";waid={digits}" if on_whatsapp else ""
    if version == "3.0":
        params = "".join(f";TYPE={t}" for t in types)
        # The pause's comma escaped: a TEL value's bare comma separates values for vobject
        # (and khard), which would drop the extension; unescaped, it reads `+31101234567,12`.
        pause = f"\\,{phone.extension}" if phone.extension else ""
        return [f"TEL{params}{waid}:{phone.e164}{pause}"]
    kinds = ",".join(t.lower() for t in types)
    value = phone.e164 + (f";ext={phone.extension}" if phone.extension else "")
    return [f'TEL;VALUE=uri;TYPE="{kinds}"{waid}:tel:{value}']


def _whatsapp_links(phones: Iterable[Phone], whatsapp: frozenset[str] = frozenset()) -> list[str]:
    """Each WhatsApp number as a link labelled "WhatsApp" (Apple's and Google's address books
    show a grouped URL with its X-ABLabel as a named, tappable field)."""
    lines: list[str] = []
    seen: set[str] = set()
    for phone in phones:
        on_whatsapp = phone.whatsapp or phone.e164 in whatsapp
        if on_whatsapp and phone.valid and phone.e164 and phone.e164 not in seen:
            seen.add(phone.e164)
            item = f"item{len(seen)}"
            lines.append(f"{item}.URL:https://wa.me/{phone.e164.lstrip('+')}")
            lines.append(f"{item}.X-ABLabel:WhatsApp")
    return lines


_UID_NAMESPACE = uuid.UUID("6f1c3b0e-5a2d-4c1e-9d8b-2f6a7c9e0b14")


def card_uid(email: str) -> str:
    """A press contact's card UID: the same on every card of that address, so address books
    update the card instead of adding another."""
    return f"urn:uuid:{uuid.uuid5(_UID_NAMESPACE, email.lower())}"


def contact_card(
    contact: PressContact,
    version: str = "3.0",
    organisation: str | None = None,
    internal: bool = False,
    whatsapp: frozenset[str] = frozenset(),
    language: str | None = None,
) -> str:
    """One press contact as a vCard: `ORG` is the organisation and the office; the registry's
    own `X-CIVIC-*` fields (office code, languages, rank) only with `internal` (for export and
    re-import), never on the cards journalists receive. Numbers in `whatsapp` are marked as
    WhatsApp numbers whatever this contact's own record says (a shared line is one line).
    With `language`, the title is the role in that language when the registry has it (a card
    is read in one language); internal cards keep every translation as `TITLE;LANGUAGE=`."""
    if version not in VERSIONS:
        raise InputError(f'vCard version "{version}" is not supported (use 3.0 or 4.0)')
    family, given = split_name(contact.name)
    org = (
        f"{escape(organisation)};{escape(contact.office.name)}"
        if organisation
        else escape(contact.office.name)
    )
    lines = [
        "BEGIN:VCARD",
        f"VERSION:{version}",
        f"UID:{card_uid(contact.email)}",
        f"FN:{escape(contact.name)}",
        f"N:{escape(family)};{escape(given)};;;",
        f"ORG:{org}",
    ]
    roles = dict(contact.roles or {})
    title = in_language(contact.role, roles, language) if language else contact.role
    if title:
        lines.append(f"TITLE:{escape(title)}")
    if internal:
        lines.extend(f"TITLE;LANGUAGE={lang}:{escape(text)}" for lang, text in roles.items())
    lines.append(
        f"EMAIL;TYPE=INTERNET;TYPE=WORK:{contact.email}"
        if version == "3.0"
        else f"EMAIL;TYPE=work:{contact.email}"
    )
    for phone in contact.phones:
        lines.extend(_tel_line(phone, version, whatsapp))
    lines.extend(_whatsapp_links(contact.phones, whatsapp))
    if version == "4.0":
        lines.extend(f"LANG;PREF={i}:{lang}" for i, lang in enumerate(contact.languages, start=1))
    if internal:
        lines.append(f"X-CIVIC-OFFICE:{escape(contact.office.code)}")
        lines.append(f"X-CIVIC-LANGUAGES:{escape(';'.join(contact.languages))}")
        lines.append(f"X-CIVIC-RANK:{contact.rank}")
    lines.append("END:VCARD")
    return "".join(fold(line) + "\r\n" for line in lines)


def contacts_to_vcards(
    contacts: Iterable[PressContact], version: str = "3.0", organisation: str | None = None
) -> str:
    """Several press contacts as one .vcf text, with the fields that let it import back."""
    return "".join(
        contact_card(c, version, organisation=organisation, internal=True) for c in contacts
    )


# Reading ---------------------------------------------------------------------------------


def _email_rank(item: Any) -> int:
    """The address to use first: a preferred one, then a work one, then the rest, then home
    (a press officer wants the newsroom address, not the family one)."""
    types = {
        t.strip('"').lower() for value in item.params.get("TYPE", []) for t in str(value).split(",")
    }
    if "pref" in types or item.params.get("PREF"):
        return 0
    if "work" in types:
        return 1
    return 3 if "home" in types else 2


def _values(card: Any, name: str) -> list[Any]:
    return list(card.contents.get(name, []))


def _first(card: Any, name: str) -> str:
    items = _values(card, name)
    if not items:
        return ""
    value = items[0].value
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return str(value).strip()


# A TEL value's unescaped commas are dialling pauses (phones write and read them so); vobject
# reads every value as a comma-separated list and would keep only the number before the pause.
_TEL_PAUSE = re.compile(
    r"^((?:[A-Za-z0-9-]+\.)?TEL[^:\r\n]*:)([^\r\n]*,[^\r\n]*)(?=\r?\n|\Z)", re.I | re.M
)
_PAUSE = re.compile(r"[,;pw]+(\d{1,6})$", re.IGNORECASE)
_BARE_COMMA = re.compile(r"(?<!\\),")


def _phones(card: Any, region: str | None) -> tuple[list[ParsedPhone], list[str]]:
    whatsapp_urls = {
        str(u.value).rstrip("/").rsplit("/", 1)[-1]
        for u in _values(card, "url")
        if "wa.me/" in str(u.value)
    }
    # Google and Apple Contacts label a number in a line of the same group
    # ("item1.TEL:…" and "item1.X-ABLabel:WhatsApp"; Apple's own "_$!<Mobile>!$_").
    group_labels = {
        str(item.group).lower(): str(item.value).lower()
        for item in _values(card, "x-ablabel")
        if getattr(item, "group", None)
    }
    numbers: list[ParsedPhone] = []
    problems: list[str] = []
    for tel in _values(card, "tel"):
        text = str(tel.value).strip()
        if text.lower().startswith("tel:"):
            text = text[4:].replace(";ext=", " ext. ")
        text = _PAUSE.sub(r" ext. \1", text)  # "+31101234567,12": the extension after a pause
        types = {
            t.strip('"').lower() for value in tel.params.get("TYPE", []) for t in value.split(",")
        }
        label = group_labels.get(str(getattr(tel, "group", "") or "").lower(), "")
        if "whatsapp" in label:
            types.add("whatsapp")
        elif "mobile" in label or "cell" in label:
            types.add("cell")
        elif "work" in label:
            types.add("work")
        found = parse_phones(text, region)
        for phone in found:
            if not phone.valid:
                problems.append(f'"{phone.raw}" {phone.problem}')
            digits = (phone.e164 or "").lstrip("+")
            if (
                tel.params.get("WAID")
                or "whatsapp" in types
                or (digits and digits in whatsapp_urls)
            ):
                phone.whatsapp = True
                if "whatsapp" not in phone.labels:
                    phone.labels.append("whatsapp")
                if phone.e164:
                    phone.whatsapp_url = f"https://wa.me/{digits}"
            if "cell" in types and "mobile" not in phone.labels:
                phone.labels.insert(0, "mobile")
            elif "fax" in types and "fax" not in phone.labels:
                phone.labels.insert(0, "fax")
            elif "work" in types and "office" not in phone.labels:
                phone.labels.insert(0, "office")
            same = next((n for n in numbers if phone.e164 and n.e164 == phone.e164), None)
            if same is not None:
                # One number listed twice (an export's TEL and its labelled copy): one entry,
                # the labels and the WhatsApp flag of both.
                same.whatsapp = same.whatsapp or phone.whatsapp
                same.whatsapp_url = same.whatsapp_url or phone.whatsapp_url
                same.labels.extend(x for x in phone.labels if x not in same.labels)
                continue
            numbers.append(phone)
    return numbers, problems


# Properties of address-book exports nothing here reads, whose binary values (a photo, a
# logo, a key) vobject decodes as it parses: dropped first, so that one broken picture does not
# make a whole export unreadable.
_UNREAD = re.compile(
    r"^(?:[\w-]+\.)?(?:PHOTO|LOGO|SOUND|KEY)[;:].*(?:\r?\n[ \t].*)*\r?\n?", re.I | re.M
)


def _qp_joined(text: str) -> str:
    """vCard 2.1's quoted-printable values put back on one line: a line that ends in "="
    continues on the next (a soft line break), which vobject would read as a broken line."""
    out: list[str] = []
    joining = False
    for line in text.splitlines():
        if joining:
            out[-1] = out[-1][:-1] + line
        else:
            out.append(line)
        head = out[-1].split(":", 1)[0].upper()
        joining = "QUOTED-PRINTABLE" in head and out[-1].endswith("=")
    return "\r\n".join(out) + "\r\n"


def read_cards(path: Path) -> list[Any]:
    """The cards of a .vcf file; a clear error when it is not vCard."""
    text = _qp_joined(_UNREAD.sub("", decode(path)))
    text = _TEL_PAUSE.sub(lambda m: m.group(1) + _BARE_COMMA.sub(r"\\,", m.group(2)), text)
    import logging

    quiet = logging.getLogger("vobject.base")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # a line nobody reads is passed over without a word
    try:
        cards = list(vobject.readComponents(text, ignoreUnreadable=True))
    except Exception as exc:  # vobject raises its own and plain errors alike on broken input
        raise InputError(f"{path.name}: not a readable vCard file ({exc})") from None
    finally:
        quiet.setLevel(level)
    cards = [c for c in cards if c.name.upper() == "VCARD"]
    if not cards:
        raise InputError(f"{path.name}: no BEGIN:VCARD ... END:VCARD card found")
    return cards


R = TypeVar("R", ContactRecord, JournalistRecord)


def _records(path: Path, make: Callable[[Any, str, str, str], R]) -> Parsed[R]:
    """One record per card: FN and a valid EMAIL required, the rest by `make(card, name,
    email, where)`; every bad card reported with its number and property."""
    parsed: Parsed[R] = Parsed()
    seen: dict[str, int] = {}
    for number, card in enumerate(read_cards(path), start=1):
        where = f"{path.name} card {number}"
        try:
            name = _card_field("FN", lambda v: check_text(v, "name"), _first(card, "fn"))
            emails = [str(e.value) for e in sorted(_values(card, "email"), key=_email_rank)]
            if not emails:
                raise _CardError("EMAIL", "no email address")
            email = _card_field("EMAIL", normalise_email, emails[0])
            record = make(card, name, email, where)
        except _CardError as exc:
            parsed.problems.append(f"{where}, {exc.field}: {exc.message}")
            continue
        if record.email in seen:
            parsed.problems.append(
                f"{where}, EMAIL: {record.email} is already on card {seen[record.email]}"
            )
            continue
        seen[record.email] = number
        parsed.records.append((number, record))
    return parsed


def contacts_from_vcards(
    session: Any, path: Path, warnings: list[str], default_office: str | None = None
) -> Parsed[ContactRecord]:
    """Press contacts from a .vcf file; the office comes from X-CIVIC-OFFICE or `default_office`."""
    offices = registry.offices_by_code(session)

    def make(card: Any, name: str, email: str, where: str) -> ContactRecord:
        office_code = (_first(card, "x-civic-office") or default_office or "").strip().lower()
        if not office_code:
            raise _CardError("X-CIVIC-OFFICE", "no office (pass --office)")
        office = offices.get(office_code)
        if office is None:
            raise _CardError("X-CIVIC-OFFICE", f'unknown office "{office_code}"')
        languages_text = _first(card, "x-civic-languages")
        langs = [str(v.value) for v in _values(card, "lang")]
        if languages_text:
            languages = _card_field(
                "X-CIVIC-LANGUAGES", lambda v: check_languages(v.split(";")), languages_text
            )
        elif langs:
            languages = _card_field("LANG", check_languages, langs)
        else:
            languages = list(office.languages)
        rank_text = _first(card, "x-civic-rank")
        phones, problems = _phones(card, office.country)
        warnings.extend(f"{where}, TEL: {p}" for p in problems)
        role, roles = _titles(card)
        return ContactRecord(
            name=name,
            office=office.code,
            role=role,
            languages=languages,
            email=email,
            phones=phones,
            rank=_card_field("X-CIVIC-RANK", check_rank, rank_text),
            roles=roles,
            # What a card does not say, a known contact keeps (an import changes only what
            # its file says).
            keep=frozenset(
                kept
                for kept, given in (
                    ("role", _values(card, "title")),
                    ("phones", _values(card, "tel")),
                    ("rank", rank_text),
                )
                if not given
            ),
        )

    return _records(path, make)


def journalists_from_vcards(
    session: Any, path: Path, warnings: list[str], default_outlet: str | None = None
) -> Parsed[JournalistRecord]:
    """Journalists from a .vcf file; the outlet comes from X-CIVIC-OUTLET, ORG or `default_outlet`."""
    outlets = {o.slug: o for o in registry.list_outlets(session)}
    by_name = {o.name.casefold(): o for o in outlets.values()}
    topic_names = {
        fold_text(name): topic.code
        for topic in list_topics(session)
        for name in (topic.code, *topic.labels.values())
    }

    def make(card: Any, name: str, email: str, where: str) -> JournalistRecord:
        slug = _first(card, "x-civic-outlet").lower()
        org = _first(card, "org").split(";")[0].strip()
        outlet = (
            outlets.get(slug) or by_name.get(org.casefold()) or outlets.get(default_outlet or "")
        )
        if outlet is None:
            raise _CardError("ORG", f'no known outlet "{slug or org}" (pass --outlet)')
        lang_text = _first(card, "x-civic-language") or _first(card, "lang")
        language = _card_field("LANG", check_language, lang_text) if lang_text else None
        phones, problems = _phones(card, outlet.country)
        warnings.extend(f"{where}, TEL: {p}" for p in problems)
        return JournalistRecord(
            outlet=outlet.slug,
            name=name,
            email=email,
            language=language,
            role=_card_field("TITLE", _role, _first(card, "title")),
            phones=phones,
            beats=_beats(card, topic_names),
            keep=frozenset(
                kept
                for kept, given in (
                    ("language", lang_text),
                    ("role", _values(card, "title")),
                    ("phones", _values(card, "tel")),
                )
                if not given
            ),
        )

    return _records(path, make)


def _beats(card: Any, topic_names: dict[str, str]) -> list[str] | None:
    """A card's CATEGORIES that name a topic (by code or by a name of it), as beats; None
    (a known journalist's kept) when none does. Address books' own groups ("myContacts",
    "Friends") are not topics and are passed over."""
    found: list[str] = []
    for item in _values(card, "categories"):
        values = item.value if isinstance(item.value, list) else str(item.value).split(",")
        for value in values:
            code = topic_names.get(fold_text(str(value).strip()))
            if code and code not in found:
                found.append(code)
    return found or None


def _role(value: str) -> str:
    return check_text(value, "role", required=False)


def _titles(card: Any) -> tuple[str, dict[str, str] | None]:
    """The role as written (the TITLE without a LANGUAGE parameter) and the role by language
    (`TITLE;LANGUAGE=fr:`), or None when the card gives no translation."""
    written: str | None = None
    roles: dict[str, str] = {}
    for item in _values(card, "title"):
        value = _card_field("TITLE", _role, str(item.value))
        tagged = item.params.get("LANGUAGE") or []
        if tagged:
            roles[_card_field("TITLE", check_language, str(tagged[0]))] = value
        elif written is None:
            written = value
    if written is None:
        written = next(iter(roles.values()), "")
    return written, (roles or None)


class _CardError(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _card_field(name: str, check: Any, value: Any) -> Any:
    try:
        return check(value)
    except InputError as exc:
        raise _CardError(name, exc.message) from None
