"""Everything held about one journalist, for their right of access (GDPR Article 15): the
record, its history, every message sent to them, what came back, and any suppression."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civic_contacts.registry import history
from civic_contacts.registry import store as registry
from civic_contacts.registry.models import Bounce, Delivery, Release, Suppression


def _when(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def everything_about(session: Session, email: str) -> dict[str, Any]:
    """One journalist's data as JSON values: refused for an address nobody holds."""
    from civic_contacts.registry.exporting import journalist_json

    journalist = registry.get_journalist(session, email)
    address = journalist.email
    record = journalist_json(journalist, registry.suppressed_emails(session))
    record.update(
        {
            "created_at": _when(journalist.created_at),
            "updated_at": _when(journalist.updated_at),
            "archived_at": _when(journalist.archived_at),
        }
    )
    deliveries = [
        {
            "release": slug,
            "kind": "notice" if delivery.notice_id else "release",
            "status": delivery.status,
            "language": delivery.language,
            "message_id": delivery.message_id,
            "sent_at": _when(delivery.sent_at),
            "server_reply": delivery.server_reply,
        }
        for delivery, slug in session.execute(
            select(Delivery, Release.slug)
            .join(Release, Release.id == Delivery.release_id)
            .where(Delivery.email == address)
            .order_by(Delivery.id)
        )
    ]
    bounces = [
        {
            "kind": b.kind,
            "action": b.action,
            "reason": b.reason,
            "status": b.status,
            "diagnostic": b.diagnostic,
            "outcome": b.outcome,
            "received_at": _when(b.received_at),
        }
        for b in session.scalars(select(Bounce).where(Bounce.email == address).order_by(Bounce.id))
    ]
    suppression = session.scalar(select(Suppression).where(Suppression.email == address))
    changes = history.entries(session, "journalist", address, limit=10_000) + history.entries(
        session, "suppression", address, limit=10_000
    )
    sources = [
        {
            "at": _when(c.at),
            "file": dict(c.fields).get("file"),
            "source": dict(c.fields).get("source"),
            "basis": dict(c.fields).get("basis"),
        }
        for c in sorted(changes, key=lambda c: c.id)
        if c.kind == "import"
    ]
    return {
        "journalist": record,
        "sources": sources,
        "history": [history.entry_json(c) for c in sorted(changes, key=lambda c: c.id)],
        "deliveries": deliveries,
        "bounces": bounces,
        "suppression": None
        if suppression is None
        else {"reason": suppression.reason, "created_at": _when(suppression.created_at)},
        "held_by": "the press office's registry (civic-contacts)",
        "why": "legitimate interest of the press office: sending releases to journalists",
    }
