"""What comes back after the relay accepts a message: bounces, auto-replies and complaints,
read from the report itself (no database here; `returns.py` matches and acts).

A report is classified into a kind (`bounce`, `auto-reply`, `complaint`, `other`) and, per
recipient it is about, an action:

- `suppress`: the address itself is gone (no such user or domain, mailbox disabled or moved
  for good), or the reader complained. Precision comes first here: a journalist suppressed by
  mistake is silently lost, so anything ambiguous is not `suppress`.
- `alert`: the rejection is about how we send (authentication, SPF/DKIM/DMARC, block lists and
  reputation, spam or content filters, policy, relaying, reverse DNS, size). Never a reason to
  suppress a journalist: a sender problem to fix.
- `retry`: temporary trouble (mailbox full, expired in a queue, network, greylisting, too many
  connections) and permanent failures nobody can explain; repeated ones suppress (see
  `returns.py`).
- `none`: delivered or relayed notices, auto-replies.

Read in order: RFC 5965 feedback reports (ARF); RFC 3464 delivery status notifications with
RFC 3463 enhanced codes; failure notices in prose as Postfix, Exim, Sendmail, qmail, Exchange,
Gmail, Yahoo and others write them, in English, French and other languages (the status found
in the server's words, "550 5.1.1 <x@y>: Recipient address rejected"); RFC 3834 auto-replies.
The server's words decide over boilerplate: only the diagnostic of each recipient is read for
the reason, never the whole notice.

One module: one report is read once, the rules in order; most of its length is the phrases
servers use.
"""

from __future__ import annotations

import email
import mailbox
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.message import Message
from email.policy import compat32
from email.utils import getaddresses, parseaddr
from pathlib import Path

from civic_contacts.errors import InputError

Kind = str  # bounce, auto-reply, complaint, other
KINDS = ("bounce", "auto-reply", "complaint", "other")
ACTIONS = ("suppress", "alert", "retry", "none")


@dataclass
class Returned:
    """One recipient a report is about, and what to do."""

    email: str
    status: str | None
    action: str
    reason: str
    diagnostic: str = ""

    def as_json(self) -> dict[str, str | None]:
        """The JSON shape of `bounces classify`."""
        return {
            "email": self.email,
            "status": self.status,
            "action": self.action,
            "reason": self.reason,
            "diagnostic": self.diagnostic,
        }


@dataclass
class Report:
    """A classified report."""

    kind: Kind
    recipients: list[Returned] = field(default_factory=list)
    # Every address the report was sent to (where a per-delivery return path shows up).
    addressed_to: list[str] = field(default_factory=list)
    # The Message-ID of the message it answers, when it quotes or names it.
    original_message_id: str | None = None
    # The original's recipient, when the report quotes its headers.
    original_to: str | None = None
    # An auto-reply saying the person left and naming another address.
    new_address: str | None = None
    subject: str = ""
    message_id: str | None = None


# Reading ----------------------------------------------------------------------------------

# Linear in the text: a local part is tried only where a run of its characters begins, and
# for at most 64 of them (RFC 5321's limit), so a long run without "@" costs one pass, not one
# per position (80 KB of it took 15 s before).
_LOCAL = r"A-Za-z0-9.!#$%&'*+/=?^_`{|}~-"
_ADDRESS = re.compile(
    rf"(?<![{_LOCAL}])[{_LOCAL}]{{1,64}}@[A-Za-z0-9](?:[A-Za-z0-9-]{{0,61}}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+"
)
# What is read of a report's text, per part and in all: a bounce says what it has to say in
# its first lines; the rest (a quoted original, padding) is never worth reading whole.
PART_LIMIT = 64 * 1024
TEXT_LIMIT = 256 * 1024
# An enhanced status code (RFC 3463) as servers write it: never part of an IP address or a
# version number.
_ENHANCED = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d]|\.\d)")
_BASIC = re.compile(r"(?<![\d.#])([45][0-5]\d)(?:[ -]|$)(?!\d)", re.M)
_ROBOTS = re.compile(
    r"^(mailer-daemon|postmaster|mail-daemon|mailerdaemon|noreply|no-reply)@", re.I
)
_WHITESPACE = re.compile(r"\s+")
DIAGNOSTIC_LENGTH = 300


