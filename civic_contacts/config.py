"""Settings: one seam where a command-line option beats an environment variable beats the
config file beats the default.

The config file is TOML, at `CIVIC_CONTACTS_CONFIG` or `config.toml` in the user's config
folder. Secrets (the SMTP password, the unsubscribe secret) are read from the environment
only when needed and are never stored anywhere by the tool.

One module: every setting's key, kind, default, check and source live here together, so that
a new setting is one change in one place.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import platformdirs

from civic_contacts.errors import CivicContactsError, ConfigError

APP_NAME = "civic-contacts"
ENV_DB = "CIVIC_CONTACTS_DB"
ENV_CONFIG = "CIVIC_CONTACTS_CONFIG"
ENV_SMTP_PASSWORD = "CIVIC_CONTACTS_SMTP_PASSWORD"
ENV_DNS_SERVER = "CIVIC_CONTACTS_DNS_SERVER"  # the pre-send check's resolver (HOST:PORT)
ENV_UNSUBSCRIBE_SECRET = "CIVIC_CONTACTS_UNSUBSCRIBE_SECRET"
ENV_PER_DOMAIN_RATE = "CIVIC_CONTACTS_PER_DOMAIN_RATE"
ENV_BOUNCES_PASSWORD = "CIVIC_CONTACTS_BOUNCES_PASSWORD"


def package_dir() -> Path:
    """The folder of the installed package."""
    return Path(__file__).resolve().parent


def shipped_dir(name: str) -> Path:
    """`data/` or `templates/`: inside the wheel, or at the top of a checkout (editable install)."""
    inside = package_dir() / name
    if inside.is_dir():
        return inside
    checkout = package_dir().parent / name
    if checkout.is_dir():
        return checkout
    raise ConfigError(f"the shipped folder {name!r} is missing from the installation")


def default_db_url() -> str:
    """An SQLite file in the user's data folder."""
    folder = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    # The data folder is ours to make; a folder named in a URL someone gave is not.
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'registry.sqlite3'}"


def config_path() -> Path:
    """Where the config file is read from."""
    explicit = os.environ.get(ENV_CONFIG)
    if explicit:
        return Path(explicit)
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "config.toml"


