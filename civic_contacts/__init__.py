"""civic-contacts: press contacts, media lists, routing and embargoed release batches.

The command line is one adapter over this library; everything it does can be done from Python.
A release's batch lives through four calls, each taking a session first:

    build_batch(session, release, outbox, BuildOptions(), settings)   # plan, render, record, write
    send_test(session, release, smtp, ["me@example.org"], settings)   # one "[TEST]" copy
    send_batch(session, release, smtp, SendOptions(), settings)       # each message exactly once
    batch_status(session, release)                                   # where it stands

When the release changes after the send, follow-ups go to exactly those who were sent it:

    update_release(session, read files...)                            # a new revision
    build_notice(session, release, "moved", outbox, BuildOptions(), settings)
    send_notice(session, release, "moved", smtp, SendOptions(), settings)
    notices_overview(session, release)                                # notices and what is due

See README.md, "Use as a library".
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from civic_contacts.config import Settings, load_settings
    from civic_contacts.db import make_engine, session_factory
    from civic_contacts.deliver.build import BuildReport, build_batch
    from civic_contacts.deliver.ledger import DeliveryStatus
    from civic_contacts.deliver.notice_rules import NoticeKind
    from civic_contacts.deliver.notice_status import notices_overview
    from civic_contacts.deliver.notices import NoticeReport, build_notice
    from civic_contacts.deliver.plan import BuildOptions
    from civic_contacts.deliver.send import TestSent, send_batch, send_notice, send_test
    from civic_contacts.deliver.sender import SendOptions, SendReport
    from civic_contacts.deliver.smtp import SmtpSettings, SmtpTransport
    from civic_contacts.deliver.status import BatchStatus, batch_status
    from civic_contacts.deliver.transport import MemoryTransport, Transport
    from civic_contacts.demo import load_demo_data
    from civic_contacts.errors import CivicContactsError
    from civic_contacts.migrations import ensure_schema, upgrade
    from civic_contacts.registry.addresses import normalise_email
    from civic_contacts.registry.phones import ParsedPhone, parse_phone, parse_phones
    from civic_contacts.releases.store import add_release, read_release_file, update_release

# Loaded on first use, so that `import civic_contacts` (and `civic-contacts --help`) stays quick.
_HOME = {
    "normalise_email": "registry.addresses",
    "BatchStatus": "deliver.status",
    "BuildOptions": "deliver.plan",
    "BuildReport": "deliver.build",
    "batch_status": "deliver.status",
    "build_batch": "deliver.build",
    "Settings": "config",
    "load_settings": "config",
    "make_engine": "db",
    "session_factory": "db",
    "DeliveryStatus": "deliver.ledger",
    "load_demo_data": "demo",
    "CivicContactsError": "errors",
    "ensure_schema": "migrations",
    "upgrade": "migrations",
    "NoticeKind": "deliver.notice_rules",
    "NoticeReport": "deliver.notices",
    "build_notice": "deliver.notices",
    "notices_overview": "deliver.notice_status",
    "add_release": "releases.store",
    "read_release_file": "releases.store",
    "update_release": "releases.store",
    "ParsedPhone": "registry.phones",
    "parse_phone": "registry.phones",
    "parse_phones": "registry.phones",
    "SendOptions": "deliver.sender",
    "SendReport": "deliver.sender",
    "TestSent": "deliver.send",
    "send_batch": "deliver.send",
    "send_notice": "deliver.send",
    "send_test": "deliver.send",
    "SmtpSettings": "deliver.smtp",
    "SmtpTransport": "deliver.smtp",
    "MemoryTransport": "deliver.transport",
    "Transport": "deliver.transport",
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
    "MemoryTransport",
    "NoticeKind",
    "NoticeReport",
    "ParsedPhone",
    "SendOptions",
    "SendReport",
    "Settings",
    "SmtpSettings",
    "SmtpTransport",
    "TestSent",
    "Transport",
    "add_release",
    "batch_status",
    "build_batch",
    "build_notice",
    "ensure_schema",
    "load_demo_data",
    "load_settings",
    "make_engine",
    "normalise_email",
    "notices_overview",
    "parse_phone",
    "parse_phones",
    "read_release_file",
    "send_batch",
    "send_notice",
    "send_test",
    "session_factory",
    "update_release",
    "upgrade",
]
__version__ = "0.1.0"
