"""The real transport (`transport.Transport`): SMTP to a relay, with TLS that verifies the
server, AUTH, PIPELINING, and DKIM signing.

Replies are sorted into `Transient` (4xx, dropped connections: worth another try) and
`Permanent` (5xx: this recipient is refused for good). A failure to connect is `Unreachable`,
and one to secure or log in a `SendError`, so a run can stop at once instead of trying every
message against a dead host.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import smtplib
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from civic_contacts.config import ENV_SMTP_PASSWORD, Settings
from civic_contacts.deliver.transport import Permanent, Transient, Unreachable
from civic_contacts.errors import ConfigError, SendError
from civic_contacts.registry.addresses import domain_of


@dataclass
class SmtpTransport:
    """A relay: where and how to connect. The password comes from the environment only."""

    forks: ClassVar[bool] = True

    host: str
    port: int
    security: str = "starttls"  # starttls, ssl or none
    user: str | None = None
    password: str | None = None
    cafile: Path | None = None
    timeout: float = 30.0  # seconds: connecting, and waiting for any one reply
    dkim_key: bytes | None = None
    dkim_selector: str | None = None
    dkim_domain: str | None = None
    feedback_id: str | None = None  # Feedback-ID header for providers' feedback loops
    # A password over an unencrypted connection must be asked for by name.
    allow_plaintext_auth: bool = False

    def __repr__(self) -> str:  # the password never appears in logs or tracebacks
        return f"SmtpTransport(host={self.host!r}, port={self.port}, security={self.security!r}, user={self.user!r})"

    def connect(self) -> SmtpConnection:
        """A new connection to the relay (opened on first use)."""
        return SmtpConnection(self)

    def sign(self, data: bytes) -> bytes:
        """The message with the Feedback-ID and DKIM signature configured (`dkim_sign`)."""
        return dkim_sign(data, self)

    def describe(self) -> str:
        """The relay, for people."""
        login = f", as {self.user}" if self.user else ""
        return f"{self.host}:{self.port} ({self.security}{login})"

    def reach_hint(self) -> str:
        """What to check when the relay cannot be reached."""
        return (
            f"check --smtp-host/--smtp-port ({self.host}:{self.port}) and your connection;"
            f" --connect-timeout sets how long to wait (now {self.timeout:g} s)"
        )


SmtpSettings = SmtpTransport
"""The older name of `SmtpTransport`, kept for library callers."""


def _reply(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
    return f"{code} {' '.join(text.split())}"[:500]


def tls_context(cafile: Path | None) -> ssl.SSLContext:
    """A context that verifies the server's certificate (smtplib's own default does not)."""
    return ssl.create_default_context(cafile=str(cafile) if cafile else None)


class SmtpConnection:
    """One SMTP connection, opened on demand and reopened after a drop."""

    def __init__(self, settings: SmtpTransport) -> None:
        self.settings = settings
        self.smtp: smtplib.SMTP | None = None

    def open(self) -> smtplib.SMTP:
        """Connect, secure and authenticate: `Unreachable` when the server cannot be reached,
        `SendError` when TLS or the login fails."""
        s = self.settings
        check_plaintext_auth(s)
        try:
            if s.security == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=s.timeout, context=tls_context(s.cafile)
                )
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
                if s.security == "starttls":
                    smtp.ehlo()
                    smtp.starttls(context=tls_context(s.cafile))
            smtp.ehlo()
            if s.user:
                _login(smtp, s.user, s.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            raise SendError(
                f"{s.host}:{s.port} refused the login for {s.user}: {_reply(exc.smtp_code, exc.smtp_error)}"
            ) from None
        except ssl.SSLError as exc:
            raise SendError(
                f"{s.host}:{s.port}: TLS failed ({exc.reason or exc}); pass --cafile for a private CA"
            ) from None
        except smtplib.SMTPNotSupportedError:
            raise SendError(
                f"{s.host}:{s.port} does not offer STARTTLS; use --security ssl or none"
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise Unreachable(f"cannot connect to {s.host}:{s.port}: {_cause(exc)}") from None
        self.smtp = smtp
        return smtp

    def close(self) -> None:
        """Say goodbye if the server still listens."""
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                self.smtp.close()
            self.smtp = None

    def drop(self) -> None:
        """Forget a connection that failed."""
        if self.smtp is not None:
            with contextlib.suppress(OSError):
                self.smtp.close()
            self.smtp = None

    def send(
        self,
        sender: str,
        recipient: str,
        data: bytes,
        before_data: Callable[[], None] = lambda: None,
        after_envelope: Callable[[], None] = lambda: None,
    ) -> str:
        """Send one message to one recipient; the server's reply on success. `after_envelope`
        runs while the server reads the envelope, `before_data` just before the body goes.

        Raises `Transient` for 4xx and dropped connections, `Permanent` for 5xx.
        """
        smtp = self.smtp or self.open()
        international = not (sender + recipient).isascii()
        if international and not smtp.has_extn("smtputf8"):
            raise Permanent(
                f"{self.settings.host} does not offer SMTPUTF8, which the address {recipient}"
                " needs (its name part is not ASCII); this message was not sent"
            )
        try:
            if smtp.has_extn("pipelining"):
                return self._send_pipelined(
                    smtp, sender, recipient, data, before_data, after_envelope, international
                )
            after_envelope()
            code, message = smtp.mail(sender, ["SMTPUTF8"] if international else [])
            if code != 250:
                raise smtplib.SMTPSenderRefused(code, message, sender)
            code, message = smtp.rcpt(recipient)
            if code not in (250, 251):
                raise smtplib.SMTPRecipientsRefused({recipient: (code, message)})
            before_data()
            code, message = smtp.data(data)
            if code != 250:
                raise smtplib.SMTPDataError(code, message)
            return _reply(code, message)
        except smtplib.SMTPRecipientsRefused as exc:
            code, message = exc.recipients[recipient]
            self._reset_or_drop(code)
            if 400 <= code < 500:
                raise Transient(_reply(code, message)) from None
            # Said of the address itself: read after the run (see `send.suppress_refused`).
            raise Permanent(_reply(code, message), stage="rcpt") from None
        except smtplib.SMTPResponseException as exc:
            self._reset_or_drop(exc.smtp_code)
            raise (Transient if exc.smtp_code < 500 else Permanent)(
                _reply(exc.smtp_code, exc.smtp_error)
            ) from None
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self.drop()
            raise Transient(f"connection lost: {exc}") from None

    def _send_pipelined(
        self,
        smtp: smtplib.SMTP,
        sender: str,
        recipient: str,
        data: bytes,
        before_data: Callable[[], None],
        after_envelope: Callable[[], None],
        international: bool = False,
    ) -> str:
        """MAIL, RCPT and DATA in one write (RFC 2920), then the message: two round trips.
        An address with a non-ASCII name part goes in UTF-8 with SMTPUTF8 (RFC 6531)."""
        if any(char in sender + recipient for char in "\r\n<> \x00"):
            raise Permanent(
                f"refusing to send: an address holds characters no address may hold: {recipient!r}"
            )
        option = " SMTPUTF8" if international else ""
        smtp.send(f"MAIL FROM:<{sender}>{option}\r\nRCPT TO:<{recipient}>\r\nDATA\r\n".encode())
        after_envelope()
        mail = smtp.getreply()
        rcpt = smtp.getreply()
        data_reply = smtp.getreply()
        if data_reply[0] == 354 and (mail[0] != 250 or rcpt[0] not in (250, 251)):
            # The server took DATA although MAIL or RCPT failed: end it empty, keep the refusal.
            smtp.send(b".\r\n")
            smtp.getreply()
        if mail[0] != 250:
            raise smtplib.SMTPSenderRefused(mail[0], mail[1], sender)
        if rcpt[0] not in (250, 251):
            raise smtplib.SMTPRecipientsRefused({recipient: rcpt})
        if data_reply[0] != 354:
            raise smtplib.SMTPDataError(*data_reply)
        before_data()
        body = dot_stuffed(data)
        if body[-2:] != b"\r\n":
            body += b"\r\n"
        smtp.send(body + b".\r\n")
        code, message = smtp.getreply()
        if code != 250:
            raise smtplib.SMTPDataError(code, message)
        return _reply(code, message)

    def _reset_or_drop(self, code: int) -> None:
        if code == 421 or self.smtp is None:
            self.drop()
            return
        try:
            self.smtp.rset()
        except (OSError, smtplib.SMTPException):
            self.drop()


def dot_stuffed(data: bytes) -> bytes:
    """The message with a "." added before every line that starts with one (RFC 5321
    4.5.2): one byte replacement, not the regular expression smtplib runs over the whole
    message."""
    stuffed = data.replace(b"\n.", b"\n..")  # a copy only when some line starts with "."
    return b"." + stuffed if stuffed.startswith(b".") else stuffed


def _cause(exc: BaseException) -> str:
    """A connection failure in a few words ("timed out", "Connection refused")."""
    if isinstance(exc, TimeoutError | socket.timeout) or "timed out" in str(exc):
        return "timed out"
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def check_plaintext_auth(settings: SmtpTransport) -> None:
    """Refuse to send a password over a connection without TLS unless asked by name."""
    if settings.security == "none" and settings.user and not settings.allow_plaintext_auth:
        raise ConfigError(
            f"refusing to send the password of {settings.user} over an unencrypted connection"
            f" to {settings.host}:{settings.port} (--security none); nothing was sent",
            hint="use --security starttls or ssl; on a trusted local relay only,"
            " pass --allow-plaintext-auth",
        )


def _login(smtp: smtplib.SMTP, user: str, password: str) -> None:
    """AUTH with one mechanism, the credentials in UTF-8 (RFC 4616): a 535 means wrong
    credentials, and trying the next mechanism only makes some servers wait for an answer
    that never comes."""
    if not smtp.has_extn("auth"):
        raise SendError(
            f"the server does not offer AUTH, so --user {user} cannot log in",
            hint="leave out --user for a server that needs no login, or use the submission"
            " port (587) of your mail provider",
        )
    advertised = smtp.esmtp_features.get("auth", "").upper().split()

    def b64(text: str) -> str:
        return base64.b64encode(text.encode("utf-8")).decode("ascii")

    if "PLAIN" in advertised or "LOGIN" not in advertised:
        code, reply = smtp.docmd("AUTH", "PLAIN " + b64(f"\0{user}\0{password}"))
    else:
        code, reply = smtp.docmd("AUTH", "LOGIN " + b64(user))
        if code == 334:
            code, reply = smtp.docmd(b64(password))
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, reply)


# Headers a signature must pin down: each is signed once more than it occurs ("over-signed"),
# so a copy added in transit (a second Subject, a Cc, another List-Unsubscribe) breaks it.
OVERSIGNED = (
    b"from",
    b"to",
    b"cc",
    b"subject",
    b"date",
    b"message-id",
    b"reply-to",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
)
# Signed as they occur: how the body is to be read.
SIGNED = (b"mime-version", b"content-type", b"content-language", b"feedback-id")


def dkim_sign(data: bytes, settings: SmtpTransport) -> bytes:
    """The message as it goes out: with the configured Feedback-ID, and a DKIM-Signature
    (relaxed/relaxed) over-signing the headers that matter, List-Unsubscribe and
    List-Unsubscribe-Post among them."""
    if settings.feedback_id:
        data = b"Feedback-ID: " + settings.feedback_id.encode("ascii") + b"\r\n" + data
    if not settings.dkim_key:
        return data
    import dkim

    occurs: dict[bytes, int] = {}
    for line in data.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        if line and not line[:1].isspace():
            name = line.split(b":", 1)[0].strip().lower()
            occurs[name] = occurs.get(name, 0) + 1
    include = [h for h in OVERSIGNED for _ in range(occurs.get(h, 0) + 1)]
    include += [h for h in SIGNED for _ in range(occurs.get(h, 0))]
    signature = dkim.sign(
        data,
        (settings.dkim_selector or "").encode(),
        (settings.dkim_domain or "").encode(),
        settings.dkim_key,
        canonicalize=(b"relaxed", b"relaxed"),
        include_headers=include,
    )
    return signature + data


_FEEDBACK_ID = re.compile(r"[A-Za-z0-9._-]{1,60}(?::[A-Za-z0-9._-]{1,60}){0,3}")


def transport_from(
    settings: Settings,
    host: str | None = None,
    port: int | None = None,
    security: str | None = None,
    user: str | None = None,
    cafile: Path | None = None,
    dkim_key: Path | None = None,
    dkim_selector: str | None = None,
    timeout: float | None = None,
    allow_plaintext_auth: bool = False,
) -> SmtpTransport:
    """Where and how to connect: the given values, then the config file's [smtp] table; the
    password from the environment only (never sent without TLS unless asked by name)."""
    conf = settings.smtp
    host = host or conf.host
    if not host:
        raise ConfigError(
            "no SMTP server: pass --smtp-host (or set host in [smtp] of the config file)"
        )
    chosen = security or conf.security
    if chosen not in ("starttls", "ssl", "none"):
        raise ConfigError(f'[smtp] security "{chosen}" must be starttls, ssl or none')
    default_port = {"ssl": 465, "starttls": 587, "none": 25}[chosen]
    user = user or conf.user
    password = os.environ.get(ENV_SMTP_PASSWORD)
    if user and not password:
        raise ConfigError(
            f"--user {user} needs the password in the environment variable {ENV_SMTP_PASSWORD}"
        )
    key_path = dkim_key or conf.dkim_key
    key = None
    if key_path is not None:
        try:
            key = key_path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"{key_path}: cannot read the DKIM key ({exc.strerror})") from None
        if not (dkim_selector or conf.dkim_selector):
            raise ConfigError("--dkim-key needs --dkim-selector")
    ca = cafile or conf.cafile
    feedback_id = conf.feedback_id or None
    if feedback_id is not None and not _FEEDBACK_ID.fullmatch(str(feedback_id)):
        raise ConfigError(
            f'[smtp] feedback_id "{feedback_id}" must be up to 4 fields of letters, digits,'
            ' ".", "_" or "-" joined by ":" (for example "releases:press:civic-contacts")'
        )
    transport = SmtpTransport(
        host=host,
        port=int(port or conf.port or default_port),
        security=chosen,
        user=user,
        password=password,
        cafile=ca,
        timeout=timeout or float(conf.connect_timeout),
        dkim_key=key,
        dkim_selector=dkim_selector or conf.dkim_selector,
        dkim_domain=domain_of(settings.press_address),
        feedback_id=feedback_id,
        allow_plaintext_auth=allow_plaintext_auth,
    )
    check_plaintext_auth(transport)
    return transport