def _toml(path: Path, error: type[CivicContactsError]) -> dict[str, Any]:
    """A TOML file read whole, or one line saying why it cannot be (arrays or tables nested
    deeper than Python's stack, too, which the parser meets as a RecursionError)."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise error(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise error(f"{path}: not valid TOML: arrays or tables nested too deep") from None


def read_config_file(path: Path | None = None) -> dict[str, Any]:
    """The config file as a dict, checked against `KEYS`; empty when there is none."""
    path = path or config_path()
    if not path.is_file():
        return {}
    data = _toml(path, ConfigError)
    problems = check_config(data)
    if problems:
        more = (
            f" (and {len(problems) - 1} more; see civic-contacts config check)"
            if len(problems) > 1
            else ""
        )
        raise ConfigError(
            f"{path}: {problems[0]}{more}", hint="civic-contacts config check lists every problem"
        )
    return data


@dataclass(frozen=True)
class Key:
    """One setting of the config file: where it lives, what it holds, what it is for."""

    name: str  # dotted: "press.address"
    kind: str  # text, email, url, path, integer, number, choice
    help: str
    default: Any = None
    env: str | None = None
    secret: bool = False
    choices: tuple[str, ...] = ()
    minimum: float | None = None


KEYS: tuple[Key, ...] = (
    Key("db", "text", "database URL (sqlite:///..., postgresql://...)", env=ENV_DB),
    Key("templates", "path", "your templates folder, used before the shipped ones"),
    Key(
        "embargo_warning_minutes",
        "integer",
        "warn when the lift is closer than this",
        15,
        minimum=0,
    ),
    Key(
        "unsubscribe_secret",
        "text",
        "secret that signs unsubscribe links (else one is generated and kept in the config folder)",
        env=ENV_UNSUBSCRIBE_SECRET,
        secret=True,
    ),
    Key(
        "retired_secret_days",
        "integer",
        "days a retired unsubscribe secret still opens the links it sealed (the life of a link"
        " in an archived message)",
        180,
        minimum=1,
    ),
    Key(
        "officer",
        "text",
        "your name, as the history of changes records who made them (default: the system user)",
    ),
    Key("press.name", "text", "the organisation's name: From display name and card ORG"),
    Key("press.address", "email", "the press office's From address"),
    Key(
        "press.message_id_domain",
        "domain",
        "domain of Message-IDs and calendar UIDs (default: the From domain)",
    ),
    Key(
        "press.unsubscribe_mailto",
        "email",
        "mailbox that receives unsubscribe replies (default: the From address)",
    ),
    Key("press.unsubscribe_base_url", "url", "https page for one-click unsubscribes (RFC 8058)"),
    Key("smtp.host", "text", "SMTP relay"),
    Key("smtp.port", "integer", "SMTP port (587, 465 or 25 by security)", minimum=1),
    Key(
        "smtp.security",
        "choice",
        "how the connection is secured",
        "starttls",
        choices=("starttls", "ssl", "none"),
    ),
    Key("smtp.user", "text", f"SMTP login (password from {ENV_SMTP_PASSWORD})"),
    Key("smtp.rate", "number", "at most this many messages per second", minimum=0.01),
    Key("smtp.cafile", "path", "CA certificates for a private relay"),
    Key("smtp.dkim_key", "path", "PEM private key for DKIM signing"),
    Key("smtp.dkim_selector", "text", "DKIM selector"),
    Key(
        "smtp.feedback_id",
        "text",
        "Feedback-ID header for providers' feedback loops (fields joined by ':')",
    ),
    Key("smtp.connect_timeout", "number", "seconds to wait for the relay", 30, minimum=1),
    Key(
        "send.rate",
        "number",
        "the organisation's rate: messages per second over every sender and release"
        " (--rate can only lower it)",
        minimum=0.01,
    ),
    Key(
        "send.per_domain_rate",
        "number",
        "messages per second to any one recipient domain (0: no limit)",
        10,
        env=ENV_PER_DOMAIN_RATE,
        minimum=0,
    ),
    Key(
        "bounces.return_path",
        "email",
        "envelope sender for bounces: each message gets LOCAL+TOKEN@DOMAIN of it, so a bounce"
        " names its delivery (default: the From address, no tokens)",
    ),
    Key("bounces.host", "text", "IMAP server of the bounce mailbox"),
    Key("bounces.port", "integer", "IMAP port (993 for ssl, 143 for starttls)", minimum=1),
    Key(
        "bounces.security",
        "choice",
        "how the IMAP connection is secured (none only to this machine)",
        "ssl",
        choices=("ssl", "starttls", "none"),
    ),
    Key("bounces.user", "text", f"IMAP login (password from {ENV_BOUNCES_PASSWORD})"),
    Key("bounces.folder", "text", "the folder reports arrive in", "INBOX"),
    Key("bounces.processed_folder", "text", "where processed reports are moved", "Processed"),
    Key(
        "bounces.unmatched_folder",
        "text",
        "where reports that match no delivery are moved (empty: they stay where they are)",
        "",
    ),
    Key(
        "bounces.unreadable_folder",
        "text",
        "where reports that could not be recorded are moved (the reason is printed)",
        "Unreadable",
    ),
    Key(
        "bounces.max_recipients",
        "integer",
        "recipients one report may name before it goes to review instead of being acted on",
        10,
        minimum=1,
    ),
    Key("bounces.cafile", "path", "CA certificates for a private IMAP server"),
    Key(
        "bounces.soft_limit",
        "integer",
        "soft bounces of one address that suppress it (within soft_days, over soft_releases)",
        3,
        minimum=1,
    ),
    Key("bounces.soft_releases", "integer", "releases those soft bounces must span", 2, minimum=1),
    Key("bounces.soft_days", "integer", "days those soft bounces are counted over", 30, minimum=1),
    Key(
        "web.require_approval",
        "boolean",
        "an embargoed batch or notice goes out only after an approver other than its builder"
        " approves that build (once the desk has users)",
        True,
    ),
    Key(
        "web.secure_cookies",
        "boolean",
        "the desk's session cookie is sent over https only (set it behind an https proxy)",
        False,
    ),
)
KEY_NAMES = {key.name: key for key in KEYS}
_KINDS = {
    "text": "text",
    "email": "an email address",
    "domain": "a domain name",
    "url": "an https:// or http:// URL",
    "path": "a file or folder path",
    "integer": "a whole number",
    "number": "a number",
    "choice": "one of",
    "boolean": "true or false",
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _flatten(data: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = []
    for name, value in data.items():
        dotted = f"{prefix}{name}"
        if isinstance(value, dict) and any(k.name.startswith(dotted + ".") for k in KEYS):
            items.extend(_flatten(value, dotted + "."))
        else:
            items.append((dotted, value))
    return items


SECRET_LENGTH = 32  # characters of a given secret: 32 random hexadecimal ones are 128 bits
SECRET_HINT = "generate one with: python3 -c 'import secrets; print(secrets.token_hex(32))'"


def weak_secret(value: str) -> str | None:
    """Why a given secret is too weak to seal links with (None when it is not). A short one
    was recovered offline from one received message in under a second, and then any token
    could be forged: at least 32 characters, not a few repeated (generated ones are 64
    random hexadecimal digits, 256 bits)."""
    if len(value) < SECRET_LENGTH:
        return f"is {len(value)} characters; at least {SECRET_LENGTH} random ones are needed (128 bits)"
    if len(set(value)) < 10:
        return "repeats too few characters to be random (at least 10 different ones)"
    return None


def _check_value(key: Key, value: Any) -> str | None:
    expected = _KINDS[key.kind] + (f" {', '.join(key.choices)}" if key.choices else "")
    shown = repr(value) if not isinstance(value, str) else f'"{value}"'
    if key.secret:
        shown = "(a value not shown here)"
    if key.kind == "boolean":
        return None if isinstance(value, bool) else f"{key.name} must be {expected}, not {shown}"
    if key.kind in ("integer", "number"):
        ok = isinstance(value, int) and not isinstance(value, bool)
        if key.kind == "number":
            ok = ok or isinstance(value, float)
        if not ok:
            return f"{key.name} must be {expected}, not {shown}"
        if key.minimum is not None and value < key.minimum:
            return f"{key.name} must be at least {key.minimum:g}, not {value}"
        return None
    if not isinstance(value, str):
        return f"{key.name} must be {expected} (in quotes), not {shown}"
    if _CONTROL.search(value):
        return f"{key.name} holds a line break or control character"
    if key.kind == "choice" and value not in key.choices:
        return f"{key.name} must be {expected}, not {shown}"
    if key.name == "unsubscribe_secret" and (weak := weak_secret(value)):
        return f"{key.name} {weak}; {SECRET_HINT}"
    if key.kind == "email" and (value.count("@") != 1 or any(c in value for c in ' <>,;"()[]')):
        return f"{key.name} must be exactly one email address (no name, no brackets), not {shown}"
    if key.kind == "email" and "." not in value.rsplit("@", 1)[1].strip(".")[1:]:
        return (
            f"{key.name} {shown} has no top-level domain (press@sahel-relief.org, not"
            " press@sahel-relief): mail to it cannot be delivered"
        )
    if key.name == "press.unsubscribe_base_url" and not value.startswith(
        ("https://", "http://127.0.0.1", "http://localhost", "http://[::1]")
    ):
        return (
            f"{key.name} must be https:// (mailbox providers ignore a one-click unsubscribe"
            f" link that is not; http:// only to this machine, for a trial), not {shown}"
        )
    if key.kind in ("email", "domain", "url") and not value.isascii():
        return (
            f"{key.name} must be ASCII (write an international domain in its xn-- form),"
            f" not {shown}"
        )
    if key.kind == "domain" and not re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?", value):
        return f"{key.name} must be {_KINDS['domain']} such as press.example.org, not {shown}"
    if key.kind == "url" and (
        not value.startswith(("https://", "http://")) or any(c in value for c in ' <>,"\\`{}|^')
    ):
        return f"{key.name} must be {expected} (one address, no spaces, brackets or commas), not {shown}"
    return None


def check_config(data: dict[str, Any]) -> list[str]:
    """Every problem of a config file's contents: unknown keys (with the nearest known one)
    and values of the wrong kind; empty when it is sound."""
    problems: list[str] = []
    for dotted, value in _flatten(data):
        key = KEY_NAMES.get(dotted)
        if key is None and dotted.rsplit(".", 1)[-1] in ("password", "pass", "passwd"):
            section = dotted.split(".", 1)[0]
            env = ENV_BOUNCES_PASSWORD if section == "bounces" else ENV_SMTP_PASSWORD
            problems.append(
                f"{dotted}: a password never goes in the config file (it is read by whoever"
                f" reads the file, and copied with it to backups); set {env} in the"
                " environment instead"
            )
            continue
        if key is None:
            near = difflib.get_close_matches(dotted, KEY_NAMES, n=1, cutoff=0.6)
            if not near:
                leaf = dotted.rsplit(".", 1)[-1]
                near = [k for k in KEY_NAMES if k.rsplit(".", 1)[-1] == leaf][:1]
            problems.append(
                f'unknown key "{dotted}"' + (f'; did you mean "{near[0]}"?' if near else "")
            )
            continue
        problem = _check_value(key, value)
        if problem:
            problems.append(problem)
    return problems


def _lookup(data: dict[str, Any], dotted: str) -> Any:
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _default(name: str) -> Any:
    """The default of one key, as `KEYS` declares it (the one place a default is written)."""
    return KEY_NAMES[name].default


def _from_table(kind: type, section: str, table: dict[str, Any]) -> Any:
    """A typed section from its table of the config file (already checked against `KEYS`):
    each value as written, else the key's default; paths as `Path`."""
    values: dict[str, Any] = {}
    for name in kind.__dataclass_fields__:  # type: ignore[attr-defined]
        key = KEY_NAMES[f"{section}.{name}"]
        value = table.get(name, key.default)
        if key.kind == "path" and value:
            value = Path(str(value))
        values[name] = value
    return kind(**values)


