"""The web endpoint behind unsubscribe links and the journalist's preference page: a small
WSGI application served by waitress.

`/preferences` is the journalist's own page (`preferences.py`): GET shows their choices, POST
saves them (in their history, as theirs) or unsubscribes in one click. Behind the same sealed
token as the unsubscribe link: the address comes from the token alone, never from the form.

GET shows a confirmation page (link checkers and mail scanners fetch links; nothing is
applied on GET). POST applies: RFC 8058 one-click (`List-Unsubscribe=One-Click` in the body,
sent by the recipient's mail program) or the confirmation form. Tokens are HMAC-signed
(`deliver/tokens.py`); a forged one gets 400 and changes nothing; a replayed one is harmless.

Why waitress: it is a production WSGI server in pure Python (no compiler, runs wherever this
tool does), maintained by the Pylons project, and it reads each request whole on its own I/O
loop before a worker thread sees it. So slow or idle clients hold a socket, never a worker;
requests are bounded (header and body sizes, an idle timeout, a connection limit, a fixed
number of workers), and a malformed request is answered by the server, never by a traceback.

A confirmed unsubscribe is never lost: a busy database is retried for a few seconds; if it
still cannot be recorded the answer is 503 with `Retry-After`, so the mailbox provider asks
again (RFC 8058 expects a retry on failure). Concurrent duplicates are the same unsubscribe.
"""

from __future__ import annotations

import html
import random
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from civic_contacts.after import preferences as page
from civic_contacts.db import file_identity, session_factory
from civic_contacts.deliver.tokens import PREFERENCES_PATH, verify_token
from civic_contacts.errors import InputError, TokenError
from civic_contacts.registry import preferences
from civic_contacts.registry import store as registry

MAX_BODY = 16384  # a preference form with every topic, office and country ticked fits
MAX_HEADERS = 8192
PATHS = ("", "/unsubscribe", PREFERENCES_PATH)
# How long a confirmed unsubscribe keeps trying a busy database before answering 503.
RECORD_FOR = 5.0
RETRY_AFTER = 60

StartResponse = Callable[..., Any]


def mask(address: str) -> str:
    """j***@example.org: enough for the reader to recognise, not a list to harvest."""
    local, _at, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


# What the pages say, in the languages messages are written in (English when the reader's is
# not here). `lang` comes from the link (the message's language) or the browser's
# Accept-Language.
WORDING: dict[str, dict[str, str]] = {
    "en": {
        "invalid.title": "This link is not valid",
        "invalid": "The unsubscribe link is incomplete or was changed. "
        "Please use the link from the message itself, or reply to the message.",
        "busy.title": "Please try again",
        "busy": "We could not record your unsubscribe just now. Please try again in a minute.",
        "confirm.title": "Unsubscribe",
        "confirm": "Stop sending press releases from {organisation} to {address}?",
        "button": "Unsubscribe",
        "done.title": "You are unsubscribed",
        "done": "{address} will not receive our press releases any more.",
        "not-found": "Not found",
        "not-allowed": "Not allowed",
        "too-large": "Too large",
    },
    "fr": {
        "invalid.title": "Ce lien n\u2019est pas valide",
        "invalid": "Le lien de désinscription est incomplet ou a été modifié. "
        "Utilisez le lien du message lui-même, ou répondez au message.",
        "busy.title": "Veuillez réessayer",
        "busy": "Nous n\u2019avons pas pu enregistrer votre désinscription pour le moment. "
        "Veuillez réessayer dans une minute.",
        "confirm.title": "Se désinscrire",
        "confirm": "Ne plus envoyer les communiqués de presse de {organisation} à {address}\u00a0?",
        "button": "Me désinscrire",
        "done.title": "Vous êtes désinscrit",
        "done": "{address} ne recevra plus nos communiqués de presse.",
        "not-found": "Page introuvable",
        "not-allowed": "Méthode non autorisée",
        "too-large": "Requête trop longue",
    },
}
DEFAULT_LANGUAGE = "en"


