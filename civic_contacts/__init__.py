"""civic-contacts: press contacts, media lists, routing and embargoed release batches.

The command line is one adapter over this library; everything it does can be done from Python:

    from civic_contacts import make_engine, upgrade, session_factory, parse_phones
"""

from civic_contacts.addresses import normalise_email
from civic_contacts.db import make_engine, session_factory
from civic_contacts.errors import CivicContactsError
from civic_contacts.migrations import ensure_schema, upgrade
from civic_contacts.phones import ParsedPhone, parse_phone, parse_phones

__all__ = [
    "CivicContactsError",
    "ParsedPhone",
    "ensure_schema",
    "make_engine",
    "normalise_email",
    "parse_phone",
    "parse_phones",
    "session_factory",
    "upgrade",
]
__version__ = "0.1.0"
