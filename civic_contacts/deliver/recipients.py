"""Who a message is from and to: the press identity, each recipient's Message-ID, file
name, unsubscribe token and links (`Addressing`, shared by releases, notices and test sends),
and the routed contacts as messages and cards show them (`ContactBook`)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from civic_contacts.compose.templates import ContactView, PhoneView, Recipient
from civic_contacts.compose.typography import is_french
from civic_contacts.config import Settings
from civic_contacts.deliver.tokens import (
    check_return_path,
    https_link,
    mailto_link,
    make_token,
    preferences_link,
    signing_secret,
)
from civic_contacts.errors import ConfigError
from civic_contacts.registry import store as registry
from civic_contacts.registry.addresses import domain_of
from civic_contacts.registry.codes import in_language


@dataclass(frozen=True)
class Identity:
    """Who the messages are from, and the addresses they name for unsubscribing."""

    organisation: str
    from_name: str
    from_address: str
    unsubscribe_mailto: str
    unsubscribe_base_url: str | None = None
    embargo_warning_minutes: int = 15
    message_id_domain: str = ""
    # The envelope sender's base when bounces come back to a mailbox of their own: each
    # message goes from LOCAL+TOKEN@DOMAIN of it (see deliver/tokens.py); else from `from_address`.
    return_path: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Identity:
        """The identity the config file (or its defaults) gives."""
        configured = settings.bounces.return_path
        return cls(
            return_path=check_return_path(str(configured)) if configured else None,
            organisation=settings.press_name,
            from_name=settings.press_name,
            from_address=settings.press_address,
            unsubscribe_mailto=settings.unsubscribe_mailto,
            unsubscribe_base_url=settings.unsubscribe_base_url,
            embargo_warning_minutes=settings.embargo_warning_minutes,
            message_id_domain=settings.message_id_domain,
        )


def check_identity(session: Session, settings: Settings, doing: str) -> None:
    """Refuse to build or send under a press identity that is missing or still an example,
    except in the demo's own registry (whose people and addresses are all invented)."""
    problems = settings.identity_problems()
    if problems and not registry.is_demo(session):
        raise ConfigError(
            f"{settings.config_file}: the press identity is not set up ({'; '.join(problems)});"
            f" nothing was {doing}",
            hint="run civic-contacts config init (or edit that file), then civic-contacts config check",
        )


def message_id(slug: str, email: str, domain: str) -> str:
    """A Message-ID that stays the same for this release and recipient."""
    digest = hashlib.sha256(f"{slug}\x00{email}".encode()).hexdigest()[:24]
    return f"<{slug}.{digest}@{domain}>"


_PLAIN_NAME = re.compile(r"[a-z0-9][a-z0-9._@-]{0,99}")


def file_name(email: str) -> str:
    """A safe file name for a recipient's message, the same on every build.

    An address made only of lower-case letters, digits and `._@-` (most of them) is its own
    name. Any other gets a readable part (other characters as `_`, at most 60) and `~` with a
    hash of the whole address, so `a+b@x.org` and `a_b@x.org` never share a file; `~` never
    appears in a plain name, so the two kinds never meet.
    """
    if _PLAIN_NAME.fullmatch(email):
        return email + ".eml"
    readable = re.sub(r"[^a-z0-9._@-]", "_", email.lower())[:60].lstrip(".")
    digest = hashlib.sha256(email.encode("utf-8")).hexdigest()[:12]
    return f"{readable}~{digest}.eml"


EXTENSION_WORD = " ext. "  # " poste " in French