def _header(msg: Message, name: str) -> str:
    value = msg.get(name)
    if value is None:
        return ""
    try:
        return str(make_header(decode_header(str(value))))
    except (LookupError, UnicodeError, ValueError, email.errors.HeaderParseError):
        return str(value)


def _one_line(text: str, limit: int = DIAGNOSTIC_LENGTH) -> str:
    return _WHITESPACE.sub(" ", text).strip()[:limit]


def _text_of(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    payload = payload[:PART_LIMIT]
    charset = part.get_content_charset() or "utf-8"
    try:
        text = payload.decode(charset, "replace")
    except (LookupError, UnicodeError):
        text = payload.decode("utf-8", "replace")
    if part.get_content_type() == "text/html":
        text = _without_scripts(text)
        text = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</tr>", "\n", text)
        text = re.sub(r"<[^<>]*>", " ", text)
        text = (
            text.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&nbsp;", " ")
            .replace("&amp;", "&")
            .replace("&#39;", "'")
            .replace("&quot;", '"')
        )
    return text


def _without_scripts(html: str) -> str:
    """The HTML without its script and style elements, in one pass (a regular expression
    that looks for each one's end from each start is quadratic on unclosed ones)."""
    lowered = html.lower()
    kept: list[str] = []
    at = 0
    while True:
        starts = [i for i in (lowered.find("<script", at), lowered.find("<style", at)) if i >= 0]
        if not starts:
            kept.append(html[at:])
            return " ".join(kept)
        start = min(starts)
        kept.append(html[at:start])
        tag = "script" if lowered.startswith("<script", start) else "style"
        end = lowered.find(f"</{tag}", start)
        if end < 0:
            return " ".join(kept)
        close = lowered.find(">", end)
        at = len(html) if close < 0 else close + 1


def _human_text(msg: Message) -> str:
    """The readable part of a report: its text/plain parts (HTML ones when there are none),
    outside the quoted original."""
    plain: list[str] = []
    html: list[str] = []
    for part in _walk_outside_original(msg):
        kind = part.get_content_type()
        if kind == "text/plain":
            plain.append(_text_of(part))
        elif kind == "text/html":
            html.append(_text_of(part))
    return "\n".join(plain or html)[:TEXT_LIMIT]


def _walk_outside_original(msg: Message):  # type: ignore[no-untyped-def]
    """Every part, without descending into an attached original message."""
    stack = [msg]
    while stack:
        part = stack.pop(0)
        if part.get_content_type() in ("message/rfc822", "text/rfc822-headers"):
            continue
        if part.is_multipart():
            payload = part.get_payload()
            if isinstance(payload, list):
                stack[0:0] = [p for p in payload if isinstance(p, Message)]
            continue
        yield part


def _original(msg: Message) -> Message | None:
    """The original message (or its headers) the report carries, if any."""
    for part in msg.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                return payload[0]
        if kind == "text/rfc822-headers":
            text = _text_of(part)
            return email.message_from_string(text.split("\n\n", 1)[0] + "\n\n", policy=compat32)
    return None


_QUOTED_HEADER = re.compile(r"^[ >]*(Message-ID|To):[ \t]*(.+)$", re.I | re.M)


def _quoted_headers(text: str) -> dict[str, str]:
    """Message-ID and To of an original quoted as text in the report's body."""
    found: dict[str, str] = {}
    for name, value in _QUOTED_HEADER.findall(text):
        found.setdefault(name.lower(), value.strip())
    return found


def _addresses(value: str) -> list[str]:
    return [a.lower() for _n, a in getaddresses([value]) if "@" in a]


# Deciding ---------------------------------------------------------------------------------


def _any(*words: str) -> re.Pattern[str]:
    return re.compile("|".join(words), re.I)


# How we send (alert), each with a short reason word.
SENDER_PROBLEMS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("dmarc", _any(r"\bdmarc\b")),
    ("spf", _any(r"\bspf\b", r"sender policy framework")),
    ("dkim", _any(r"\bdkim\b", r"domainkeys")),
    (
        "authentication",
        _any(
            r"not authenticated",
            r"unauthenticated",
            r"authentication (?:failed|required|check)",
            r"fails? (?:sender )?authentication",
            r"5\.7\.5\b",
            r"5\.7\.8\b",
        ),
    ),
    (
        "blocklist",
        _any(
            r"block ?list",
            r"black ?list",
            r"blocklisted",
            r"blacklisted",
            r"spamhaus",
            r"barracuda",
            r"spamcop",
            r"\bsorbs\b",
            r"\brbl\b",
            r"dnsbl",
            r"\buribl\b",
            r"listed (?:on|in|at|by)\b",
            r"\bS3[01]\d\d\b",
            r"5\.7\.606",
            r"5\.7\.511",
            r"banned sending ip",
            r"liste noire",
        ),
    ),
    (
        "reputation",
        _any(
            r"reputation",
            r"user complaints",
            r"\bTS[S]?0\d\b",
            r"unexpected volume",
            r"sending limits?",
            r"rate[- ]limit",
            r"mauvaise réputation",
        ),
    ),
    (
        "relay",
        _any(
            r"relay(?:ing)? (?:access )?(?:denied|not permitted|prohibited)",
            r"unable to relay",
            r"not permitted to relay",
            r"relais refusé",
        ),
    ),
    (
        "reverse-dns",
        _any(
            r"reverse (?:dns|lookup|mapping)",
            r"\bptr\b",
            r"\brdns\b",
            r"client host .* (?:not|no) .*(?:name|dns)",
            r"hostname does not resolve",
        ),
    ),
    (
        "spam",
        _any(
            r"\bspam\b",
            r"\bjunk\b",
            r"unsolicited",
            r"\bbulk mail",
            r"phish",
            r"suspicious",
            r"\bindésirable",
            r"pourriel",
            r"message (?:content )?rejected",
        ),
    ),
    (
        "content",
        _any(
            r"\bvirus",
            r"malware",
            r"content (?:filter|policy|rejected)",
            r"attachment.*(?:not allowed|blocked|prohibited)",
            r"prohibited content",
        ),
    ),
    (
        "size",
        _any(
            r"message (?:size|is too large|too large|too big)",
            r"exceeds (?:the )?(?:maximum|size)",
            r"size limit",
            r"5\.3\.4",
            r"trop volumineux",
        ),
    ),
)
TEMPORARY: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("greylisted", _any(r"gr[ae]y[- ]?list", r"greylisting", r"try again later.*grey")),
    (
        "mailbox-full",
        _any(
            r"mailbox (?:is )?full",
            r"over ?quota",
            r"quota (?:exceeded|exceed|full)",
            r"exceeded (?:the |their |its )?(?:storage|quota)",
            r"insufficient (?:system )?storage",
            r"out of storage",
            r"storage (?:space|quota)",
            r"boîte(?: aux lettres)? (?:est )?pleine",
            r"boite(?: aux lettres)? (?:est )?pleine",
            r"espace (?:disque )?insuffisant",
            r"postfach (?:ist )?voll",
            r"buzón lleno",
            r"caixa (?:postal )?cheia",
            r"5\.2\.2",
        ),
    ),
    (
        "expired",
        _any(
            r"delivery time expired",
            r"retry time(?:out)? (?:not reached|exceeded)",
            r"message expired",
            r"expired in queue",
            r"could not be delivered within",
            r"has been delayed",
            r"gave up",
            r"too long in (?:the )?queue",
            r"4\.4\.7",
            r"5\.4\.7",
            r"délai (?:de remise )?(?:expiré|dépassé)",
        ),
    ),
    (
        "too-many-connections",
        _any(
            r"too many (?:connections|concurrent|messages|recipients)",
            r"connection limit",
            r"try again later",
            r"temporarily (?:deferred|unavailable|rejected)",
        ),
    ),
    (
        "network",
        _any(
            r"connection (?:timed out|refused|reset|lost)",
            r"timed? ?out",
            r"network",
            r"no route to host",
            r"host unreachable",
            r"lost connection",
            r"tls (?:handshake|negotiation)",
        ),
    ),
)
GONE: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "no-such-domain",
        _any(
            r"host (?:or domain name )?not found",
            r"domain (?:name )?not found",
            r"name service error",
            r"no such domain",
            r"domain (?:does not|doesn't) exist",
            r"unrouteable",
            r"unroutable",
            r"nxdomain",
            r"no mx",
            r"mx record.*not",
            r"domain .*(?:could not|cannot) be (?:found|resolved)",
            r"domaine (?:inexistant|introuvable)",
            r"dominio inexistente",
            r"unknown domain",
        ),
    ),
    (
        "disabled",
        _any(
            r"account (?:has been |is )?(?:disabled|deactivated|suspended|inactive|closed|locked)",
            r"mailbox (?:has been |is )?(?:disabled|deactivated|suspended|inactive|closed)",
            r"(?:disabled|inactive|suspended|deactivated) (?:account|mailbox|user)",
            r"compte (?:est )?(?:désactivé|suspendu|fermé|inactif)",
            r"boîte (?:aux lettres )?(?:désactivée|fermée)",
            r"cuenta (?:desactivada|suspendida)",
        ),
    ),
    (
        "moved",
        _any(
            r"mailbox (?:has )?moved",
            r"no longer (?:valid|in use|available|active|accepts mail)",
            r"address (?:has )?changed",
            r"5\.1\.6",
        ),
    ),
    (
        "no-such-user",
        _any(
            r"user (?:unknown|not found|doesn't exist|does not exist)",
            r"unknown (?:user|recipient|mailbox|local[- ]part|address)",
            r"no such (?:user|recipient|mailbox|address|account|person)",
            r"recipient (?:unknown|not found|does not exist|invalid|address rejected: user unknown)",
            r"(?:address|mailbox|recipient|account|user) (?:couldn't|could not|cannot|can't|wasn't|was not) (?:be )?found",
            r"(?:mailbox|address|account|user|recipient) (?:does not|doesn't|did not) exist",
            r"invalid (?:recipient|mailbox|address|user)",
            r"not a valid (?:mailbox|recipient|user|address)",
            r"mailbox not found",
            r"mailbox unknown",
            r"no mailbox here",
            r"sorry, no mailbox",
            r"doesn't have an? [\w.-]+ account",
            r"address (?:not found|unknown|rejected: not found)",
            r"undeliverable address",
            r"bad destination mailbox",
            r"recipientnotfound",
            r"utilisateur (?:inconnu|introuvable|inexistant)",
            r"destinataire (?:inconnu|introuvable|inexistant)",
            r"adresse (?:inconnue|introuvable|inexistante|invalide|erronée)",
            r"n'existe pas",
            r"boîte (?:aux lettres )?(?:inconnue|inexistante|introuvable)",
            r"compte (?:inconnu|inexistant)",
            r"usuario (?:desconocido|inexistente|no existe)",
            r"no existe",
            r"destinatario desconocido",
            r"empfänger (?:unbekannt|existiert nicht)",
            r"unbekannte(?:r)? (?:empfänger|benutzer)",
            r"utente (?:sconosciuto|inesistente)",
            r"usuário (?:desconhecido|inexistente)",
            r"não existe",
            r"5\.1\.10",
        ),
    ),
)


