"""Where the database is: --db, else CIVIC_CONTACTS_DB, else a file in the user's data folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from civic_contacts.config import load_settings


def test_option_beats_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """An explicit --db wins over the environment variable."""
    monkeypatch.setenv("CIVIC_CONTACTS_DB", "sqlite:///from-env.sqlite3")
    assert (
        load_settings(db="sqlite:///from-option.sqlite3").db_url == "sqlite:///from-option.sqlite3"
    )


def test_environment_beats_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """CIVIC_CONTACTS_DB is used when no option is given."""
    monkeypatch.setenv("CIVIC_CONTACTS_DB", "sqlite:///from-env.sqlite3")
    assert load_settings().db_url == "sqlite:///from-env.sqlite3"


def test_default_is_a_file_in_the_user_data_folder() -> None:
    """Without option or variable the registry is an SQLite file under the user's data folder."""
    url = load_settings().db_url
    assert url.startswith("sqlite:///")
    path = Path(url.removeprefix("sqlite:///"))
    assert path.name == "registry.sqlite3"
    assert "civic-contacts" in path.parts


def test_config_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The config file gives the press office's name and address."""
    config = tmp_path / "config.toml"
    config.write_text(
        '[press]\nname = "Media Unit"\naddress = "media@example.org"\n', encoding="utf-8"
    )
    monkeypatch.setenv("CIVIC_CONTACTS_CONFIG", str(config))
    settings = load_settings()
    assert (settings.press_name, settings.press_address) == ("Media Unit", "media@example.org")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('[smtp]\nport = "abc"', "smtp.port must be a whole number"),
        ('[smtp]\nrate = "fast"', "smtp.rate must be a number"),
        ("[smtp]\nrate = -1", "smtp.rate must be at least"),
        ("[press]\nname = 12", "press.name must be text"),
        ("templates = 3", "templates must be a file or folder path"),
        ('[smtp]\nconnect_timeout = "x"', "smtp.connect_timeout must be a number"),
        ('[press]\naddress = "préss@example.org"', "press.address must be ASCII"),
        ("[smtp]\nhost = 5", "smtp.host must be text"),
        ('embargo_warning_minutes = "x"', "embargo_warning_minutes must be a whole number"),
        ('[smtp]\nuser = ["a"]', "smtp.user must be text"),
        ("[smtp]\nsecurity = 1", "smtp.security must be one of"),
        ('[press]\nmessage_id_domain = "ex ample.org"', "press.message_id_domain must be a domain"),
        ('[press]\nunsubscribe_base_url = "https://bücher.de/u"', "must be ASCII"),
    ],
)
def test_values_of_the_wrong_kind_are_one_line_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, problem: str
) -> None:
    """Each wrong value is refused with the file and the key, never a traceback."""
    from civic_contacts.errors import ConfigError

    path = tmp_path / "config.toml"
    path.write_text(text + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(db="sqlite:///:memory:", config_file=path)
    assert str(path) in caught.value.message and problem in caught.value.message