class ContactBook:
    """Each press contact as messages show it and as a vCard 3.0 card, in a message's language
    (the role and the office's city translated when the registry has them), read once and
    kept as plain values."""

    def __init__(self, session: Session, organisation: str) -> None:
        # Imported here: a send whose messages are all built never needs a card.
        from civic_contacts.registry.phones import format_international, tel_uri, whatsapp_url
        from civic_contacts.registry.vcard import contact_card

        contacts = registry.list_contacts(session)
        # A number is on WhatsApp or it is not: one shared by two contacts (a desk line) and
        # marked WhatsApp for one of them is shown as WhatsApp for both, in text and on cards.
        on_whatsapp = frozenset(
            p.e164 for c in contacts for p in c.phones if p.valid and p.e164 and p.whatsapp
        )
        self.names = {contact.name: contact.id for contact in contacts}
        self._views: dict[int, ContactView] = {}
        self._roles: dict[int, dict[str, str]] = {}
        self._cities: dict[int, dict[str, str]] = {}
        self._cards: dict[tuple[int, str], str] = {}
        for contact in contacts:
            phones = tuple(
                PhoneView(
                    display=format_international(p.e164)
                    + (f"{EXTENSION_WORD}{p.extension}" if p.extension else ""),
                    tel=tel_uri(p.e164, p.extension),
                    whatsapp_url=whatsapp_url(p.e164) if p.e164 in on_whatsapp else None,
                )
                for p in contact.phones
                if p.valid and p.e164
            )
            self._views[contact.id] = ContactView(
                contact.name, contact.role, contact.office.city, contact.email, phones
            )
            self._roles[contact.id] = dict(contact.roles or {})
            self._cities[contact.id] = dict(contact.office.cities or {})
            # The card as written, and one per language the role is translated into.
            for language in ("", *self._roles[contact.id]):
                self._cards[(contact.id, language)] = contact_card(
                    contact,
                    version="3.0",
                    organisation=organisation,
                    whatsapp=on_whatsapp,
                    language=language or None,
                )

    def view(self, contact_id: int, language: str) -> ContactView:
        """The contact as a message in `language` shows it."""
        view = self._views[contact_id]
        role = in_language(view.role, self._roles[contact_id], language)
        city = in_language(view.city, self._cities[contact_id], language)
        if (role, city) != (view.role, view.city):
            view = replace(view, role=role, city=city)
        if is_french(language) and any(EXTENSION_WORD in p.display for p in view.phones):
            phones = tuple(
                replace(p, display=p.display.replace(EXTENSION_WORD, " poste "))
                for p in view.phones
            )
            view = replace(view, phones=phones)
        return view

    def card(self, contact_id: int, language: str) -> str:
        """The contact's card for a message in `language`."""
        roles = self._roles[contact_id]
        chosen = next((key for key in (language, language.split("-")[0]) if roles.get(key)), "")
        return self._cards[(contact_id, chosen)]

    def contacts(self, ids: tuple[int, ...], language: str) -> tuple[ContactView, ...]:
        """The routed contacts of a message in `language`."""
        return tuple(self.view(i, language) for i in ids)

    def cards(self, ids: tuple[int, ...], language: str) -> str:
        """The attached card file of a message in `language` (all routed contacts)."""
        return "".join(self.card(i, language) for i in ids)


class Addressing:
    """How every message of a release, a notice or a test send is addressed to its one
    recipient: a Message-ID stable per (key, address) on the sender's domain, and the
    recipient's unsubscribe token and links. The one place these are made, so that the three
    kinds of message cannot drift apart (the envelope sender is the send's: `tokens`)."""

    def __init__(self, identity: Identity, secret: bytes | None = None) -> None:
        self.identity = identity
        self.secret = secret if secret is not None else signing_secret()
        self.domain = identity.message_id_domain or domain_of(identity.from_address)

    def recipient(
        self,
        *,
        name: str,
        email: str,
        key: str,
        date: dt.datetime,
        language: str,
        in_reply_to: str | None = None,
    ) -> Recipient:
        """The recipient of one message: `key` names the message among the release's (the
        slug for the release itself, the notice's kind and revision, a test's moment)."""
        identity = self.identity
        token = make_token(self.secret, email)
        return Recipient(
            name=name,
            email=email,
            message_id=message_id(key, email, self.domain),
            date=date,
            unsubscribe_mailto=mailto_link(identity.unsubscribe_mailto, token),
            unsubscribe_url=https_link(identity.unsubscribe_base_url, token, language)
            if token and identity.unsubscribe_base_url
            else None,
            in_reply_to=in_reply_to,
            preferences_url=preferences_link(identity.unsubscribe_base_url, token, language)
            if token and identity.unsubscribe_base_url
            else None,
        )
