"""Acting on what comes back: each classified report (`classify.py`) is matched to the delivery
it answers and recorded once, and the media list is kept true.

Matching, and who may change the list: every message leaves with its own envelope sender,
`LOCAL+TOKEN@DOMAIN` of `[bounces] return_path`, where TOKEN names the delivery and is signed
(a bounce then maps to exactly one delivery even when it quotes nothing of the original).
Anyone can email the bounce address, so with a return path a report acts only through a
valid token whose delivery went to the address the report names (or, for a report naming
none, to the token's own recipient). Without a return path, a report acts only when it quotes
a Message-ID we sent to the address it names. Anything else that would suppress, count a soft
bounce or offer a new address is held: listed by `bounces review` with why, and acted on only
when an officer accepts it. Sender problems (alerts) touch no journalist and are counted
either way.

Acting: `suppress` suppresses the address (the reason and the server's words kept on the
suppression); `alert` never touches the journalist and is summed up as a sender problem;
`retry` is counted, and an address with `soft_limit` soft bounces over `soft_releases`
releases within `soft_days` days is suppressed; an auto-reply saying the person left with
another address becomes a review task (`journalist review`); nothing else changes.

Deliveries keep their status: a bounced message was sent, and exactly-once stays exact. What
came back is in the `bounces` table, one row per recipient of each report, unique by the
report's source (a mailbox's UIDVALIDITY and UID, or a file's digest) and recipient, and
known by the report's own fingerprint (its Message-ID and content): a report read twice, by
two runs at once, filed back into the inbox or read over another name of the same mailbox is
acted on once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from civic_contacts.after.classify import Report, Returned, classify
from civic_contacts.config import Settings
from civic_contacts.db import utcnow
from civic_contacts.deliver.tokens import read_token, tokens_in
from civic_contacts.registry import store as registry
from civic_contacts.registry.addresses import domain_of
from civic_contacts.registry.models import Bounce, Delivery, Release, Suppression

# Policy -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SoftPolicy:
    """When repeated soft bounces suppress an address."""

    limit: int = 3
    releases: int = 2
    days: int = 30
    # A report naming more recipients than this goes to review, never acted on: one forged
    # report must not suppress a list.
    max_recipients: int = 10

    @classmethod
    def from_settings(cls, settings: Settings) -> SoftPolicy:
        conf = settings.bounces
        return cls(conf.soft_limit, conf.soft_releases, conf.soft_days, conf.max_recipients)


@dataclass
class Outcome:
    """What reading some reports did."""

    reports: int = 0
    already: int = 0  # reports read before (by this run or another)
    unreadable: int = 0
    unmatched: int = 0
    held: int = 0  # would have changed the list, but could not be verified: bounces review
    # Read before under another source (filed back, another name of the mailbox): a copy.
    copy: int = 0
    by_action: Counter[str] = field(default_factory=Counter)
    by_kind: Counter[str] = field(default_factory=Counter)
    suppressed: list[str] = field(default_factory=list)
    alerts: Counter[tuple[str, str]] = field(default_factory=Counter)  # (domain, reason)
    reviews: list[tuple[str, str]] = field(default_factory=list)  # (old, new)
    # Reports to leave where they are: matched to no delivery, unreadable, or not reports at
    # all (a person's reply), now or when first read.
    stays: int = 0
    # When a report read before was first recorded.
    recorded_at: dt.datetime | None = None
    # Why reports were set aside unrecorded (one line each), and how many were.
    problems: list[str] = field(default_factory=list)

    def add(self, other: Outcome) -> None:
        """Sum another outcome into this one."""
        self.reports += other.reports
        self.already += other.already
        self.unreadable += other.unreadable
        self.unmatched += other.unmatched
        self.held += other.held
        self.by_action.update(other.by_action)
        self.by_kind.update(other.by_kind)
        self.suppressed.extend(other.suppressed)
        self.alerts.update(other.alerts)
        self.reviews.extend(other.reviews)
        self.stays += other.stays
        self.problems.extend(other.problems)


ALERT_ADVICE = {
    "dmarc": "check that DKIM signs with your From domain and SPF covers your relay",
    "spf": "add your relay to the SPF record of the sending domain",
    "dkim": "check the DKIM key and selector (civic-contacts doctor)",
    "authentication": "check your DKIM and SPF setup (civic-contacts doctor)",
    "blocklist": "your relay's address is on a block list: ask your provider to delist it",
    "reputation": "slow down ([send] rate) and ask your provider about the relay's reputation",
    "relay": "the relay refuses to pass mail on: check [smtp] user and host",
    "reverse-dns": "your relay's address has no matching reverse DNS (PTR) name",
    "spam": "the content was taken for spam: run one message of the outbox through a spam"
    " filter (spamassassin -t < OUTBOX/OUTLET/ADDRESS.eml) and mend what it scores",
    "content": "an attachment or the content was refused",
    "size": "the message is too large for the recipient's server",
    "policy": "refused by the recipient's policy: read the diagnostic",
    "sender-address": "the envelope sender was refused: check [bounces] return_path",
}


def alert_lines(alerts: Counter[tuple[str, str]]) -> list[str]:
    """One line per sender problem: how many, where, why, and what to check."""
    lines = []
    for (domain, reason), count in alerts.most_common():
        advice = ALERT_ADVICE.get(reason, "read the diagnostic")
        lines.append(f"{count} rejection(s) by {domain} for {reason}: {advice}")
    return lines


# Recording --------------------------------------------------------------------------------


@dataclass
class Matcher:
    """Finds the delivery a report answers, and says when it cannot vouch for one."""

    session: Session
    return_path: str | None
    secrets: Sequence[bytes]

    def token_delivery(self, report: Report) -> tuple[Delivery | None, bool]:
        """The delivery a valid token of ours names (in the addresses the report went to, or
        the return path of the copy it carries), and whether any token was there at all."""
        present = False
        addresses = [*report.addressed_to, *report.original_return_path]
        for token in tokens_in(addresses, self.return_path):
            present = True
            delivery_id = read_token(self.secrets, token)
            if delivery_id is not None:
                found = self.session.get(Delivery, delivery_id)
                if found is not None:
                    return found, True
        return None, present

    def verified(self, report: Report, email: str) -> tuple[Delivery | None, str, str]:
        """The delivery a report may act on for one address it names ("" for none), how it
        was found (token, message-id), or why none may be (a sentence for review)."""
        email = email.lower()
        if self.return_path:
            delivery, present = self.token_delivery(report)
            if delivery is None:
                return (
                    None,
                    "",
                    (
                        "its return-path token is not one of ours"
                        if present
                        else "it came without a return-path token of ours"
                    ),
                )
            if not email or email == delivery.email.lower():
                return delivery, "token", ""
            return None, "", f"it names {email}, but its token is for a message to another address"
        if not report.original_message_id:
            return None, "", "it quotes no Message-ID of ours"
        found = self.session.scalar(
            select(Delivery).where(
                Delivery.message_id == report.original_message_id.strip(),
                Delivery.email == email,
            )
        )
        if found is None:
            return None, "", f"it quotes no Message-ID we sent to {email or 'anyone'}"
        return found, "message-id", ""


def _suppression_reason(row: Returned, kind: str) -> str:
    """What a suppression made from a report says: kind, status, reason, the server's words."""
    if kind == "complaint":
        return f"complaint ({row.reason}, {row.diagnostic})"[:200]
    code = f" {row.status}" if row.status else ""
    return f"bounce{code} {row.reason}: {row.diagnostic}"[:200]


