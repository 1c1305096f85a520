"""Embargo instants in words: the subject prefix, the banner and local times, per language (Babel).

The instant is always given in GMT (which is UTC, never London time) and then in the outlet's
own time zone, with the weekday and date of *that* place: 00:01 GMT on a Wednesday is 20:01 on
Tuesday in New York. Languages other than English and French get the English wording.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from civic_contacts.errors import EmbargoLifted


def format_datetime(*args: Any, **kwargs: Any) -> str:
    """babel's `format_datetime`, imported when first needed (a send that only reads its
    outbox never is)."""
    from babel.dates import format_datetime as formatted

    return str(formatted(*args, **kwargs))


def get_timezone_location(*args: Any, **kwargs: Any) -> str:
    """babel's `get_timezone_location`, imported when first needed."""
    from babel.dates import get_timezone_location as located

    return str(located(*args, **kwargs))


WARN_MINUTES = 15


@dataclass(frozen=True)
class EmbargoText:
    """What a message says about its embargo, in one language."""

    embargoed: bool
    label: str  # "EMBARGOED UNTIL 00:01 GMT, Wednesday 22 June 2022"
    local: str  # "01:01 in Paris" (empty when the outlet's time is GMT)
    banner: str  # label with the local time in brackets
    subject_prefix: str  # the label, for the subject line
    summary: str  # calendar entry summary prefix, "Embargo lifts" / "Levée de l’embargo"
    when: str = ""  # the instant alone: "00:01 GMT, Wednesday 22 June 2022"


def _base(language: str) -> str:
    return language.split("-")[0].lower()


def _city(zone: str, language: str) -> str:
    try:
        return str(get_timezone_location(ZoneInfo(zone), locale=language, return_city=True))
    except Exception:  # Babel lacks a name for a few zones; the zone id is still clear
        return zone.rsplit("/", 1)[-1].replace("_", " ")


def _local(instant: dt.datetime, zone: str, language: str) -> str:
    tz = ZoneInfo(zone)
    local = instant.astimezone(tz)
    if local.utcoffset() == dt.timedelta(0) and zone in ("UTC", "Etc/UTC", "GMT", "Etc/GMT"):
        return ""
    city = _city(zone, language)
    same_day = local.date() == instant.astimezone(dt.UTC).date()
    if _base(language) == "fr":
        time = format_datetime(local, "HH 'h' mm", tzinfo=tz, locale="fr")
        if same_day:
            return f"{time} à {city}"
        return f"{format_datetime(local, 'EEEE d MMMM', tzinfo=tz, locale='fr')} à {time} à {city}"
    time = format_datetime(local, "HH:mm", tzinfo=tz, locale="en")
    if same_day:
        return f"{time} in {city}"
    return f"{time} on {format_datetime(local, 'EEEE d MMMM', tzinfo=tz, locale='en')} in {city}"


@functools.lru_cache(maxsize=256)
def embargo_text(instant: dt.datetime | None, language: str, zone: str) -> EmbargoText:
    """The embargo wording for a message in `language` to an outlet in time zone `zone`
    (made once for each: a batch's outlets share a handful of zones)."""
    french = _base(language) == "fr"
    if instant is None:
        label = "POUR DIFFUSION IMMÉDIATE" if french else "FOR IMMEDIATE RELEASE"
        return EmbargoText(False, label, "", label, label, "")
    instant = instant.astimezone(dt.UTC)
    if french:
        when = format_datetime(
            instant, "EEEE d MMMM y 'à' HH 'h' mm 'GMT'", tzinfo=dt.UTC, locale="fr"
        )
        label = f"SOUS EMBARGO JUSQU'AU {when}"
        summary = "Levée de l’embargo"
    else:
        when = format_datetime(instant, "HH:mm 'GMT', EEEE d MMMM y", tzinfo=dt.UTC, locale="en")
        label = f"EMBARGOED UNTIL {when}"
        summary = "Embargo lifts"
    local = _local(instant, zone, "fr" if french else "en")
    banner = f"{label} ({local})" if local else label
    return EmbargoText(True, label, local, banner, label, summary, when)


def check_embargo(
    instant: dt.datetime | None,
    now: dt.datetime,
    after_embargo: bool,
    slug: str,
    warn_minutes: int = WARN_MINUTES,
) -> tuple[dt.datetime | None, list[str]]:
    """The embargo to print (None once lifted and relabelled) and warnings; refuses a lifted one.

    A release whose embargo has lifted is refused unless `after_embargo`, which relabels it as
    an immediate release. An embargo less than WARN_MINUTES away gives a warning.
    """
    if instant is None:
        return None, []
    if instant <= now:
        if not after_embargo:
            raise EmbargoLifted(
                f"the embargo of {slug} lifted at {instant:%Y-%m-%d %H:%M} UTC; nothing was built",
                hint="pass --after-embargo to send it relabelled FOR IMMEDIATE RELEASE",
            )
        return None, [f"the embargo of {slug} has lifted: messages say FOR IMMEDIATE RELEASE"]
    left = instant - now
    if left < dt.timedelta(minutes=warn_minutes):
        minutes = max(1, int(left.total_seconds() // 60))
        return instant, [
            f"the embargo of {slug} lifts in {minutes} minute(s), at {instant:%H:%M} UTC"
        ]
    return instant, []


def parse_moment(text: str, what: str = "--at") -> dt.datetime:
    """A moment typed by a person: RFC 3339 with an offset ("2031-03-09T23:00:00Z") or
    "YYYY-MM-DD HH:MM Zone/Name" ("2031-03-10 00:01 Africa/Niamey"); returned in UTC."""
    from civic_contacts.errors import InputError

    value = text.strip()
    date, _sep, zone = value.rpartition(" ")
    if "/" in zone or zone in ("UTC", "GMT"):
        try:
            tz = ZoneInfo(zone)
        except Exception:  # an unknown zone name
            raise InputError(f'{what}: "{zone}" is not a time zone such as Africa/Niamey') from None
        try:
            local = dt.datetime.strptime(date.strip(), "%Y-%m-%d %H:%M")
        except ValueError:
            raise InputError(
                f'{what}: "{date.strip()}" is not a date and time such as 2031-03-10 00:01'
            ) from None
        return local.replace(tzinfo=tz).astimezone(dt.UTC)
    try:
        moment = dt.datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise InputError(
            f'{what}: "{text}" is not a time with a zone; use 2031-03-09T23:00:00Z or'
            ' "2031-03-10 00:01 Africa/Niamey"'
        )
    return moment.astimezone(dt.UTC)