def choose_language(asked: str | None, accept: str | None) -> str:
    """The page's language: the link's `lang` when we have its wording, else the browser's
    preferred Accept-Language that we have, else English."""
    weighted: list[tuple[float, str]] = []
    for item in (accept or "").split(",")[:20]:
        tag, _semi, params = item.partition(";")
        weight = 1.0
        for param in params.split(";"):
            name, _eq, value = param.strip().partition("=")
            if name.lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if weight > 0:
            weighted.append((weight, tag))
    weighted.sort(key=lambda pair: -pair[0])  # stable: equal weights keep the browser's order
    for candidate in [asked or "", *(tag for _w, tag in weighted)]:
        base = candidate.strip().split("-")[0].lower()
        if base in WORDING:
            return base
    return DEFAULT_LANGUAGE


def _page(language: str, title_key: str, body: str = "") -> bytes:
    title = WORDING[language][title_key]
    return (
        f'<!DOCTYPE html><html lang="{language}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title></head>"
        '<body style="font-family:Arial,Helvetica,sans-serif;max-width:560px;margin:40px auto;padding:0 16px">'
        f'<h1 style="font-size:22px">{html.escape(title)}</h1>{body}</body></html>'
    ).encode()


def _said(language: str, key: str, **values: str) -> str:
    """One paragraph of wording, with its values escaped."""
    escaped = {name: html.escape(value) for name, value in values.items()}
    return f"<p>{html.escape(WORDING[language][key]).format(**escaped)}</p>"


def invalid_page(language: str) -> bytes:
    """The page for a missing, changed or forged link."""
    return _page(language, "invalid.title", _said(language, "invalid"))


def busy_page(language: str) -> bytes:
    """The page for an unsubscribe that could not be recorded yet."""
    return _page(language, "busy.title", _said(language, "busy"))


INVALID = invalid_page(DEFAULT_LANGUAGE)
BUSY = busy_page(DEFAULT_LANGUAGE)


