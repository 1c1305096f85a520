"""Why a delivery failed, from the status code, the server's words and the SMTP command they
answered: the one decision `classify` makes per recipient.

The rules are the servers' habits, learned from real reports (Postfix, Exim, Sendmail,
qmail, Exchange and Office 365, Gmail, Yahoo, SES and many ISPs):

- A status code is only a hint. "550 5.1.1" is written for an unknown user, but also for a
  rejected sender ("<bounce@...> sender rejected") or a sender over its hourly limit; the words
  and the command decide before the code does.
- Words a server uses for an unknown user, given after the message was sent (in reply to the
  end of DATA) or with a mailbox-status code (X.2.x), are a filter's: the mailbox may well
  exist and refused us. Never a reason to suppress.
- A disabled, suspended or inactive account may come back (RFC 3463 says X.2.1 may be
  transient): retried, and suppressed only when it keeps failing (see `returns.py`).
- A failure at the greeting or at MAIL FROM is about us, never about the recipient.

One module: one decision, read in one order; most of its length is the phrases servers use.
"""

from __future__ import annotations

import re


def _any(*words: str) -> re.Pattern[str]:
    return re.compile("|".join(words), re.I)


# The command a server's words answered, as the notices name it (lines wrap anywhere).
_EXPLICIT = (
    (
        "RCPT",
        re.compile(
            r"(?:in\s+reply\s+to|after|>>>)\s+rcpt\b|rcpt\s+to\s+response",
            re.I,
        ),
    ),
    # A reply straight after ">>> DATA", with no "354" to go on, is the pipelined answer to
    # the recipients (Sendmail shows the last command it sent), not to the message.
    ("PIPELINED", re.compile(r">>>\s+data\s+<<<\s+5\d\d\b", re.I)),
    (
        "DATA",
        re.compile(
            r"(?:in\s+reply\s+to|after)\s+(?:the\s+)?(?:end\s+of\s+)?data\b|end\s+of\s+data"
            r"|smtp\s+command\s+data|>>>\s+data\b|>>>\s+\.\s",
            re.I,
        ),
    ),
    ("MAIL", re.compile(r"(?:in\s+reply\s+to|after|>>>)\s+mail\s+from\b", re.I)),
    (
        "CONNECT",
        re.compile(
            r"in\s+reply\s+to\s+(?:the\s+)?initial\s+greeting|after\s+initial\s+connection", re.I
        ),
    ),
)
# The bare command as a server's words or a transcript write it (upper case, not inside a
# word or an address: "SMTP:RCPT host", "[RCPT_TO]", "<<< DATA").
_BARE = re.compile(r"(?<![A-Za-z0-9@.])(RCPT|DATA|MAIL FROM|HELO|EHLO)(?![A-Za-z0-9@.-])")
_ENVELOPE_COPY = re.compile(r"(?:MAIL FROM|RCPT(?: TO)?)\s*:\s*<?[^\s<>@]+@", re.I)
_REPLY = re.compile(r"(?<![\d.])[45]\d\d[ -]")


def command_in(words: str) -> str:
    """The SMTP command the failure answered, where the notice says: RCPT, DATA, MAIL,
    CONNECT, PIPELINED (the answer to the recipients, shown after DATA) or an empty string. Said in words first; else the last command a transcript
    shows before the server's reply."""
    for name, pattern in _EXPLICIT:
        if pattern.search(words):
            return name
    bare = [(m.start(), m.group(1)) for m in _BARE.finditer(words)]
    if not bare:
        return ""
    reply = _REPLY.search(words)
    before = [name for at, name in bare if reply is None or at < reply.start()]
    # Named only after the reply: the command it answered ("User unknown [RCPT_TO]"), but
    # not a copy of the envelope a notice lists ("MAIL FROM: x@y  RCPT TO: z@w").
    after = [name for at, name in bare if not _ENVELOPE_COPY.match(words, at)]
    if not before and not after:
        return ""
    name = (before or after[:1])[-1]
    return {"MAIL FROM": "MAIL", "HELO": "CONNECT", "EHLO": "CONNECT"}.get(name, name)


# Phrases, by what they mean ---------------------------------------------------------------

