"""Bringing a batch's deliveries in line with what is planned now (`Reconciler`): new ones
added, changed ones rendered again, those no longer on the list cancelled, sent ones never
touched."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, bindparam, func, select
from sqlalchemy.orm import Session

from civic_contacts.compose.outbox import BuiltMessage
from civic_contacts.db import insert_rows
from civic_contacts.deliver.ledger import BatchKey, guarded, move
from civic_contacts.deliver.plan import Known, PlannedMessage, S
from civic_contacts.registry.models import Delivery, Release


@dataclass
class Reconciled:
    """What bringing a batch up to date did (or, in a dry run, would do)."""

    added: int = 0
    rerendered: int = 0
    cancelled: int = 0
    unchanged: int = 0
    kept_sent: int = 0
    kept_failed: int = 0
    in_progress: int = 0


class Reconciler:
    """Brings a batch's deliveries in line with what is planned now; sent ones are never touched.

    - a planned recipient with no delivery gets a pending one (`added`); one whose delivery was
      cancelled gets it back, pending again (also `added`);
    - a pending delivery whose message changed (text, language, outlet, routed contacts) is
      rendered again (`rerendered`);
    - a pending delivery whose journalist is no longer planned (removed, suppressed, opted out,
      no longer routed) is cancelled and never sent (`cancelled`);
    - sent and failed deliveries, and those another run is sending right now, stay as they are.

    Recipients are looked up a chunk at a time (`lookup`), new deliveries inserted in chunks
    and changed ones updated in bulk: recording a million messages holds one chunk, not the
    batch. Who is no longer planned is found in SQL when an `audience` clause is given (a
    release's list), else from the deliveries looked up (a notice's few). In a dry run
    nothing is written.
    """

    CHUNK = 1000

    def __init__(
        self,
        session: Session,
        release: Release,
        dry_run: bool = False,
        key: BatchKey | None = None,
        audience: ColumnElement[bool] | None = None,
    ) -> None:
        self.session = session
        self.release = release
        self.key = key or BatchKey(release.id)
        self.dry_run = dry_run
        self.audience = audience
        self.seen: set[int] = set()
        # Deliveries recorded before this run (those it inserts come after): only they can be
        # no longer planned.
        self.before = (
            session.scalar(select(func.max(Delivery.id)).where(self.key.where())) or 0
            if audience is None
            else 0
        )
        self.result = Reconciled()
        self.new_rows: list[dict[str, Any]] = []
        # New rows go in by the driver with their values in stored form; the typed ones
        # (times, the contacts list) repeat from row to row and are converted once each.
        dialect = session.get_bind().dialect
        columns = cast(Table, Delivery.__table__).c
        self._to_time = _converter(columns.built_at.type, dialect)
        self._to_json = _converter(columns.contacts.type, dialect)
        self._stored: dict[tuple[str, object], object] = {}
        self.changed: dict[S, list[dict[str, Any]]] = {S.PENDING: [], S.CANCELLED: []}

    def lookup(self, emails: list[str]) -> dict[str, Known]:
        """The deliveries these recipients already have, in one query per 500."""
        found: dict[str, Known] = {}
        if not emails or (self.audience is None and self.before == 0):
            return found  # nothing was recorded before this run: every recipient is new
        for start in range(0, len(emails), 500):
            for row in self.session.execute(
                select(
                    Delivery.email,
                    Delivery.id,
                    Delivery.status,
                    Delivery.content_hash,
                    Delivery.revision,
                ).where(self.key.where(), Delivery.email.in_(emails[start : start + 500]))
            ):
                found[row[0]] = (row[1], row[2], row[3], row[4])
                if self.audience is None:
                    self.seen.add(row[1])
        return found

    def keep(self, known: Known) -> None:
        """Count a delivery kept as it is without rendering (pending, sent, failed or in flight:
        the sender checks a pending message's bytes against the recorded hash before it goes)."""
        if not self._kept(known[1]):
            self.result.unchanged += 1

    def _kept(self, status: str) -> bool:
        """Count a delivery that stays as it is because it was sent, failed or is in flight."""
        if status == S.SENT:
            self.result.kept_sent += 1
        elif status == S.FAILED:
            self.result.kept_failed += 1
        elif status == S.CLAIMED:
            self.result.in_progress += 1
        else:
            return False
        return True

    def record(self, built: BuiltMessage, known: Known | None) -> None:
        """Record one built message: a new or changed pending delivery, or nothing to do."""
        planned = built.planned
        # The typed values (the contacts list, the embargo) follow: in stored form for a new
        # row, as they are for an update through SQLAlchemy.
        values = {
            "outlet_slug": planned.outlet,
            "journalist_id": planned.journalist_id,
            "language": planned.variant.language,
            "content_hash": built.content_hash,
            "revision": planned.revision,
            "message_id": planned.recipient.message_id,
            "in_reply_to": planned.recipient.in_reply_to,
        }
        if known is None:
            self.new_rows.append(
                {
                    "release_id": self.release.id,
                    "notice_id": self.key.notice_id,
                    "email": planned.recipient.email,
                    "built_at": self._store("time", planned.recipient.date),
                    "status": S.PENDING.value,
                    "attempts": 0,
                    **values,
                    "contacts": self._store("json", planned.contact_names),
                    "embargo": self._store("time", planned.variant.embargo),
                }
            )
            self.result.added += 1
            if len(self.new_rows) >= self.CHUNK:
                self._flush()
            return
        delivery_id, status, content_hash, revision = known
        if self._kept(status):
            return
        values["contacts"] = list(planned.contact_names)
        values["embargo"] = planned.variant.embargo
        if status == S.CANCELLED:
            self.changed[S.CANCELLED].append({"id": delivery_id, **values})
            self.result.added += 1
        elif content_hash != built.content_hash or revision != planned.revision:
            self.changed[S.PENDING].append({"id": delivery_id, **values})
            if content_hash != built.content_hash:
                self.result.rerendered += 1
            else:
                self.result.unchanged += 1
        else:
            self.result.unchanged += 1
        if sum(len(rows) for rows in self.changed.values()) >= self.CHUNK:
            self._flush()

    def _store(self, kind: str, value: Any) -> object:
        """A value as the column stores it, converted once per distinct value."""
        key = (kind, value)
        stored = self._stored.get(key, _MISSING)
        if stored is _MISSING:
            if len(self._stored) > 4096:
                self._stored.clear()
            if kind == "json":
                value = list(value)
            convert = self._to_json if kind == "json" else self._to_time
            stored = convert(value) if value is not None else None
            self._stored[key] = stored
        return stored

    def _flush(self) -> None:
        if self.dry_run:
            self.new_rows = []
            for rows in self.changed.values():
                rows.clear()
            return
        connection = self.session.connection()
        if self.new_rows:
            # By the driver, not the ORM or SQLAlchemy's pass over each row's parameters: the
            # rows are plain values in stored form and nothing needs them as objects.
            insert_rows(connection, cast(Table, Delivery.__table__), self.new_rows)
            self.new_rows = []
        for old, rows in self.changed.items():
            if not rows:
                continue
            # Guarded by the old status: a row another run has just claimed is left to it.
            keys = [k for k in rows[0] if k != "id"]
            statement = guarded(old, S.PENDING).where(Delivery.id == bindparam("b_id"))
            statement = statement.values({k: bindparam(f"b_{k}") for k in keys})
            connection.execute(statement, [{f"b_{k}": v for k, v in row.items()} for row in rows])
            rows.clear()

    def finish(self, also: Iterable[int] = ()) -> Reconciled:
        """Write what is left and cancel the pending deliveries no longer planned (`also`:
        pending ones the plan itself left out, as the audience rules do)."""
        self._flush()
        pending = select(Delivery.id).where(self.key.where(), Delivery.status == S.PENDING.value)
        if self.audience is not None:
            gone = list(self.session.scalars(pending.where(~self.audience)))
            gone.extend(set(also) - set(gone))
        else:
            earlier = pending.where(Delivery.id <= self.before)
            gone = [i for i in self.session.scalars(earlier) if i not in self.seen]
        if gone and not self.dry_run:
            self.result.cancelled = move(self.session, gone, S.PENDING, S.CANCELLED)
        else:
            self.result.cancelled = len(gone)
        if not self.dry_run:
            self.session.flush()
        return self.result


_MISSING = object()


def _converter(kind: Any, dialect: Any) -> Any:
    """The function that turns a value into what the column stores on this database."""
    convert = kind.dialect_impl(dialect).bind_processor(dialect)
    return convert if convert is not None else (lambda value: value)


def with_known(
    messages: Iterable[PlannedMessage], book: Reconciler
) -> Iterator[tuple[PlannedMessage, Known | None]]:
    """Each planned message with the delivery its recipient already has, looked up a chunk at a
    time."""
    chunk: list[PlannedMessage] = []

    def flush() -> Iterator[tuple[PlannedMessage, Known | None]]:
        known = book.lookup([m.recipient.email for m in chunk if not m.looked_up])
        for planned in chunk:
            yield (
                planned,
                planned.known if planned.looked_up else known.get(planned.recipient.email),
            )
        chunk.clear()

    for planned in messages:
        chunk.append(planned)
        if len(chunk) >= book.CHUNK:
            yield from flush()
    if chunk:
        yield from flush()