def _first_reason(rules: tuple[tuple[str, re.Pattern[str]], ...], text: str) -> str | None:
    for reason, pattern in rules:
        if pattern.search(text):
            return reason
    return None


# An enhanced code right after the server's reply code ("550 5.1.1", "550-'5.1.1"): the
# server's own, preferred over codes a notice adds around it.
_REPLIED = re.compile(r"(?<![\d.])[245]\d\d[ -]['\"(]?([245]\.\d{1,3}\.\d{1,3})(?![\d]|\.\d)")


def status_in(text: str) -> str | None:
    """The most specific enhanced status code in a server's words (x.0.0 only if alone);
    one that follows the server's reply code first."""
    replied = [m.group(1) for m in _REPLIED.finditer(text) if not m.group(1).endswith(".0.0")]
    if replied:
        return replied[0]
    codes = [".".join(m.groups()) for m in _ENHANCED.finditer(text)]
    codes = [c for c in codes if c[0] in "45"] or codes
    specific = [c for c in codes if not c.endswith(".0.0")]
    chosen = specific or codes
    return chosen[0] if chosen else None


# RFC 7372's authentication codes, by their detail.
AUTH_CODES = {
    "7.20": "dkim",
    "7.21": "dkim",
    "7.22": "dkim",
    "7.23": "spf",
    "7.24": "spf",
    "7.25": "reverse-dns",
    "7.26": "dmarc",
    "7.27": "sender-address",
}