def _storable(text: str, limit: int) -> str:
    """A report's words as a column can hold them: no NUL (which PostgreSQL refuses in text)
    and no longer than the column (a forged report's recipient may be 1,000 characters)."""
    return text.replace("\x00", "\ufffd")[:limit]


CLASSIFY_BUDGET = 5.0  # seconds one report may take to read before it is set aside


def classify_within(
    data: bytes,
    ours: set[str] | None = None,
    budget: float = CLASSIFY_BUDGET,
    reader: Callable[[bytes, set[str] | None], Report] = classify,
) -> Report | None:
    """The report classified, or None when reading it failed or took longer than `budget`
    seconds (reading is linear and bounded, so this is a last guard: a report built to be
    slow is set aside as unreadable rather than hold the mailbox, or a write lock)."""
    import threading

    found: list[Report] = []

    def read() -> None:
        with contextlib.suppress(Exception):
            found.append(reader(data, ours))

    worker = threading.Thread(target=read, name="classify", daemon=True)
    worker.start()
    worker.join(budget)
    return found[0] if found else None


def report_fingerprint(data: bytes) -> str:
    """A report's own identity: its Message-ID and its content after the headers (which a
    mailbox, a move or another route may add to), line endings aside."""
    import email

    head, _sep, body = data.replace(b"\r\n", b"\n").partition(b"\n\n")
    message_id = email.message_from_bytes(head + b"\n\n").get("Message-ID", "")
    digest = hashlib.sha256(str(message_id).strip().encode("utf-8", "replace"))
    digest.update(b"\0" + body)
    return digest.hexdigest()


