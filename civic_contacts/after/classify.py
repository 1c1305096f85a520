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
import json
import mailbox
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.message import Message
from email.policy import compat32
from email.utils import getaddresses, parseaddr
from pathlib import Path

from civic_contacts.after import prose, reporters
from civic_contacts.deliver import reasons
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
    # The envelope sender of the original, from the copy the report carries (where our
    # return path, and its token, shows up when the report was sent elsewhere).
    original_return_path: list[str] = field(default_factory=list)
    # An auto-reply saying the person left and naming another address.
    new_address: str | None = None
    subject: str = ""
    message_id: str | None = None
    # What a report that names nobody says of its token's own recipient (action, reason):
    # a complaint whose original went to "undisclosed recipients" is that recipient's.
    unnamed: tuple[str, str] = ("retry", "unclassified")


# Reading ----------------------------------------------------------------------------------

# What is read of a report's text, per part and in all: a bounce says what it has to say in
# its first lines; the rest (a quoted original, padding) is never worth reading whole.
PART_LIMIT = 64 * 1024
TEXT_LIMIT = 256 * 1024
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
    if payload is None and isinstance(part.get_payload(), str):
        payload = str(part.get_payload()).encode("utf-8", "surrogateescape")
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
        if kind == "text/plain" or (
            # A multipart whose boundary matches nothing: its body is all there is to read.
            part.get_content_maintype() == "multipart" and isinstance(part.get_payload(), str)
        ):
            plain.append(_text_of(part))
        elif kind == "text/html":
            html.append(_text_of(part))
    return _unforwarded("\n".join(plain or html)[:TEXT_LIMIT])


_FORWARDED = re.compile(
    r"^[ \t]*(?:Begin forwarded message:|-{2,} ?Forwarded message ?-{2,})[ \t]*$", re.I | re.M
)
_QUOTE_MARK = re.compile(r"^> ?", re.M)


def _unforwarded(text: str) -> str:
    """A report someone forwarded (a mail client's "Begin forwarded message:" and the
    report quoted line by line with "> "): the report itself, unquoted one level."""
    marker = _FORWARDED.search(text)
    if marker is None:
        return text
    rest = text[marker.end() :]
    lines = [line for line in rest.splitlines() if line.strip()]
    if not lines or sum(line.startswith(">") for line in lines) < len(lines) * 0.8:
        return text
    return _QUOTE_MARK.sub("", rest)


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


_QUOTED_HEADER = re.compile(r"^[ >]*(Message-ID|To|From|Return-Path):[ \t]*(.+)$", re.I | re.M)


def _quoted_headers(text: str) -> dict[str, str]:
    """Message-ID and To of an original quoted as text in the report's body."""
    found: dict[str, str] = {}
    for name, value in _QUOTED_HEADER.findall(text):
        found.setdefault(name.lower(), value.strip())
    return found


def _addresses(value: str) -> list[str]:
    return [a.lower() for _n, a in getaddresses([value]) if "@" in a]


