"""Approval by a second person: an embargoed batch or notice goes out only after an approver
other than the one who built it approves that exact build.

The rule lives here, in the core, so that the desk, `batch send`, `notice send` and a library
caller all obey it. It holds when `[web] require_approval` is true (the default) and the
registry has desk users: an office with no users has nobody to approve, and works as before.
An approval records the build's time; every build stamps a new time, so a rebuild withdraws
it. Approving and building are both written to the history with names and times.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civic_contacts.config import Settings
from civic_contacts.db import utcnow
from civic_contacts.errors import InputError
from civic_contacts.registry import history
from civic_contacts.registry.models import Batch, Notice, Release, User

Built = Batch | Notice


class NotApproved(InputError):
    """A send refused because the build it would send is not approved."""


@dataclass(frozen=True)
class ApprovalState:
    """Where a build stands: whether the rule applies to it, who built it, who approved it."""

    required: bool
    built_by: str | None
    built_at: dt.datetime
    approved_by: str | None
    approved_at: dt.datetime | None

    @property
    def approved(self) -> bool:
        """Whether the build as it stands is approved."""
        return self.approved_by is not None

    @property
    def may_send(self) -> bool:
        """Whether the rule lets this build go out."""
        return self.approved or not self.required


def has_users(session: Session) -> bool:
    """Whether anyone works at the desk."""
    return bool(session.scalar(select(func.count()).select_from(User)))


def embargoed(release: Release, built: Built, now: dt.datetime) -> bool:
    """Whether what this build sends is still under embargo: a batch built to go after the lift
    is not; a notice is while its release's embargo is to come."""
    if release.embargo is None or release.embargo <= now:
        return False
    return not (isinstance(built, Batch) and built.after_embargo)


def required(
    session: Session, settings: Settings, release: Release, built: Built, now: dt.datetime
) -> bool:
    """Whether this build needs an approval before it goes out."""
    return settings.require_approval and embargoed(release, built, now) and has_users(session)


def state(
    session: Session, settings: Settings, release: Release, built: Built, now: dt.datetime | None
) -> ApprovalState:
    """Where this build stands."""
    current = built.approved_by is not None and built.approved_build == built.built_at
    return ApprovalState(
        required=required(session, settings, release, built, now or utcnow()),
        built_by=built.built_by,
        built_at=built.built_at,
        approved_by=built.approved_by if current else None,
        approved_at=built.approved_at if current else None,
    )


def mark_built(session: Session, release: Release, built: Built) -> None:
    """A new build: who built it, in the history too; any approval of an earlier build no
    longer holds."""
    built.built_by = history.actor()[0]
    withdrawn = built.approved_by is not None
    built.approved_by = None
    built.approved_at = None
    built.approved_build = None
    kind = "batch" if isinstance(built, Batch) else "notice"
    fields: dict[str, object] = {"built_at": built.built_at.isoformat(), "by": built.built_by}
    if withdrawn:
        fields["approval"] = "withdrawn by the rebuild"
    history.record(session, kind, describe(release, built), "built", fields)


def describe(release: Release, built: Built) -> str:
    """What a build is, for people: the release's slug, or "moved notice of <slug>"."""
    return release.slug if isinstance(built, Batch) else f"{built.kind} notice of {release.slug}"


def approve(
    session: Session, release: Release, built: Built, user: User, now: dt.datetime | None = None
) -> None:
    """Approve this build as `user`: an approver (or admin) who did not build it."""
    from civic_contacts.registry.users import allowed

    what = describe(release, built)
    if not allowed(user.role, "approver"):
        raise InputError(f"{user.name} is {user.role}: only an approver or admin approves a send")
    if built.built_by is not None and built.built_by == user.name:
        raise InputError(
            f"{what}: {user.name} built it, so someone else approves it; nothing was changed"
        )
    moment = now or utcnow()
    built.approved_by = user.name
    built.approved_at = moment
    built.approved_build = built.built_at
    kind = "batch" if isinstance(built, Batch) else "notice"
    history.record(
        session,
        kind,
        what,
        "approved",
        {"built_at": built.built_at.isoformat(), "built_by": built.built_by, "by": user.name},
    )


def withdraw(session: Session, release: Release, built: Built, user: User) -> None:
    """Withdraw an approval (an approver or admin may, before the send)."""
    from civic_contacts.registry.users import allowed

    if not allowed(user.role, "approver"):
        raise InputError(f"{user.name} is {user.role}: only an approver or admin withdraws one")
    built.approved_by = None
    built.approved_at = None
    built.approved_build = None
    kind = "batch" if isinstance(built, Batch) else "notice"
    history.record(session, kind, describe(release, built), "approval withdrawn", {"by": user.name})


def find_build(session: Session, slug: str, kind: str | None = None) -> tuple[Release, Built]:
    """The release and its current build: the batch, or (with `kind`) the notice of that kind
    built for its current revision."""
    from civic_contacts.deliver.notice_rules import current_notice, parse_kind
    from civic_contacts.releases.store import get_release

    release = get_release(session, slug)
    built: Built | None
    if kind is None:
        built = session.scalar(select(Batch).where(Batch.release_id == release.id))
        missing = f"{release.slug} has no batch built yet"
    else:
        built = current_notice(session, release, parse_kind(kind))
        missing = f"no {kind} notice of {release.slug} was built for its current revision"
    if built is None:
        raise InputError(f"{missing}; nothing to approve")
    return release, built


def approve_as(
    session: Session,
    slug: str,
    name: str,
    password: str,
    kind: str | None = None,
    now: dt.datetime | None = None,
) -> tuple[Release, Built]:
    """Approve a release's current build (or notice) as the user with this name and password
    (checked, and throttled, as at the desk's login); the release and the build approved."""
    from civic_contacts.registry.users import authenticate

    user = authenticate(session, name, password, now)
    if user.must_change_password:
        # A one-time password is known to whoever gave it: it approves nothing.
        raise InputError(
            f"{user.name} has a one-time password: choose your own at the desk first"
            " (civic-contacts serve); nothing was approved"
        )
    release, built = find_build(session, slug, kind)
    approve(session, release, built, user, now)
    return release, built


def check_may_send(
    session: Session, settings: Settings, release: Release, built: Built, now: dt.datetime
) -> None:
    """Refuse a send whose build needs an approval it does not have."""
    found = state(session, settings, release, built, now)
    if found.may_send:
        return
    who = f" by {found.built_by}" if found.built_by else ""
    raise NotApproved(
        f"{describe(release, built)}: the build of {found.built_at:%Y-%m-%d %H:%M} UTC{who} is"
        " embargoed and not approved; nothing was sent",
        hint="an approver other than its builder approves it at the desk (civic-contacts serve)"
        f" or with: civic-contacts batch approve {release.slug} --user NAME",
    )


def check_approved(
    session: Session, settings: Settings, slug: str, kind: str | None = None
) -> None:
    """Refuse now, not at the hour, a scheduled send whose build needs an approval it does
    not have (a build not made yet is left to the send itself)."""
    try:
        release, built = find_build(session, slug, kind)
    except InputError:
        return
    check_may_send(session, settings, release, built, utcnow())
