"""The desk's registry pages: offices, spokespeople and outlets, the journalists (search and
edit), and imports shown before they are written."""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path
from typing import Any

from flask import Flask, abort, flash, g, redirect, request, session, url_for

from civic_contacts.desk.common import SAFE_NAME, TOKEN, Desk, needs, page
from civic_contacts.desk.words import word
from civic_contacts.errors import CivicContactsError, InputError
from civic_contacts.registry import forms, import_runs, search
from civic_contacts.registry import store as registry
from civic_contacts.registry.history import acting
from civic_contacts.registry.models import Journalist, Outlet, PressContact
from civic_contacts.registry.phones import whatsapp_url


def register(app: Flask, desk: Desk) -> None:
    """Add the registry's pages to the desk."""
    uploads = desk.outbox_root / "uploads"

    # Journalists --------------------------------------------------------------------------

    @app.get("/journalists")
    def journalists() -> Any:
        asked = search.Criteria(
            text=request.args.get("q", ""),
            country=request.args.get("country", ""),
            language=request.args.get("language", ""),
            status=request.args.get("status", ""),
        )
        try:
            number = int(request.args.get("page", "1"))
        except ValueError:
            number = 1
        try:
            found = search.search_journalists(g.db, asked, number)
            problem = None
        except InputError as exc:
            found, problem = search.Page([], 0, 1, 1), str(exc)
        return page(
            "journalists.html",
            400 if problem else 200,
            found=found,
            asked=asked,
            problem=problem,
            statuses=search.STATUSES,
        )

    def _saved(changes: forms.Changes, warnings: tuple[str, ...] | list[str] = ()) -> None:
        """Say what an edit changed (or that nothing did), and any number that is not valid."""
        said = ", ".join(f"{k} {a!r} → {b!r}" for k, (a, b) in changes.items())
        flash(word(g.lang, "saved", changes=said) if changes else word(g.lang, "no change"))
        for warning in warnings:
            flash(warning)

    def _journalist(jid: int) -> Journalist:
        found = g.db.get(Journalist, jid)
        if found is None:
            abort(404)
        return found

    @app.get("/journalists/<int:jid>")
    def journalist(jid: int) -> Any:
        found = _journalist(jid)
        return page("journalist.html", j=found, form=_journalist_form(found), problem=None)

    @app.post("/journalists/<int:jid>")
    @needs("officer")
    def journalist_save(jid: int) -> Any:
        found = _journalist(jid)
        form = forms.JournalistForm(
            **{n: request.form.get(n, "") for n in forms.JournalistForm.__dataclass_fields__}
        )
        try:
            with acting(g.user.name, f"desk: edit journalist {found.email}"):
                changes, warnings = forms.edit_journalist(g.db, found, form)
                g.db.commit()
        except InputError as exc:
            g.db.rollback()
            return page("journalist.html", 400, j=_journalist(jid), form=form, problem=str(exc))
        _saved(changes, warnings)
        return redirect(url_for("journalist", jid=jid))

    # Offices, spokespeople and outlets ----------------------------------------------------

    @app.get("/registry")
    def registry_page() -> Any:
        return page(
            "registry.html",
            offices=registry.list_offices(g.db),
            contacts=registry.list_contacts(g.db),
            outlets=registry.list_outlets(g.db),
            whatsapp=whatsapp_url,
        )

    def _outlet(slug: str) -> Outlet:
        found = registry.find_outlet(g.db, slug)
        if found is None:
            abort(404)
        return found

    @app.get("/outlets/<slug>")
    def outlet(slug: str) -> Any:
        found = _outlet(slug)
        shown = forms.OutletForm(
            name=found.name,
            country=found.country,
            timezone=found.timezone,
            languages="; ".join(found.languages),
            beats="; ".join(found.beats or ()),
        )
        return page("outlet.html", o=found, form=shown, problem=None)

    @app.post("/outlets/<slug>")
    @needs("officer")
    def outlet_save(slug: str) -> Any:
        found = _outlet(slug)
        form = forms.OutletForm(
            **{n: request.form.get(n, "") for n in forms.OutletForm.__dataclass_fields__}
        )
        try:
            with acting(g.user.name, f"desk: edit outlet {found.slug}"):
                changes = forms.edit_outlet(g.db, found, form)
                g.db.commit()
        except InputError as exc:
            g.db.rollback()
            return page("outlet.html", 400, o=_outlet(slug), form=form, problem=str(exc))
        _saved(changes)
        return redirect(url_for("outlet", slug=found.slug))

    def _contact(cid: int) -> PressContact:
        found = g.db.get(PressContact, cid)
        if found is None:
            abort(404)
        return found

    @app.get("/contacts/<int:cid>")
    def contact(cid: int) -> Any:
        found = _contact(cid)
        shown = forms.ContactForm(
            name=found.name,
            role=found.role,
            languages="; ".join(found.languages),
            phones=" / ".join(p.raw for p in found.phones),
            rank=str(found.rank),
            active=found.active,
        )
        return page("contact.html", c=found, form=shown, problem=None)

    @app.post("/contacts/<int:cid>")
    @needs("officer")
    def contact_save(cid: int) -> Any:
        found = _contact(cid)
        form = forms.ContactForm(
            name=request.form.get("name", ""),
            role=request.form.get("role", ""),
            languages=request.form.get("languages", ""),
            phones=request.form.get("phones", ""),
            rank=request.form.get("rank", ""),
            active=request.form.get("active") == "yes",
        )
        try:
            with acting(g.user.name, f"desk: edit contact {found.email}"):
                changes, warnings = forms.edit_contact(g.db, found, form)
                g.db.commit()
        except InputError as exc:
            g.db.rollback()
            return page("contact.html", 400, c=_contact(cid), form=form, problem=str(exc))
        _saved(changes, warnings)
        return redirect(url_for("contact", cid=cid))

    # Imports: a preview first, then the same import for real --------------------------------

    @app.get("/import")
    @needs("officer")
    def import_form() -> Any:
        return page("import.html", preview=None, problem=None, upload=None)

    @app.post("/import")
    @needs("officer")
    def import_preview() -> Any:
        sent = request.files.get("file")
        kind = request.form.get("kind", "journalists")
        encoding = request.form.get("encoding") or None
        source = request.form.get("source", "")[:200]
        name = Path(sent.filename or "").name[:200] if sent is not None else ""
        if sent is None or not name:
            problem = word(g.lang, "no file")
            return page("import.html", 400, preview=None, upload=None, problem=problem)
        if Path(name).suffix.lower() not in import_runs.SUFFIXES:
            problem = word(g.lang, "bad file", name=name, kinds=", ".join(import_runs.SUFFIXES))
            return page("import.html", 400, preview=None, upload=None, problem=problem)
        # Kept under its own name (made safe) in a folder of its own, so that every message
        # about a row names the file the officer chose.
        token = secrets.token_urlsafe(16)
        name = SAFE_NAME.sub("_", name)
        path = uploads / token / name
        path.parent.mkdir(parents=True)
        sent.save(path)
        upload = {
            "token": token,
            "kind": kind,
            "name": name,
            "encoding": encoding or "",
            "source": source,
        }
        try:
            preview = import_runs.run_import(
                g.db, kind, path, name, apply=False, encoding=encoding, source=source
            )
        except CivicContactsError as exc:
            shutil.rmtree(path.parent, ignore_errors=True)
            return page("import.html", 400, preview=None, upload=None, problem=str(exc))
        session["upload"] = upload
        return page("import.html", preview=preview, upload=upload, problem=None)

    @app.post("/import/apply")
    @needs("officer")
    def import_apply() -> Any:
        upload = session.pop("upload", None)
        if not isinstance(upload, dict):
            upload = {}
        token, name = str(upload.get("token", "")), str(upload.get("name", ""))
        path = uploads / token / name
        if not TOKEN.fullmatch(token) or not name or SAFE_NAME.search(name) or not path.is_file():
            return page("message.html", 400, text=word(g.lang, "expired form"))
        kind = str(upload.get("kind", ""))
        try:
            with acting(g.user.name, f"desk: import {name}"):
                done = import_runs.run_import(
                    g.db,
                    kind,
                    path,
                    name,
                    apply=True,
                    encoding=str(upload.get("encoding") or "") or None,
                    source=str(upload.get("source", "")),
                )
                g.db.commit()
            flash(done.report.summary(kind))
        except CivicContactsError as exc:
            g.db.rollback()
            flash(str(exc))
        finally:
            shutil.rmtree(path.parent, ignore_errors=True)
        return redirect(url_for("journalists" if kind == "journalists" else "import_form"))


def _journalist_form(found: Journalist) -> forms.JournalistForm:
    return forms.JournalistForm(
        name=found.name,
        role=found.role,
        language=found.language or "",
        beats="; ".join(found.beats or ()),
        phones=" / ".join(p.raw for p in found.phones),
    )