def _any(*words: str) -> re.Pattern[str]:
    return re.compile("|".join(words), re.I)


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
    r"automatische antwort",
    r"automatisch antwoord",
    r"afwezig",
    r"respuesta automática",
    r"fuera de la oficina",
    r"resposta automática",
    r"ausente",
    r"\bvacation\b",
    r"\bon leave\b",
    r"\bcongés?\b",
    r"en vacances",
    r"away from (?:my|the) (?:desk|office)",
)
# An auto-reply saying the person has left, in the languages of our media lists.
LEFT = _any(
    r"no longer (?:with|at|works?|working|employed|part of)",
    r"has left",
    r"have left",
    r"left (?:the|our) (?:company|organi[sz]ation|newsroom|paper|station)",
    r"a quitté",
    r"ai quitté",
    r"ne fait plus partie",
    r"n'est plus (?:à|au|chez|en poste|joignable à cette adresse|employée?|membre)",
    r"ne travaille plus",
    r"this (?:address|mailbox) is no longer (?:monitored|in use|active)",
    r"cette (?:adresse|boîte) n'est plus (?:consultée|utilisée|active)",
    r"werkt? niet meer (?:bij|voor)",
    r"(?:ben|is) niet langer (?:werkzaam|in dienst)",
    r"is niet meer (?:werkzaam|in dienst|verbonden)",
    r"(?:heb|heeft) .{0,40}verlaten",
    r"ist nicht mehr (?:bei|für|im|in|tätig|beschäftigt)",
    r"bin nicht mehr (?:bei|für|im|in|tätig)",
    r"(?:hat|habe) .{0,40}verlassen",
    r"ya no (?:trabaja|trabajo|forma parte|está en)",
    r"(?:ha|he) dejado (?:de trabajar|la empresa|el|la)",
    r"j[áa] não (?:trabalha|trabalho|faz parte|está n)",
    r"deixou (?:a|o|de trabalhar)",
    r"no longer monitored",
)
FAILURE_SUBJECT = _any(
    r"undeliver",
    r"undelivered",
    r"delivery (?:status notification|failure|has failed|failed|problem|incomplete|notification)",
    r"mail delivery (?:failed|failure|subsystem|system)",
    r"returned mail",
    r"return(?:ed)? to sender",
    r"failure notice",
    r"could not be delivered",
    r"not delivered",
    r"message not delivered",
    r"delivery (?:report|error)",
    r"mail (?:system )?error",
    r"non remis",
    r"non distribuable",
    r"échec (?:de la )?(?:remise|distribution|livraison)",
    r"impossible de remettre",
    r"rejected",
    r"unzustellbar",
    r"nicht zugestellt",
    r"onbestelbaar",
    r"no se puede entregar",
    r"no entregado",
    r"não entregue",
    r"mensagem não entregue",
    r"address not found",
    r"message blocked",
    r"warning: could not send",
    r"недоставленное|не доставлено",
)
FAILURE_FROM = _any(
    r"mailer-daemon",
    r"postmaster",
    r"post_master",
    r"mail delivery (?:sub)?system",
    r"mail-daemon",
    r"microsoftexchange",
    r"mail administrator",
)
# A bounce's own words, in the notice a server writes (not in a person's reply).
FAILURE_TEXT = _any(
    r"could not be delivered",
    r"couldn't be delivered",
    r"was not delivered",
    r"wasn't delivered",
    r"not able to deliver",
    r"unable to deliver",
    r"delivery (?:has )?failed",
    r"did not reach",
    r"permanent (?:error|failure|fatal)",
    r"fatal errors?",
    r"undeliverable",
    r"(?<![\d.])5\d\d[ -](?:\d\.\d|[a-z<])",
    r"not be delivered",
    r"failed recipient",
    r"following address(?:\(es\)|es)? failed",
    r"no se (?:ha )?(?:podido|pudo) entregar",
    r"n'a pas pu être (?:remis|distribué|livré)",
    r"konnte nicht zugestellt",
    r"не может быть доставлено|не удалось доставить",
)


def _report_type(msg: Message) -> str:
    if msg.get_content_type() == "multipart/report":
        value = msg.get_param("report-type")
        if isinstance(value, str) and value.lower() in ("delivery-status", "feedback-report"):
            return value.lower()
    for part in msg.walk():
        kind = part.get_content_type()
        if kind == "message/feedback-report":
            return "feedback-report"
        if kind in ("message/delivery-status", "message/global-delivery-status"):
            return "delivery-status"
    return ""


