"""civic-contacts: press contacts, media lists, routing and embargoed release batches.

The command line is one adapter over this library; everything it does can be done from Python.
A release's batch lives through four calls, each taking a session first:

    build_batch(session, release, outbox, BuildOptions(), settings)   # plan, render, record, write
    send_test(session, release, smtp, ["me@example.org"], settings)   # one "[TEST]" copy
    send_batch(session, release, smtp, SendOptions(), settings)       # each message exactly once
    batch_status(session, release)                                   # where it stands

See README.md, "Use as a library".
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from civic_contacts.addresses import normalise_email
    from civic_contacts.batches import (
        BatchStatus,
        BuildOptions,
        BuildReport,
        batch_status,
        build_batch,
    )
    from civic_contacts.config import Settings, load_settings
    from civic_contacts.db import make_engine, session_factory
    from civic_contacts.deliveries import DeliveryStatus
    from civic_contacts.demo import load_demo_data
    from civic_contacts.errors import CivicContactsError
    from civic_contacts.migrations import ensure_schema, upgrade
    from civic_contacts.phones import ParsedPhone, parse_phone, parse_phones
    from civic_contacts.send import SendOptions, SendReport, TestSent, send_batch, send_test
    from civic_contacts.smtp import SmtpSettings

# Loaded on first use, so that `import civic_contacts` (and `civic-contacts --help`) stays quick.
_HOME = {
    "normalise_email": "addresses",
    "BatchStatus": "batches",
    "BuildOptions": "batches",
    "BuildReport": "batches",
    "batch_status": "batches",
    "build_batch": "batches",
    "Settings": "config",
    "load_settings": "config",
    "make_engine": "db",
    "session_factory": "db",
    "DeliveryStatus": "deliveries",
    "load_demo_data": "demo",
    "CivicContactsError": "errors",
    "ensure_schema": "migrations",
    "upgrade": "migrations",
    "ParsedPhone": "phones",
    "parse_phone": "phones",
    "parse_phones": "phones",
    "SendOptions": "send",
    "SendReport": "send",
    "TestSent": "send",
    "send_batch": "send",
    "send_test": "send",
    "SmtpSettings": "smtp",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'civic_contacts' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"civic_contacts.{home}"), name)


__all__ = [
    "BatchStatus",
    "BuildOptions",
    "BuildReport",
    "CivicContactsError",
    "DeliveryStatus",
    "ParsedPhone",
    "SendOptions",
    "SendReport",
    "Settings",
    "SmtpSettings",
    "TestSent",
    "batch_status",
    "build_batch",
    "ensure_schema",
    "load_demo_data",
    "load_settings",
    "make_engine",
    "normalise_email",
    "parse_phone",
    "parse_phones",
    "send_batch",
    "send_test",
    "session_factory",
    "upgrade",
]
__version__ = "0.1.0"