def decide(status: str | None, words: str, dsn_action: str = "") -> tuple[str, str]:
    """The action and a short reason for one recipient, from its status code and the
    server's words (the diagnostic only, never the notice's boilerplate)."""
    action = dsn_action.strip().lower()
    if action in ("delivered", "relayed", "expanded"):
        return "none", action
    basic = _BASIC.search(words)
    klass = status[0] if status else (basic.group(1)[0] if basic else "")
    subject_detail = ".".join(status.split(".")[1:]) if status else ""
    sender = _first_reason(SENDER_PROBLEMS, words)
    temporary = _first_reason(TEMPORARY, words)
    gone = _first_reason(GONE, words)
    if action == "delayed" or klass == "4":
        if sender and sender not in ("size",) and temporary != "greylisted":
            return "alert", sender
        return "retry", temporary or "temporary"
    if klass == "2":
        return "none", "delivered"
    # Permanent, or a failure with no code: first how the code reads.
    if subject_detail.startswith("7."):
        return "alert", AUTH_CODES.get(subject_detail) or sender or "policy"
    if subject_detail in ("6.0", "6.1", "6.2", "6.3", "6.5", "6.6"):
        return "alert", sender or "content"
    if subject_detail in ("3.4", "2.3"):
        return "alert", "size"
    if subject_detail in ("1.7", "1.8"):
        return "alert", "sender-address"
    if subject_detail in ("2.2",) or temporary == "mailbox-full":
        return "retry", "mailbox-full"
    if subject_detail in ("4.7",) or temporary == "expired":
        return "retry", "expired"
    if sender:
        return "alert", sender
    if subject_detail in ("1.1", "1.10", "1.0") and gone in (None, "no-such-user"):
        return "suppress", "no-such-user"
    if subject_detail == "1.2":
        return "suppress", "no-such-domain"
    if subject_detail == "1.3":
        return "suppress", "bad-address"
    if subject_detail == "1.6":
        return "suppress", "moved"
    if subject_detail == "2.1":
        return "suppress", "disabled"
    if subject_detail == "4.1" and re.search(
        r"recipient address rejected: access denied", words, re.I
    ):
        return "suppress", "no-such-user"  # Exchange Online's directory-based edge blocking
    if subject_detail == "4.4" and (
        gone == "no-such-domain" or re.search(r"unable to route|no route", words, re.I)
    ):
        return "suppress", "no-such-domain"
    if gone:
        return "suppress", gone
    if temporary:
        return "retry", temporary
    return "retry", "unclassified"


