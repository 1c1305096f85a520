"""Failure notices written as prose (no delivery-status part, or one nobody can parse): where
the notice ends and the copy of our message begins, which addresses it says failed, and the
server's words about each.

Servers write these in their own shapes (qmail's "<x@y>:" paragraphs, Exim's indented
address lists, Exchange's "did not reach the following recipient(s)", Domino's "was not
delivered to: ... because:", a carrier's "RCPT TO:" summary), but they share a few habits
read here: the copy of the message comes last, after a line that says so or where its headers
begin; a failed address stands on its own, not in a header line the copy quotes; the reason
is near it, usually after it, sometimes just before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Linear in the text: a local part is tried only where a run of its characters begins, and
# for at most 64 of them (RFC 5321's limit), so a long run without "@" costs one pass, not one
# per position (80 KB of it took 15 s before).
_LOCAL = r"A-Za-z0-9.!#$%&'*+/=?^_`{|}~-"
ADDRESS = re.compile(
    rf"(?<![{_LOCAL}])[{_LOCAL}]{{1,64}}@[A-Za-z0-9](?:[A-Za-z0-9-]{{0,61}}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+"
)
ROBOTS = re.compile(
    r"^(mailer-daemon|postmaster|post_master|mail-daemon|mailerdaemon|noreply|no-reply|"
    r"do-not-reply|donotreply|bounces?|root|abuse)@",
    re.I,
)
# Where a notice ends and the copy of the message (or its headers) begins.
_COPY_BEGINS = re.compile(
    r"^[ \t>]*(?:"
    r"-{2,}.*?(?:original message|copy of (?:the|your) message|below this line"
    r"|message (?:text )?follows|returned message|undelivered message|returned mail"
    r"|original mail|message headers|headers? of (?:the )?(?:original|returned)|rfc822)"
    r"|original message follows|the original message (?:was|is)|message headers follow"
    r"|here is a copy of|a copy of (?:the|your) (?:original )?message"
    r"|(?:received|return-path): .*\n(?:[ \t].*\n)*(?:received|from|date|message-id|to|subject):"
    r")",
    re.I | re.M,
)
# Header lines a notice quotes from the original (or adds about the sender): an address on
# one of them is not a failed recipient.
_NOT_RECIPIENT_LINE = re.compile(
    r"^[ \t>]*(?:from|sender|reply-to|return-path|message-id|in-reply-to|references|"
    r"mail from|original sender|x-postfix-sender|envelope-from|received|by|x-[\w-]+|"
    r"delivered-to|dkim-signature|list-[\w-]+|errors-to|resent-from)\s*:",
    re.I,
)
_QUOTED_TO_LINE = re.compile(r"^[ \t>]*(?:to|cc)\s*:", re.I)
_RCPT_LINE = re.compile(r"^[ \t>]*(?:rcpt to|original-rcpt-to|recipient|final-recipient)\s*:", re.I)


def notice_part(text: str) -> str:
    """The notice without the copy of our message it carries."""
    found = _COPY_BEGINS.search(text, 1)
    return text[: found.start()] if found else text


@dataclass
class Mention:
    """A failed address as a notice names it, and where."""

    address: str
    at: int


def _line_of(text: str, at: int) -> str:
    start = text.rfind("\n", 0, at) + 1
    end = text.find("\n", at)
    return text[start : end if end >= 0 else len(text)]


def failed_addresses(notice: str, ours: set[str], original_to: str | None) -> list[Mention]:
    """The addresses a notice says failed, first mention of each, in order: those standing
    on their own (or on a RCPT TO line); else those on a quoted To line; else the original's
    recipient."""
    standing: list[Mention] = []
    quoted: list[Mention] = []
    seen: set[str] = set()
    for match in ADDRESS.finditer(notice):
        address = match.group().lower().rstrip(".")
        if address in seen or address in ours or ROBOTS.match(address):
            continue
        line = _line_of(notice, match.start())
        before = notice[max(0, match.start() - 12) : match.start()].lower()
        if "message-id" in before or before.rstrip().endswith(("id", "id:", "id <")):
            continue
        if _RCPT_LINE.match(line):
            seen.add(address)
            standing.append(Mention(address, match.start()))
        elif _NOT_RECIPIENT_LINE.match(line):
            continue
        elif _QUOTED_TO_LINE.match(line):
            seen.add(address)
            quoted.append(Mention(address, match.start()))
        else:
            seen.add(address)
            standing.append(Mention(address, match.start()))
    if standing:
        return standing[:20]
    if quoted:
        return quoted[:20]
    if original_to:
        at = notice.lower().find(original_to)
        return [Mention(original_to, max(at, 0))]
    return []


def words_after(notice: str, mentions: list[Mention], index: int, size: int = 900) -> str:
    """The notice's words about one failed address: from its mention to the next address's
    (or `size` characters)."""
    mention = mentions[index]
    lowered = notice.lower()
    later = [
        lowered.find(other.address, mention.at + 1)
        for other in mentions
        if other.address != mention.address
    ]
    # Another mention of the same address (Exim's "RCPT TO:<x>") stays in; any other
    # address's mention ends it.
    end = min([at for at in later if at > mention.at] + [mention.at + size, len(notice)])
    return notice[mention.at : end]


def words_before(notice: str, mentions: list[Mention], index: int, size: int = 600) -> str:
    """The notice's words just before one failed address (some servers give the reason
    first): back to the previous address's mention (or `size` characters)."""
    mention = mentions[index]
    earlier = [m.at for m in mentions if m.at < mention.at]
    start = max([*earlier, mention.at - size, 0])
    return notice[start : mention.at]


_SERVER_LINE = re.compile(r"(?<![\d.])[45]\d\d[ -][^\n]{3,}", re.M)


def server_line(words: str, length: int) -> str:
    """The server's reply line(s) in a stretch of prose."""
    found = _SERVER_LINE.search(words)
    if not found:
        return ""
    return words[found.start() : found.start() + length * 2]