def record_report(
    session: Session,
    source: str,
    data: bytes,
    matcher: Matcher,
    policy: SoftPolicy,
    now: dt.datetime | None = None,
    ours: set[str] | None = None,
    classified: Report | None = None,
) -> Outcome:
    """Classify one report, match it and act on it, in a savepoint of the session's
    transaction; a report recorded before (by its source or its fingerprint) is left alone."""
    outcome = Outcome(reports=1)
    moment = now or utcnow()
    fingerprint = report_fingerprint(data)
    stored = list(
        session.execute(
            select(Bounce.outcome, Bounce.received_at, Bounce.source).where(
                (Bounce.source == source) | (Bounce.fingerprint == fingerprint)
            )
        )
    )
    if stored:
        return Outcome(
            already=1,
            copy=int(all(s != source for _o, _at, s in stored)),
            stays=int(all(o in STAYING for o, _at, _s in stored)),
            recorded_at=min(at for _o, at, _s in stored),
        )
    read = classified if classified is not None else classify_within(data, ours)
    if read is None:  # nobody could read it in time, or at all: counted, never acted on
        outcome.unreadable = 1
        report = Report(kind="other")
    else:
        report = read
    outcome.by_kind[report.kind] += 1
    rows = list(report.recipients)
    if not rows and report.kind in ("bounce", "complaint", "auto-reply"):
        # A report naming nobody answers for the token's own recipient (and nobody else):
        # a complaint whose original went to "undisclosed recipients" is that recipient's.
        delivery, _how, _why = matcher.verified(report, "")
        if delivery is not None:
            action, reason = (
                ("none", "auto-reply") if report.kind == "auto-reply" else report.unnamed
            )
            rows = [Returned(delivery.email, None, action, reason, report.subject)]
    if not rows:
        rows = [Returned("", None, "none", report.kind, report.subject)]
    if len(rows) > policy.max_recipients:
        rows = [
            Returned(r.email, r.status, "none", f"review: names {len(rows)}", r.diagnostic)
            for r in rows
        ]
    # Longer than any mailbox's address (RFC 5321 allows 320 at most): named by a forged or
    # broken report, never acted on.
    rows = [
        r
        if len(r.email) <= 320 and "\x00" not in r.email
        else Returned(_storable(r.email, 320), r.status, "none", "not an address", r.diagnostic)
        for r in rows
    ]
    try:
        with session.begin_nested():
            for row in rows:
                matched, how, why = (
                    matcher.verified(report, row.email) if row.email else (None, "", "")
                )
                new_address = report.new_address if row.reason == "left" else None
                bounce = Bounce(
                    source=_storable(source, 400),
                    fingerprint=fingerprint,
                    email=_storable(row.email, 320),
                    kind=report.kind,
                    action=row.action,
                    reason=_storable(row.reason, 40),
                    status=_storable(row.status, 16) if row.status else None,
                    diagnostic=_storable(row.diagnostic, 2000),
                    delivery_id=matched.id if matched is not None else None,
                    release_id=matched.release_id if matched is not None else None,
                    matched_by=how,
                    # An address no mailbox can have is no address to offer for review.
                    new_address=new_address
                    if new_address and len(new_address) <= 320 and "\x00" not in new_address
                    else None,
                    subject=_storable(report.subject, 500),
                    received_at=moment,
                )
                if matched is None and _would_change_the_list(row, bounce, report):
                    bounce.held = _storable(f"held: {why}", 200)
                    bounce.outcome = "held"
                    outcome.held += 1
                else:
                    bounce.outcome = _act(session, bounce, row, matched, policy, moment, outcome)
                session.add(bounce)
            session.flush()
    except IntegrityError:
        # Another run recorded this report first: nothing of this one stays.
        return Outcome(already=1)
    if (
        outcome.unreadable
        or report.kind == "other"
        or outcome.unmatched
        or outcome.held
        or any(r.reason.startswith("review") for r in rows)
    ):
        outcome.stays = 1
    return outcome