# Kinds ------------------------------------------------------------------------------------

AUTO_SUBJECT = _any(
    r"out of (?:the )?office",
    r"automatic reply",
    r"auto(?:matic)?[- ]?(?:reply|response|respon)",
    r"\bautoreply\b",
    r"\babsence\b",
    r"\babsent\b",
    r"réponse automatique",
    r"répondeur",
    r"abwesenheit",
    r"respuesta automática",
    r"fuera de la oficina",
    r"resposta automática",
    r"\bvacation\b",
    r"\bon leave\b",
    r"\bcongés?\b",
    r"en vacances",
    r"away from (?:my|the) (?:desk|office)",
)
LEFT = _any(
    r"no longer (?:with|at|works?|working|employed)",
    r"has left",
    r"have left",
    r"left (?:the|our) (?:company|organi[sz]ation|newsroom|paper)",
    r"a quitté",
    r"ne fait plus partie",
    r"n'est plus (?:à|au|chez|en poste|joignable à cette adresse|employée?|membre)",
    r"ne travaille plus",
    r"this (?:address|mailbox) is no longer (?:monitored|in use|active)",
    r"cette (?:adresse|boîte) n'est plus (?:consultée|utilisée|active)",
    r"ya no trabaja",
    r"no longer monitored",
)
FAILURE_SUBJECT = _any(
    r"undeliver",
    r"undelivered",
    r"delivery (?:status notification|failure|has failed|failed|problem|incomplete|notification)",
    r"mail delivery (?:failed|failure|subsystem|system)",
    r"returned mail",
    r"failure notice",
    r"could not be delivered",
    r"not delivered",
    r"message not delivered",
    r"non remis",
    r"non distribuable",
    r"échec (?:de la )?(?:remise|distribution|livraison)",
    r"impossible de remettre",
    r"rejected",
    r"unzustellbar",
    r"nicht zugestellt",
    r"no se puede entregar",
    r"no entregado",
    r"não entregue",
    r"mensagem não entregue",
    r"address not found",
    r"message blocked",
    r"warning: could not send",
)
FAILURE_FROM = _any(
    r"mailer-daemon",
    r"postmaster",
    r"mail delivery (?:sub)?system",
    r"mail-daemon",
    r"microsoftexchange",
)


