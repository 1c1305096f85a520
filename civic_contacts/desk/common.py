"""What the desk's pages share: the desk's parts (settings, the outbox folder, the sends, the
transport), the role check every action passes, a page, a moment in someone's zone, the CSRF
token."""

from __future__ import annotations

import datetime as dt
import functools
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask import g, render_template, session

from civic_contacts.config import Settings
from civic_contacts.deliver.transport import Transport
from civic_contacts.desk.sends import Sends
from civic_contacts.desk.words import word
from civic_contacts.registry.models import User
from civic_contacts.registry.users import allowed

# A file name as saved: nothing that could leave its folder or hide as a dot file.
SAFE_NAME = re.compile(r"[^\w .()-]|^\.")
TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")

View = TypeVar("View", bound=Callable[..., Any])


@dataclass(frozen=True)
class Desk:
    """The parts of one desk that its pages use."""

    settings: Settings
    outbox_root: Path
    sends: Sends
    transport: Callable[[], Transport]
    # The last pre-send check run from Today: when, by whom, and its report.
    checked: dict[str, Any] = field(default_factory=dict)


def needs(role: str) -> Callable[[View], View]:
    """The view only for users whose role allows `role`'s work; others get a 403 page."""

    def wrap(view: View) -> View:
        @functools.wraps(view)
        def inner(*args: Any, **kwargs: Any) -> Any:
            user: User = g.user
            if not allowed(user.role, role):
                return page("message.html", 403, text=word(g.lang, "forbidden", role=user.role))
            return view(*args, **kwargs)

        return inner  # type: ignore[return-value]

    return wrap


def page(template: str, code: int = 200, **values: Any) -> tuple[str, int]:
    """A page and its status."""
    return render_template(template, **values), code


def when(moment: dt.datetime | None, zone: str, language: str) -> str:
    """A moment as people in `zone` read it, in the user's language."""
    if moment is None:
        return word(language, "none")
    try:
        tz = ZoneInfo(zone)
    except (KeyError, ValueError):
        tz = ZoneInfo("UTC")
    return format_datetime(moment, "d MMM y HH:mm zzz", tzinfo=tz, locale=language)


def csrf_token() -> str:
    """The session's CSRF token, made on first need."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token
