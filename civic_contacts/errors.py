"""The one exception tree of civic-contacts.

The core raises these; the command line turns exactly these into a one-line message and
exit code 2. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class CivicContactsError(Exception):
    """Something a user did or typed that the tool refuses, with a message saying how to fix it."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[object, ...]:
        # Pickled whole (a build's second process raises it in the first): every field kept,
        # whatever the subclass's own arguments are.
        return (_rebuilt, (type(self), dict(self.__dict__)))


def _rebuilt(kind: type[CivicContactsError], fields: dict[str, object]) -> CivicContactsError:
    error = kind.__new__(kind)
    Exception.__init__(error, fields.get("message"))
    error.__dict__.update(fields)
    return error


class ConfigError(CivicContactsError):
    """A setting is missing or malformed."""


class DatabaseError(CivicContactsError):
    """The registry database cannot be opened or is at the wrong schema version."""


class OutboxError(CivicContactsError):
    """The outbox folder cannot be written (read-only, full disk, no such place)."""


class InputError(CivicContactsError):
    """A value a user gave is not acceptable (a field on the command line or in a file)."""


class InvalidRow(InputError):
    """One or more rows of an input file are bad; `problems` lists each with its place."""

    def __init__(self, problems: list[str], good_rows: int = 0, hint: str | None = None) -> None:
        first = problems[0] if problems else "no rows"
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        super().__init__(first + more, hint=hint)
        self.problems = problems
        self.good_rows = good_rows


class UnknownOffice(InputError):
    """An office code that is not in the registry."""


class UnknownContact(InputError):
    """A press contact that is not in the registry."""


class UnknownOutlet(InputError):
    """An outlet slug that is not in the registry."""


class UnknownJournalist(InputError):
    """A journalist that is not in the registry."""


class UnknownRelease(InputError):
    """A release slug that is not in the registry."""


class InvalidPhone(InputError):
    """A phone number that cannot be read."""


class InvalidEmail(InputError):
    """An email address that is not valid."""


class InvalidRelease(InputError):
    """A release file that is malformed or contradicts another file of the same release."""


class EmbargoLifted(CivicContactsError):
    """The embargo has already lifted: building or sending is refused unless relabelled."""


class BatchConflict(CivicContactsError):
    """A batch cannot be (re)built or sent in its current state."""


class SendError(CivicContactsError):
    """Sending cannot start or go on (server unreachable, authentication refused, ...)."""


class TokenError(CivicContactsError):
    """An unsubscribe token is forged, malformed or for another secret."""