def _report_type(msg: Message) -> str:
    if msg.get_content_type() == "multipart/report":
        value = msg.get_param("report-type")
        return value.lower() if isinstance(value, str) else ""
    for part in msg.walk():
        kind = part.get_content_type()
        if kind == "message/feedback-report":
            return "feedback-report"
        if kind in ("message/delivery-status", "message/global-delivery-status"):
            return "delivery-status"
    return ""


def _status_blocks(msg: Message) -> list[Message]:
    for part in msg.walk():
        if part.get_content_type() in ("message/delivery-status", "message/global-delivery-status"):
            payload = part.get_payload()
            if isinstance(payload, list):
                return [p for p in payload if isinstance(p, Message)]
            if isinstance(payload, str):
                blocks = re.split(r"\r?\n\s*\r?\n", payload.strip())
                return [email.message_from_string(b + "\n\n", policy=compat32) for b in blocks]
    return []


def _typed_address(value: str) -> str:
    """`rfc822; x@y` → x@y."""
    _type, _semi, address = value.partition(";")
    address = (address or _type).strip().strip("<>").strip()
    return address.lower() if "@" in address else ""


def _dsn_recipients(msg: Message, human: str) -> list[Returned]:
    found: list[Returned] = []
    for block in _status_blocks(msg)[1:] or _status_blocks(msg):
        address = _typed_address(str(block.get("Final-Recipient", ""))) or _typed_address(
            str(block.get("Original-Recipient", ""))
        )
        if not address:
            continue
        diagnostic = _one_line(str(block.get("Diagnostic-Code", "")))
        _kind, _semi, words = diagnostic.partition(";")
        words = words.strip() if _semi else diagnostic
        status_field = str(block.get("Status", "")).strip()
        status = status_in(words) or status_in(status_field)
        if status and status_in(status_field) and status.endswith(".0.0"):
            status = status_in(status_field)
        if not words:
            words = _window(human, address)
        action, reason = decide(status, words, str(block.get("Action", "")))
        found.append(Returned(address, status, action, reason, words or status_field))
    return found


def _window(text: str, address: str, size: int = 600) -> str:
    """The server's words about one address in a notice written as prose: from the address
    on, up to the next blank line after the first SMTP reply (or `size` characters)."""
    lowered = text.lower()
    at = lowered.find(address.lower())
    if at < 0:
        return ""
    chunk = text[at : at + size]
    reply = re.search(r"(?<![\d.])[45]\d\d[ -]", chunk)
    if reply:
        end = chunk.find("\n\n", reply.start())
        chunk = chunk[: end if end > 0 else len(chunk)]
    else:
        # Prose with the address above its explanation: up to the second paragraph break.
        breaks = [m.start() for m in re.finditer(r"\n\s*\n", chunk)]
        chunk = chunk[: breaks[1]] if len(breaks) > 1 else chunk
    return chunk


