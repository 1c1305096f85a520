"""Erasure on request (GDPR Article 17): what is held about one journalist goes, and a keyed
hash of the address stays on the suppression list so that the address is refused, with a
clear line, if an import or `journalist add` ever brings it back."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civic_contacts.registry import history
from civic_contacts.registry import store as registry
from civic_contacts.registry.models import Bounce, Delivery, Suppression

ERASED = "erased:"
_KEY = "erasure_key"


def _erasure_key(session: Session) -> bytes:
    """The registry's own key for erased addresses, made once (it never rotates, so an
    erased address is recognised however long after)."""
    import secrets

    from civic_contacts.registry.models import RegistryMeta

    found = session.get(RegistryMeta, _KEY)
    if found is None:
        found = RegistryMeta(key=_KEY, value=secrets.token_hex(32))
        session.add(found)
        session.flush()
    return bytes.fromhex(found.value)


def erased_mark(session: Session, email: str) -> str:
    """What stays of an erased address: a keyed hash (HMAC-SHA256), never the address."""
    import hashlib
    import hmac

    digest = hmac.new(_erasure_key(session), email.strip().lower().encode(), hashlib.sha256)
    return ERASED + digest.hexdigest()[:40]


def erased_among(session: Session, emails: list[str]) -> set[str]:
    """Those of `emails` that were erased on request."""
    if not emails:
        return set()
    if session.scalar(select(Suppression.id).where(Suppression.email.startswith(ERASED))) is None:
        return set()  # nothing was ever erased: no key to make
    marks = {erased_mark(session, e): e for e in emails}
    found = session.scalars(select(Suppression.email).where(Suppression.email.in_(list(marks))))
    return {marks[m] for m in found}


def erase(session: Session, email: str) -> int:
    """Delete what is held about one journalist: the record and its numbers; in messages sent,
    what came back and the history, the address is replaced by its keyed hash and the
    history's values are dropped; messages not yet sent are cancelled. A suppression keeping
    only the keyed hash refuses the address if it is ever imported again. The rows changed."""
    from sqlalchemy import Text, func, update

    from civic_contacts.registry.models import Change, Phone

    journalist = registry.get_journalist(session, email)
    address = journalist.email
    mark = erased_mark(session, address)
    changed = 0
    session.execute(
        update(Delivery)
        .where(Delivery.email == address, Delivery.status == "pending")
        .values(status="cancelled")
    )
    for model in (Delivery, Bounce):
        result = session.execute(update(model).where(model.email == address).values(email=mark))
        changed += int(getattr(result, "rowcount", 0) or 0)
    result = session.execute(
        update(Change).where(Change.key == address).values(key=mark, fields={}, command="(erased)")
    )
    changed += int(getattr(result, "rowcount", 0) or 0)
    for chunk in session.scalars(
        select(Change).where(
            Change.kind == "journalists",
            func.cast(Change.fields, Text).contains(f'"{address}"', autoescape=True),
        )
    ):
        fields: dict[str, Any] = dict(chunk.fields)
        fields["created"] = [e for e in fields.get("created", []) if e != address]
        fields["updated"] = {
            k: v for k, v in dict(fields.get("updated", {})).items() if k != address
        }
        chunk.fields = fields
        changed += 1
    existing = session.scalar(select(Suppression).where(Suppression.email == address))
    if existing is not None:
        session.delete(existing)
    session.execute(
        Phone.__table__.delete().where(Phone.journalist_id == journalist.id)  # type: ignore[attr-defined]
    )
    session.delete(journalist)
    session.flush()
    session.add(Suppression(email=mark, reason="erased on request"))
    session.add(
        Change(
            by=history.actor()[0],
            command=history.actor()[1],
            kind="journalist",
            key=mark,
            action="erased",
            fields={},
        )
    )
    session.flush()
    return changed + 1
