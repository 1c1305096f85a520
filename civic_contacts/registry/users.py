"""The people who work at the desk: their roles, their passwords (Argon2id hashes only), and
logins throttled per person.

Roles, each allowed what the one before is: viewer (reads), officer (edits the registry,
writes releases, builds, sends tests), approver (approves a build for sending), admin (users
and settings). An approver never approves their own build (checked where approving is).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civic_contacts.db import utcnow
from civic_contacts.errors import InputError
from civic_contacts.registry.addresses import normalise_email
from civic_contacts.registry.codes import check_language, check_text, check_timezone
from civic_contacts.registry.models import User

ROLES = ("viewer", "officer", "approver", "admin")
MIN_PASSWORD = 12
# After this many wrong passwords in a row, each further try waits longer (up to LOCK_MAX).
FREE_TRIES = 5
LOCK_BASE = dt.timedelta(seconds=30)
LOCK_MAX = dt.timedelta(minutes=15)

_HASHER = PasswordHasher()
# Verified against when the name is unknown, so that a wrong name takes as long as a wrong
# password and the answer says nothing about who has an account.
_DUMMY = _HASHER.hash("not a password of anyone")


class LoginRefused(InputError):
    """A login that is refused; `until` is set while the account waits after wrong tries."""

    def __init__(self, message: str, until: dt.datetime | None = None) -> None:
        super().__init__(message)
        self.until = until


def allowed(role: str, needed: str) -> bool:
    """Whether `role` may do what `needed` may."""
    return ROLES.index(role) >= ROLES.index(needed)


def check_role(value: str) -> str:
    """One of the roles."""
    role = value.strip().lower()
    if role not in ROLES:
        raise InputError(f'"{value}" is not a role ({", ".join(ROLES)})')
    return role


def check_name(value: str) -> str:
    """A user's name: one line, at most 100 characters."""
    return check_text(value, "name", max_length=100)


def check_password(value: str) -> str:
    """A new password: at least MIN_PASSWORD characters."""
    if len(value) < MIN_PASSWORD:
        raise InputError(f"a password needs at least {MIN_PASSWORD} characters")
    if len(value) > 1000:
        raise InputError("a password of more than 1,000 characters is refused")
    return value


def one_time_password() -> str:
    """A password to give once, changed at the first login."""
    return secrets.token_urlsafe(12)


def find_user(session: Session, name: str) -> User | None:
    """A user by name (case as written)."""
    return session.scalar(select(User).where(User.name == name.strip()))


def get_user(session: Session, name: str) -> User:
    """A user by name, or a one-line refusal."""
    user = find_user(session, name)
    if user is None:
        raise InputError(f'no user "{name}"', hint="civic-contacts user list shows them")
    return user


def list_users(session: Session) -> Sequence[User]:
    """Every user, by name."""
    return session.scalars(select(User).order_by(User.name)).all()


def add_user(
    session: Session,
    name: str,
    role: str,
    language: str = "en",
    timezone: str = "UTC",
    email: str | None = None,
) -> tuple[User, str]:
    """A new user and their one-time password (shown once, never stored)."""
    name = check_name(name)
    if find_user(session, name) is not None:
        raise InputError(f'a user "{name}" exists; nothing was changed')
    password = one_time_password()
    user = User(
        name=name,
        role=check_role(role),
        password_hash=_HASHER.hash(password),
        must_change_password=True,
        language=check_language(language),
        timezone=check_timezone(timezone),
        email=normalise_email(email) if email else None,
        failed_logins=0,
        session_version=0,
    )
    session.add(user)
    session.flush()
    return user, password


def reset_password(session: Session, name: str) -> str:
    """A new one-time password for a user; their sessions end and their lock is lifted."""
    user = get_user(session, name)
    password = one_time_password()
    user.password_hash = _HASHER.hash(password)
    user.must_change_password = True
    user.session_version += 1
    user.failed_logins = 0
    user.locked_until = None
    return password


def change_password(session: Session, user: User, current: str, new: str) -> None:
    """The user's own change: the current password first, then a new one that differs."""
    if not _verified(user.password_hash, current):
        raise InputError("the current password is not right")
    check_password(new)
    if new == current:
        raise InputError("the new password is the same as the current one")
    user.password_hash = _HASHER.hash(new)
    user.must_change_password = False
    user.session_version += 1


def remove_user(session: Session, name: str) -> None:
    """Remove a user; the last admin stays."""
    user = get_user(session, name)
    if user.role == "admin":
        admins = session.scalar(select(func.count()).select_from(User).where(User.role == "admin"))
        if (admins or 0) <= 1:
            raise InputError(f'"{name}" is the last admin; add another admin first')
    session.delete(user)


def _verified(stored: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def authenticate(
    session: Session, name: str, password: str, now: dt.datetime | None = None
) -> User:
    """The user this name and password belong to, or LoginRefused (the same words for a
    wrong name and a wrong password). After FREE_TRIES wrong passwords in a row the account
    waits, twice as long after each further one, before another try is even checked."""
    now = now or utcnow()
    user = find_user(session, name) if len(name) <= 100 else None
    if user is None:
        _verified(_DUMMY, password)
        raise LoginRefused("wrong name or password")
    if user.locked_until is not None and user.locked_until > now:
        raise LoginRefused("too many wrong passwords: wait, then try again", user.locked_until)
    if not _verified(user.password_hash, password[:1000]):
        user.failed_logins += 1
        if user.failed_logins >= FREE_TRIES:
            wait = min(LOCK_MAX, LOCK_BASE * 2 ** (user.failed_logins - FREE_TRIES))
            user.locked_until = now + wait
        raise LoginRefused("wrong name or password")
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = _HASHER.hash(password)
    return user
