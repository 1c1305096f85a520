"""The floor of an import: journalists read from CSV with `csv`, each address checked by
email-validator, each number parsed by phonenumbers directly, and the rows inserted into a
new SQLite file with `executemany`, in one transaction.

    python bench/baselines/bare_loader.py JOURNALISTS.csv OUT.sqlite3

The CSV has the columns outlet, name, email, language, role, phones (numbers split on ";").
Numbers are read for the region of the outlet's country when an OUTLETS.csv beside it says
one (columns slug, country). Prints: rows, seconds, rows per second. Shares no code with
civic-contacts.
"""

import csv
import os
import sqlite3
import sys
import time

import phonenumbers
from email_validator import EmailNotValidError, validate_email

SCHEMA = """
CREATE TABLE journalists (id INTEGER PRIMARY KEY, outlet TEXT NOT NULL, name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE, language TEXT, role TEXT);
CREATE TABLE phones (journalist_id INTEGER NOT NULL REFERENCES journalists(id),
    position INTEGER NOT NULL, raw TEXT NOT NULL, e164 TEXT, extension TEXT, valid INTEGER);
"""


def main() -> None:
    source, target = sys.argv[1], sys.argv[2]
    regions: dict[str, str] = {}
    outlets = os.path.join(os.path.dirname(source), "outlets.csv")
    if os.path.exists(outlets):
        with open(outlets, encoding="utf-8", newline="") as handle:
            regions = {row["slug"]: row["country"] for row in csv.DictReader(handle)}
    start = time.perf_counter()
    database = sqlite3.connect(target)
    database.executescript(SCHEMA)
    people, numbers = [], []
    count = 0
    with open(source, encoding="utf-8", newline="") as handle, database:
        for row in csv.DictReader(handle):
            count += 1
            try:
                email = validate_email(row["email"], check_deliverability=False).normalized
            except EmailNotValidError:
                continue
            people.append(
                (
                    count,
                    row["outlet"],
                    row["name"].strip(),
                    email,
                    row["language"] or None,
                    row["role"],
                )
            )
            for position, raw in enumerate(p for p in row["phones"].split(";") if p.strip()):
                try:
                    number = phonenumbers.parse(raw, regions.get(row["outlet"]))
                    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
                    valid = phonenumbers.is_valid_number(number)
                    extension = number.extension
                except phonenumbers.NumberParseException:
                    e164, valid, extension = None, False, None
                numbers.append((count, position, raw, e164, extension, valid))
            if len(people) >= 5000:
                database.executemany("INSERT INTO journalists VALUES (?, ?, ?, ?, ?, ?)", people)
                database.executemany("INSERT INTO phones VALUES (?, ?, ?, ?, ?, ?)", numbers)
                people, numbers = [], []
        database.executemany("INSERT INTO journalists VALUES (?, ?, ?, ?, ?, ?)", people)
        database.executemany("INSERT INTO phones VALUES (?, ?, ?, ?, ?, ?)", numbers)
    database.close()
    seconds = time.perf_counter() - start
    print(f"{count} {seconds:.3f} {count / seconds:.0f}")


if __name__ == "__main__":
    main()
