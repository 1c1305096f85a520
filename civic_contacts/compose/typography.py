"""French typography for what a French reader sees: a no-break space before `:`, `;`, `?`
and `!`, inside « guillemets », and guillemets for straight or curly double quotes.

Applied to the texts a message is made of (title, dateline, release body, roles) before they
are laid out, so a wrapped line never starts with a lone `;`. Markdown code, link targets and
addresses are left as they are: `https://`, `12:00` and `?subject=` are untouched because the
punctuation there is not followed by a space.
"""

from __future__ import annotations

import functools
import re

NBSP = "\u00a0"

# What is never retouched: code spans, Markdown link targets, autolinks, bare URLs, addresses.
_KEEP = re.compile(
    r"`[^`\n]*`|\]\([^)\n]*\)|<[^<>\s]+>|\b[a-z][a-z0-9+.-]*:[^\s<>()]+"
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
)
# A kept span while the rest is typeset: private-use marks around its number.
_MASKED = re.compile("\ue000(\\d+)\ue001")
# High punctuation ending a word or phrase (followed by a space, the end, or a closing mark),
# with the ordinary spaces before it if any.
_HIGH = re.compile(r"(?<=[\w)\]»’'\"*_.%\ue001])[ \t\u00a0\u202f]*([:;!?])(?=[\s)\]*_]|$)")
_OPEN = re.compile(r"«[ \t\u00a0\u202f]*")
_CLOSE = re.compile(r"[ \t\u00a0\u202f]*»")
# A quotation in straight or English curly double quotes, within one line.
_QUOTED = re.compile(r'(?:(?<=^)|(?<=[\s(\[—–-]))["“]([^"“”\n]{1,300}?)["”](?=[\s.,;:!?)\]…]|$)')


def is_french(language: str) -> bool:
    """Whether a language tag is French (fr, fr-ML…)."""
    return language.split("-")[0].lower() == "fr"


def _typeset(text: str) -> str:
    text = _QUOTED.sub(lambda m: f"«{m.group(1).strip()}»", text)
    text = _OPEN.sub("«" + NBSP, text)
    text = _CLOSE.sub(NBSP + "»", text)
    return _HIGH.sub(lambda m: NBSP + m.group(1), text)


@functools.lru_cache(maxsize=512)
def french(text: str) -> str:
    """`text` with French spacing and quotes, outside code, link targets and addresses."""
    if not text:
        return text
    kept: list[str] = []

    def mask(match: re.Match[str]) -> str:
        kept.append(match.group())
        return f"\ue000{len(kept) - 1}\ue001"

    typeset = _typeset(_KEEP.sub(mask, text))
    return _MASKED.sub(lambda m: kept[int(m.group(1))], typeset)


def for_language(text: str, language: str) -> str:
    """`text` as typeset for readers of `language` (only French is retouched)."""
    return french(text) if is_french(language) else text