def _status_blocks(msg: Message, human: str) -> list[Message]:
    """The per-recipient blocks of a delivery status part; where the MIME structure is
    broken (a boundary that does not match), the same fields found in the text."""
    for part in msg.walk():
        if part.get_content_type() in ("message/delivery-status", "message/global-delivery-status"):
            payload = part.get_payload()
            if isinstance(payload, list):
                text = "\n\n".join(
                    "\n".join(f"{name}: {value}" for name, value in block.items())
                    for block in payload
                    if isinstance(block, Message)
                )
            else:
                text = _text_of(part) if isinstance(payload, str) else ""
            return _blocks_in_text(text)
    return _blocks_in_text(human)


_RECIPIENT_FIELD = re.compile(r"^(?:Final|Original)-Recipient[ \t]*:", re.I | re.M)
_FINAL_FIELD = re.compile(r"^Final-Recipient[ \t]*:", re.I | re.M)


def _blocks_in_text(text: str) -> list[Message]:
    """Delivery status fields written out in a text, one block per recipient: the
    paragraphs with a recipient field, each split again where a second Final-Recipient
    begins without a blank line before it (as some servers write them)."""
    blocks: list[Message] = []
    for paragraph in re.split(r"\r?\n[ \t]*\r?\n", text):
        if not _RECIPIENT_FIELD.search(paragraph):
            continue
        starts = [m.start() for m in _FINAL_FIELD.finditer(paragraph)][1:]
        for start, end in zip([0, *starts], [*starts, len(paragraph)], strict=True):
            chunk = paragraph[start:end].strip()
            blocks.append(email.message_from_string(chunk + "\n\n", policy=compat32))
    return blocks


def _typed_address(value: str) -> str:
    """`rfc822; x@y` → x@y."""
    _type, _semi, address = value.partition(";")
    address = (address or _type).strip().strip("<>").strip()
    address = _WHITESPACE.sub("", address)
    return address.lower() if "@" in address else ""


def _dsn_recipients(msg: Message, human: str, notice: str, known: set[str]) -> list[Returned]:
    found: list[Returned] = []
    mentions = prose.failed_addresses(notice, known, None)
    for block in _status_blocks(msg, human):
        address = _typed_address(str(block.get("Final-Recipient", ""))) or _typed_address(
            str(block.get("Original-Recipient", ""))
        )
        if not address or any(r.email == address for r in found):
            continue
        diagnostic = _one_line(str(block.get("Diagnostic-Code", "")))
        kind, _semi, words = diagnostic.partition(";")
        words = words.strip() if _semi else diagnostic
        status_field = str(block.get("Status", "")).strip()
        status = reasons.status_in(words) or reasons.status_in(status_field)
        if status and reasons.status_in(status_field) and status.endswith(".0.0"):
            status = reasons.status_in(status_field)
        if status_field and status and status[0] != status_field[0] and status_field[0] in "245":
            status = reasons.status_in(status_field) or status
        around = _about(notice, mentions, address)
        if not words or kind.strip().lower().startswith("x-"):
            words = _one_line(words + " " + around, 2000)
            if status is None or status.endswith(".0.0"):
                status = reasons.status_in(words) or status
        command = reasons.command_in(words) or reasons.command_in(around)
        action, reason = reasons.decide(status, words, str(block.get("Action", "")), command)
        if kind.strip().lower() == "x-unix" and action not in ("none", "retry"):
            # A local delivery program failed (procmail, a full disk): the mail system's.
            action, reason = "retry", "mailer-error"
        if reason == "unclassified" and around:
            action, reason = reasons.decide(
                status, words + " " + around, str(block.get("Action", "")), command
            )
        settled = reporters.category(str(block.get("X-PowerMTA-BounceCategory", "")))
        if settled and action == "retry" and reason in reporters.UNCONFIRMED:
            action, reason = settled
        found.append(Returned(address, status, action, reason, _one_line(words) or status_field))
    return found


def _about(notice: str, mentions: list[prose.Mention], address: str) -> str:
    """What a notice says near one address (its mention and what follows), or nothing."""
    for index, mention in enumerate(mentions):
        if mention.address == address:
            return prose.words_after(notice, mentions, index)
    # An address the notice names but prose reading set aside (a postmaster@ recipient):
    # its own paragraph.
    at = notice.lower().find(address)
    if at < 0:
        return ""
    end = re.search(r"\n[ \t]*\n", notice[at:])
    return notice[at : at + (end.start() if end else 900)]


