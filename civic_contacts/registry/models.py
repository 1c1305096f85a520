"""The registry's tables and their relationships, and nothing else.

Lists (languages, coverage, tags) are JSON lists so that their order, which routing relies
on, is kept. Instants are aware UTC datetimes (see `db.UTCDateTime`).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from civic_contacts.db import Base, UTCDateTime, utcnow

# The values of deliveries.DeliveryStatus (kept here as plain strings for the CHECK constraint).
DELIVERY_STATUSES = ("pending", "claimed", "sent", "failed", "cancelled")


class Office(Base):
    """Where our press contacts sit, and which countries it speaks for."""

    __tablename__ = "offices"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(200))
    # The city's name in other languages ({"fr": "La Haye"}), for messages in them.
    cities: Mapped[dict[str, str]] = mapped_column(default=dict, server_default="{}")
    country: Mapped[str] = mapped_column(String(2))
    timezone: Mapped[str] = mapped_column(String(64))
    languages: Mapped[list[str]]
    covers: Mapped[list[str]]

    contacts: Mapped[list[PressContact]] = relationship(back_populates="office")


class PressContact(Base):
    """One of our own spokespeople."""

    __tablename__ = "press_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    role: Mapped[str] = mapped_column(String(200), default="")
    # The role in other languages, by language code ({"fr": "Porte-parole"}): a message in
    # one of them shows that one, others show `role` as written.
    roles: Mapped[dict[str, str]] = mapped_column(default=dict, server_default="{}")
    languages: Mapped[list[str]]
    email: Mapped[str] = mapped_column(String(320), unique=True)
    rank: Mapped[int] = mapped_column(Integer, default=100)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    office: Mapped[Office] = relationship(back_populates="contacts")
    phones: Mapped[list[Phone]] = relationship(
        back_populates="contact",
        order_by="Phone.position",
        cascade="all, delete-orphan",
        foreign_keys="Phone.contact_id",
    )


class Outlet(Base):
    """A media organisation."""

    __tablename__ = "outlets"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2), index=True)
    languages: Mapped[list[str]]
    timezone: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32), default="online")
    tags: Mapped[list[str]]
    # Languages the readers also read, in order, tried after `languages` (see routing).
    also_reads: Mapped[list[str]] = mapped_column(default=list, server_default="[]")
    # Topics the outlet covers (codes of `topics`): its journalists' beats when they have none.
    beats: Mapped[list[str]] = mapped_column(default=list, server_default="[]")

    journalists: Mapped[list[Journalist]] = relationship(back_populates="outlet")


class Journalist(Base):
    """A person at an outlet who receives releases."""

    __tablename__ = "journalists"
    # The desk's list pages through journalists by name (then email) from this index.
    __table_args__ = (Index("ix_journalists_name_email", "name", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlets.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    language: Mapped[str | None] = mapped_column(String(35), default=None)
    role: Mapped[str] = mapped_column(String(200), default="")
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    # Topics they cover (codes of `topics`); none: the outlet's, else every topic.
    beats: Mapped[list[str]] = mapped_column(default=list, server_default="[]")
    # What they chose on their preference page: other languages they read (after `language`),
    # the offices and countries they follow (none: all), at most this many releases in seven
    # days (None: no limit), and whether they take embargoed material.
    also_reads: Mapped[list[str]] = mapped_column(default=list, server_default="[]")
    follows: Mapped[list[str]] = mapped_column(default=list, server_default="[]")
    weekly_cap: Mapped[int | None] = mapped_column(Integer, default=None)
    accepts_embargoed: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # Set by `journalist remove` when messages were sent to them: kept for the audit, never routed.
    archived_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    outlet: Mapped[Outlet] = relationship(back_populates="journalists")
    phones: Mapped[list[Phone]] = relationship(
        back_populates="journalist",
        order_by="Phone.position",
        cascade="all, delete-orphan",
        foreign_keys="Phone.journalist_id",
    )


class Topic(Base):
    """A topic of the office's shared vocabulary: releases carry topics, journalists and
    outlets beats, both codes of this table."""

    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    # Its name in each language (the code when a language has none).
    labels: Mapped[dict[str, str]] = mapped_column(default=dict, server_default="{}")


class User(Base):
    """Someone who works at the desk (`civic-contacts serve`): a name, a role, an Argon2id
    password hash (never the password), their language and time zone, and what login
    throttling needs."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(200))
    # Set by `user add` and `user reset-password`: the one-time password must be changed.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    language: Mapped[str] = mapped_column(String(35), default="en")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # Where the desk sends their test messages (none: they cannot send a test).
    email: Mapped[str | None] = mapped_column(String(320), default=None)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    # Rises with every password change: sessions signed before it end.
    session_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)

    __table_args__ = (
        CheckConstraint(
            "role IN ('viewer', 'officer', 'approver', 'admin')", name="user_role_known"
        ),
    )


