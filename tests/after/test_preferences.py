"""The journalist's preference page (issue 39) through the real server (`serve-unsubscribe`,
waitress): GET shows and changes nothing, POST saves their choices into their history as
theirs or unsubscribes in one click; a forged token, another journalist's token and choices
that were not offered change nothing they should not. Then in real Chromium: at 390 px, in
English and French, ticked and saved as a journalist would."""

from __future__ import annotations

import http.client
import json
import re
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.after.serving import Server, suppressed, token
from tests.browser import playwright_chromium

ADAMA = "adama.kone@example.com"
BOUBACAR = "boubacar.maiga@example.com"


def get(server: Server, query: str) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=20)
    try:
        conn.request("GET", f"/preferences?{query}")
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8")
    finally:
        conn.close()


def post(server: Server, fields: list[tuple[str, str]], query: str = "") -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=20)
    try:
        conn.request(
            "POST",
            f"/preferences{'?' + query if query else ''}",
            body=urlencode(fields).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8")
    finally:
        conn.close()


def person(demo, email: str) -> dict:
    return next(
        j for j in json.loads(demo("journalist", "list", "--json").stdout) if j["email"] == email
    )


@pytest.fixture
def with_topics(demo):
    demo("topic", "add", "water", "--label-in", "fr=eau")
    demo("topic", "add", "mali")
    return demo


@pytest.mark.slow
def test_get_shows_their_choices_and_changes_nothing(with_topics, server: Server) -> None:
    """What link scanners fetch: the page, the data notice, and nothing written."""
    before = with_topics("history", "--json").stdout
    status, page = get(server, f"token={token(ADAMA)}&lang=en")
    assert status == 200
    assert "What you receive from" in page and "a***@example.com" in page
    assert 'name="beats" value="water"' in page and 'name="follows" value="niamey"' in page
    assert "legitimate interest" in page and "unsubscribing stops every message" in page
    assert ADAMA not in page  # masked: the page is no list to harvest
    status, french = get(server, f"token={token(ADAMA)}&lang=fr")
    assert "Thèmes que je couvre" in french and "eau" in french and "intérêt légitime" in french
    assert with_topics("history", "--json").stdout == before
    assert "Traceback" not in server.stop()


@pytest.mark.slow
def test_post_saves_the_choices_as_the_journalists_own(with_topics, server: Server) -> None:
    """Saved choices land on the record, in the history as the journalist's, and only on the
    journalist the token names (an `email` field in the form is ignored)."""
    other_before = person(with_topics, BOUBACAR)
    fields = [
        ("token", token(ADAMA)),
        ("lang", "en"),
        ("action", "save"),
        ("language", "en"),
        ("also_reads", "fr"),
        ("beats", "water"),
        ("follows", "niamey"),
        ("follows", "ML"),
        ("weekly_cap", "3"),
        ("email", BOUBACAR),
    ]
    status, page = post(server, fields)
    assert status == 200 and "Your choices are saved" in page
    adama = person(with_topics, ADAMA)
    assert adama["language"] == "en" and adama["beats"] == ["water"]
    assert adama["preferences"] == {
        "also_reads": ["fr"],
        "follows": ["niamey", "ML"],
        "weekly_cap": 3,
        "accepts_embargoed": False,
    }
    assert person(with_topics, BOUBACAR) == other_before
    entry = json.loads(with_topics("history", "journalist", ADAMA, "--json").stdout)[0]
    assert (entry["by"], entry["command"]) == ("journalist", "preference page")
    assert entry["fields"]["weekly_cap"] == ["", "3"]
    assert 'value="3"' in page and 'value="water" checked' in page
    assert "Traceback" not in server.stop()


@pytest.mark.slow
def test_forged_tokens_and_choices_not_offered_change_nothing(with_topics, server: Server) -> None:
    """A changed token is refused (400) on GET and POST; a topic, office or number that was
    not offered is refused with the form shown again, and nothing is saved."""
    good = token(ADAMA)
    forged = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    assert get(server, f"token={forged}")[0] == 400
    assert post(server, [("token", forged), ("action", "save"), ("beats", "water")])[0] == 400
    assert post(server, [("action", "save"), ("beats", "water")])[0] == 400
    for bad in (("beats", "football"), ("follows", "XX"), ("weekly_cap", "0"), ("language", "zz")):
        status, page = post(server, [("token", good), ("action", "save"), bad])
        assert status == 400, bad
        assert 'role="alert"' in page
    assert person(with_topics, ADAMA)["beats"] == []
    assert person(with_topics, ADAMA)["preferences"]["accepts_embargoed"] is True
    assert suppressed(with_topics) == []
    assert "Traceback" not in server.stop()


@pytest.mark.slow
def test_unsubscribe_in_one_click_from_the_page_is_absolute(with_topics, server: Server) -> None:
    """The page's second button unsubscribes; after that the page offers no choices."""
    status, page = post(server, [("token", token(ADAMA)), ("action", "unsubscribe")])
    assert status == 200 and "You are unsubscribed" in page
    assert suppressed(with_topics) == [ADAMA]
    status, page = get(server, f"token={token(ADAMA)}")
    assert status == 200 and "We send nothing to a***@example.com" in page
    assert 'name="beats"' not in page
    saved = post(server, [("token", token(ADAMA)), ("action", "save"), ("beats", "water")])
    assert "We send nothing" in saved[1] and person(with_topics, ADAMA)["beats"] == []
    assert "Traceback" not in server.stop()


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_journalist_sets_their_choices_in_chromium(
    with_topics, server: Server, tmp_path: Path
) -> None:
    """In Chromium at 390 px: the page fits without scrolling sideways, a journalist ticks a
    topic, follows Niamey, sets two a week, refuses embargoed material and saves; the French
    page says the same in French; the unsubscribe button then ends it."""
    from playwright.sync_api import sync_playwright

    browser = playwright_chromium()
    url = f"http://127.0.0.1:{server.port}/preferences?token={token(ADAMA)}&lang=en"
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=browser,
            headless=True,
            args=["--no-sandbox"],
            viewport={"width": 390, "height": 844},
        )
        try:
            page = context.new_page()
            page.goto(url)
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            page.get_by_label("water").check()
            page.get_by_label("our office in Niamey").check()
            page.get_by_label("At most this many releases").fill("2")
            page.get_by_label("Send me releases under embargo").uncheck()
            page.get_by_role("button", name="Save my choices").click()
            page.wait_for_load_state()
            assert "Your choices are saved" in page.content()
            assert page.get_by_label("water").is_checked()
            page.screenshot(path=str(tmp_path / "preferences-390.png"), full_page=True)
            page.goto(url.replace("lang=en", "lang=fr"))
            assert page.get_by_label("eau", exact=True).is_checked()
            assert re.search(r"Enregistrer mes choix", page.content())
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            page.get_by_role("button", name="Me désinscrire de tout").click()
            page.wait_for_load_state()
            assert "Vous êtes désinscrit" in page.content()
        finally:
            context.close()
    adama = person(with_topics, ADAMA)
    assert adama["beats"] == ["water"]
    assert adama["preferences"]["follows"] == ["niamey"]
    assert adama["preferences"]["weekly_cap"] == 2
    assert adama["preferences"]["accepts_embargoed"] is False
    assert suppressed(with_topics) == [ADAMA]
    assert "Traceback" not in server.stop()


