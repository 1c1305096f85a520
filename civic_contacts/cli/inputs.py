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