@dataclass(frozen=True)
class SmtpSection:
    """The config file's [smtp] table: the relay. The password never goes there: it comes
    from the environment only (`ENV_SMTP_PASSWORD`)."""

    host: str | None = None
    port: int | None = None
    security: str = _default("smtp.security")
    user: str | None = None
    cafile: Path | None = None
    dkim_key: Path | None = None
    dkim_selector: str | None = None
    feedback_id: str | None = None
    connect_timeout: float = _default("smtp.connect_timeout")

    @classmethod
    def from_table(cls, table: dict[str, Any]) -> SmtpSection:
        """The section as the config file gives it."""
        return cast(SmtpSection, _from_table(cls, "smtp", table))


@dataclass(frozen=True)
class BouncesSection:
    """The config file's [bounces] table: the return path and the bounce mailbox, and when
    repeated soft bounces suppress an address."""

    return_path: str | None = None
    host: str | None = None
    port: int | None = None
    security: str = _default("bounces.security")
    user: str | None = None
    folder: str = _default("bounces.folder")
    processed_folder: str = _default("bounces.processed_folder")
    unmatched_folder: str = _default("bounces.unmatched_folder")
    unreadable_folder: str = _default("bounces.unreadable_folder")
    max_recipients: int = _default("bounces.max_recipients")
    cafile: Path | None = None
    soft_limit: int = _default("bounces.soft_limit")
    soft_releases: int = _default("bounces.soft_releases")
    soft_days: int = _default("bounces.soft_days")

    @classmethod
    def from_table(cls, table: dict[str, Any]) -> BouncesSection:
        """The section as the config file gives it."""
        return cast(BouncesSection, _from_table(cls, "bounces", table))