@pytest.mark.slow
def test_every_message_links_its_journalists_page(
    with_topics, server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A built message's footer carries the preference link (its language, the journalist's
    own sealed token) and the data notice; the link opens that journalist's page."""
    import email
    from email import policy

    from tests.after.serving import SERVER_SECRET

    config = tmp_path / "config.toml"
    config.write_text(
        '[press]\nunsubscribe_base_url = "https://press.example.org/unsubscribe"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("CIVIC_CONTACTS_CONFIG", str(config))
    monkeypatch.setenv("CIVIC_CONTACTS_UNSUBSCRIBE_SECRET", SERVER_SECRET)
    out = tmp_path / "linked"
    with_topics("batch", "build", "sahel-civilians", "--out", str(out))
    entry = next(
        json.loads(line)
        for line in (out / "manifest.jsonl").read_text().splitlines()
        if line and json.loads(line)["email"] == ADAMA
    )
    message = email.message_from_bytes((out / entry["path"]).read_bytes(), policy=policy.default)
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    found = re.search(r"https://press\.example\.org/preferences\?(token=[^&\s]+&lang=fr)", text)
    assert found is not None, text[-800:]
    assert "Gérer ce que vous recevez" in text and "intérêt légitime" in text
    assert found.group(0).replace("&", "&amp;") in html
    status, page = get(server, found.group(1))
    assert status == 200 and "Ce que vous recevez de" in page and "a***@example.com" in page
    assert "Traceback" not in server.stop()
