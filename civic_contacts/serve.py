"""The small web endpoint behind unsubscribe links.

GET shows a confirmation page (link checkers and mail scanners fetch links; nothing is
applied on GET). POST applies: RFC 8058 one-click (`List-Unsubscribe=One-Click` in the body,
sent by the recipient's mail program) or the confirmation form. Tokens are HMAC-signed
(`unsubscribe.py`); a forged one gets 400 and changes nothing; a replayed one is harmless.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable, Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from sqlalchemy.engine import Engine

from civic_contacts import registry
from civic_contacts.db import session_factory
from civic_contacts.errors import TokenError
from civic_contacts.unsubscribe import verify_token

MAX_BODY = 4096


def mask(address: str) -> str:
    """j***@example.org: enough for the reader to recognise, not a list to harvest."""
    local, _at, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


def _page(title: str, body: str) -> bytes:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title></head>"
        '<body style="font-family:Arial,Helvetica,sans-serif;max-width:560px;margin:40px auto;padding:0 16px">'
        f'<h1 style="font-size:22px">{html.escape(title)}</h1>{body}</body></html>'
    ).encode()


def make_handler(
    engine: Engine, secret: bytes | Sequence[bytes], organisation: str
) -> type[BaseHTTPRequestHandler]:
    """A request handler bound to one registry and one secret."""
    factory = session_factory(engine)

    class Handler(BaseHTTPRequestHandler):
        server_version = "civic-contacts"
        sys_version = ""

        def log_message(self, format: str, *args: object) -> None:
            # Query strings hold tokens; keep them out of logs.
            pass

        def _send(self, status: HTTPStatus, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("Referrer-Policy", "no-referrer")
            self.send_header(
                "Content-Security-Policy",
                "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
            )
            self.end_headers()
            self.wfile.write(body)

        def _token(self, extra: dict[str, list[str]] | None = None) -> str | None:
            query = parse_qs(urlsplit(self.path).query)
            if extra:
                query = {**query, **extra}
            values = query.get("token") or []
            return values[0] if values else None

        def _address(self, token: str | None) -> str | None:
            if not token:
                return None
            try:
                return verify_token(secret, token)
            except TokenError:
                return None

        def _refuse(self) -> None:
            self._send(
                HTTPStatus.BAD_REQUEST,
                _page(
                    "This link is not valid",
                    "<p>The unsubscribe link is incomplete or was changed. "
                    "Please use the link from the message itself, or reply to the message.</p>",
                ),
            )

        def do_GET(self) -> None:
            if urlsplit(self.path).path.rstrip("/") not in ("", "/unsubscribe"):
                self._send(HTTPStatus.NOT_FOUND, _page("Not found", ""))
                return
            token = self._token()
            address = self._address(token)
            if address is None:
                self._refuse()
                return
            form = (
                f"<p>Stop sending press releases from {html.escape(organisation)} to "
                f"<strong>{html.escape(mask(address))}</strong>?</p>"
                '<form method="post"><input type="hidden" name="token" '
                f'value="{html.escape(token or "", quote=True)}">'
                '<button type="submit">Unsubscribe</button></form>'
            )
            self._send(HTTPStatus.OK, _page("Unsubscribe", form))

        def do_POST(self) -> None:
            if urlsplit(self.path).path.rstrip("/") not in ("", "/unsubscribe"):
                self._send(HTTPStatus.NOT_FOUND, _page("Not found", ""))
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._send(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, _page("Too large", ""))
                return
            form = parse_qs(self.rfile.read(length).decode("utf-8", "replace")) if length else {}
            address = self._address(self._token(form if "token" in form else None))
            if address is None:
                self._refuse()
                return
            with factory() as session, session.begin():
                registry.suppress(session, address, "unsubscribe link")
            self._send(
                HTTPStatus.OK,
                _page(
                    "You are unsubscribed",
                    f"<p>{html.escape(mask(address))} will not receive our press "
                    "releases any more.</p>",
                ),
            )

    return Handler


def make_server(
    engine: Engine, secret: bytes | Sequence[bytes], organisation: str, host: str, port: int
) -> ThreadingHTTPServer:
    """The server, bound and ready; `serve_forever()` runs it."""
    return ThreadingHTTPServer((host, port), make_handler(engine, secret, organisation))


def serve_in_thread(server: ThreadingHTTPServer) -> Callable[[], None]:
    """Run a server on a background thread; returns the function that stops it."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(5)

    return stop
