"""A release written back as the file `release add` reads (TOML front matter between `+++`
lines, then the Markdown body), so that the desk can show a language's file for editing and
read the edited text back as a new revision."""

from __future__ import annotations

import datetime as dt
import json

from civic_contacts.errors import InputError
from civic_contacts.registry.models import Release


def _toml_text(value: str) -> str:
    # A TOML basic string: JSON's escapes (\\, \", \n, \t, \uXXXX) are TOML's too.
    return json.dumps(value, ensure_ascii=False)


def release_file_text(release: Release, language: str) -> str:
    """One language of a release as the file `release add` reads (front matter, then the
    body), so that it can be edited and read back as a new revision."""
    translation = next((t for t in release.translations if t.language == language), None)
    if translation is None:
        raise InputError(f"{release.slug} has no {language} text")
    embargo = (
        release.embargo.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if release.embargo is not None
        else "none"
    )
    lines = [
        "+++",
        f"slug = {_toml_text(release.slug)}",
        f"lang = {_toml_text(translation.language)}",
        f"office = {_toml_text(release.office.code)}",
        f"concerns = [{', '.join(_toml_text(c) for c in release.concerns)}]",
        f"embargo = {_toml_text(embargo)}",
        f"title = {_toml_text(translation.title)}",
    ]
    if translation.dateline:
        lines.append(f"dateline = {_toml_text(translation.dateline)}")
    if release.link:
        lines.append(f"link = {_toml_text(release.link)}")
    if release.fallback:
        lines.append(f"fallback = [{', '.join(_toml_text(c) for c in release.fallback)}]")
    if release.keep_contact_block:
        lines.append("keep_contact_block = true")
    if release.topics:
        lines.append(f"topics = [{', '.join(_toml_text(c) for c in release.topics)}]")
    if not release.topics_open:
        lines.append("topics_open = false")
    return "\n".join([*lines, "+++", translation.body.rstrip("\n"), ""])
