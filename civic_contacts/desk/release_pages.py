"""The desk's release pages: the list and uploads, a release's texts, routing and lift in
every zone, its build, preview, approval, test send and send with live progress and pause,
its notices the same way, and its history."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, abort, flash, g, jsonify, redirect, request, send_file, url_for

from civic_contacts.db import utcnow
from civic_contacts.deliver import approval
from civic_contacts.deliver.build import build_batch, stored_batch
from civic_contacts.deliver.ledger import BatchKey, counts
from civic_contacts.deliver.notice_rules import NoticeKind, current_notice, parse_kind
from civic_contacts.deliver.notice_status import due_notices, notices_overview
from civic_contacts.deliver.notices import build_notice
from civic_contacts.deliver.plan import BuildOptions
from civic_contacts.deliver.routes import gap_lines, routed_outlets, router_for
from civic_contacts.deliver.send import send_test
from civic_contacts.deliver.status import AUDIT_COLUMNS, audit_rows, batch_status
from civic_contacts.desk.common import SAFE_NAME, Desk, needs, page, when
from civic_contacts.desk.words import word
from civic_contacts.errors import CivicContactsError, InputError
from civic_contacts.registry import history, search
from civic_contacts.registry.history import acting
from civic_contacts.registry.models import Notice, Release
from civic_contacts.registry.statuses import DeliveryStatus as S
from civic_contacts.registry.tables import write_csv_to
from civic_contacts.releases import store as releases
from civic_contacts.releases.file_text import release_file_text

ROUTED_SHOWN = 50  # outlets listed on a release's page; `route show` lists them all
# The preview is the build's own page (inline styles, no script): shown sandboxed.
PREVIEW_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"


def register(app: Flask, desk: Desk) -> None:
    """Add the release pages to the desk."""
    settings, outbox_root, sends, transport = (
        desk.settings,
        desk.outbox_root,
        desk.sends,
        desk.transport,
    )
    uploads = outbox_root / "uploads"

    # Releases -----------------------------------------------------------------------------

    @app.get("/releases")
    def release_list() -> Any:
        return page("releases.html", rows=releases.list_releases(g.db))

    def _take_release_files(paths: list[Path]) -> list[str]:
        """Add each release these files make, or record a new revision of one that exists;
        what happened, a line each (the notices now due among them)."""
        groups = releases.combine([releases.read_release_file(path) for path in paths])
        said = []
        for group in groups:
            exists = releases.find_release(g.db, group[0].slug) is not None
            if not exists:
                found, outcome = releases.add_release(g.db, group)
                said.append(word(g.lang, "release added", slug=found.slug, outcome=outcome))
                continue
            found, changes = releases.update_release(g.db, group)
            if not changes:
                said.append(word(g.lang, "release unchanged", slug=found.slug))
                continue
            said.append(
                word(g.lang, "release revised", slug=found.slug, revision=found.revision)
                + " "
                + "; ".join(changes.summary)
            )
            said += [
                word(g.lang, "notice due", kind=d.kind, count=d.journalists, reason=d.reason)
                for d in due_notices(g.db, found, utcnow())
            ]
        return said

    def _with_files(work: Callable[[Path], list[Path]], doing: str, back: str) -> Any:
        """Write what a form gave into a folder of its own, take the release files, commit
        (or, on a refusal, roll back and say why); the folder is removed either way."""
        folder = uploads / secrets.token_urlsafe(16)
        folder.mkdir(parents=True)
        try:
            with acting(g.user.name, f"desk: {doing}"):
                for line in _take_release_files(work(folder)):
                    flash(line)
                g.db.commit()
        except CivicContactsError as exc:
            g.db.rollback()
            flash(str(exc))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return redirect(back)

    @app.post("/releases")
    @needs("officer")
    def release_upload() -> Any:
        def save(folder: Path) -> list[Path]:
            paths = []
            for sent in request.files.getlist("files")[:20]:
                name = SAFE_NAME.sub("_", Path(sent.filename or "").name[:200])
                if not name.lower().endswith(".md"):
                    raise InputError(word(g.lang, "bad file", name=name or "?", kinds=".md"))
                sent.save(folder / name)
                paths.append(folder / name)
            if not paths:
                raise InputError(word(g.lang, "no file"))
            return paths

        return _with_files(save, "release upload", url_for("release_list"))

    @app.post("/releases/<slug>/text")
    @needs("officer")
    def release_text(slug: str) -> Any:
        found = _release(slug)
        language = request.form.get("lang", "")
        text = request.form.get("text", "")

        def save(folder: Path) -> list[Path]:
            if language not in {t.language for t in found.translations}:
                raise InputError(f"{found.slug} has no {language} text")
            path = folder / f"{found.slug}.{language}.md"
            path.write_text(text.replace("\r\n", "\n"), encoding="utf-8")
            return [path]

        return _with_files(
            save, f"edit {found.slug} ({language})", url_for("release", slug=found.slug)
        )

    def _release(slug: str) -> Release:
        try:
            return releases.get_release(g.db, slug)
        except InputError:
            abort(404)

    @app.get("/releases/<slug>")
    def release(slug: str) -> Any:
        found = _release(slug)
        batch = stored_batch(g.db, found)
        state = (
            approval.state(g.db, settings, found, batch, utcnow()) if batch is not None else None
        )
        zones = [
            (zone, count, when(found.embargo, zone, g.lang))
            for zone, count in search.outlet_time_zones(g.db)
        ]
        routed = []
        more = 0
        gaps: list[str] = []
        try:
            router = router_for(g.db, found.slug)
            for number, pair in enumerate(routed_outlets(g.db, found.slug, router=router)):
                if number < ROUTED_SHOWN:
                    routed.append(pair)
                else:
                    more += 1
            gaps = gap_lines(g.db, found.slug, router)
        except CivicContactsError as exc:
            flash(str(exc))
        texts = [(t.language, release_file_text(found, t.language)) for t in found.translations]
        now = utcnow()
        notices = []
        for item in notices_overview(g.db, found.slug, now).notices:
            if not item.current:
                continue
            built_notice = _notice(found, item.kind)
            notices.append(
                (
                    item,
                    approval.state(g.db, settings, found, built_notice, now),
                    built_notice.built_by,
                    sends.running(found.slug, item.kind),
                    sends.outcome(found.slug, item.kind),
                )
            )
        due = [d for d in due_notices(g.db, found, now)]
        audit = history.entries(g.db, "batch", found.slug, limit=30)
        for kind in NoticeKind:
            audit += history.entries(
                g.db, "notice", f"{kind.value} notice of {found.slug}", limit=30
            )
        audit.sort(key=lambda change: change.id, reverse=True)
        return page(
            "release.html",
            r=found,
            notices=notices,
            due=due,
            audit=[(c.at, c.by, history.entry_line(c)) for c in audit[:30]],
            texts=texts,
            batch=batch,
            status=batch_status(g.db, found.slug) if batch is not None else None,
            state=state,
            zones=zones,
            routed=routed,
            more=more,
            gaps=gaps,
            running=sends.running(found.slug),
            outcome=sends.outcome(found.slug),
            lift=when(found.embargo, g.user.timezone, g.lang),
            built=when(batch.built_at, g.user.timezone, g.lang) if batch else "",
            approved=when(state.approved_at, g.user.timezone, g.lang)
            if state and state.approved_at
            else "",
        )

    def _act(slug: str, doing: str, work: Callable[[Release], str | None]) -> Any:
        """Run one change to a release as the user, committed whole or not at all; what it
        says (or why it was refused) is shown on the release's page."""
        found = _release(slug)
        try:
            with acting(g.user.name, f"desk: {doing} {found.slug}"):
                said = work(found)
                g.db.commit()
        except CivicContactsError as exc:
            g.db.rollback()
            said = str(exc)
        if said:
            flash(said)
        return redirect(url_for("release", slug=found.slug))

    @app.post("/releases/<slug>/build")
    @needs("officer")
    def build(slug: str) -> Any:
        def work(found: Release) -> str:
            report = build_batch(
                g.db, found.slug, outbox_root / found.slug, BuildOptions(), settings
            )
            lines = [f"{found.slug}: {report.messages} messages for {report.outlets} outlets"]
            return "; ".join(lines + report.warnings[:3] + report.gaps[:3])

        return _act(slug, "build", work)

    @app.post("/releases/<slug>/approve")
    @needs("approver")
    def approve(slug: str) -> Any:
        def work(found: Release) -> str:
            batch = stored_batch(g.db, found)
            if batch is None:
                raise InputError(f"{found.slug} has no batch built yet; nothing to approve")
            approval.approve(g.db, found, batch, g.user)
            return word(
                g.lang, "approved by", by=g.user.name, at=when(utcnow(), g.user.timezone, g.lang)
            )

        return _act(slug, "approve", work)

    @app.post("/releases/<slug>/withdraw")
    @needs("approver")
    def withdraw(slug: str) -> Any:
        def work(found: Release) -> None:
            batch = stored_batch(g.db, found)
            if batch is not None:
                approval.withdraw(g.db, found, batch, g.user)

        return _act(slug, "withdraw the approval of", work)

    @app.post("/releases/<slug>/test")
    @needs("officer")
    def test_send(slug: str) -> Any:
        found = _release(slug)
        if not g.user.email:
            flash(word(g.lang, "no own address"))
            return redirect(url_for("release", slug=found.slug))
        outlet = request.form.get("outlet") or None
        try:
            sent = send_test(g.db, found.slug, transport(), [g.user.email], settings, None, outlet)
            for item in sent:
                flash(
                    word(
                        g.lang,
                        "test sent",
                        to=item.address,
                        who=item.journalist,
                        outlet=item.outlet,
                        lang_of=item.language,
                    )
                )
        except CivicContactsError as exc:
            flash(word(g.lang, "send refused", reason=str(exc)))
        finally:
            g.db.rollback()  # a test records nothing
        return redirect(url_for("release", slug=found.slug))

    @app.post("/releases/<slug>/send")
    @needs("officer")
    def send(slug: str) -> Any:
        found = _release(slug)
        try:
            sends.start(found.slug, g.user.name)
            flash(word(g.lang, "send started"))
        except CivicContactsError as exc:
            flash(word(g.lang, "send refused", reason=str(exc)))
        return redirect(url_for("release", slug=found.slug))

    @app.post("/releases/<slug>/pause")
    @needs("officer")
    def pause(slug: str) -> Any:
        found = _release(slug)
        sends.pause(found.slug)
        return redirect(url_for("release", slug=found.slug))

    @app.get("/releases/<slug>/progress")
    def progress(slug: str) -> Any:
        found = _release(slug)
        status = batch_status(g.db, found.slug)
        running = sends.running(found.slug)
        outcome = None if running else sends.outcome(found.slug)
        return jsonify(
            {
                **status.as_json(),
                "running": running,
                "outcome": outcome,
                "said": word(g.lang, "sent of", sent=status.counts["sent"], total=status.total),
            }
        )

    @app.get("/releases/<slug>/audit.csv")
    def audit(slug: str) -> Any:
        """One row per recipient, as `batch audit --csv` writes it (cells a spreadsheet would
        run as formulas made inert), streamed into a file first: a million rows are never
        held at once."""
        found = _release(slug)
        folder = uploads / secrets.token_urlsafe(16)
        folder.mkdir(parents=True)
        path = folder / f"{found.slug}-audit.csv"
        flat = (
            {
                k: (";".join(v) if isinstance(v, list) else "" if v is None else str(v))
                for k, v in row.items()
            }
            for row in audit_rows(g.db, found.slug)
        )
        with path.open("w", encoding="utf-8", newline="") as handle:
            write_csv_to(handle, flat, AUDIT_COLUMNS)
        response = send_file(path, mimetype="text/csv", as_attachment=True)
        response.call_on_close(lambda: shutil.rmtree(folder, ignore_errors=True))
        return response

    def _preview_of(outbox: str | None) -> Any:
        page = Path(outbox) / "preview.html" if outbox else None
        if page is None or not page.is_file():
            abort(404)
        response = send_file(page, mimetype="text/html")
        response.headers["Content-Security-Policy"] = PREVIEW_CSP
        return response

    @app.get("/releases/<slug>/preview")
    def preview(slug: str) -> Any:
        batch = stored_batch(g.db, _release(slug))
        return _preview_of(batch.outbox if batch is not None else None)

    # Notices: build, preview, approve and send, each a click --------------------------------

    def _notice(found: Release, kind: str) -> Notice:
        try:
            notice = current_notice(g.db, found, parse_kind(kind))
        except InputError:
            abort(404)
        if notice is None:
            abort(404)
        return notice

    @app.post("/releases/<slug>/notices/<kind>/build")
    @needs("officer")
    def notice_build(slug: str, kind: str) -> Any:
        def work(found: Release) -> str:
            chosen = parse_kind(kind)
            if chosen.value == "cancelled" and request.form.get("confirm") != "yes":
                raise InputError(word(g.lang, "confirm cancel"))
            out = outbox_root / found.slug / f"notice-{chosen.value}"
            report = build_notice(g.db, found.slug, chosen.value, out, BuildOptions(), settings)
            return word(g.lang, "notice built", kind=chosen.value, count=report.messages)

        return _act(slug, f"build the {kind} notice of", work)

    @app.post("/releases/<slug>/notices/<kind>/approve")
    @needs("approver")
    def notice_approve(slug: str, kind: str) -> Any:
        def work(found: Release) -> str:
            approval.approve(g.db, found, _notice(found, kind), g.user)
            return word(
                g.lang, "approved by", by=g.user.name, at=when(utcnow(), g.user.timezone, g.lang)
            )

        return _act(slug, f"approve the {kind} notice of", work)

    @app.post("/releases/<slug>/notices/<kind>/send")
    @needs("officer")
    def notice_send(slug: str, kind: str) -> Any:
        found = _release(slug)
        try:
            sends.start(found.slug, g.user.name, parse_kind(kind).value)
            flash(word(g.lang, "send started"))
        except CivicContactsError as exc:
            flash(word(g.lang, "send refused", reason=str(exc)))
        return redirect(url_for("release", slug=found.slug))

    @app.get("/releases/<slug>/notices/<kind>/preview")
    def notice_preview(slug: str, kind: str) -> Any:
        notice = _notice(_release(slug), kind)
        return _preview_of(notice.outbox)

    @app.get("/releases/<slug>/notices/<kind>/progress")
    def notice_progress(slug: str, kind: str) -> Any:
        found = _release(slug)
        notice = _notice(found, kind)
        counted = counts(g.db, BatchKey(found.id, notice.id))
        total = sum(counted.values())
        running = sends.running(found.slug, notice.kind)
        return jsonify(
            {
                "total": total,
                **counted,
                "running": running,
                "outcome": None if running else sends.outcome(found.slug, notice.kind),
                "said": word(g.lang, "sent of", sent=counted[S.SENT], total=total),
            }
        )