def _would_change_the_list(row: Returned, bounce: Bounce, report: Report) -> bool:
    """Whether acting on this row could suppress an address, count towards suppressing it,
    or offer a new address for it."""
    if report.kind not in ("bounce", "complaint", "auto-reply") or not row.email:
        return False
    return row.action in ("suppress", "retry") or bool(bounce.new_address)


# Outcomes of reports that are left in the mailbox for a person to read.
STAYING = ("unmatched", "other", "held")


def _act(
    session: Session,
    bounce: Bounce,
    row: Returned,
    matched: Delivery | None,
    policy: SoftPolicy,
    now: dt.datetime,
    outcome: Outcome,
) -> str:
    """Do what the row's action says for a verified delivery (alerts and notes need none);
    the word recorded as its outcome."""
    if matched is None:
        outcome.unmatched += 1
        if row.action == "alert":  # about how we send, whichever message it answers
            outcome.alerts[(domain_of(row.email) if row.email else "?", row.reason)] += 1
        return "unmatched"
    outcome.by_action[row.action] += 1
    address = matched.email
    if row.action == "suppress":
        if registry.suppress(session, address, _suppression_reason(row, bounce.kind)) == "created":
            outcome.suppressed.append(address)
        return "suppressed"
    if row.action == "alert":
        outcome.alerts[(domain_of(row.email or address), row.reason)] += 1
        return "alerted"
    if row.action == "retry":
        if _soft_limit_reached(session, address, bounce, policy, now):
            reason = (
                f"repeated soft bounces ({policy.limit} over {policy.releases} releases in"
                f" {policy.days} days), last: {row.reason}: {row.diagnostic}"
            )[:200]
            if registry.suppress(session, address, reason) == "created":
                outcome.suppressed.append(address)
            return "suppressed"
        return "counted"
    if bounce.new_address:
        outcome.reviews.append((address, bounce.new_address))
        return "review"
    return "other" if bounce.kind == "other" else "noted"


def _soft_limit_reached(
    session: Session, address: str, bounce: Bounce, policy: SoftPolicy, now: dt.datetime
) -> bool:
    """Whether this soft bounce, with the address's earlier ones in the window, reaches the
    policy's count over enough releases."""
    earlier = list(
        session.scalars(
            select(Bounce.release_id).where(
                Bounce.email == address,
                Bounce.action == "retry",
                Bounce.received_at >= now - dt.timedelta(days=policy.days),
                Bounce.delivery_id.is_not(None),
            )
        )
    )
    releases = {r for r in [*earlier, bounce.release_id] if r is not None}
    return len(earlier) + 1 >= policy.limit and len(releases) >= policy.releases


def file_source(data: bytes) -> str:
    """The source key of a report read from a file: its digest (the same file twice is one)."""
    return "file:" + hashlib.sha256(data).hexdigest()


# Reading back -----------------------------------------------------------------------------


def list_bounces(
    session: Session, release: str | None = None
) -> Sequence[tuple[Bounce, str | None]]:
    """Recorded reports (newest first), with the slug of the release each answers."""
    query = (
        select(Bounce, Release.slug)
        .join(Release, Release.id == Bounce.release_id, isouter=True)
        .order_by(Bounce.received_at.desc(), Bounce.id.desc())
    )
    if release:
        query = query.where(Release.slug == release.strip().lower())
    return [(b, slug) for b, slug in session.execute(query)]