def _prose_recipients(human: str, original_to: str | None, ours: set[str]) -> list[Returned]:
    """Recipients of a failure notice written as prose (no delivery-status part)."""
    addresses: list[str] = []
    if original_to:
        addresses.append(original_to)
    for match in _ADDRESS.finditer(human):
        address = match.group().lower().rstrip(".")
        if address in ours or _ROBOTS.match(address) or address in addresses:
            continue
        addresses.append(address)
    if original_to:
        # The notice is about our message's one recipient; other addresses in it are the
        # reporting servers' own.
        addresses = [original_to]
    found = []
    for address in addresses[:20]:
        words = _window(human, address) or human[:1500]
        status = status_in(words)
        action, reason = decide(status, words)
        diagnostic = _diagnostic_line(words) or _one_line(words)
        found.append(Returned(address, status, action, reason, diagnostic))
    return found


_SERVER_LINE = re.compile(r"(?<![\d.])[45]\d\d[ -][^\n]{3,}", re.M)


def _diagnostic_line(words: str) -> str:
    """The server's reply line(s) in a stretch of prose."""
    found = _SERVER_LINE.search(words)
    if not found:
        return ""
    return _one_line(words[found.start() : found.start() + DIAGNOSTIC_LENGTH * 2])


def classify(data: bytes, ours: set[str] | None = None) -> Report:
    """Classify one report (the bytes of one message). `ours` are addresses of our own (the
    press office, the return path) never taken for a recipient. A message nobody could read
    (parts nested thousands deep) is `other`: never acted on."""
    try:
        return _classify(data, ours)
    except RecursionError:
        return Report("other", subject="(nested too deep to read)")


def _classify(data: bytes, ours: set[str] | None) -> Report:
    msg = email.message_from_bytes(data, policy=compat32)
    known = {a.lower() for a in (ours or set())}
    subject = _one_line(_header(msg, "Subject"), 500)
    sender = parseaddr(_header(msg, "From"))[1].lower()
    addressed: list[str] = []
    for name in (
        "To",
        "Delivered-To",
        "X-Original-To",
        "Envelope-To",
        "X-Envelope-To",
        "X-Rcpt-To",
        "Cc",
    ):
        for value in msg.get_all(name) or []:
            for address in _addresses(str(value)):
                if address not in addressed:
                    addressed.append(address)
    known.update(addressed)
    original = _original(msg)
    human = _human_text(msg)
    quoted = _quoted_headers(human) if original is None else {}
    original_to = None
    original_id = None
    if original is not None:
        to = _addresses(_header(original, "To"))
        original_to = to[0] if to else None
        original_id = _header(original, "Message-ID").strip() or None
        known.update(_addresses(_header(original, "From")))
    else:
        to = _addresses(quoted.get("to", ""))
        original_to = to[0] if to else None
        original_id = quoted.get("message-id")
    if not original_id:
        for name in ("In-Reply-To", "References"):
            ids = re.findall(r"<[^<>\s]+>", _header(msg, name))
            if ids:
                original_id = ids[0]
                break
    report = Report(
        kind="other",
        addressed_to=addressed,
        original_message_id=original_id,
        original_to=original_to,
        subject=subject,
        message_id=_header(msg, "Message-ID").strip() or None,
    )
    report_type = _report_type(msg)
    if report_type == "feedback-report":
        report.kind = "complaint"
        report.recipients = _complaint(msg, original_to)
        return report
    if report_type == "delivery-status":
        report.kind = "bounce"
        report.recipients = _dsn_recipients(msg, human)
        if not report.recipients:
            report.recipients = _prose_recipients(human, original_to, known)
        return report
    auto = _auto_reply(msg, subject)
    looks_failed = bool(FAILURE_SUBJECT.search(subject)) or bool(
        FAILURE_FROM.search(_header(msg, "From"))
    )
    if looks_failed and not auto:
        report.kind = "bounce"
        report.recipients = _prose_recipients(human, original_to, known)
        return report
    if auto:
        report.kind = "auto-reply"
        reason = "auto-reply"
        if LEFT.search(human) or LEFT.search(subject):
            reason = "left"
            others = [
                a.lower().rstrip(".")
                for a in _ADDRESS.findall(human)
                if a.lower().rstrip(".") not in known
                and a.lower().rstrip(".") != sender
                and not _ROBOTS.match(a)
            ]
            report.new_address = others[0] if others else None
        if sender:
            report.recipients = [Returned(sender, None, "none", reason, _one_line(human, 200))]
        return report
    return report