class UnsubscribeApp:
    """The WSGI application: one registry, the secrets that verify tokens, the organisation."""

    def __init__(
        self,
        engine: Engine,
        secret: bytes | Sequence[bytes],
        organisation: str,
        contact: str = "",
    ) -> None:
        """`contact`: the address a journalist writes to about their data (the press
        office's)."""
        self.engine = engine
        self.factory = session_factory(engine)
        self.sqlite = engine.url.get_backend_name() == "sqlite"
        # The SQLite file served: one replaced under the server (a restore from a backup) is
        # noticed at the next request, and nothing written to the old one is confirmed.
        self.identity = file_identity(engine)
        self.secret = secret
        self.organisation = organisation
        self.contact = contact

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            status, body, extra = self.handle(environ)
        except Exception as exc:  # never a traceback to the client; one line for the operator
            print(f"unsubscribe: {type(exc).__name__}: {exc}"[:300], file=sys.stderr)
            status, body, extra = HTTPStatus.INTERNAL_SERVER_ERROR, BUSY, [("Retry-After", "60")]
        headers = [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
            ("Referrer-Policy", "no-referrer"),
            (
                "Content-Security-Policy",
                "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
            ),
            *extra,
        ]
        start_response(f"{status.value} {status.phrase}", headers)
        return [body] if environ.get("REQUEST_METHOD") != "HEAD" else [b""]

    def handle(self, environ: dict[str, Any]) -> tuple[HTTPStatus, bytes, list[tuple[str, str]]]:
        """Status, page and extra headers for one request."""
        path = str(environ.get("PATH_INFO") or "").rstrip("/")
        query = parse_qs(str(environ.get("QUERY_STRING") or ""))
        language = choose_language(_first(query, "lang"), environ.get("HTTP_ACCEPT_LANGUAGE"))
        if path not in PATHS:
            return HTTPStatus.NOT_FOUND, _page(language, "not-found"), []
        method = environ.get("REQUEST_METHOD")
        if method in ("GET", "HEAD"):
            if path == PREFERENCES_PATH:
                return self._choices(_first(query, "token"), language)
            return self._confirm(_first(query, "token"), language)
        if method != "POST":
            return (
                HTTPStatus.METHOD_NOT_ALLOWED,
                _page(language, "not-allowed"),
                [("Allow", "GET, POST")],
            )
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return HTTPStatus.BAD_REQUEST, invalid_page(language), []
        if length < 0 or length > MAX_BODY:
            return HTTPStatus.REQUEST_ENTITY_TOO_LARGE, _page(language, "too-large"), []
        data = environ["wsgi.input"].read(length) if length else b""
        form = parse_qs(data.decode("utf-8", "replace"))
        token = _first(form, "token") or _first(query, "token")
        if _first(form, "lang"):
            language = choose_language(_first(form, "lang"), None)
        if path == PREFERENCES_PATH and _first(form, "action") == "save":
            return self._choices(token, language, form)
        return self._apply(token, language)

    def _address(self, token: str | None) -> str | None:
        if not token:
            return None
        try:
            return verify_token(self.secret, token)
        except TokenError:
            return None

    def _confirm(
        self, token: str | None, language: str
    ) -> tuple[HTTPStatus, bytes, list[tuple[str, str]]]:
        address = self._address(token)
        if address is None:
            return HTTPStatus.BAD_REQUEST, invalid_page(language), []
        form = (
            _said(language, "confirm", organisation=self.organisation, address=mask(address))
            + '<form method="post"><input type="hidden" name="token" '
            f'value="{html.escape(token or "", quote=True)}">'
            f'<input type="hidden" name="lang" value="{language}">'
            f'<button type="submit">{html.escape(WORDING[language]["button"])}</button></form>'
        )
        return HTTPStatus.OK, _page(language, "confirm.title", form), []

    def _apply(
        self, token: str | None, language: str
    ) -> tuple[HTTPStatus, bytes, list[tuple[str, str]]]:
        address = self._address(token)
        if address is None:
            return HTTPStatus.BAD_REQUEST, invalid_page(language), []
        if not self.record(address):
            return (
                HTTPStatus.SERVICE_UNAVAILABLE,
                busy_page(language),
                [("Retry-After", str(RETRY_AFTER))],
            )
        done = _page(language, "done.title", _said(language, "done", address=mask(address)))
        return HTTPStatus.OK, done, []

    def _choices(
        self, token: str | None, language: str, form: dict[str, list[str]] | None = None
    ) -> tuple[HTTPStatus, bytes, list[tuple[str, str]]]:
        """The preference page (GET), or the result of saving a posted form."""
        address = self._address(token)
        if address is None:
            return HTTPStatus.BAD_REQUEST, invalid_page(language), []
        outcome: list[tuple[HTTPStatus, bytes]] = []

        def work(session: Session) -> None:
            outcome.clear()
            outcome.append(self._choices_in(session, address, token or "", language, form))

        if not self._retrying(work, write=form is not None):
            return HTTPStatus.SERVICE_UNAVAILABLE, busy_page(language), [("Retry-After", "60")]
        status, body = outcome[0]
        return status, body, []

    def _choices_in(
        self,
        session: Session,
        address: str,
        token: str,
        language: str,
        form: dict[str, list[str]] | None,
    ) -> tuple[HTTPStatus, bytes]:
        journalist = registry.find_journalist(session, address)
        masked = mask(address)
        if journalist is None or journalist.archived_at is not None:
            return HTTPStatus.OK, page.unknown_page(
                language, self.organisation, self.contact, token
            )
        if journalist.opted_out or registry.is_suppressed(session, address):
            # An objection is absolute: nothing to choose until they write to us.
            return HTTPStatus.OK, page.unsubscribed_page(
                language, self.organisation, self.contact, masked
            )
        offer = preferences.offered(session)
        chosen = preferences.choices_of(journalist)
        saved, error, status = False, "", HTTPStatus.OK
        if form is not None:
            try:
                chosen = preferences.check_choices(form, offer, journalist.language)
            except InputError as exc:
                error, status = exc.message, HTTPStatus.BAD_REQUEST
            else:
                preferences.save_choices(session, journalist, chosen)
                saved = True
        return status, page.choices_page(
            language,
            organisation=self.organisation,
            contact=self.contact,
            address=masked,
            token=token,
            offer=offer,
            chosen=chosen,
            saved=saved,
            error=error,
        )

    def _replaced(self) -> bool:
        """Whether the SQLite file at the served path is another than the one opened; if so,
        the old connections are let go, so the next request writes to the file now there."""
        if self.identity is None or file_identity(self.engine) == self.identity:
            return False
        print(
            "unsubscribe: the database file was replaced while serving; the request was not"
            " confirmed, the next one is written to the new file",
            file=sys.stderr,
        )
        self.engine.dispose()
        self.identity = file_identity(self.engine)
        return True

    def record(self, address: str) -> bool:
        """Suppress the address; True once it is on the list (by this request or a concurrent
        one), False when the database stayed busy for RECORD_FOR seconds or its file was
        replaced (then nothing is confirmed that may have gone to the old file)."""
        return self._retrying(
            lambda session: registry.suppress(session, address, "unsubscribe link")
        )

    def _retrying(self, work: Callable[[Session], object], write: bool = True) -> bool:
        """Run `work` in a transaction; True once it is done (or, for a write, a concurrent
        request did the same first), False when the database stayed busy for RECORD_FOR
        seconds or its file was replaced (then nothing is confirmed that may have gone to
        the old file)."""
        deadline = time.monotonic() + RECORD_FOR
        pause = 0.05
        while True:
            if self._replaced():
                return False
            try:
                with self.factory() as session, session.begin():
                    if self.sqlite and write:
                        # Wait briefly for SQLite's write lock, and retry here instead, so the
                        # whole attempt stays within RECORD_FOR.
                        session.execute(text("PRAGMA busy_timeout = 250"))
                    work(session)
                return not self._replaced()
            except IntegrityError:
                if not write:
                    raise
                return not self._replaced()  # a concurrent request recorded it first
            except DBAPIError:
                if time.monotonic() + pause > deadline:
                    return False
            time.sleep(pause * random.uniform(0.5, 1.5))
            pause = min(pause * 2, 1.0)