class Phone(Base):
    """A number of a press contact or a journalist: E.164 when valid, and always the raw text."""

    __tablename__ = "phones"
    __table_args__ = (
        CheckConstraint("(contact_id IS NULL) <> (journalist_id IS NULL)", name="one_owner"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("press_contacts.id", ondelete="CASCADE"), index=True, default=None
    )
    journalist_id: Mapped[int | None] = mapped_column(
        ForeignKey("journalists.id", ondelete="CASCADE"), index=True, default=None
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    raw: Mapped[str] = mapped_column(String(200))
    e164: Mapped[str | None] = mapped_column(String(20), default=None)
    extension: Mapped[str | None] = mapped_column(String(20), default=None)
    kind: Mapped[str] = mapped_column(String(32), default="unknown")
    valid: Mapped[bool] = mapped_column(Boolean, default=False)
    whatsapp: Mapped[bool] = mapped_column(Boolean, default=False)
    label: Mapped[str] = mapped_column(String(100), default="")
    problem: Mapped[str | None] = mapped_column(String(200), default=None)

    contact: Mapped[PressContact | None] = relationship(
        back_populates="phones", foreign_keys=[contact_id]
    )
    journalist: Mapped[Journalist | None] = relationship(
        back_populates="phones", foreign_keys=[journalist_id]
    )


class Suppression(Base):
    """An address that must never receive mail."""

    __tablename__ = "suppressions"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Change(Base):
    """One change to the registry, for `history`: when, by whom, the command, what and the
    fields before and after. An import is one row (`kind` "import", its counts in `fields`)
    with the rows of what it did pointing at it (`import_id`): a chunk of journalists each,
    or one record each."""

    __tablename__ = "changes"
    __table_args__ = (Index("ix_changes_kind_key", "kind", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    by: Mapped[str] = mapped_column(String(200), default="")
    command: Mapped[str] = mapped_column(Text, default="")
    # office, contact, outlet, journalist, suppression; "import" for an import's own row;
    # "journalists" for a chunk of an import's journalists.
    kind: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(320), default="")
    # created, updated, removed, archived, suppressed, unsuppressed; import; undone.
    action: Mapped[str] = mapped_column(String(20))
    # {field: [before, after]} as people read them; for a chunk, {"created": [keys],
    # "updated": {key: {field: [before, after]}}}; for an import, its file and counts.
    fields: Mapped[dict[str, list[str]]] = mapped_column(default=dict)
    import_id: Mapped[int | None] = mapped_column(
        ForeignKey("changes.id", ondelete="CASCADE"), index=True, default=None
    )


class Release(Base):
    """What is sent: one owning office, the countries it concerns, an embargo (or none)."""

    __tablename__ = "releases"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    concerns: Mapped[list[str]]
    # The release's own fallback languages, in order (front matter `fallback`).
    fallback: Mapped[list[str]] = mapped_column(default=list, server_default="[]")
    embargo: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    # Raised each time the embargo moves, so calendar entries update in place (same UID).
    embargo_sequence: Mapped[int] = mapped_column(Integer, default=0)
    # Raised each time the embargo or any text changes; deliveries say which one they show.
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # Set by `release remove` when messages were sent: kept for the audit, never built again.
    archived_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    # Set when the officer withdraws the release (the `cancelled` notice): never sent again.
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    # Where the release is public once the embargo lifts (named in the `lifted` notice).
    link: Mapped[str | None] = mapped_column(Text, default=None)
    # Whether messages keep the body's own closing contact block (else the routed one only).
    keep_contact_block: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Topics of the release (codes of `topics`): routing sends it to journalists whose beats
    # meet them, and to those with no beats unless `topics_open` is false.
    topics: Mapped[list[str]] = mapped_column(default=list, server_default="[]")
    topics_open: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    office: Mapped[Office] = relationship()
    translations: Mapped[list[ReleaseTranslation]] = relationship(
        back_populates="release",
        order_by="ReleaseTranslation.position",
        cascade="all, delete-orphan",
    )


class ReleaseTranslation(Base):
    """A release's text in one language."""

    __tablename__ = "release_translations"
    __table_args__ = (UniqueConstraint("release_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(35))
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(Text)
    dateline: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text)

    release: Mapped[Release] = relationship(back_populates="translations")


class ReleaseRevision(Base):
    """One version of a release: when it was recorded, what changed, and its text then."""

    __tablename__ = "release_revisions"
    __table_args__ = (UniqueConstraint("release_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    embargo: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    embargo_changed: Mapped[bool] = mapped_column(Boolean, default=False)
    # Languages whose title, dateline or body changed (added languages included).
    text_changed: Mapped[list[str]]
    # What changed, a line each, for people ("embargo moved later by 2 days", "fr: paragraph 3").
    summary: Mapped[list[str]]
    # The text of every language at this revision: {language: [title, dateline, body]}.
    texts: Mapped[dict[str, list[str]]]
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)


class Notice(Base):
    """A follow-up to the journalists who were sent a release, for one revision of it."""

    __tablename__ = "notices"
    __table_args__ = (UniqueConstraint("release_id", "kind", "revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(
        ForeignKey("releases.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    revision: Mapped[int] = mapped_column(Integer)
    # The calendar entry's SEQUENCE in this notice (moved and cancelled raise it).
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    templates: Mapped[str | None] = mapped_column(Text, default=None)
    outbox: Mapped[str | None] = mapped_column(Text, default=None)
    from_name: Mapped[str] = mapped_column(String(200))
    from_address: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    built_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Who built it (the history's actor) and who approved which build: the approval holds
    # the build's time, so a rebuild withdraws it (see deliver/approval.py).
    built_by: Mapped[str | None] = mapped_column(String(100), default=None)
    approved_by: Mapped[str | None] = mapped_column(String(100), default=None)
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    approved_build: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)

    release: Mapped[Release] = relationship()


DELIVERIES_FILLFACTOR = 60  # percent of a PostgreSQL page a build fills with deliveries

# The deliveries' partial indexes and the condition of each, as the migrations make them
# (0005, 0013, 0015); on PostgreSQL the table is made with DELIVERIES_FILLFACTOR: room on each
# page for a row's next versions, since a claim updates a page's rows in one transaction.
# Kept here rather than as `sqlite_where=` / `postgresql_where=` / `postgresql_with=` on the
# models: SQLAlchemy checks such arguments by importing every dialect they name, PostgreSQL's
# whole package (about 35 ms) in every command on SQLite. The schema comes from the
# migrations alone; tests/test_migrations.py holds each index to its condition here.
PARTIAL_INDEXES = {
    "uq_deliveries_release_email": "notice_id IS NULL",
    "uq_deliveries_notice_email": "notice_id IS NOT NULL",
    "ix_deliveries_claim": "notice_id IS NULL",
    "ix_deliveries_notice_claim": "notice_id IS NOT NULL",
    "ix_deliveries_release_order": "notice_id IS NULL",
    "ix_deliveries_notice_order": "notice_id IS NOT NULL",
}


class Delivery(Base):
    """One message to one journalist for one release (or one notice of it), and what became
    of it."""

    __tablename__ = "deliveries"
    __table_args__ = (
        # One message per address in the release's own batch, and one per address per notice
        # (each partial: see PARTIAL_INDEXES).
        Index("uq_deliveries_release_email", "release_id", "email", unique=True),
        Index("uq_deliveries_notice_email", "notice_id", "email", unique=True),
        CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in DELIVERY_STATUSES) + ")", name="status"
        ),
        # Claiming walks a batch's pending deliveries in id order, a few at a time.
        # SQLite: by status, so that a batch's counts by status read the index alone (a
        # notice's rows have their own: see migration 0013).
        Index("ix_deliveries_claim", "release_id", "status", "id").ddl_if(dialect="sqlite"),
        Index("ix_deliveries_notice_claim", "notice_id", "status", "id").ddl_if(dialect="sqlite"),
        # PostgreSQL: by batch and id alone, so that no index holds a column that claiming or
        # marking a message changes: both are then HOT updates (a new row version on the same
        # page, and no index entry), and a claim finds its batch's pending rows past the last
        # one it took, reading each row's status (see migration 0015).
        Index("ix_deliveries_release_order", "release_id", "id").ddl_if(dialect="postgresql"),
        Index("ix_deliveries_notice_order", "notice_id", "id").ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(
        ForeignKey("releases.id", ondelete="CASCADE"), index=True
    )
    # None for the release's own batch; the notice otherwise.
    notice_id: Mapped[int | None] = mapped_column(
        ForeignKey("notices.id", ondelete="CASCADE"), default=None
    )
    journalist_id: Mapped[int | None] = mapped_column(
        ForeignKey("journalists.id", ondelete="SET NULL"), index=True, default=None
    )
    email: Mapped[str] = mapped_column(String(320))
    outlet_slug: Mapped[str] = mapped_column(String(100))
    language: Mapped[str] = mapped_column(String(35))
    contacts: Mapped[list[str]]
    message_id: Mapped[str] = mapped_column(String(250), unique=True)
    # A notice answers the journalist's original message (threading in their mail client).
    in_reply_to: Mapped[str | None] = mapped_column(String(250), default=None)
    content_hash: Mapped[str] = mapped_column(String(64))
    embargo: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    # The release revision this message was rendered from.
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    status: Mapped[str] = mapped_column(String(16), default=DELIVERY_STATUSES[0])
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    server_reply: Mapped[str | None] = mapped_column(Text, default=None)
    built_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    claimed_by: Mapped[str | None] = mapped_column(String(200), default=None)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    sent_by: Mapped[str | None] = mapped_column(String(100), default=None)

    release: Mapped[Release] = relationship()


class Batch(Base):
    """What a release's batch was last built with, so that sending and testing use exactly that."""

    __tablename__ = "batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(
        ForeignKey("releases.id", ondelete="CASCADE"), unique=True
    )
    templates: Mapped[str | None] = mapped_column(Text, default=None)
    max_contacts: Mapped[int] = mapped_column(Integer, default=2)
    after_embargo: Mapped[bool] = mapped_column(Boolean, default=False)
    outbox: Mapped[str | None] = mapped_column(Text, default=None)
    from_name: Mapped[str] = mapped_column(String(200))
    from_address: Mapped[str] = mapped_column(String(320))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    built_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The registry's version the deliveries were last brought in line with, and the batch's
    # size then: a send of a batch that still matches starts without routing the list again.
    registry_version: Mapped[str | None] = mapped_column(String(64), default=None)
    recipients: Mapped[int | None] = mapped_column(Integer, default=None)
    outlets: Mapped[int | None] = mapped_column(Integer, default=None)
    # Who built it (the history's actor) and who approved which build: the approval holds
    # the build's time, so a rebuild withdraws it (see deliver/approval.py).
    built_by: Mapped[str | None] = mapped_column(String(100), default=None)
    approved_by: Mapped[str | None] = mapped_column(String(100), default=None)
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    approved_build: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)

    release: Mapped[Release] = relationship()


class RegistryMeta(Base):
    """Facts about the registry itself (such as: it holds the demo's invented data)."""

    __tablename__ = "registry_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class SendPace(Base):
    """When the next message of a pace may start: "org" (the organisation's rate) or
    "domain:<name>" (one recipient domain), in Unix seconds, shared by every sender."""

    __tablename__ = "send_pace"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    next_at: Mapped[float] = mapped_column(Float)


class Bounce(Base):
    """What came back about one recipient of one report (a bounce, an auto-reply or a
    complaint), read once from a mailbox or a file, and what was done about it."""

    __tablename__ = "bounces"
    __table_args__ = (
        # A report is processed once: its source (a mailbox's UIDVALIDITY and UID, or a file's
        # digest) and the recipient are unique, so a second run, or a concurrent one, skips it.
        UniqueConstraint("source", "email"),
        Index("ix_bounces_email_received", "email", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(400))
    email: Mapped[str] = mapped_column(String(320), default="")
    kind: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(40), default="")
    status: Mapped[str | None] = mapped_column(String(16), default=None)
    diagnostic: Mapped[str] = mapped_column(Text, default="")
    delivery_id: Mapped[int | None] = mapped_column(
        ForeignKey("deliveries.id", ondelete="SET NULL"), index=True, default=None
    )
    release_id: Mapped[int | None] = mapped_column(
        ForeignKey("releases.id", ondelete="SET NULL"), index=True, default=None
    )
    # How the report was matched to its delivery: token, message-id, recipient or "" (none).
    matched_by: Mapped[str] = mapped_column(String(16), default="")
    # What was done: suppressed, alerted, counted (a soft bounce), noted, unmatched, held
    # (for an officer's review: see `held`), then accepted or dismissed.
    outcome: Mapped[str] = mapped_column(String(16), default="")
    # Why a report that would change the list was held rather than acted on.
    held: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # The report's own identity (Message-ID and content): read once, wherever it is read.
    fingerprint: Mapped[str | None] = mapped_column(String(64), index=True, default=None)
    # An auto-reply that says the person left and names another address: a review task.
    new_address: Mapped[str | None] = mapped_column(String(320), default=None)
    subject: Mapped[str] = mapped_column(String(500), default="")
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