@dataclass(frozen=True)
class Settings:
    """Everything a run needs to know that is not in the registry."""

    db_url: str
    press_name: str = "Press Office"
    press_address: str = "press@example.org"
    unsubscribe_mailto: str = "press@example.org"
    unsubscribe_base_url: str | None = None
    message_id_domain: str = "example.org"
    templates: Path | None = None
    embargo_warning_minutes: int = 15
    smtp: SmtpSection = field(default_factory=SmtpSection)
    bounces: BouncesSection = field(default_factory=BouncesSection)
    send_rate: float | None = None  # the organisation's, shared by every sender
    per_domain_rate: float | None = 10.0  # None or 0: no limit per recipient domain
    config_file: Path | None = None
    sources: dict[str, str] = field(default_factory=dict)
    officer: str | None = None  # who makes changes, for the history (else the system user)
    require_approval: bool = True  # [web]: a second person approves an embargoed send
    secure_cookies: bool = False  # [web]: the desk's cookie over https only

    def identity_problems(self) -> list[str]:
        """What keeps the press identity from going out to journalists: keys missing from
        the config file, or an address still at an example domain."""
        missing = [k for k in ("press.name", "press.address") if self.sources.get(k) != "file"]
        if missing:
            return [f"missing {', '.join(missing)}"]
        placeholders = [
            f'{name} "{value}" is an example address'
            for name, value in (
                ("press.address", self.press_address),
                ("press.unsubscribe_mailto", self.unsubscribe_mailto),
            )
            if is_example_domain(value.rsplit("@", 1)[-1])
        ]
        if is_example_domain(self.message_id_domain):
            placeholders.append(
                f'press.message_id_domain "{self.message_id_domain}" is an example domain'
            )
        return placeholders