def _auto_reply(msg: Message, subject: str) -> bool:
    submitted = str(msg.get("Auto-Submitted", "")).strip().lower()
    if submitted and submitted != "no":
        return True
    if any(
        msg.get(name)
        for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponse", "X-Autogenerated")
    ):
        return True
    if str(msg.get("Precedence", "")).strip().lower() == "auto_reply":
        return True
    if str(msg.get("X-Auto-Response-Suppress", "")).strip() and AUTO_SUBJECT.search(subject):
        return True
    return bool(AUTO_SUBJECT.search(subject))


COMPLAINT_TYPES = {
    "abuse": "complaint",
    "fraud": "complaint",
    "virus": "complaint",
    "other": "complaint",
    "opt-out": "opt-out",
    "unsubscribe": "opt-out",
}


def _complaint(msg: Message, original_to: str | None) -> list[Returned]:
    feedback: Message | None = None
    for part in msg.walk():
        if part.get_content_type() == "message/feedback-report":
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                feedback = payload[0]
            elif isinstance(payload, str):
                feedback = email.message_from_string(payload.strip() + "\n\n", policy=compat32)
            break
    kind = str(feedback.get("Feedback-Type", "abuse") if feedback else "abuse").strip().lower()
    recipients = []
    if feedback is not None:
        for value in feedback.get_all("Original-Rcpt-To") or []:
            recipients.extend(
                _addresses(str(value).strip("<>")) or [str(value).strip("<> ").lower()]
            )
    if not recipients and original_to:
        recipients = [original_to]
    if kind == "not-spam":
        return [Returned(r, None, "none", "not-spam", kind) for r in recipients]
    reason = COMPLAINT_TYPES.get(kind, "complaint")
    return [
        Returned(r, None, "suppress", reason, f"feedback-type: {kind}")
        for r in recipients
        if "@" in r
    ]


# Files ------------------------------------------------------------------------------------


def messages_in(path: Path) -> Iterator[tuple[str, bytes]]:
    """Each message in a file or folder, with a name for it: a single message (.eml), an
    mbox file (`path#n`), or a Maildir folder (its `new` and `cur` files)."""
    if path.is_dir():
        folders = [path / name for name in ("cur", "new") if (path / name).is_dir()]
        if not folders:
            # A folder of saved messages (.eml, mbox files): each file as a file is read.
            for item in sorted(path.iterdir()):
                if item.is_file() and not item.name.startswith("."):
                    yield from messages_in(item)
            return
        # Read as files, so that a Maildir with only one of the two (as copied) is read too.
        for folder in folders:
            for item in sorted(folder.iterdir()):
                if item.is_file() and not item.name.startswith("."):
                    # Named by its Maildir key: the file name without the ":2,S" flags.
                    yield f"{path}/{item.name.split(':', 1)[0]}", item.read_bytes()
        return
    try:
        with open(path, "rb") as handle:
            head = handle.read(5)
    except OSError as exc:
        raise InputError(f"{path}: cannot read it ({exc.strerror})") from None
    if head == b"From ":
        mbox = mailbox.mbox(path, factory=None, create=False)
        for number, key in enumerate(mbox.keys(), start=1):
            yield f"{path}#{number}", mbox.get_bytes(key)
        return
    yield str(path), path.read_bytes()
