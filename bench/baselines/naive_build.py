"""A naive mail merge: Jinja2 renders each journalist's text and HTML, the standard library's
EmailMessage assembles them with a vCard and a calendar entry, and the bytes go to a file.

    python bench/baselines/naive_build.py JOURNALISTS.csv OUT [--limit N]

The CSV has the columns outlet, name, email (others are ignored). Prints: messages, seconds,
messages per second. Shares no code with civic-contacts.
"""

import argparse
import csv
import datetime as dt
import os
import time
import uuid
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import jinja2

PARAGRAPH = (
    "Jamais depuis le début des relevés autant de civils n'avaient été touchés dans la région,"
    " selon le nouveau rapport publié aujourd'hui. Des familles décrivent des marchés fermés,"
    " des écoles vides et des routes coupées ; les équipes sur place demandent un accès sûr."
)
TEXT = jinja2.Template(
    "SOUS EMBARGO JUSQU'AU {{ embargo }}\n\nBonjour {{ name }},\n\n{{ title }}\n\n"
    "{% for p in paragraphs %}{{ p }}\n\n{% endfor %}"
    "Contacts presse :\n{% for c in contacts %}{{ c.name }}, {{ c.role }}, {{ c.phone }},"
    " {{ c.email }}\n{% endfor %}\nSe désabonner : {{ unsubscribe }}\n"
)
HTML = jinja2.Template(
    '<!doctype html><html lang="fr"><body><p><strong>SOUS EMBARGO JUSQU\'AU {{ embargo }}'
    "</strong></p><p>Bonjour {{ name }},</p><h1>{{ title }}</h1>"
    "{% for p in paragraphs %}<p>{{ p }}</p>{% endfor %}<h2>Contacts presse</h2><ul>"
    "{% for c in contacts %}<li>{{ c.name }}, {{ c.role }},"
    ' <a href="tel:{{ c.phone }}">{{ c.phone }}</a>,'
    ' <a href="mailto:{{ c.email }}">{{ c.email }}</a></li>{% endfor %}</ul>'
    '<p><a href="{{ unsubscribe }}">Se désabonner</a></p></body></html>',
    autoescape=True,
)
CONTACTS = [
    {
        "name": "Awa Diallo",
        "role": "Chargée de presse",
        "phone": "+22720123456",
        "email": "awa.diallo@example.org",
    },
    {
        "name": "Pieter de Vries",
        "role": "Porte-parole",
        "phone": "+31701234567",
        "email": "pieter.devries@example.org",
    },
]


def vcard() -> str:
    cards = []
    for c in CONTACTS:
        cards.append(
            "BEGIN:VCARD\r\nVERSION:4.0\r\n"
            f"FN:{c['name']}\r\nROLE:{c['role']}\r\nTEL;TYPE=work,voice;VALUE=uri:tel:{c['phone']}"
            f"\r\nEMAIL;TYPE=work:{c['email']}\r\nORG:Example Relief\r\nEND:VCARD\r\n"
        )
    return "".join(cards)


def calendar(embargo: dt.datetime, stamp: dt.datetime) -> str:
    moment = embargo.strftime("%Y%m%dT%H%M%SZ")
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//naive//EN\r\nMETHOD:PUBLISH\r\n"
        f"BEGIN:VEVENT\r\nUID:{uuid.uuid4()}@example.org\r\nDTSTAMP:{stamp.strftime('%Y%m%dT%H%M%SZ')}"
        f"\r\nDTSTART:{moment}\r\nDTEND:{moment}\r\nSUMMARY:Embargo levé\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("csv")
    parser.add_argument("out")
    parser.add_argument("--limit", type=int, default=0)
    args = parser.parse_args()
    now = dt.datetime.now(dt.UTC)
    embargo = now + dt.timedelta(days=30)
    card = vcard()
    paragraphs = [PARAGRAPH] * 12
    made: set[str] = set()
    count = 0
    start = time.perf_counter()
    with open(args.csv, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if args.limit and count >= args.limit:
                break
            values = {
                "name": row["name"],
                "embargo": embargo.strftime("%d/%m/%Y %H:%M UTC"),
                "title": "Sahel : les civils paient le prix d'une violence sans frontières",
                "paragraphs": paragraphs,
                "contacts": CONTACTS,
                "unsubscribe": f"https://press.example.org/u?t={uuid.uuid4().hex}",
            }
            message = EmailMessage()
            message["From"] = "Press Office <press@example.org>"
            message["To"] = f"{row['name']} <{row['email']}>"
            message["Subject"] = "SOUS EMBARGO : " + values["title"]
            message["Date"] = format_datetime(now)
            message["Message-ID"] = make_msgid(domain="example.org")
            message.set_content(TEXT.render(values))
            message.add_alternative(HTML.render(values), subtype="html")
            message.add_attachment(card.encode(), "text", "vcard", filename="contacts.vcf")
            message.add_attachment(
                calendar(embargo, now).encode(), "text", "calendar", filename="embargo.ics"
            )
            folder = os.path.join(args.out, row["outlet"])
            if folder not in made:
                os.makedirs(folder, exist_ok=True)
                made.add(folder)
            with open(os.path.join(folder, row["email"] + ".eml"), "xb") as out:
                out.write(message.as_bytes())
            count += 1
    seconds = time.perf_counter() - start
    print(f"{count} {seconds:.3f} {count / seconds:.0f}")


if __name__ == "__main__":
    main()
