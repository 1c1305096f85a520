"""Checking values typed as options, so that an error names the option."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from civic_contacts.errors import InputError

T = TypeVar("T")


def option(name: str, check: Callable[[str], T], value: str) -> T:
    """Run a core check on an option's value; the error names the option."""
    try:
        return check(value)
    except InputError as exc:
        raise InputError(f"{name}: {exc.message}", hint=exc.hint) from None


def listed(values: list[str]) -> str:
    """Options given several times or as `a;b` become one `;` list."""
    return ";".join(values)


def cleared(given: list[str], allowed: tuple[str, ...]) -> set[str]:
    """The fields `--clear` names, each one a field that may be emptied."""
    fields = {g.strip().lower() for g in given}
    unknown = sorted(fields - set(allowed))
    if unknown:
        raise InputError(
            f"--clear {unknown[0]}: not a field that can be emptied (these can: {', '.join(allowed)})"
        )
    return fields


def exists(kind: str, key: str) -> InputError:
    """The refusal of `add` for a record that exists: add never overwrites."""
    return InputError(
        f"{kind} {key} exists; add never changes one: use `civic-contacts {kind} edit {key}"
        f" --FIELD VALUE` (only the fields given change), or `{kind} add --update`"
    )


def changes_said(kind: str, key: str, changes: dict[str, tuple[str, str]]) -> list[str]:
    """What an edit did, a line per changed field (before → after)."""
    if not changes:
        return [f"{kind} {key}: unchanged"]
    return [f"{kind} {key}: updated"] + [
        f"  {name}: {before or '(empty)'} → {after or '(empty)'}"
        for name, (before, after) in changes.items()
    ]