# The recipient (or its server, for it) refused mail from us: a filter, never a dead address.
REFUSED_BY_RECIPIENT = _any(
    r"refused due to recipient preferences",
    r"recipient is only accepting mail from specific",
    r"blocked by (?:the )?recipient",
    r"user refuses to receive",
    r"recipient id refuse",
    r"message rejected due to user rules",
    r"\buser reject",
    r"has restricted sms e-mail",
    r"is not accepting any mail",
    r"message filtered",
    r"account is protected by",
)
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
        "sender-address",
        _any(
            r"sender (?:address )?(?:rejected|denied|refused|invalid|unknown|blocked)",
            r"sender verify failed",
            r"(?:invalid|unknown|bad|unverifiable) sender",
            r"sender (?:domain|address) (?:does not exist|must exist|not found)",
            r"domain of sender address .* does not (?:exist|resolve)",
            r"sender(?:'s)? (?:domain|address) (?:has|is) (?:a )?(?:null mx|not)",
            r"return path",
            r"\bmail from\b.*(?:rejected|refused|denied|invalid)",
            r"address rejected: domain not found",
            r"5\.1\.[78]\b",
        ),
    ),
    (
        "relay",
        _any(
            r"relay(?:ing)? (?:access )?(?:denied|not permitted|prohibited|not allowed)",
            r"unable to relay",
            r"not permitted to relay",
            r"we do not relay",
            r"relais refusé",
            r"isn't in my list of allowed rcpthosts",
            r"not (?:a )?(?:gateway|local host)",
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
            r"\bblocked\b",
            r"access denied",
            r"connection (?:refused|rejected) (?:by|from|for)",
            r"not allowed to (?:send|connect)",
            r"dynamic ip",
            r"client host rejected",
            r"\bdenied\b",
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
        "reverse-dns",
        _any(
            r"reverse (?:dns|lookup|mapping)",
            r"\bptr\b",
            r"\brdns\b",
            r"client host .* (?:not|no) .*(?:name|dns)",
            r"hostname does not resolve",
            r"cannot (?:find|resolve) your hostname",
            r"no (?:host)?name for (?:your )?(?:ip|address)",
            r"\bhelo\b",
            r"\behlo\b",
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
            r"not (?:rfc|rfc ?\d+)[- ]compliant",
            r"message (?:header|headers) (?:is |are )?(?:not|invalid|malformed)",
            r"improper use of 8-bit",
        ),
    ),
    (
        "size",
        _any(
            r"message (?:size|is too large|too large|too big|length exceeds)",
            r"exceeds (?:the )?(?:maximum|size|message size|fixed)",
            r"size limit",
            r"too big for",
            r"5\.3\.4",
            r"trop volumineux",
        ),
    ),
    ("policy", _any(r"\bpolicy\b", r"not authori[sz]ed", r"\bprohibited\b", r"\bforbidden\b")),
)
TEMPORARY: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("greylisted", _any(r"gr[ae]y[- ]?list", r"greylisting", r"try again later.*grey")),
    (
        "mailbox-full",
        _any(
            r"mailbox (?:is )?full",
            r"mailbox (?:size )?limit exceeded",
            r"over ?quota",
            r"quota (?:exceeded|exceed|full|violation)",
            r"exceeded (?:the |their |its )?(?:storage|quota)",
            r"insufficient (?:system )?storage",
            r"out of storage",
            r"storage (?:space|quota)",
            r"mailbox (?:has )?exceeded",
            r"user has too many messages",
            r"mailbox exceeds (?:the )?(?:allowed|maximum) size",
            r"not enough (?:disk )?space",
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
        "disabled",
        _any(
            r"account (?:has been |is )?(?:disabled|deactivated|suspended|inactive|closed|locked)",
            r"mailbox (?:has been |is )?(?:disabled|deactivated|suspended|inactive|closed)",
            r"(?:disabled|inactive|suspended|deactivated|expired) (?:account|mailbox|user)",
            r"account that you tried to reach is (?:disabled|inactive|suspended)",
            r"user account (?:is )?disabled",
            r"account (?:is )?(?:temporarily )?(?:unavailable|blocked)",
            r"recipient (?:is )?suspended",
            r"temporar(?:y|ily) locked",
            r"compte (?:est )?(?:désactivé|suspendu|fermé|inactif)",
            r"boîte (?:aux lettres )?(?:désactivée|fermée)",
            r"cuenta (?:desactivada|suspendida)",
            r"5\.7\.13\b",
        ),
    ),
    (
        "rate",
        _any(
            r"too many (?:recipients|messages) (?:this|per|in)",
            r"has sent to too many recipients",
            r"receiving mail at a rate",
            r"receiving (?:too much|too many) (?:mail|messages)",
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
            r"delivery failed \d+ attempts",
            r"too long in (?:the )?queue",
            r"message (?:was|has been) in (?:the )?queue too long",
            r"retry timeout exceeded",
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
            r"malformed or unexpected name server reply",
            r"host not found, try again",
            r"name server (?:failure|timeout)",
            r"routing loop",
            r"mail (?:for|loops back)",
            r"too many hops",
        ),
    ),
)
NO_SUCH_DOMAIN = _any(
    r"host (?:or domain name )?not found",
    r"host unknown",
    r"unknown host",
    r"domain (?:name )?not found",
    r"name service error",
    r"no such domain",
    r"domain (?:does not|doesn't) exist",
    r"unrouteable",
    r"unroutable",
    r"nxdomain",
    r"dns lookup fail",
    r"invalid domain",
    r"domain .*(?:could not|cannot) be (?:found|resolved)",
    r"domain is not reachable",
    r"domaine (?:inexistant|introuvable)",
    r"dominio inexistente",
    r"unknown domain",
    r"no such host",
    r"illegal host/domain",
    r"unable to route",
)
# The domain itself is gone, in words that also contain a user phrase ("domain does not exist").
_DOMAIN_GONE = _any(
    r"domain (?:name )?(?:does not|doesn't) exist",
    r"domain (?:name )?not found",
    r"(?:account|user) or domain may not exist",
    r"^(?:[^<>@\s]*\s)?\d{3} [a-z0-9-]+(?:\.[a-z0-9-]+)+ does not exist",
    r"no such domain",
    r"host (?:or domain name )?not found",
    r"host unknown",
    r"unknown host",
)
NO_MAIL_SERVER = _any(
    r"no mx\b",
    r"mx record.*not",
    r"null mx",
    r"does not accept (?:any )?mail",
    r"not accepting (?:network )?messages",
    r"couldn't find a mail exchanger",
    r"indicated no smtp service",
    r"no mail exchanger",
    r"no (?:valid )?mx (?:record|host)",
    r"5\.1\.10\b",
)
MOVED = _any(
    r"mailbox (?:has )?moved",
    r"no longer (?:valid|in use|available|active|accepts mail|exists)",
    r"address (?:has )?changed",
    r"user has moved",
    r"5\.1\.6",
)
# What a server says only of a mailbox its directory does not hold, whenever it says it.
NOT_IN_DIRECTORY = _any(
    r"recipient name is not recogni[sz]ed",
    r"not listed in (?:the )?(?:domino )?directory",
    r"not listed in (?:the )?public name (?:&|and) address book",
    r"remote server returned unknown recipient",
    r"address couldn't be found",
    r"no valid recipients",
    r"wasn't found at the destination",
    r"does not exist at the organization",
    r"resolver\.adr\.recipient ?not ?found",
    r"recipientnotfound",
    r"invalid final delivery userid",
    r"mail\.local: unknown user",
    # IMail's own local delivery, the whole diagnostic: "Unknown user: x@y".
    r"^unknown user: [^\s@]+@",
    r"ディレクトリのリストにありません|ディレクトリには見つかりません",
)
# Exchange Online's directory-based edge blocking: the address is not in the tenant's
# directory (whatever the enhanced code, 5.4.1 or 5.7.1).
EDGE_DIRECTORY = _any(r"recipient address rejected: access denied")
# An address echoed the way Sendmail refuses one at RCPT TO: "<x@y>... User unknown".
_ADDRESS_ECHO = re.compile(
    r"<[^<>\s]+@[^<>\s]+>\.\.\.\s+(?:user unknown|user not exist|no such user|unknown user)",
    re.I,
)
# A server's reply naming no address ("550 : User unknown"): given after the message, to
# all its recipients at once, as some carriers' filters do.
NO_ADDRESS_REPLY = re.compile(r"(?<![\d.])5\d\d\s*:?\s*:\s*user unknown", re.I)
UNKNOWN_USER = _any(
    r"user (?:unknown|not found|doesn't exist|does not exist|not exist|not known|not active)",
    r"unknown (?:user|recipient|mailbox|local[- ]part|address|e-?mail address)",
    r"no such (?:user|recipient|mailbox|address|account|person)",
    r"recipient (?:unknown|not found|does not exist|not exist|invalid)",
    r"recipient address rejected\.?\s*(?:\(in reply to rcpt|$)",
    r"recipient address rejected: (?:access denied|invalid[- ]user|unknown|user)",
    r"recipient (?:name )?is not recogni[sz]ed",
    r"(?:address|mailbox|recipient|account|user) (?:couldn't|could not|cannot|can't|wasn't|was not) (?:be )?found",
    r"(?:mailbox|address|account|user|recipient) (?:does not|doesn't|did not) exist",
    r"(?:email|e-mail) (?:address|account) (?:that you tried to reach )?does not exist",
    r"invalid (?:recipient|mailbox|address|user)",
    r"not a valid (?:mailbox|recipient|user|address)",
    r"mailbox (?:not found|unknown|invalid|not present|unavailable|is unavailable)",
    r"no mailbox here",
    r"sorry, no mailbox",
    r"no mailbox (?:by that name|found|available)",
    r"doesn't have an? [\w.-]+ account",
    r"address (?:not found|unknown|rejected: not found|invalid|does not exist)",
    r"undeliverable address",
    r"bad destination mailbox",
    r"recipientnotfound",
    r"resolver\.adr\.recipient",
    r"not listed in (?:the )?(?:domino )?directory",
    r"not (?:listed|found) in (?:the )?(?:name|address) (?:directory|book)",
    r"no account by that name",
    r"is not a known user",
    r"not an active address",
    r"badrcptto",
    r"not in my validrcptto",
    r"requested action not taken: mailbox unavailable",
    r"no one at this address",
    r"wasn't found at the destination",
    r"does not exist at the organization",
    r"unknown or illegal alias",
    r"alias unknown",
    r"\bnot exist\b",
    r"invalid or unknown virtual user",
    r"no valid recipients",
    r"destination addresses were unknown",
    r"utilisateur (?:inconnu|introuvable|inexistant)",
    r"destinataire (?:inconnu|introuvable|inexistant|invalide)",
    r"adresse (?:inconnue|introuvable|inexistante|invalide|erronée)",
    r"n'existe pas",
    r"boîte (?:aux lettres )?(?:inconnue|inexistante|introuvable)",
    r"compte (?:inconnu|inexistant)",
    r"usuario (?:desconocido|inexistente|no existe)",
    r"no existe",
    r"destinatario desconocido",
    r"empfänger (?:unbekannt|existiert nicht)",
    r"unbekannte(?:r)? (?:empfänger|benutzer)",
    r"adresse nicht gefunden",
    r"utente (?:sconosciuto|inesistente)",
    r"nessun utente",
    r"usuário (?:desconhecido|inexistente)",
    r"não existe",
    r"неправильный адрес|нет такого|не существует",
    r"ディレクトリのリストにありません|存在しません",
    r"5\.1\.1\b",
)


