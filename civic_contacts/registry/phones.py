"""Finding, normalising and formatting phone numbers typed by people (on phonenumbers).

A free-text field may hold several numbers with labels, in every shape press releases use:
dots, spaces, dashes, brackets, `00` and `011` international prefixes, `(0)` trunk digits,
extensions ("ext. 12", "poste 12", "x12") and labels (WhatsApp, WA, Signal, Telegram,
mobile/cell/portable, office/bureau, fax).

How a field is read:

1. It is cut into *segments* at `/`, `,`, `;`, line breaks and the words "or" / "ou".
   Inside a segment, a `+` that follows digits starts a new number.
2. Labels are taken out of the text before any number is parsed, because phonenumbers turns
   letters into digits ("+1.917.889.5982 (WhatsApp)" would otherwise be too long).
3. **Which number a label belongs to**: a label followed by a colon belongs to the next
   number ("WhatsApp: +227 …"); a label in brackets or after a number belongs to that number
   ("+1 202 555 0147 (WhatsApp)", "+33 6 … mobile"); a label before the first number of its
   segment belongs to that number ("WhatsApp +227 …"); a segment holding only labels
   ("… / WhatsApp only") gives them to the number before it, or to the next one when it is the
   first segment.
4. Letters left in a number after labels and extensions are taken out mean a placeholder
   ("20 72 xx xx"): the number is reported invalid, never read as keypad digits.
5. A number is read with the default region (the office's or outlet's country) unless it
   carries its own country: `+`, or `00` (and `011`, the North American prefix) followed by a
   country code. `(0)` after a country code is dropped.
6. An invalid number is kept with its raw text and the reason; nothing is dropped or "fixed".

A number is WhatsApp when a WhatsApp label belongs to it, whatever its type: US numbers are
"fixed line or mobile", so requiring a mobile would reject them wrongly.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from civic_contacts.errors import InvalidPhone

_TYPE_NAMES = {
    PhoneNumberType.FIXED_LINE: "fixed_line",
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_line_or_mobile",
    PhoneNumberType.TOLL_FREE: "toll_free",
    PhoneNumberType.PREMIUM_RATE: "premium_rate",
    PhoneNumberType.SHARED_COST: "shared_cost",
    PhoneNumberType.VOIP: "voip",
    PhoneNumberType.PERSONAL_NUMBER: "personal_number",
    PhoneNumberType.PAGER: "pager",
    PhoneNumberType.UAN: "uan",
    PhoneNumberType.VOICEMAIL: "voicemail",
    PhoneNumberType.UNKNOWN: "unknown",
}

# Label words, longest first so "whatsapp only" wins over "whatsapp".
_LABELS: list[tuple[str, str]] = [
    (r"whats\s*app\s+only|whatsapp\s+uniquement|uniquement\s+whatsapp", "whatsapp"),
    (r"whats\s*app", "whatsapp"),
    (r"(?-i:WA)", "whatsapp"),
    (r"signal", "signal"),
    (r"telegram", "telegram"),
    (
        r"mobile|mob\.?|cell(?:ular)?|cellphone|portable|gsm|port\.?|mobil(?:telefon|nr\.?)?"
        r"|mobiel|handy|natel|cel\.?|celular|m[oó]vil|telem[oó]vel|cellulare|(?-i:M)(?=\s*:)",
        "mobile",
    ),
    (r"office|bureau|landline|fixe|work|direct|festnetz|kontor|büro|buero", "office"),
    (r"fax|télécopie|telecopie|(?-i:F)(?=\s*:)", "fax"),
    (
        r"tel\.?|tél\.?|téléphone|telephone|phone|ph\.?|t\.|telefon|telefoon|tlf\.?|tfn\.?"
        r"|puh\.?|puhelin|(?-i:T)(?=\s*:)",
        "phone",
    ),
    (r"only|uniquement|seulement", ""),
]
_LABEL_RE = re.compile(
    r"(?i)(?<![\w])(?:"
    + "|".join(f"(?P<l{i}>{pattern})" for i, (pattern, _) in enumerate(_LABELS))
    + r")(?![\w])"
)
_LABEL_GAP = "_"
_LEADS_GAP = re.compile(r"[\s.:_]+")
_SEGMENT_SPLIT = re.compile(r"\s*(?:[/,;\n\r|]|\s(?:or|ou|et|and)\s)\s*", re.IGNORECASE)
_EXTENSION_RE = re.compile(
    r"(?i)(?:\s*(?:ext\.?|extension|poste|post\.?|x|#)\s*(?P<ext>\d{1,6}))\s*$"
)
_EXTENSION_INLINE_RE = re.compile(
    r"(?i)(?<=[\d\s)])(?:ext\.?|extension|poste|post\.|x|#)\s*(?P<ext>\d{1,6})(?![\d\s]*\d{3})"
)
_EXTENSION_ONLY_RE = re.compile(r"(?i)^\s*(?:ext\.?|extension|poste|post\.?|x|#)\s*(\d{1,6})\s*$")
# A candidate number: an optional international start, then digits with the separators people
# type; x/X may stand for digits in placeholders and is caught later.
_CANDIDATE_RE = re.compile(
    r"(?:\+|\(\+)?\s*\d[\d\s.\-()\u00a0\u2010-\u2015xX]*[\dxX)]|(?:\+|\(\+)\s*\d"
)
_PLUS_SPLIT_RE = re.compile(r"(?<=[\d)xX])\s*(?=\(?\+)")
_TRAILING_RE = re.compile(r"[\s().\-]*$")
_DASHES_RE = re.compile(r"[\u2010-\u2015]")
_LETTER_RE = re.compile(r"[A-Za-z]")
_TRUNK_ZERO_RE = re.compile(r"^(\+\s*\(?\s*\d{1,3}\s*\)?)[\s.\-]*\(\s*0\s*\)")


@dataclass
class ParsedPhone:
    """One number found in a text, with what we know of it."""

    raw: str
    e164: str | None
    type: str
    valid: bool
    whatsapp: bool
    whatsapp_url: str | None
    extension: str | None = None
    labels: list[str] = field(default_factory=list)
    problem: str | None = None

    # The display forms are worked out when asked for: an import of a long list stores the
    # E.164 form only, and formatting is most of what phonenumbers costs after parsing.
    @functools.cached_property
    def international(self) -> str | None:
        """International format for people ("+227 93 12 34 56 ext. 12"), None when invalid."""
        return self._formatted(PhoneNumberFormat.INTERNATIONAL)

    @functools.cached_property
    def tel_uri(self) -> str | None:
        """An RFC 3966 `tel:` URI, None when invalid."""
        return self._formatted(PhoneNumberFormat.RFC3966)

    def _formatted(self, style: int) -> str | None:
        if not self.valid or self.e164 is None:
            return None
        number = phonenumbers.parse(self.e164, None)
        if self.extension:
            number.extension = self.extension
        return phonenumbers.format_number(number, style)

    def copy(self) -> ParsedPhone:
        """A twin that can be changed on its own (its labels are its own list); five times
        quicker than `dataclasses.replace`, which an import of a long list felt."""
        twin = object.__new__(type(self))
        twin.__dict__.update(self.__dict__)
        twin.labels = list(self.labels)
        return twin

    @property
    def label(self) -> str:
        """The labels as one short word list ("mobile, whatsapp")."""
        return ", ".join(self.labels)

    @property
    def kind(self) -> str:
        """What the number is for display: a label if typed, else its type."""
        for wanted in ("mobile", "office", "fax"):
            if wanted in self.labels:
                return wanted
        return self.type

    def to_json(self) -> dict[str, Any]:
        """The JSON shape promised by `phone parse --json`."""
        return {
            "raw": self.raw,
            "e164": self.e164,
            "international": self.international,
            "type": self.type,
            "valid": self.valid,
            "whatsapp": self.whatsapp,
            "whatsapp_url": self.whatsapp_url,
            "tel": self.tel_uri,
            "extension": self.extension,
            "labels": list(self.labels),
            "problem": self.problem,
        }


@dataclass
class _Piece:
    text: str
    raw: str = ""
    labels: list[str] = field(default_factory=list)
    extension: str | None = None


def _labels_in(text: str) -> list[tuple[int, int, str, bool]]:
    """(start, end, label, followed_by_colon) for every label word in the text."""
    found = []
    for match in _LABEL_RE.finditer(text):
        name = ""
        for i, (_pattern, label) in enumerate(_LABELS):
            if match.group(f"l{i}") is not None:
                name = label
                break
        after = text[match.end() :].lstrip(" .")
        found.append((match.start(), match.end(), name, after.startswith(":")))
    return found


def _pieces(segment: str) -> tuple[list[_Piece], list[str]]:
    """Numbers in one segment with their labels, and labels that belong to no number here."""
    labels = _labels_in(segment)
    # Blank the labels out (keep offsets) so that their letters never reach the parser, with
    # a mark no number holds: a label between two numbers ends the first ("tel. 06-4490224 -
    # cell. 348-6974361").
    chars = list(segment)
    for start, end, _name, _colon in labels:
        for i in range(start, end):
            chars[i] = _LABEL_GAP
    blanked = "".join(chars).replace(":", " ")
    # Extensions are taken out too (the matcher would lose "poste 12"), and kept by position.
    extensions: list[tuple[int, str]] = []
    for match in _EXTENSION_INLINE_RE.finditer(blanked):
        extensions.append((match.start(), match.group("ext")))
    blanked = _EXTENSION_INLINE_RE.sub(lambda m: " " * len(m.group(0)), blanked)
    spans: list[tuple[int, int]] = []
    for match in _CANDIDATE_RE.finditer(blanked):
        text = match.group(0)
        # A '+' after digits starts another number ("+227 90 … +33 6 …").
        offset = match.start()
        parts = _PLUS_SPLIT_RE.split(text)
        for part in parts:
            begin = text.index(part, offset - match.start()) + match.start()
            offset = begin + len(part)
            # Brackets emptied by taking a label out ("(WhatsApp)") are not part of the number.
            trimmed = _TRAILING_RE.sub("", part)
            if trimmed.count("(") > trimmed.count(")"):
                trimmed += ")"
            spans.append((begin, begin + len(trimmed)))
    kept = [(s, e) for s, e in spans if sum(ch.isdigit() for ch in blanked[s:e]) >= 3]
    numbers = [_Piece(text=blanked[s:e].strip()) for s, e in kept]
    for piece, (start, end) in zip(numbers, kept, strict=True):
        # The raw text is what the person typed: the whole segment when it holds one number.
        piece.raw = segment.strip() if len(kept) == 1 else segment[start:end].strip()
    if not numbers:
        return [], [name for _s, _e, name, _c in labels if name]
    for position, extension in extensions:
        owners = [i for i, (_s, e) in enumerate(kept) if e <= position]
        if owners and numbers[owners[-1]].extension is None:
            numbers[owners[-1]].extension = extension
    starts = [s for s, _e in kept]
    ends = [e for _s, e in kept]
    for start, end, name, colon in labels:
        if not name:
            continue
        before = [i for i, e in enumerate(ends) if e <= start]
        after = [i for i, s in enumerate(starts) if s >= end]
        leads = (
            before
            and after
            and not _LEADS_GAP.sub("", blanked[end : starts[after[0]]])
            and not blanked[:start].rstrip().endswith("(")
        )
        if (colon or leads) and after:
            # "Tel: 06 …", or a label between two numbers that runs straight into the
            # second ("tel. 06-4490224 - cell. 348-6974361"): the label of what follows.
            target = after[0]
        elif before:
            target = before[-1]
        elif after:
            target = after[0]
        else:
            target = len(numbers) - 1
        if name not in numbers[target].labels:
            numbers[target].labels.append(name)
    return numbers, []


def _split_segments(text: str) -> list[str]:
    return [s for s in _SEGMENT_SPLIT.split(text) if s and s.strip()]


def _region_or_none(region: str | None) -> str | None:
    if region is None:
        return None
    code = region.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidPhone(
            f'"{region}" is not a region phonenumbers knows (use ISO 3166 such as NE)'
        )
    return code


def _international_forms(digits_text: str) -> list[str]:
    """Readings of a number that starts with an international dialling prefix."""
    compact = re.sub(r"[^\d+]", "", digits_text)
    forms = []
    if compact.startswith("00"):
        forms.append("+" + compact[2:])
    if compact.startswith("011"):
        forms.append("+" + compact[3:])
    return forms


def _problem_for(number: phonenumbers.PhoneNumber, region: str | None) -> str:
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason == phonenumbers.ValidationResult.TOO_SHORT:
        return "too short"
    if reason == phonenumbers.ValidationResult.TOO_LONG:
        return "too long"
    if reason == phonenumbers.ValidationResult.INVALID_COUNTRY_CODE:
        return "unknown country code"
    if reason == phonenumbers.ValidationResult.INVALID_LENGTH:
        return "wrong length for its country"
    where = phonenumbers.region_code_for_country_code(number.country_code or 0)
    return f"not a valid number in {where if where != 'ZZ' else 'any country'}"


def _parse_one(piece: _Piece, region: str | None) -> ParsedPhone:
    raw = piece.raw or piece.text.strip()
    text = piece.text.strip()
    extension = piece.extension
    ext_match = _EXTENSION_RE.search(text)
    if ext_match and sum(ch.isdigit() for ch in text[: ext_match.start()]) >= 6:
        extension = ext_match.group("ext")
        text = text[: ext_match.start()]
    text = text.replace("(+", "+").replace("\u00a0", " ")
    text = _DASHES_RE.sub("-", text)
    text = _TRUNK_ZERO_RE.sub(r"\1 ", text)
    is_whatsapp = "whatsapp" in piece.labels and "fax" not in piece.labels
    labels = [label for label in piece.labels if label != "phone"]

    def invalid(problem: str, kind: str = "unknown") -> ParsedPhone:
        return ParsedPhone(
            raw=raw,
            e164=None,
            type=kind,
            valid=False,
            whatsapp=is_whatsapp,
            whatsapp_url=None,
            extension=extension,
            labels=labels,
            problem=problem,
        )

    if _LETTER_RE.search(text):
        return invalid("has letters in place of digits (a placeholder?)")
    candidates: list[tuple[str, str | None]] = []
    stripped = text.strip()
    if stripped.startswith("+"):
        candidates.append((stripped, None))
    else:
        international = _international_forms(stripped)
        national_first = stripped.replace(" ", "").startswith("011") and region in (
            None,
            "US",
            "CA",
        )
        if region is not None and not national_first:
            candidates.extend((form, None) for form in international if form.startswith("+"))
            candidates.append((stripped, region))
        else:
            candidates.extend((form, None) for form in international)
            if region is not None:
                candidates.append((stripped, region))
    if not candidates:
        return invalid("no country code, and no default region to read it with")
    first_problem: str | None = None
    first_number: phonenumbers.PhoneNumber | None = None
    for candidate, candidate_region in candidates:
        try:
            number = phonenumbers.parse(candidate, candidate_region, keep_raw_input=False)
        except NumberParseException as exc:
            first_problem = first_problem or _parse_exception_text(exc)
            continue
        # number_type() is UNKNOWN exactly when is_valid_number() is False; asking once
        # halves the cost of reading a long list.
        kind = phonenumbers.number_type(number)
        if kind != PhoneNumberType.UNKNOWN:
            return _valid(raw, number, extension, labels, is_whatsapp, kind)
        if first_number is None:
            first_number = number
            first_problem = _problem_for(number, candidate_region)
    return invalid(first_problem or "not a phone number")


def _parse_exception_text(exc: NumberParseException) -> str:
    return {
        NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
        NumberParseException.NOT_A_NUMBER: "not a phone number",
        NumberParseException.TOO_SHORT_AFTER_IDD: "too short after the international prefix",
        NumberParseException.TOO_SHORT_NSN: "too short",
        NumberParseException.TOO_LONG: "too long",
    }.get(exc.error_type, "not a phone number")


def _valid(
    raw: str,
    number: phonenumbers.PhoneNumber,
    extension: str | None,
    labels: list[str],
    whatsapp: bool,
    kind: int,
) -> ParsedPhone:
    if extension:
        number.extension = extension
    # E.164 straight from the parsed fields: what format_number does for it, without its
    # general machinery.
    e164 = f"+{number.country_code}{phonenumbers.national_significant_number(number)}"
    digits = e164.lstrip("+")
    return ParsedPhone(
        raw=raw,
        e164=e164,
        type=_TYPE_NAMES.get(kind, "unknown"),
        valid=True,
        whatsapp=whatsapp,
        whatsapp_url=f"https://wa.me/{digits}" if whatsapp else None,
        extension=extension,
        labels=labels,
    )


# How numbers are written in Europe beside the digits phonenumbers reads:
# "030/123456", "0476/23.45.67": an area code, a slash, then the number (a second number
# after a slash starts with 0 or +, so it is never joined);
_AREA_SLASH = re.compile(r"(?<![\d.+/])(\(?0\d{1,4}\)?)\s*/\s*(?=[1-9]\d)")
# "+41 21 234'56'78": an apostrophe between digits groups them (Swiss habit);
_GROUP_MARK = re.compile(r"(?<=\d)['’](?=\d)")
# "01 234567-12": an extension after a dash at the end of a number (a dash inside a number,
# "555-0123", is not one).
_DASH_EXTENSION = re.compile(r"((?:\+|\b0)\d[\d ]{5,}\d\s?\d{4,})-(\d{1,4})(?![\d-])")


def written_forms(text: str) -> str:
    """A field with those habits put in the forms the parser reads."""
    text = _AREA_SLASH.sub(r"\1 ", text)
    text = _GROUP_MARK.sub(" ", text)
    return _DASH_EXTENSION.sub(r"\1 ext. \2", text)


def parse_phones(text: str, region: str | None = None) -> list[ParsedPhone]:
    """Every number in a free-text field, in order, read with `region` as the default country.

    Raises `InvalidPhone` only for an unknown region; a bad number comes back with
    `valid=False` and a `problem`.
    """
    default_region = _region_or_none(region)
    if not text or not text.strip():
        return []
    text = written_forms(text)
    found: list[_Piece] = []
    pending_labels: list[str] = []
    for segment in _split_segments(text):
        only_ext = _EXTENSION_ONLY_RE.match(segment)
        if only_ext and found and found[-1].extension is None:
            found[-1].extension = only_ext.group(1)
            continue
        numbers, loose = _pieces(segment)
        if not numbers:
            if found:
                for label in loose:
                    if label not in found[-1].labels:
                        found[-1].labels.append(label)
            else:
                pending_labels.extend(loose)
            continue
        if pending_labels:
            for label in pending_labels:
                if label not in numbers[0].labels:
                    numbers[0].labels.insert(0, label)
            pending_labels = []
        found.extend(numbers)
    return [_parse_one(piece, default_region) for piece in found]


def parse_phone(text: str, region: str | None = None) -> ParsedPhone:
    """Exactly one number; raises `InvalidPhone` when there is none or several."""
    numbers = parse_phones(text, region)
    if len(numbers) != 1:
        what = "no phone number" if not numbers else f"{len(numbers)} phone numbers"
        raise InvalidPhone(f'"{text}" holds {what}, expected one')
    return numbers[0]


def format_international(e164: str) -> str:
    """A stored E.164 number in international format for display."""
    return phonenumbers.format_number(
        phonenumbers.parse(e164, None), PhoneNumberFormat.INTERNATIONAL
    )


def tel_uri(e164: str, extension: str | None = None) -> str:
    """An RFC 3966 `tel:` URI."""
    number = phonenumbers.parse(e164, None)
    if extension:
        number.extension = extension
    return phonenumbers.format_number(number, PhoneNumberFormat.RFC3966)


def whatsapp_url(e164: str) -> str:
    """WhatsApp's click-to-chat link: https://wa.me/ and the digits without `+`."""
    return "https://wa.me/" + e164.lstrip("+")
