"""The desk's users page, for admins: add someone (their one-time password shown once),
give a new one-time password, remove (never the last admin)."""

from __future__ import annotations

from typing import Any

from flask import Flask, flash, g, redirect, request, url_for

from civic_contacts.desk.common import Desk, needs, page
from civic_contacts.desk.words import word
from civic_contacts.errors import CivicContactsError
from civic_contacts.registry import users
from civic_contacts.registry.history import acting


def register(app: Flask, desk: Desk) -> None:
    """Add the users page to the desk."""

    # Users (admins) -----------------------------------------------------------------------

    @app.get("/users")
    @needs("admin")
    def users_page() -> Any:
        return page("users.html", rows=users.list_users(g.db), given=None, roles=users.ROLES)

    @app.post("/users")
    @needs("admin")
    def user_add() -> Any:
        try:
            with acting(g.user.name, "desk: user add"):
                added, password = users.add_user(
                    g.db,
                    request.form.get("name", ""),
                    request.form.get("role", ""),
                    request.form.get("language", "en") or "en",
                    request.form.get("timezone", "UTC") or "UTC",
                    request.form.get("email") or None,
                )
                g.db.commit()
        except CivicContactsError as exc:
            g.db.rollback()
            flash(str(exc))
            return redirect(url_for("users_page"))
        # Shown once, on this answer only (never stored, never in a redirect's URL).
        return page(
            "users.html",
            rows=users.list_users(g.db),
            given=(added.name, password),
            roles=users.ROLES,
        )

    @app.post("/users/<name>/reset")
    @needs("admin")
    def user_reset(name: str) -> Any:
        try:
            with acting(g.user.name, "desk: user reset-password"):
                password = users.reset_password(g.db, name)
                g.db.commit()
        except CivicContactsError as exc:
            g.db.rollback()
            flash(str(exc))
            return redirect(url_for("users_page"))
        return page(
            "users.html", rows=users.list_users(g.db), given=(name, password), roles=users.ROLES
        )

    @app.post("/users/<name>/remove")
    @needs("admin")
    def user_remove(name: str) -> Any:
        try:
            with acting(g.user.name, "desk: user remove"):
                users.remove_user(g.db, name)
                g.db.commit()
            flash(word(g.lang, "user removed", name=name))
        except CivicContactsError as exc:
            g.db.rollback()
            flash(str(exc))
        return redirect(url_for("users_page"))
