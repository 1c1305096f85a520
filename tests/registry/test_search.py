"""The desk's journalist search: every page is the matching journalists in name-then-email
order, whichever way the database is led to them (walking the name index for many matches,
reading the table for few or for a deep page), and `%` or `_` typed are plain characters."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from civic_contacts import synthetic
from civic_contacts.registry import search
from civic_contacts.registry.models import Journalist, Outlet


@pytest.fixture
def listed(session):
    synthetic.load_base(session)
    synthetic.add_media_list(session, 20, 60)
    session.flush()
    return session


def expected(session, keep) -> list[str]:
    rows = session.execute(
        select(Journalist.name, Journalist.email, Outlet.name, Outlet.slug, Outlet.country).join(
            Outlet
        )
    ).all()
    return [r[1] for r in sorted((r for r in rows if keep(r)), key=lambda r: (r[0], r[1]))]


@pytest.mark.parametrize(
    ("asked", "keep"),
    [
        (search.Criteria(), lambda r: True),
        (search.Criteria(text="diallo"), lambda r: "diallo" in r[0].lower()),
        (search.Criteria(text="Outlet 7 "), lambda r: "outlet 7 " in r[2].lower()),
        (search.Criteria(text="awa diallo"), lambda r: "awa diallo" in r[0].lower()),
        (search.Criteria(country="ne"), lambda r: r[4] == "NE"),
    ],
)
def test_every_page_is_in_order_whichever_way_it_is_read(listed, asked, keep) -> None:
    want = expected(listed, keep)
    assert want, "the case must match someone"
    first = search.search_journalists(listed, asked, 1, per_page=25)
    assert first.total == len(want)
    got = []
    for page in range(1, first.pages + 1):
        got += [r.email for r in search.search_journalists(listed, asked, page, per_page=25).rows]
    assert got == want


def test_wildcards_typed_are_characters_and_bad_fields_are_named(listed) -> None:
    assert search.search_journalists(listed, search.Criteria(text="%")).total == 0
    assert search.search_journalists(listed, search.Criteria(text="_")).total == 0
    with pytest.raises(Exception, match='country: "Niger"'):
        search.search_journalists(listed, search.Criteria(country="Niger"))
    with pytest.raises(Exception, match="status"):
        search.search_journalists(listed, search.Criteria(status="gone"))
