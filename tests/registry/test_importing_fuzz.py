"""Property-based tests of every importer, on a real SQLite registry: whatever the file holds,
an import ends in success or in our own one-line error (`CivicContactsError`), never another
exception, and an import that fails changes nothing.

Rows mix plausible values with arbitrary text, so the checks past the header are reached too.
Example counts are bounded to keep the suite fast.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from civic_contacts.config import BouncesSection, SmtpSection, check_config, load_settings
from civic_contacts.db import make_engine, session_factory
from civic_contacts.demo import load_demo_data
from civic_contacts.errors import CivicContactsError
from civic_contacts.migrations import ensure_schema
from civic_contacts.registry import importing
from civic_contacts.registry import store as registry
from civic_contacts.registry.models import Journalist, Office, Outlet, Phone, PressContact, Release
from civic_contacts.releases import store as releases

FUZZ = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TABLES = (Office, PressContact, Outlet, Journalist, Phone, Release)

junk = st.text(max_size=24)
# Values that pass some checks, so that the ones after them run too.
PLAUSIBLE = {
    "code": ["niamey", "the-hague", "new-office", "Bad Code", ""],
    "name": ["Ann Example", "Zoë N'Diaye", "=1+2", "Eve\u202e", ""],
    "city": ["Niamey", "Dakar", ""],
    "country": ["NE", "NL", "ZZ", "ne", ""],
    "timezone": ["Africa/Niamey", "Europe/Amsterdam", "Mars/Olympus", ""],
    "languages": ["fr", "en;fr", "xx", "fr;;en", ""],
    "covers": ["*", "ML;NE", "ZZ", ""],
    "office": ["niamey", "the-hague", "dakar"],
    "role": ["Press Officer", "Editor\r\nBcc: x", ""],
    "email": [
        "ann@example.org",
        "ANN@example.org",
        "ann@bücher.de",
        "jöhn@example.org",
        "not-an-address",
        "",
    ],
    "phones": ["+227 20 72 29 31", "00 31 6 12345678 (WhatsApp)", "12", "+1 202-555-0147; x", ""],
    "rank": ["1", "-3", "100000000000000000000000", "x", ""],
    "slug": ["world-desk-london", "new-outlet", "Bad Slug", ""],
    "kind": ["wire", "online", "blog", ""],
    "tags": ["africa;wire", ""],
    "outlet": ["world-desk-london", "ouaga-matin", "nowhere"],
    "language": ["fr", "en", "xx", ""],
}


def cell(column: str) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(PLAUSIBLE.get(column, [""])), junk)


def csv_file(columns: list[str]) -> st.SearchStrategy[str]:
    """A header (sometimes with a column too many or missing) and up to 4 rows."""
    header = st.one_of(
        st.just(columns),
        st.just([*columns, "colour"]),
        st.just(columns[:-1]),
    )

    def rows(head: list[str]) -> st.SearchStrategy[str]:
        row = st.tuples(*(cell(c) for c in head)).map(list)
        return st.lists(row, max_size=4).map(lambda body: _write(head, body))

    return st.one_of(header.flatmap(rows), junk.map(lambda t: ",".join(columns) + "\n" + t))


def _write(head: list[str], body: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(head)
    writer.writerows(body)
    return out.getvalue()


def vcard_file() -> st.SearchStrategy[str]:
    prop = st.one_of(
        st.builds(lambda v: f"FN:{v}", cell("name")),
        st.builds(lambda v: f"EMAIL:{v}", cell("email")),
        st.builds(lambda v: f"TEL;TYPE=cell:{v}", cell("phones")),
        st.builds(lambda v: f"TITLE:{v}", cell("role")),
        st.builds(lambda v: f"ORG:{v}", cell("outlet")),
        st.builds(lambda v: f"X-CIVIC-OFFICE:{v}", cell("office")),
        st.builds(lambda v: f"X-CIVIC-RANK:{v}", cell("rank")),
        st.builds(lambda v: f"LANG:{v}", cell("language")),
        junk,
    )
    card = st.lists(prop, max_size=6).map(
        lambda props: (
            "BEGIN:VCARD\r\nVERSION:3.0\r\n" + "".join(p + "\r\n" for p in props) + "END:VCARD\r\n"
        )
    )
    return st.lists(card, min_size=1, max_size=3).map("".join)


@pytest.fixture(scope="module")
def registry_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The demo registry on a SQLite file, shared by the examples (each rolls back)."""
    path = tmp_path_factory.mktemp("fuzz") / "registry.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    ensure_schema(engine)
    with session_factory(engine)() as session, session.begin():
        load_demo_data(session)
    yield engine
    engine.dispose()


def _counts(session: Session) -> list[int]:
    return [registry.count(session, table) for table in TABLES]


def _import_leaves_nothing_or_succeeds(engine: Engine, run: Callable[[Session], object]) -> None:
    with session_factory(engine)() as session:
        before = _counts(session)
        try:
            run(session)
            session.flush()
        except CivicContactsError:
            session.rollback()
            assert _counts(session) == before, "a failed import changed the registry"
        finally:
            session.rollback()


def _file(tmp: pytest.TempPathFactory, name: str, text: str) -> Path:
    path = tmp.mktemp("in") / name
    path.write_text(text, encoding="utf-8")
    return path