def reviews(session: Session) -> Sequence[Bounce]:
    """Auto-replies saying a journalist left and naming another address, newest first, for
    addresses still on the list and not suppressed (a held one only once accepted)."""
    suppressed = select(Suppression.email)
    return list(
        session.scalars(
            select(Bounce)
            .where(
                Bounce.new_address.is_not(None),
                Bounce.email.not_in(suppressed),
                Bounce.outcome.not_in(("held", "dismissed", "followed")),
            )
            .order_by(Bounce.received_at.desc())
        )
    )


# Held for review ---------------------------------------------------------------------------


def held(session: Session) -> Sequence[Bounce]:
    """Reports held because nothing vouched for them, oldest first."""
    return list(
        session.scalars(
            select(Bounce).where(Bounce.outcome == "held").order_by(Bounce.received_at, Bounce.id)
        )
    )


def decide_held(session: Session, ids: Sequence[int], accept: bool) -> list[str]:
    """Accept (act as the report says, for the address it names) or dismiss held reports; a
    line per report saying what was done. An id that is not a held report is an error, and
    nothing is changed (the caller's transaction is rolled back)."""
    from civic_contacts.errors import InputError

    rows = {b.id: b for b in session.scalars(select(Bounce).where(Bounce.id.in_(ids)))}
    missing = [str(i) for i in ids if i not in rows or rows[i].outcome != "held"]
    if missing:
        raise InputError(
            f"no held report with id {', '.join(missing)} (civic-contacts bounce review)"
        )
    said = []
    for bounce_id in ids:
        bounce = rows[bounce_id]
        if not accept:
            bounce.outcome = "dismissed"
            said.append(f"{bounce.id} {bounce.email}: dismissed")
            continue
        if bounce.action == "suppress":
            reason = "accepted by an officer: " + _suppression_reason(
                Returned(
                    bounce.email, bounce.status, bounce.action, bounce.reason, bounce.diagnostic
                ),
                bounce.kind,
            )
            registry.suppress(session, bounce.email, reason[:200])
            bounce.outcome = "suppressed"
            said.append(f"{bounce.id} {bounce.email}: suppressed")
        elif bounce.new_address:
            bounce.outcome = "review"
            said.append(
                f"{bounce.id} {bounce.email}: left, new address {bounce.new_address}"
                " offered in civic-contacts journalist review"
            )
        else:
            bounce.outcome = "counted"
            said.append(f"{bounce.id} {bounce.email}: counted as a soft bounce")
    return said


def follow_moved(session: Session, bounce_id: int, accept: bool) -> str:
    """Decide a "journalist moved" task (an auto-reply naming a new address): accepting adds
    the new address at the same outlet with the same name, language, role and beats, and
    removes the old one (archived when they were sent anything); dismissing sets the task
    aside. A line saying what was done."""
    from civic_contacts.errors import InputError
    from civic_contacts.registry.addresses import normalise_email

    bounce = session.get(Bounce, bounce_id)
    if bounce is None or bounce not in reviews(session):
        raise InputError(f"no journalist-moved task with id {bounce_id}")
    if not accept:
        bounce.outcome = "dismissed"
        return f"{bounce.email}: the task is set aside"
    old = registry.get_journalist(session, bounce.email)
    new = normalise_email(bounce.new_address or "")
    if registry.find_journalist(session, new) is None:
        registry.upsert_journalist(
            session,
            registry.JournalistRecord(
                outlet=old.outlet.slug,
                name=old.name,
                email=new,
                language=old.language,
                role=old.role,
                beats=list(old.beats or []),
            ),
        )
    outcome = registry.remove_journalist(session, old.email)
    bounce.outcome = "followed"
    return f"{old.email}: {outcome}; {new} added at {old.outlet.slug}"


def bounce_json(bounce: Bounce, release: str | None) -> dict[str, object]:
    """One recorded report recipient as `bounces list --json` prints it."""
    return {
        "email": bounce.email,
        "kind": bounce.kind,
        "action": bounce.action,
        "reason": bounce.reason,
        "status": bounce.status,
        "diagnostic": bounce.diagnostic,
        "release": release,
        "delivery_id": bounce.delivery_id,
        "matched_by": bounce.matched_by or None,
        "outcome": bounce.outcome,
        "held": bounce.held or None,
        "new_address": bounce.new_address,
        "received_at": bounce.received_at.isoformat().replace("+00:00", "Z"),
    }