EXAMPLE_DOMAINS = ("example.org", "example.com", "example.net")


def is_example_domain(domain: str) -> bool:
    """example.org/.com/.net and their subdomains (RFC 2606): never a real sender."""
    domain = domain.lower().rstrip(".")
    return any(domain == d or domain.endswith("." + d) for d in EXAMPLE_DOMAINS)


def load_settings(db: str | None = None, config_file: Path | None = None) -> Settings:
    """Resolve settings: option, then environment, then config file, then default."""
    path = config_file or config_path()
    conf = read_config_file(path)
    sources: dict[str, str] = {}

    def pick(name: str, default: Any = None, option: Any = None) -> Any:
        key = KEY_NAMES[name]
        if option is not None:
            sources[name] = "option"
            return option
        if key.env and os.environ.get(key.env):
            sources[name] = "environment"
            return os.environ[key.env]
        value = _lookup(conf, name)
        if value is not None:
            sources[name] = "file"
            return value
        sources[name] = "default"
        return default if default is not None else key.default

    db_url = pick("db", default_db_url(), db)
    address = pick("press.address", "press@example.org")
    templates = pick("templates")
    return Settings(
        db_url=db_url,
        press_name=pick("press.name", "Press Office"),
        press_address=address,
        unsubscribe_mailto=pick("press.unsubscribe_mailto", address),
        unsubscribe_base_url=pick("press.unsubscribe_base_url"),
        message_id_domain=pick("press.message_id_domain", address.rsplit("@", 1)[-1].lower()),
        templates=Path(templates) if templates else None,
        embargo_warning_minutes=int(pick("embargo_warning_minutes")),
        smtp=SmtpSection.from_table(conf.get("smtp", {})),
        bounces=BouncesSection.from_table(conf.get("bounces", {})),
        send_rate=_number(pick("send.rate")) or _number(_lookup(conf, "smtp.rate")),
        per_domain_rate=_number(pick("send.per_domain_rate")),
        config_file=path,
        sources=sources,
        officer=pick("officer"),
        require_approval=bool(pick("web.require_approval")),
        secure_cookies=bool(pick("web.secure_cookies")),
    )


def _number(value: Any) -> float | None:
    """A rate from the file (a number) or the environment (text); None when unset or 0."""
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f'"{value}" is not a number of messages per second') from None
    return number if number > 0 else None


