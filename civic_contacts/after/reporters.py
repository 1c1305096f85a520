"""What the writer of a failure report says beyond the server's words.

A server's words alone often cannot tell a dead address from a filter that refused us
("550 x@y... No such user" is written for both), so `reasons.decide` retries them. Some
reporting products say which it was in their own report, and their word settles it:

- PowerMTA classifies every failure in a field of its own (`X-PowerMTA-BounceCategory`):
  `bad-mailbox` and `bad-domain` are its verdicts on the address.
- Outbound gateways (McAfee Email Appliance, Symantec MessageLabs, Trend Micro InterScan)
  list the addresses the next server refused when they handed the message on, each with
  that server's answer: an unknown-user answer there is about the address itself.
- Microsoft's consumer mail (Hotmail, Outlook.com, Live, MSN) answers "mailbox unavailable"
  only for an address it does not have.
- KDDI's au mail (ezweb.ne.jp, au.com) answers "550 <x@ezweb.ne.jp>: User unknown", naming
  the address, when the address does not exist, and "550 : User unknown", naming none, when
  the recipient's own filter refuses the sender; what else a relay says of that reply, or
  whether it says which command it answered, does not change it.

Only a retried, unconfirmed unknown user is ever turned into a suppression here; nothing
else a report says is changed. A forged report gains nothing: acting on any report needs
its delivery's token (`returns.py`).
"""

from __future__ import annotations

import re

from civic_contacts.deliver import reasons

# PowerMTA's categories that are verdicts on the address.
_CATEGORIES = {"bad-mailbox": "no-such-user", "bad-domain": "no-such-domain"}

# A gateway's own report, by its heading or signature, and the words it lists a refused
# address with (beyond the unknown-user phrases `reasons` knows).
_GATEWAYS = (
    # McAfee's heading, three dashes each side (Sendmail's own has five).
    (re.compile(r"(?<!-)--- The following addresses had delivery problems ---(?!-)"), None),
    (re.compile(r"This is the mail delivery agent at messagelabs\.com", re.I), None),
    (
        re.compile(r"Message from InterScan Messaging Security Suite", re.I),
        re.compile(r"Unable to deliver message to <[^<>\s]+@[^<>\s]+>", re.I),
    ),
)
_MICROSOFT_CONSUMER = re.compile(
    r"^(?:Reporting|Remote)-MTA:\s*dns;\s*[\w.-]*\b(?:hotmail|outlook|live|msn)\.com\b",
    re.I | re.M,
)
_MAILBOX_UNAVAILABLE = re.compile(r"mailbox unavailable", re.I)
_CARRIER_NAMES_ADDRESS = re.compile(
    r"(?<![\d.])5\d\d\s*:?\s*<[^<>\s@]+@(?:[\w-]+\.)*(?:ezweb\.ne\.jp|au\.com)>:\s*user unknown",
    re.I,
)
UNCONFIRMED = ("unknown-user-unconfirmed", "unclassified")


def category(value: str) -> tuple[str, str] | None:
    """The action a PowerMTA bounce category settles, or None."""
    reason = _CATEGORIES.get(value.strip().lower())
    return ("suppress", reason) if reason else None


def vouched(report_text: str, words: str) -> bool:
    """Whether the product that wrote `report_text` says the address in `words` (its
    diagnostic for one recipient) is unknown where the words alone leave it open."""
    unknown = bool(reasons.UNKNOWN_USER.search(words) or reasons.NOT_IN_DIRECTORY.search(words))
    for heading, listed in _GATEWAYS:
        if heading.search(report_text) and (
            unknown or (listed is not None and listed.search(words))
        ):
            return True
    if _CARRIER_NAMES_ADDRESS.search(words):
        return True
    return bool(_MICROSOFT_CONSUMER.search(report_text) and _MAILBOX_UNAVAILABLE.search(words))