_WHITESPACE = re.compile(r"\s+")


def _first_reason(rules: tuple[tuple[str, re.Pattern[str]], ...], text: str) -> str | None:
    for reason, pattern in rules:
        if pattern.search(text):
            return reason
    return None


def mailbox_exists(text: str) -> str | None:
    """`mailbox-full` or `disabled` where a text says the mailbox is there but cannot take
    the message; otherwise None."""
    found = _first_reason(TEMPORARY, _WHITESPACE.sub(" ", text))
    return found if found in ("mailbox-full", "disabled") else None


# Status codes -----------------------------------------------------------------------------

_ENHANCED = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d]|\.\d)")
BASIC = re.compile(r"(?<![\d.#])([45][0-5]\d)(?:[ -]|$)(?!\d)", re.M)
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
}


def decide(
    status: str | None, words: str, dsn_action: str = "", command: str = ""
) -> tuple[str, str]:
    """The action and a short reason for one recipient, from its status code, the server's
    words (the diagnostic only, never the notice's boilerplate) and the SMTP command they
    answered (`command_in`, when the caller has not read it from a report's fields)."""
    action = dsn_action.strip().lower()
    if action in ("delivered", "relayed", "expanded"):
        return "none", action
    words = _WHITESPACE.sub(" ", words)  # servers wrap their lines anywhere
    command = command or command_in(words)
    basic = BASIC.search(words)
    klass = status[0] if status else (basic.group(1)[0] if basic else "")
    detail = ".".join(status.split(".")[1:]) if status else ""
    if klass == "2":
        return "none", "delivered"
    sender = _first_reason(SENDER_PROBLEMS, words)
    temporary = _first_reason(TEMPORARY, words)
    if action == "delayed":
        # A warning: the message is still queued and may yet arrive. Never a bounce of the
        # address (it would count twice, warning and expiry); a sender problem is said.
        if sender and sender != "size" and temporary not in ("greylisted", "mailbox-full"):
            return "alert", sender
        return "none", "delayed"
    if klass == "4" and action == "failed" and detail in ("1.1", "1.2"):
        klass = "5"  # the queue gave up; the last answer was about the address itself
    if klass == "4":
        if sender and sender != "size" and temporary not in ("greylisted", "mailbox-full"):
            return "alert", sender
        return "retry", temporary or "temporary"
    # Permanent, or a failure with no code.
    if REFUSED_BY_RECIPIENT.search(words):
        return "alert", "filtered"
    if command in ("MAIL", "CONNECT"):
        return "alert", sender or "sender-address" if command == "MAIL" else sender or "blocked"
    if detail in AUTH_CODES:
        return "alert", AUTH_CODES[detail]
    if detail == "7.27":
        return "suppress", "no-mail-server"  # the recipient's domain has a null MX
    if detail in ("7.17", "7.18"):
        return "suppress", "moved"
    if detail == "7.13" or temporary == "disabled":
        return "retry", "disabled"
    if detail == "2.2" or temporary == "mailbox-full":
        return "retry", "mailbox-full"
    if temporary == "rate":
        return "retry", "rate"
    if detail in ("1.7", "1.8") or sender == "sender-address":
        return "alert", "sender-address"
    if EDGE_DIRECTORY.search(words):
        return "suppress", "no-such-user"
    unknown_user = bool(UNKNOWN_USER.search(words) or NOT_IN_DIRECTORY.search(words))
    if detail.startswith("7.") and command == "RCPT" and unknown_user and not sender:
        # A security code on a refusal of the address itself, at RCPT TO ("553 Invalid
        # recipient x@y" with 5.7.1): the words say what the code does not.
        return "suppress", "no-such-user"
    if detail.startswith("7."):
        return "alert", sender or "policy"
    if detail.startswith("6."):
        return "alert", sender or "content"
    if detail in ("3.4", "2.3") or sender == "size":
        return "alert", "size"
    if detail == "4.7" or temporary == "expired":
        return "retry", "expired"
    if detail == "1.6" or MOVED.search(words):
        return "suppress", "moved"
    if (detail in ("1.10", "3.2") or NO_MAIL_SERVER.search(words)) and not unknown_user:
        return "suppress", "no-mail-server"
    if temporary == "network" and not unknown_user:
        return "retry", "network"  # "Host not found, try again": the lookup failed, for now
    if detail in ("1.2", "4.4") or _DOMAIN_GONE.search(words):
        return "suppress", "no-such-domain"
    if unknown_user:
        # Only when the server said it of the address itself: in reply to RCPT TO, with an
        # addressing status (X.1.x) or in its directory's own words. The same words after
        # the message was read, to no address, with a mailbox status or with none, are
        # often a filter's that refused us: the mailbox may exist. Retried; repeated
        # failures suppress (`returns.py`).
        addressing = detail in ("1.0", "1.1", "1.3", "1.10")
        if not addressing and (command == "DATA" or NO_ADDRESS_REPLY.search(words)):
            return "alert", "filtered"
        if not command and not detail.startswith("2.") and _ADDRESS_ECHO.search(words):
            # Sendmail's own form for a refused address ("<x@y>... User unknown").
            command = "RCPT"
        if command == "PIPELINED" and detail.startswith("2."):
            # Carriers' filters answer so for a mailbox that exists and refuses us.
            return "alert", "filtered"
        if command in ("RCPT", "PIPELINED") or addressing:
            if sender and sender not in ("policy", "blocklist") and command != "RCPT":
                return "alert", sender
            return "suppress", "bad-address" if detail == "1.3" else "no-such-user"
        if NOT_IN_DIRECTORY.search(words) and detail not in ("2.0", "2.1", "2.4"):
            return "suppress", "no-such-user"
        return "retry", "unknown-user-unconfirmed"
    if NO_SUCH_DOMAIN.search(words):
        return "suppress", "no-such-domain"
    if sender:
        return "alert", sender
    if detail in ("1.1", "1.0", "1.3") and command != "DATA":
        return "suppress", "bad-address" if detail == "1.3" else "no-such-user"
    if detail.startswith("7."):
        return "alert", "policy"
    if temporary:
        return "retry", temporary
    return "retry", "unclassified"
