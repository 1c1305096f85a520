"""Settings: one seam where a command-line option beats an environment variable beats the
config file beats the default.

The config file is TOML, at `CIVIC_CONTACTS_CONFIG` or `config.toml` in the user's config
folder. Secrets (the SMTP password, the unsubscribe secret) are read from the environment
only when needed and are never stored anywhere by the tool.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from civic_contacts.errors import ConfigError

APP_NAME = "civic-contacts"
ENV_DB = "CIVIC_CONTACTS_DB"
ENV_CONFIG = "CIVIC_CONTACTS_CONFIG"
ENV_SMTP_PASSWORD = "CIVIC_CONTACTS_SMTP_PASSWORD"
ENV_UNSUBSCRIBE_SECRET = "CIVIC_CONTACTS_UNSUBSCRIBE_SECRET"


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
    return f"sqlite:///{folder / 'registry.sqlite3'}"


def config_path() -> Path:
    """Where the config file is read from."""
    explicit = os.environ.get(ENV_CONFIG)
    if explicit:
        return Path(explicit)
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "config.toml"


def read_config_file(path: Path | None = None) -> dict[str, Any]:
    """The config file as a dict; empty when there is none."""
    path = path or config_path()
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


@dataclass(frozen=True)
class Settings:
    """Everything a run needs to know that is not in the registry."""

    db_url: str
    press_name: str = "Press Office"
    press_address: str = "press@example.org"
    unsubscribe_mailto: str = "unsubscribe@example.org"
    unsubscribe_base_url: str | None = None
    templates: Path | None = None
    embargo_warning_minutes: int = 15
    smtp: dict[str, Any] = field(default_factory=dict)


def load_settings(db: str | None = None, config_file: Path | None = None) -> Settings:
    """Resolve settings: option, then environment, then config file, then default."""
    conf = read_config_file(config_file)
    press = conf.get("press", {})
    templates = conf.get("templates")
    return Settings(
        db_url=db or os.environ.get(ENV_DB) or conf.get("db") or default_db_url(),
        press_name=press.get("name", "Press Office"),
        press_address=press.get("address", "press@example.org"),
        unsubscribe_mailto=press.get("unsubscribe_mailto", "unsubscribe@example.org"),
        unsubscribe_base_url=press.get("unsubscribe_base_url"),
        templates=Path(templates) if templates else None,
        embargo_warning_minutes=int(conf.get("embargo_warning_minutes", 15)),
        smtp=dict(conf.get("smtp", {})),
    )
