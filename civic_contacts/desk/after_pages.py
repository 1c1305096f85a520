"""The desk's pages after the send: bounce reports held for review, journalists who moved,
and the suppressed addresses."""

from __future__ import annotations

from typing import Any

from flask import Flask, flash, g, redirect, request, url_for

from civic_contacts.desk.common import Desk, needs, page
from civic_contacts.errors import CivicContactsError
from civic_contacts.registry import store as registry
from civic_contacts.registry.history import acting


def register(app: Flask, desk: Desk) -> None:
    """Add the after-the-send pages to the desk."""

    # After the send -----------------------------------------------------------------------

    @app.get("/bounces")
    def bounces() -> Any:
        from civic_contacts.after.returns import held, reviews

        return page("bounces.html", held=held(g.db), moved=reviews(g.db))

    @app.post("/bounces/<int:bid>")
    @needs("officer")
    def decide(bid: int) -> Any:
        from civic_contacts.after.returns import decide_held

        accept = request.form.get("decision") == "accept"
        try:
            with acting(g.user.name, "desk: bounce review"):
                for line in decide_held(g.db, [bid], accept):
                    flash(line)
                g.db.commit()
        except CivicContactsError as exc:
            g.db.rollback()
            flash(str(exc))
        return redirect(url_for("bounces"))

    @app.post("/bounces/<int:bid>/moved")
    @needs("officer")
    def follow(bid: int) -> Any:
        from civic_contacts.after.returns import follow_moved

        try:
            with acting(g.user.name, "desk: journalist moved"):
                flash(follow_moved(g.db, bid, request.form.get("decision") == "accept"))
                g.db.commit()
        except CivicContactsError as exc:
            g.db.rollback()
            flash(str(exc))
        return redirect(url_for("bounces"))

    @app.get("/suppressions")
    def suppressions() -> Any:
        return page("suppressions.html", rows=registry.list_suppressions(g.db))
