"""The desk: a Flask application over the core, as `cli/` is over it for a terminal. This
module makes the application, logs people in and out and shows Today; the pages of each part
are in `registry_pages`, `release_pages`, `after_pages` and `user_pages`.

No SQL, SMTP or MIME in any of them: each handler reads the form, uses the request's session,
calls the core and renders a page. What keeps it safe is in one place, `_guard` and `_headers`:

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
import hmac
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from flask import (
    Flask,
    Response,
    flash,
    g,
    redirect,
    request,
    session,
    url_for,
)
from jinja2 import StrictUndefined
from sqlalchemy.engine import Engine
from werkzeug.exceptions import HTTPException, SecurityError

from civic_contacts.after.returns import alert_lines, held, reviews
from civic_contacts.config import Settings
from civic_contacts.db import session_factory, utcnow
from civic_contacts.deliver.build import stored_batch
from civic_contacts.deliver.notice_status import due_notices
from civic_contacts.deliver.status import batch_status
from civic_contacts.deliver.tokens import derived_key
from civic_contacts.deliver.transport import Transport
from civic_contacts.desk import after_pages, registry_pages, release_pages, user_pages
from civic_contacts.desk.common import Desk, csrf_token, needs, page, when
from civic_contacts.desk.sends import Sends
from civic_contacts.desk.words import LANGUAGES, word
from civic_contacts.errors import CivicContactsError, InputError
from civic_contacts.registry import store as registry
from civic_contacts.registry import users
from civic_contacts.registry.history import acting
from civic_contacts.registry.models import User
from civic_contacts.releases import store as releases

HERE = Path(__file__).resolve().parent
SESSION_LABEL = b"civic-contacts desk session v1"
SESSION_HOURS = 12
MAX_FORM = 2 * 1024 * 1024  # the fields of a form
MAX_UPLOAD = 64 * 1024 * 1024  # a CSV or vCard file to import
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
    " connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
OPEN = frozenset({"login", "static"})


def _language(user: User | None) -> str:
    if user is not None and user.language in LANGUAGES:
        return user.language
    best = request.accept_languages.best_match(LANGUAGES)
    return best or "en"


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
    desk = Desk(settings, outbox_root, sends, transport)

    @app.context_processor
    def _words() -> dict[str, Any]:
        language = getattr(g, "lang", "en")
        return {
            "t": lambda key, **values: word(language, key, **values),
            "csrf": csrf_token,
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
                return page("message.html", 400, text=word(g.lang, "expired form"))
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
        return page("message.html", status, text=text)

    # Logging in and out -------------------------------------------------------------------

    @app.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        if request.method == "GET":
            return page("login.html", problem=None, name="")
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
            return page("login.html", 429 if exc.until else 401, problem=problem, name=name)
        # A new session: nothing from before the login is kept (no session fixation).
        session.clear()
        session.permanent = True
        session["uid"], session["v"] = uid, version
        csrf_token()
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
            return page("password.html", problem=None)
        user = g.user
        try:
            with acting(user.name, "desk: password"):
                users.change_password(
                    g.db, user, request.form.get("current", "")[:1000], request.form.get("new", "")
                )
                g.db.commit()
        except InputError as exc:
            g.db.rollback()
            return page("password.html", 400, problem=str(exc))
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
                [(o.code, when(r.embargo, o.timezone, g.lang)) for o in offices],
                when(r.embargo, g.user.timezone, g.lang),
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
        checked = desk.checked.get("last")
        return page(
            "today.html",
            lifts=lifts,
            sends=sent,
            due=due,
            review=review,
            checked=checked,
            checked_at=when(checked[0], g.user.timezone, g.lang) if checked else "",
        )

    @app.post("/doctor")
    @needs("officer")
    def doctor() -> Any:
        """The pre-send check (`civic-contacts doctor`): the identity, SPF, DKIM, DMARC, the
        bounce domain and the relay; the report stays on Today until the next run."""
        from civic_contacts.deliver.doctor import run_doctor
        from civic_contacts.deliver.smtp import SmtpTransport

        try:
            relay = transport()
        except CivicContactsError as exc:
            flash(str(exc))
            relay = None
        report = run_doctor(
            settings,
            relay if isinstance(relay, SmtpTransport) else None,
            sends.dns_server,
            relay=isinstance(relay, SmtpTransport),
        )
        desk.checked["last"] = (utcnow(), g.user.name, report)
        return redirect(url_for("today"))

    registry_pages.register(app, desk)
    release_pages.register(app, desk)
    after_pages.register(app, desk)
    user_pages.register(app, desk)
    return app