@FUZZ
@given(text=csv_file(["code", "name", "city", "country", "timezone", "languages", "covers"]))
def test_office_import_fuzz(registry_engine, tmp_path_factory, text: str) -> None:
    path = _file(tmp_path_factory, "offices.csv", text)
    _import_leaves_nothing_or_succeeds(registry_engine, lambda s: importing.import_offices(s, path))


@FUZZ
@given(text=csv_file(["name", "office", "role", "languages", "email", "phones", "rank"]))
def test_contact_import_fuzz(registry_engine, tmp_path_factory, text: str) -> None:
    path = _file(tmp_path_factory, "contacts.csv", text)
    _import_leaves_nothing_or_succeeds(
        registry_engine, lambda s: importing.import_contacts(s, path)
    )


@FUZZ
@given(text=csv_file(["slug", "name", "country", "languages", "timezone", "kind", "tags"]))
def test_outlet_import_fuzz(registry_engine, tmp_path_factory, text: str) -> None:
    path = _file(tmp_path_factory, "outlets.csv", text)
    _import_leaves_nothing_or_succeeds(registry_engine, lambda s: importing.import_outlets(s, path))


@FUZZ
@given(text=csv_file(["outlet", "name", "email", "language", "role", "phones"]))
def test_journalist_import_fuzz(registry_engine, tmp_path_factory, text: str) -> None:
    path = _file(tmp_path_factory, "journalists.csv", text)
    _import_leaves_nothing_or_succeeds(
        registry_engine, lambda s: importing.import_journalists(s, path)
    )


@FUZZ
@given(text=vcard_file())
def test_contact_vcard_import_fuzz(registry_engine, tmp_path_factory, text: str) -> None:
    path = _file(tmp_path_factory, "contacts.vcf", text)
    _import_leaves_nothing_or_succeeds(
        registry_engine, lambda s: importing.import_contacts(s, path, default_office="niamey")
    )


@FUZZ
@given(text=vcard_file())
def test_journalist_vcard_import_fuzz(registry_engine, tmp_path_factory, text: str) -> None:
    path = _file(tmp_path_factory, "journalists.vcf", text)
    _import_leaves_nothing_or_succeeds(
        registry_engine,
        lambda s: importing.import_journalists(s, path, default_outlet="world-desk-london"),
    )


FRONT = st.one_of(
    st.just('slug = "fuzzed"'),
    st.just('lang = "fr"'),
    st.just('office = "niamey"'),
    st.just('concerns = ["NE"]'),
    st.sampled_from(
        [
            'embargo = "2031-03-10T00:01:00Z"',
            'embargo = "none"',
            'embargo = "0001-01-01T00:00:00+01:00"',
            'embargo = "9999-12-31T23:59:00Z"',
            "embargo = 2031-03-10T00:01:00Z",
            "embargo = 12",
        ]
    ),
    st.builds(lambda v: f"title = {v!r}", cell("name")),
    st.builds(lambda v: f'link = "{v}"', st.sampled_from(["https://example.org/n/1", "x", ""])),
    junk,
)


REQUIRED = st.tuples(
    st.sampled_from(['slug = "fuzzed"', 'slug = "Bad Slug"', ""]),
    st.sampled_from(['lang = "fr"', 'lang = "xx"', ""]),
    st.sampled_from(['office = "niamey"', 'office = "dakar"', ""]),
    st.sampled_from(['title = "Titre"', 'title = ""', ""]),
).map(list)


@FUZZ
@given(required=REQUIRED, lines=st.lists(FRONT, max_size=5), body=st.text(max_size=60))
def test_release_file_fuzz(
    registry_engine, tmp_path_factory, required: list[str], lines: list[str], body: str
) -> None:
    front = "\n".join([*required, *lines])
    path = _file(tmp_path_factory, "r.fr.md", "+++\n" + front + "\n+++\n" + body)

    def run(session: Session) -> None:
        found = releases.read_release_file(path)
        releases.add_release(session, [found])

    _import_leaves_nothing_or_succeeds(registry_engine, run)


CONFIG_LINES = st.one_of(
    st.sampled_from(
        [
            "[press]",
            "[smtp]",
            'name = "Press Office"',
            'address = "press@example.org"',
            'address = "press@x.org>, evil@y.org"',
            "address = 12",
            'unsubscribe_base_url = "https://example.org/u"',
            'port = "abc"',
            "port = 587",
            "rate = -1",
            "rate = 0.5",
            'security = "tls"',
            "templates = 3",
            "embargo_warning_minutes = true",
        ]
    ),
    junk,
)


@FUZZ
@given(lines=st.lists(CONFIG_LINES, max_size=8))
def test_config_file_fuzz(tmp_path_factory, lines: list[str]) -> None:
    """A config file of any content is read, or refused with our own error."""
    path = _file(tmp_path_factory, "config.toml", "\n".join(lines) + "\n")
    try:
        settings = load_settings(db="sqlite:///:memory:", config_file=path)
    except CivicContactsError:
        return
    assert isinstance(settings.smtp, SmtpSection)
    assert isinstance(settings.bounces, BouncesSection)
    check_config({})
