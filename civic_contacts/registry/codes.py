"""Checking the codes people type: languages (BCP 47), countries (ISO 3166) and time zones (IANA).

Each `check_*` returns the canonical spelling or raises `InputError` with the reason.
"""

from __future__ import annotations

import functools
import re
import unicodedata
import zoneinfo

from babel import Locale, UnknownLocaleError

from civic_contacts.errors import InputError

# What an outlet is (`outlet add --kind`, the outlets CSV's `kind`).
OUTLET_KINDS = ("wire", "broadcaster", "print", "online", "agency", "radio", "tv")

_LANG_RE = re.compile(r"^([A-Za-z]{2,3})(?:[-_]([A-Za-z]{2}|\d{3}))?$")


@functools.cache
def _territories() -> frozenset[str]:
    codes = (str(code) for code in Locale("en").territories)
    # Babel also names groupings and "Unknown Region"; those are not countries.
    groupings = {"ZZ", "QO", "EU", "EZ", "UN"}
    return frozenset(c for c in codes if len(c) == 2 and c.isalpha() and c not in groupings)


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def check_language(value: str) -> str:
    """A BCP 47 language tag that Babel knows (`fr`, `en`, `fr-ML`), canonically cased."""
    text = value.strip()
    match = _LANG_RE.match(text)
    if not match:
        raise InputError(f'"{value}" is not a language code (use BCP 47, such as fr or en)')
    lang, region = match.group(1).lower(), match.group(2)
    tag = f"{lang}-{region.upper()}" if region else lang
    try:
        Locale.parse(tag.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        raise InputError(
            f'"{value}" is not a known language code (use BCP 47, such as fr or en)'
        ) from None
    return tag


def check_languages(values: list[str]) -> list[str]:
    """An ordered list of language codes without repeats."""
    out: list[str] = []
    for value in values:
        tag = check_language(value)
        if tag not in out:
            out.append(tag)
    return out


def check_country(value: str) -> str:
    """An ISO 3166 alpha-2 country code, upper case."""
    code = value.strip().upper()
    if len(code) != 2 or code not in _territories():
        raise InputError(
            f'"{value}" is not an ISO 3166 country code (two letters, such as NE or NL)'
        )
    return code


def check_timezone(value: str) -> str:
    """An IANA time zone name such as Africa/Niamey."""
    name = value.strip()
    if name not in _zones():
        hint = " (a name such as Europe/Paris, not an abbreviation or an offset)"
        raise InputError(f'"{value}" is not an IANA time zone{hint}')
    return name


def split_list(value: str) -> list[str]:
    """A `;`-separated list cell as a list of trimmed, non-empty items."""
    return [item.strip() for item in value.split(";") if item.strip()]


def fold(text: str) -> str:
    """Text for matching that ignores case and accents (`Chargée` matches `chargee`)."""
    if text.isascii():
        return text.casefold()  # nothing to decompose (most names; the gazetteer's 390,000)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def language_matches(wanted: str, spoken: str) -> bool:
    """Whether a spoken language serves a wanted one: same tag, or same primary language."""
    return wanted == spoken or wanted.split("-")[0] == spoken.split("-")[0]


def in_language(written: str, by_language: dict[str, str] | None, language: str) -> str:
    """A text in `language` when a translation is given for it (exactly, or for its base
    language: `fr` serves `fr-ML`), else as written."""
    if by_language:
        found = by_language.get(language) or by_language.get(language.split("-")[0])
        if found:
            return found
    return written


# Single values typed in a cell or an option (shared by imports, vCards and releases) ----

_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")


_CODE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def check_text(
    value: str, what: str = "value", required: bool = True, max_length: int = 200
) -> str:
    """One line of text: stripped, no line breaks or control characters, not too long."""
    text = value.strip()
    found = _CONTROL_RE.search(text)
    if found:
        code = f"U+{ord(found.group()):04X}"
        raise InputError(
            f"{what} holds a line break, control, direction-override or byte-order character"
            f" ({code}), which is refused"
        )
    if required and not text:
        raise InputError(f"{what} is empty")
    if len(text) > max_length:
        raise InputError(f"{what} is longer than {max_length} characters")
    return text


def check_code(value: str, what: str = "code") -> str:
    """A short lower-case identifier such as `niamey` or `the-hague`."""
    code = value.strip().lower()
    if not _CODE_RE.match(code):
        raise InputError(f'{what} "{value}" must be lower-case letters, digits and dashes')
    return code


def check_rank(value: str) -> int:
    """A rank: a whole number, lower is more senior; empty means 100."""
    if not value.strip():
        return 100
    try:
        rank = int(value.strip())
    except ValueError:
        raise InputError(f'"{value}" is not a whole number') from None
    if rank < 0:
        raise InputError(f"rank {rank} is negative")
    if rank > MAX_RANK:
        raise InputError(f"rank {value.strip()[:30]} is larger than {MAX_RANK:,}")
    return rank


MAX_RANK = 1_000_000


def check_flag(value: str) -> bool:
    """yes/no, true/false, 1/0, oui/non; empty means yes."""
    text = value.strip().lower()
    if text in ("", "yes", "y", "true", "1", "oui"):
        return True
    if text in ("no", "n", "false", "0", "non"):
        return False
    raise InputError(f'"{value}" is not yes or no')