def _prose_recipients(notice: str, original_to: str | None, ours: set[str]) -> list[Returned]:
    """Recipients of a failure notice written as prose (no delivery-status part)."""
    mentions = prose.failed_addresses(notice, ours, original_to)
    found = []
    for index, mention in enumerate(mentions):
        after = prose.words_after(notice, mentions, index)
        status = reasons.status_in(after)
        action, reason = reasons.decide(status, after)
        words = after
        if reason == "unclassified":
            before = prose.words_before(notice, mentions, index)
            words = before + "\n" + after
            if len(mentions) == 1:
                words = notice
            status = status or reasons.status_in(words)
            action, reason = reasons.decide(status, words)
        diagnostic = prose.server_line(words, DIAGNOSTIC_LENGTH) or words
        found.append(Returned(mention.address, status, action, reason, _one_line(diagnostic)))
    return found


def classify(data: bytes, ours: set[str] | None = None) -> Report:
    """Classify one report (the bytes of one message). `ours` are addresses of our own (the
    press office, the return path) never taken for a recipient. A message nobody could read
    (parts nested thousands deep) is `other`: never acted on."""
    try:
        return _classify(data, ours)
    except RecursionError:
        return Report("other", subject="(nested too deep to read)")


def _classify(data: bytes, ours: set[str] | None) -> Report:
    if data.startswith(b"From "):  # an mbox line before the message
        data = data.split(b"\n", 1)[1] if b"\n" in data else b""
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
    # The report's own recipients are ours (or the sender's), never a failed address;
    # X-Original-To and the like may name the failed address itself (as DragonFly's do).
    for name in ("To", "Cc", "Delivered-To"):
        for value in msg.get_all(name) or []:
            known.update(_addresses(str(value)))
    original = _original(msg)
    human = _human_text(msg)
    notice = prose.notice_part(human)
    quoted = _quoted_headers(human[len(notice) :] or human) if original is None else {}
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
        known.update(_addresses(quoted.get("from", "")))
    if not original_id:
        for name in ("In-Reply-To", "References"):
            ids = re.findall(r"<[^<>\s]+>", _header(msg, name))
            if ids:
                original_id = ids[0]
                break
    if original is not None:
        returned_to = _addresses(_header(original, "Return-Path"))
    else:
        returned_to = _addresses(quoted.get("return-path", ""))
    report = Report(
        kind="other",
        addressed_to=addressed,
        original_return_path=returned_to,
        original_message_id=original_id,
        original_to=original_to,
        subject=subject,
        message_id=_header(msg, "Message-ID").strip() or None,
    )
    report_type = _report_type(msg)
    if report_type == "feedback-report" or (
        original is not None and _COMPLAINT_SUBJECT.search(subject) and report_type == ""
    ):
        report.kind = "complaint"
        report.recipients, report.unnamed = _complaint(msg, original, human)
        return report
    if _unsubscribe_request(msg, subject) and sender:
        # A mail client's one-click "unsubscribe by email" (RFC 2369 mailto), as Apple Mail
        # sends it: the sender asks to be taken off.
        report.kind = "complaint"
        report.recipients = [Returned(sender, None, "suppress", "opt-out", "unsubscribe by email")]
        return report
    service = _service_notification(human)
    if service is not None:
        report.kind, report.recipients = service
        return report
    if report_type == "delivery-status" or _RECIPIENT_FIELD.search(human):
        report.kind = "bounce"
        report.recipients = _dsn_recipients(msg, human, notice, known)
        if not report.recipients:
            report.recipients = _prose_recipients(notice, original_to, known)
        if report.recipients or report_type == "delivery-status":
            _vouched(report.recipients, human, data)
            _unless_contradicted(report.recipients, notice)
            return report
    from_robot = bool(FAILURE_FROM.search(_header(msg, "From")))
    failure_subject = bool(FAILURE_SUBJECT.search(subject))
    auto = _auto_reply(msg, subject)
    # Postfix, Exim and others mark their own notices `Auto-Submitted: auto-replied`: a
    # failure's sender or subject with a failure's words is a bounce all the same.
    if (from_robot or failure_subject) and (not auto or FAILURE_TEXT.search(notice)):
        report.kind = "bounce"
        report.recipients = _prose_recipients(notice, original_to, known)
        _vouched(report.recipients, human, data)
        _unless_contradicted(report.recipients, notice)
        return report
    if auto:
        report.kind = "auto-reply"
        reason = "auto-reply"
        if LEFT.search(notice) or LEFT.search(subject):
            reason = "left"
            others = [
                a.lower().rstrip(".")
                for a in prose.ADDRESS.findall(notice)
                if a.lower().rstrip(".") not in known
                and a.lower().rstrip(".") != sender
                and not prose.ROBOTS.match(a)
            ]
            report.new_address = others[0] if others else None
        if sender:
            report.recipients = [Returned(sender, None, "none", reason, _one_line(notice, 200))]
        return report
    return report


