"""The desk's pages: a Flask application over the core, as `cli/` is over it for a terminal.

No SQL, SMTP or MIME here: each handler reads the form, opens the request's session, calls the
core and renders a page. What keeps it safe is in one place, `_guard` and `_headers`:

- a session is a signed cookie (HttpOnly, SameSite=Strict, Secure when `[web] secure_cookies`)
  holding the user's id, their session version (a password change ends every other session)
  and a CSRF token; nothing else, and never a password;
- every POST carries the session's CSRF token or is refused, changing nothing;
- every action checks the user's role on the server (`needs`), whatever the page showed;
- the Content Security Policy allows scripts and styles from the desk only (no inline
  script or style), pages are never framed or cached, and Jinja2 escapes every value.
"""

from __future__ import annotations

import datetime as dt
import functools
import hmac
import re
import secrets
import shutil
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask import (
    Flask,
    Response,
    abort,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from jinja2 import StrictUndefined
from sqlalchemy.engine import Engine
from werkzeug.exceptions import HTTPException, SecurityError

from civic_contacts.after.returns import alert_lines, held, reviews
from civic_contacts.config import Settings
from civic_contacts.db import session_factory, utcnow
from civic_contacts.deliver import approval
from civic_contacts.deliver.build import build_batch, stored_batch
from civic_contacts.deliver.ledger import BatchKey, counts
from civic_contacts.deliver.notice_rules import NoticeKind, current_notice, parse_kind
from civic_contacts.deliver.notice_status import due_notices, notices_overview
from civic_contacts.deliver.notices import build_notice
from civic_contacts.deliver.plan import BuildOptions
from civic_contacts.deliver.routes import routed_outlets
from civic_contacts.deliver.send import send_test
from civic_contacts.deliver.status import batch_status
from civic_contacts.deliver.tokens import derived_key
from civic_contacts.deliver.transport import Transport
from civic_contacts.desk.sends import Sends
from civic_contacts.desk.words import LANGUAGES, word
from civic_contacts.errors import CivicContactsError, InputError
from civic_contacts.registry import history, import_runs, search, users
from civic_contacts.registry import store as registry
from civic_contacts.registry.history import acting
from civic_contacts.registry.models import Journalist, Notice, Release, User
from civic_contacts.registry.phones import whatsapp_url
from civic_contacts.registry.statuses import DeliveryStatus as S
from civic_contacts.releases import store as releases

HERE = Path(__file__).resolve().parent
SESSION_LABEL = b"civic-contacts desk session v1"
SESSION_HOURS = 12
MAX_FORM = 2 * 1024 * 1024  # the fields of a form
MAX_UPLOAD = 64 * 1024 * 1024  # a CSV or vCard file to import
ROUTED_SHOWN = 50  # outlets listed on a release's page; `route show` lists them all
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
    " connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# The preview is the build's own page (inline styles, no script): shown sandboxed.
PREVIEW_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"
OPEN = frozenset({"login", "static"})
# A file name as saved: nothing that could leave its folder or hide as a dot file.
_SAFE_NAME = re.compile(r"[^\w .()-]|^\.")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")

View = TypeVar("View", bound=Callable[..., Any])


def needs(role: str) -> Callable[[View], View]:
    """The view only for users whose role allows `role`'s work; others get a 403 page."""

    def wrap(view: View) -> View:
        @functools.wraps(view)
        def inner(*args: Any, **kwargs: Any) -> Any:
            user: User = g.user
            if not users.allowed(user.role, role):
                return _page("message.html", 403, text=word(g.lang, "forbidden", role=user.role))
            return view(*args, **kwargs)

        return inner  # type: ignore[return-value]

    return wrap


def _page(template: str, code: int = 200, **values: Any) -> tuple[str, int]:
    return render_template(template, **values), code


def _language(user: User | None) -> str:
    if user is not None and user.language in LANGUAGES:
        return user.language
    best = request.accept_languages.best_match(LANGUAGES)
    return best or "en"


def _when(moment: dt.datetime | None, zone: str, language: str) -> str:
    """A moment as people in `zone` read it, in the user's language."""
    if moment is None:
        return word(language, "none")
    try:
        tz = ZoneInfo(zone)
    except (KeyError, ValueError):
        tz = ZoneInfo("UTC")
    return format_datetime(moment, "d MMM y HH:mm zzz", tzinfo=tz, locale=language)


def _csrf() -> str:
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def create_app(
    engine: Engine,
    settings: Settings,
    outbox_root: Path,
    secret: bytes,
    transport: Callable[[], Transport],
    skip_doctor: bool = False,
    dns_server: str | None = None,
    hosts: Sequence[str] | None = None,
) -> Flask:
    """The desk over this database, writing builds under `outbox_root`, sending through
    `transport` (a new connection factory per send). With `hosts`, a request naming any other
    host is refused (a page of another site that rebinds its name to this machine gets a 400,
    not the desk)."""
    app = Flask(
        "civic_contacts.desk",
        template_folder=str(HERE / "pages"),
        static_folder=str(HERE / "static"),
    )
    app.config.update(
        SECRET_KEY=derived_key(secret, SESSION_LABEL),
        SESSION_COOKIE_NAME="civic_desk",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=SESSION_HOURS),
        MAX_CONTENT_LENGTH=MAX_UPLOAD,
        MAX_FORM_MEMORY_SIZE=MAX_FORM,
        TRUSTED_HOSTS=list(hosts) if hosts else None,
    )
    app.jinja_env.undefined = StrictUndefined
    factory = session_factory(engine)
    sends = Sends(engine, settings, transport, skip_doctor, dns_server)

    @app.context_processor
    def _words() -> dict[str, Any]:
        language = getattr(g, "lang", "en")
        return {
            "t": lambda key, **values: word(language, key, **values),
            "csrf": _csrf,
            "user": getattr(g, "user", None),
            "lang": language,
            "may": lambda role: g.user is not None and users.allowed(g.user.role, role),
        }

    @app.before_request
    def _guard() -> Any:
        g.user = None
        g.lang = "en"
        if isinstance(request.routing_exception, SecurityError):
            # A host this desk is not served as: a bare answer (no page, no link to build).
            return Response(
                "This desk is not served under that host name.\n", 400, mimetype="text/plain"
            )
        if request.endpoint == "static":
            return None
        g.db = factory()
        uid = session.get("uid")
        if uid is not None:
            found = g.db.get(User, uid) if isinstance(uid, int) else None
            if found is None or found.session_version != session.get("v"):
                session.clear()
            else:
                g.user = found
        g.lang = _language(g.user)
        if request.method == "POST":
            sent = request.form.get("csrf", "")
            if not sent or not hmac.compare_digest(sent, session.get("csrf") or ""):
                return _page("message.html", 400, text=word(g.lang, "expired form"))
        if g.user is None and request.endpoint not in OPEN:
            return redirect(url_for("login", next=request.full_path.rstrip("?")))
        if (
            g.user is not None
            and g.user.must_change_password
            and request.endpoint not in ("password", "logout")
        ):
            return redirect(url_for("password"))
        return None

    @app.teardown_request
    def _close(_error: BaseException | None) -> None:
        db = g.pop("db", None)
        if db is not None:
            db.close()

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        if request.endpoint != "static":
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Any:
        status = error.code or 500
        text = word(g.get("lang", "en"), "not found") if status == 404 else str(error.description)
        return _page("message.html", status, text=text)

    # Logging in and out -------------------------------------------------------------------

    @app.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        if request.method == "GET":
            return _page("login.html", problem=None, name="")
        name = request.form.get("name", "")[:100]
        try:
            user = users.authenticate(g.db, name, request.form.get("password", "")[:1000])
            uid, version = user.id, user.session_version
            g.db.commit()
        except users.LoginRefused as exc:
            # The failed try is counted (authenticate changed the user) before the refusal.
            g.db.commit()
            problem = (
                word(g.lang, "locked", until=f"{exc.until:%Y-%m-%d %H:%M}")
                if exc.until
                else word(g.lang, "wrong login")
            )
            return _page("login.html", 429 if exc.until else 401, problem=problem, name=name)
        # A new session: nothing from before the login is kept (no session fixation).
        session.clear()
        session.permanent = True
        session["uid"], session["v"] = uid, version
        _csrf()
        target = request.args.get("next", "")
        # Only a path on this desk: never another site.
        if not target.startswith("/") or target.startswith("//") or "\\" in target:
            target = url_for("today")
        return redirect(target)

    @app.post("/logout")
    def logout() -> Any:
        session.clear()
        return redirect(url_for("login"))

    @app.route("/password", methods=["GET", "POST"])
    def password() -> Any:
        if request.method == "GET":
            return _page("password.html", problem=None)
        user = g.user
        try:
            with acting(user.name, "desk: password"):
                users.change_password(
                    g.db, user, request.form.get("current", "")[:1000], request.form.get("new", "")
                )
                g.db.commit()
        except InputError as exc:
            g.db.rollback()
            return _page("password.html", 400, problem=str(exc))
        session["v"] = user.session_version
        flash(word(g.lang, "password changed"))
        return redirect(url_for("today"))

    # Today --------------------------------------------------------------------------------

    @app.get("/")
    def today() -> Any:
        now = utcnow()
        offices = registry.list_offices(g.db)
        every = releases.list_releases(g.db)
        open_ = [r for r in every if r.cancelled_at is None and r.archived_at is None]
        upcoming = sorted(
            (r for r in open_ if r.embargo is not None and r.embargo > now),
            key=lambda r: r.embargo or now,
        )
        lifts = [
            (
                r,
                [(o.code, _when(r.embargo, o.timezone, g.lang)) for o in offices],
                _when(r.embargo, g.user.timezone, g.lang),
            )
            for r in upcoming
        ]
        sent = []
        due = []
        for r in open_:
            if stored_batch(g.db, r) is None:
                continue
            status = batch_status(g.db, r.slug)
            alerts = alert_lines(Counter(status.alerts))
            sent.append((r, status, sends.running(r.slug), alerts))
            due += [(r, d) for d in due_notices(g.db, r, now)]
        review = len(held(g.db)) + len(reviews(g.db))
        return _page("today.html", lifts=lifts, sends=sent, due=due, review=review)

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
            page = int(request.args.get("page", "1"))
        except ValueError:
            page = 1
        try:
            found = search.search_journalists(g.db, asked, page)
            problem = None
        except InputError as exc:
            found, problem = search.Page([], 0, 1, 1), str(exc)
        return _page(
            "journalists.html",
            400 if problem else 200,
            found=found,
            asked=asked,
            problem=problem,
            statuses=search.STATUSES,
        )

    @app.route("/journalists/<int:jid>", methods=["GET", "POST"])
    def journalist(jid: int) -> Any:
        found = g.db.get(Journalist, jid)
        if found is None:
            abort(404)
        if request.method == "GET":
            return _page("journalist.html", j=found, form=_journalist_form(found), problem=None)
        if not users.allowed(g.user.role, "officer"):
            return _page("message.html", 403, text=word(g.lang, "forbidden", role=g.user.role))
        form = search.JournalistForm(
            name=request.form.get("name", ""),
            role=request.form.get("role", ""),
            language=request.form.get("language", ""),
            beats=request.form.get("beats", ""),
            phones=request.form.get("phones", ""),
        )
        try:
            with acting(g.user.name, f"desk: edit journalist {found.email}"):
                changes, warnings = search.edit_from_form(g.db, found, form)
                g.db.commit()
        except InputError as exc:
            g.db.rollback()
            found = g.db.get(Journalist, jid)
            return _page("journalist.html", 400, j=found, form=form, problem=str(exc))
        said = ", ".join(f"{k} {a!r} → {b!r}" for k, (a, b) in changes.items())
        flash(word(g.lang, "saved", changes=said) if changes else word(g.lang, "no change"))
        for warning in warnings:
            flash(warning)
        return redirect(url_for("journalist", jid=jid))

    # Offices, spokespeople and outlets ----------------------------------------------------

    @app.get("/registry")
    def registry_page() -> Any:
        return _page(
            "registry.html",
            offices=registry.list_offices(g.db),
            contacts=registry.list_contacts(g.db),
            outlets=registry.list_outlets(g.db),
            whatsapp=whatsapp_url,
        )

    # Users (admins) -----------------------------------------------------------------------

    @app.get("/users")
    @needs("admin")
    def users_page() -> Any:
        return _page("users.html", rows=users.list_users(g.db), given=None, roles=users.ROLES)

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
        return _page(
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
        return _page(
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

    # Imports: a preview first, then the same import for real --------------------------------

    uploads = outbox_root / "uploads"

    @app.get("/import")
    @needs("officer")
    def import_form() -> Any:
        return _page("import.html", preview=None, problem=None, upload=None)

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
            return _page("import.html", 400, preview=None, upload=None, problem=problem)
        if Path(name).suffix.lower() not in import_runs.SUFFIXES:
            problem = word(g.lang, "bad file", name=name, kinds=", ".join(import_runs.SUFFIXES))
            return _page("import.html", 400, preview=None, upload=None, problem=problem)
        # Kept under its own name (made safe) in a folder of its own, so that every message
        # about a row names the file the officer chose.
        token = secrets.token_urlsafe(16)
        name = _SAFE_NAME.sub("_", name)
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
            return _page("import.html", 400, preview=None, upload=None, problem=str(exc))
        session["upload"] = upload
        return _page("import.html", preview=preview, upload=upload, problem=None)

    @app.post("/import/apply")
    @needs("officer")
    def import_apply() -> Any:
        upload = session.pop("upload", None)
        if not isinstance(upload, dict):
            upload = {}
        token, name = str(upload.get("token", "")), str(upload.get("name", ""))
        path = uploads / token / name
        if not _TOKEN.fullmatch(token) or not name or _SAFE_NAME.search(name) or not path.is_file():
            return _page("message.html", 400, text=word(g.lang, "expired form"))
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

    # Releases -----------------------------------------------------------------------------

    @app.get("/releases")
    def release_list() -> Any:
        return _page("releases.html", rows=releases.list_releases(g.db))

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
                name = _SAFE_NAME.sub("_", Path(sent.filename or "").name[:200])
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
            (zone, count, _when(found.embargo, zone, g.lang))
            for zone, count in search.outlet_time_zones(g.db)
        ]
        routed = []
        more = 0
        try:
            for number, pair in enumerate(routed_outlets(g.db, found.slug)):
                if number < ROUTED_SHOWN:
                    routed.append(pair)
                else:
                    more += 1
        except CivicContactsError as exc:
            flash(str(exc))
        texts = [
            (t.language, releases.release_file_text(found, t.language)) for t in found.translations
        ]
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
        return _page(
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
            running=sends.running(found.slug),
            outcome=sends.outcome(found.slug),
            lift=_when(found.embargo, g.user.timezone, g.lang),
            built=_when(batch.built_at, g.user.timezone, g.lang) if batch else "",
            approved=_when(state.approved_at, g.user.timezone, g.lang)
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
                g.lang, "approved by", by=g.user.name, at=_when(utcnow(), g.user.timezone, g.lang)
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
                g.lang, "approved by", by=g.user.name, at=_when(utcnow(), g.user.timezone, g.lang)
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

    # After the send -----------------------------------------------------------------------

    @app.get("/bounces")
    def bounces() -> Any:
        from civic_contacts.after.returns import held, reviews

        return _page("bounces.html", held=held(g.db), moved=reviews(g.db))

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
        return _page("suppressions.html", rows=registry.list_suppressions(g.db))

    return app


def _journalist_form(found: Journalist) -> search.JournalistForm:
    return search.JournalistForm(
        name=found.name,
        role=found.role,
        language=found.language or "",
        beats="; ".join(found.beats or ()),
        phones=" / ".join(p.raw for p in found.phones),
    )