def _first(values: dict[str, list[str]], name: str) -> str | None:
    found = values.get(name) or []
    return found[0] if found else None


@dataclass
class ServerLimits:
    """What one client can hold: see the module's notes."""

    threads: int = 8
    channel_timeout: int = 15  # seconds a connection may stay idle or half-sent
    connection_limit: int = 1000
    max_body: int = MAX_BODY
    max_headers: int = MAX_HEADERS


def make_server(
    engine: Engine,
    secret: bytes | Sequence[bytes],
    organisation: str,
    host: str,
    port: int,
    limits: ServerLimits | None = None,
    contact: str = "",
) -> Any:
    """The waitress server, bound and ready; `run()` serves until `close()`."""
    from waitress.server import create_server

    chosen = limits or ServerLimits()
    return create_server(
        UnsubscribeApp(engine, secret, organisation, contact),
        host=host,
        port=port,
        threads=chosen.threads,
        channel_timeout=chosen.channel_timeout,
        cleanup_interval=min(5, chosen.channel_timeout),
        connection_limit=chosen.connection_limit,
        max_request_body_size=chosen.max_body,
        max_request_header_size=chosen.max_headers,
        expose_tracebacks=False,
        ident="civic-contacts",
        asyncore_use_poll=True,
    )


def serve_in_thread(server: Any) -> Callable[[], None]:
    """Run a server on a background thread; returns the function that stops it."""
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()

    def stop() -> None:
        server.close()
        server.task_dispatcher.shutdown()
        thread.join(5)

    return stop