def _vouched(recipients: list[Returned], human: str, data: bytes) -> None:
    """Unknown users the words left unconfirmed, where the report's writer vouches for them
    (`reporters`)."""
    unsure = [r for r in recipients if r.action == "retry" and r.reason in reporters.UNCONFIRMED]
    if not unsure:
        return
    text = human + "\n" + data[:200_000].decode("latin-1")
    for returned in unsure:
        if reporters.vouched(text, returned.diagnostic):
            returned.action, returned.reason = "suppress", "no-such-user"


def _unless_contradicted(recipients: list[Returned], notice: str) -> None:
    """A notice about one address whose own words say the mailbox exists (full, disabled)
    while the diagnostic says it does not: ambiguous, so never suppressed."""
    if len(recipients) != 1 or recipients[0].action != "suppress":
        return
    said = reasons.mailbox_exists(notice)
    if said:
        recipients[0].action, recipients[0].reason = "retry", said


def _service_notification(text: str) -> tuple[str, list[Returned]] | None:
    """A sending service's notification in JSON (Amazon SES through SNS): bounces,
    complaints and deliveries it reports, per recipient."""
    start = text.find('{"notificationType"')
    if start < 0:
        start = text.find('{"eventType"')
    if start < 0 and '\\"notificationType\\"' in text:
        start = text.find("{")  # an SNS envelope, the notification a string inside it
    if start < 0:
        return None
    try:
        body, _end = json.JSONDecoder().raw_decode(_WHITESPACE.sub(" ", text[start:]))
        if isinstance(body, dict) and isinstance(body.get("Message"), str):
            body = json.loads(body["Message"])
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    kind = str(body.get("notificationType") or body.get("eventType") or "").lower()
    found: list[Returned] = []
    if kind == "bounce" and isinstance(body.get("bounce"), dict):
        bounce = body["bounce"]
        permanent = str(bounce.get("bounceType", "")).lower() == "permanent"
        for item in bounce.get("bouncedRecipients") or []:
            if not isinstance(item, dict) or "@" not in str(item.get("emailAddress", "")):
                continue
            words = str(item.get("diagnosticCode") or "")
            status = reasons.status_in(str(item.get("status") or "")) or reasons.status_in(words)
            if status is None and not permanent:
                status = "4.0.0"
            action, reason = reasons.decide(status, words or str(bounce.get("bounceSubType", "")))
            found.append(
                Returned(
                    str(item["emailAddress"]).lower(), status, action, reason, _one_line(words)
                )
            )
        return "bounce", found
    if kind == "complaint" and isinstance(body.get("complaint"), dict):
        complaint = body["complaint"]
        feedback = str(complaint.get("complaintFeedbackType") or "abuse").lower()
        for item in complaint.get("complainedRecipients") or []:
            if isinstance(item, dict) and "@" in str(item.get("emailAddress", "")):
                address = str(item["emailAddress"]).lower()
                found.append(Returned(address, None, "suppress", "complaint", feedback))
        return "complaint", found
    if kind == "delivery" and isinstance(body.get("delivery"), dict):
        delivery = body["delivery"]
        words = str(delivery.get("smtpResponse") or "")
        for address in delivery.get("recipients") or []:
            if "@" in str(address):
                status = reasons.status_in(words) or "2.0.0"
                found.append(Returned(str(address).lower(), status, "none", "delivered", words))
        return "other", found
    return None