@dataclass(frozen=True)
class Effective:
    """One setting as a run sees it, and where its value came from."""

    key: Key
    value: Any
    source: str  # option, environment, file or default

    @property
    def shown(self) -> str:
        """The value for people: secrets only as set or unset."""
        if self.key.secret:
            return "set" if self.value else "unset"
        return "" if self.value is None else str(self.value)


def effective_settings(db: str | None = None, config_file: Path | None = None) -> list[Effective]:
    """Every setting with its effective value and its source, in the order of `KEYS`."""
    settings = load_settings(db, config_file)
    conf = read_config_file(settings.config_file)
    derived = {
        "db": settings.db_url,
        "press.name": settings.press_name,
        "press.address": settings.press_address,
        "press.unsubscribe_mailto": settings.unsubscribe_mailto,
        "press.message_id_domain": settings.message_id_domain,
    }
    rows = []
    for key in KEYS:
        value: Any
        source: str | None = settings.sources.get(key.name)
        if source is None:
            if key.env and os.environ.get(key.env):
                value, source = os.environ[key.env], "environment"
            elif (found := _lookup(conf, key.name)) is not None:
                value, source = found, "file"
            else:
                value, source = key.default, "default"
        else:
            value = derived.get(key.name, _lookup(conf, key.name) if source == "file" else None)
            if value is None and source == "default":
                value = key.default
            if source == "environment" and key.env:
                value = os.environ[key.env]
        rows.append(Effective(key, value, source))
    return rows


def config_template() -> str:
    """A commented config file: every key, what it is for, and its default."""
    lines = [
        "# civic-contacts settings. Set at least [press] name and address before sending;",
        "# then run: civic-contacts config check",
        f"# Passwords never go here: the SMTP password comes from {ENV_SMTP_PASSWORD},",
        f"# the bounce mailbox's from {ENV_BOUNCES_PASSWORD}.",
        "",
    ]
    section = ""
    for key in KEYS:
        table, _dot, leaf = key.name.rpartition(".")
        if table != section:
            lines += ["", f"[{table}]"]
            section = table
        if key.secret:
            continue
        default = "" if key.default in (None, "") else f" (default: {key.default})"
        choices = f" ({', '.join(key.choices)})" if key.choices else ""
        lines.append(f"# {key.help}{choices}{default}")
        lines.append(f"# {leaf} = {_example(key)}")
    return "\n".join(lines).lstrip("\n") + "\n"


def _example(key: Key) -> str:
    examples = {
        "press.name": '"Your organisation"',
        "press.address": '"press@your-organisation.org"',
        "db": '"postgresql://press@db.your-organisation.org/registry"',
        "smtp.port": "587",
        "smtp.rate": "20",
        "bounces.return_path": '"bounces@your-organisation.org"',
        "bounces.port": "993",
        "bounces.folder": '"INBOX"',
        "bounces.processed_folder": '"Processed"',
        "bounces.unmatched_folder": '""',
    }
    if key.name in examples:
        return examples[key.name]
    if key.kind in ("integer", "number"):
        return str(key.default if key.default is not None else 10)
    if key.kind == "boolean":
        return "true" if key.default else "false"
    if key.choices:
        return f'"{key.choices[0]}"'
    return '"..."'


def write_config_template(path: Path) -> Path:
    """Write the commented template at `path` with mode 0600; never over an existing file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ConfigError(
            f"{path} exists; nothing was written",
            hint="edit it, or move it away first",
        ) from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(config_template())
    return path


def config_problems(path: Path | None = None) -> list[str]:
    """Everything wrong with the config file, each on its own: TOML, unknown keys, wrong kinds,
    and a press identity that is missing or still an example."""
    path = path or config_path()
    if not path.is_file():
        return ["the file does not exist (civic-contacts config init writes one)"]
    try:
        data = _toml(path, ConfigError)
    except ConfigError as exc:
        return [exc.message.removeprefix(f"{path}: ")]
    problems = check_config(data)
    if problems:
        return problems
    return load_settings(config_file=path).identity_problems()