# A feedback loop's report sent as a plain message carrying the copy (Hotmail's JMRP).
_COMPLAINT_SUBJECT = _any(r"complaint about message from", r"^abuse report\b", r"\bspam report\b")


def _unsubscribe_request(msg: Message, subject: str) -> bool:
    if str(msg.get("X-Apple-Unsubscribe", "")).strip().lower() == "true":
        return True
    return subject.strip().lower() == "unsubscribe" and _auto_reply(msg, "")


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


def _feedback_fields(msg: Message) -> Message | None:
    for part in msg.walk():
        if part.get_content_type() == "message/feedback-report":
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                # Some senders split the fields with blank lines: every block's fields count.
                merged = email.message_from_string("\n", policy=compat32)
                for block in payload:
                    if isinstance(block, Message):
                        for name, value in block.items():
                            merged[name] = value
                return merged
            if isinstance(payload, str):
                text = payload
                if part.get("Content-Transfer-Encoding", "").lower() in (
                    "base64",
                    "quoted-printable",
                ):
                    text = _text_of(part)
                text = re.sub(r"\r?\n[ \t]*\r?\n", "\n", text.strip())
                return email.message_from_string(text + "\n\n", policy=compat32)
    return None


def _complaint(
    msg: Message, original: Message | None, human: str
) -> tuple[list[Returned], tuple[str, str]]:
    """The complained address: the report's Original-Rcpt-To, else the recipient of the
    original message it carries (its To, or the `for <x>` of its first Received line); and
    what the report says of its token's own recipient when it names nobody."""
    feedback = _feedback_fields(msg)
    kind = str(feedback.get("Feedback-Type", "abuse") if feedback else "abuse").strip().lower()
    recipients: list[str] = []
    if feedback is not None:
        for value in [
            *(feedback.get_all("Original-Rcpt-To") or []),
            *(feedback.get_all("Removal-Recipient") or []),
        ]:
            for address in _addresses(str(value).strip()) or [str(value).strip("<> ").lower()]:
                if "@" in address and address not in recipients:
                    recipients.append(address)
    if not recipients and original is not None:
        # Hotmail's reports name the recipient in a header of the copy they carry.
        recipients = _addresses(_header(original, "X-HmXmrOriginalRecipient"))[:1]
        recipients = recipients or _addresses(_header(original, "To"))[:1]
        if not recipients:
            received = " ".join(str(v) for v in original.get_all("Received") or [])
            found = re.search(r"\bfor\s+<?([^\s<>;]+@[^\s<>;]+)>?", received)
            recipients = [found.group(1).lower()] if found else []
    if not recipients:
        quoted = _quoted_headers(human)
        recipients = _addresses(quoted.get("to", ""))[:1]
    if kind == "not-spam":
        return [Returned(r, None, "none", "not-spam", kind) for r in recipients], ("none", kind)
    reason = COMPLAINT_TYPES.get(kind, "complaint")
    named = [
        Returned(r, None, "suppress", reason, f"feedback-type: {kind}")
        for r in recipients
        if "@" in r
    ]
    return named, ("suppress", reason)


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
