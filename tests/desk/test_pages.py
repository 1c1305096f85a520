"""The desk's pages through the whole application (Flask's test client, the demo registry on
SQLite and PostgreSQL): who may do what is decided on the server, forms need their CSRF token,
values are shown as text, and a session ends with a password change."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from civic_contacts.db import session_factory
from civic_contacts.registry.models import Change, Journalist, User
from tests.desk.conftest import PASSWORDS

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
ADAMA = "adama.kone@example.com"


def token(response) -> str:
    found = CSRF.search(response.get_data(as_text=True))
    assert found, response.get_data(as_text=True)[:500]
    return found.group(1)


def log_in(app, name: str):
    """A browser of `name`, logged in; returns the client and a CSRF token of its session."""
    browser = app.test_client()
    page = browser.get("/login")
    answer = browser.post(
        "/login", data={"name": name, "password": PASSWORDS[name], "csrf": token(page)}
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return browser, token(browser.get("/"))


def journalist_id(engine, email: str) -> int:
    with session_factory(engine)() as session:
        return session.scalar(select(Journalist.id).where(Journalist.email == email))


def test_every_page_needs_a_login(client) -> None:
    """Without a session, each page sends to the login page and shows nothing of the registry."""
    app, _engine = client
    browser = app.test_client()
    for path in ("/", "/journalists", "/releases", "/releases/sahel-civilians", "/bounces"):
        answer = browser.get(path)
        assert answer.status_code == 302 and "/login" in answer.headers["Location"], path


def test_pages_carry_a_strict_policy_and_a_strict_cookie(client) -> None:
    """No inline script is allowed, pages are never framed or cached, and the session cookie
    is HttpOnly and SameSite=Strict."""
    app, _engine = client
    browser = app.test_client()
    page = browser.get("/login")
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Cache-Control"] == "no-store"
    cookie = page.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "<script>" not in page.get_data(as_text=True)


def test_a_wrong_password_and_an_unknown_name_get_the_same_answer(client) -> None:
    """Nothing in the answer tells whether a name has an account."""
    app, _engine = client
    browser = app.test_client()
    csrf = token(browser.get("/login"))
    known = browser.post("/login", data={"name": "ana", "password": "wrong one!!", "csrf": csrf})
    unknown = browser.post("/login", data={"name": "zed", "password": "wrong one!!", "csrf": csrf})
    assert known.status_code == unknown.status_code == 401
    said = [
        re.search(r'role="alert">([^<]*)<', a.get_data(as_text=True)).group(1)
        for a in (known, unknown)
    ]
    assert said[0] == said[1] == "Wrong name or password."


def test_logins_are_throttled_after_five_wrong_passwords(client) -> None:
    """The sixth try waits, even with the right password, and the count is kept in the
    database (a restart does not reset it)."""
    app, engine = client
    browser = app.test_client()
    csrf = token(browser.get("/login"))
    for _ in range(5):
        browser.post("/login", data={"name": "ana", "password": "not it at all", "csrf": csrf})
    answer = browser.post(
        "/login", data={"name": "ana", "password": PASSWORDS["ana"], "csrf": csrf}
    )
    assert answer.status_code == 429
    assert "wait until" in answer.get_data(as_text=True)
    with session_factory(engine)() as session:
        ana = session.scalar(select(User).where(User.name == "ana"))
        assert ana.failed_logins == 5 and ana.locked_until is not None


def test_a_form_without_its_csrf_token_changes_nothing(client) -> None:
    """A forged POST (no token, or another session's) is refused and the journalist stays."""
    app, engine = client
    browser, _csrf = log_in(app, "ana")
    _other, other_csrf = log_in(app, "ben")
    jid = journalist_id(engine, ADAMA)
    form = {"name": "Forged", "role": "", "language": "", "beats": "", "phones": ""}
    assert browser.post(f"/journalists/{jid}", data=form).status_code == 400
    assert browser.post(f"/journalists/{jid}", data={**form, "csrf": other_csrf}).status_code == 400
    with session_factory(engine)() as session:
        assert session.get(Journalist, jid).name == "Adama Koné"


def test_a_viewer_reads_but_cannot_change(client) -> None:
    """The server refuses a viewer's edit, build and send, whatever the page showed."""
    app, engine = client
    browser, csrf = log_in(app, "vic")
    jid = journalist_id(engine, ADAMA)
    page = browser.get(f"/journalists/{jid}")
    assert page.status_code == 200 and 'id="edit"' not in page.get_data(as_text=True)
    form = {"name": "Changed", "role": "", "language": "", "beats": "", "phones": "", "csrf": csrf}
    assert browser.post(f"/journalists/{jid}", data=form).status_code == 403
    for action in ("build", "send", "approve"):
        answer = browser.post(f"/releases/sahel-civilians/{action}", data={"csrf": csrf})
        assert answer.status_code == 403, action
    with session_factory(engine)() as session:
        assert session.get(Journalist, jid).name == "Adama Koné"


def test_an_officer_edits_with_the_command_lines_checks_and_history(client) -> None:
    """A good edit is saved and recorded as the officer's; a bad email-free field such as an
    unknown language is refused with the field named, and nothing changes."""
    app, engine = client
    browser, csrf = log_in(app, "ana")
    jid = journalist_id(engine, ADAMA)
    form = {"name": "Adama Koné", "role": "Editor", "language": "fr", "beats": "", "phones": ""}
    answer = browser.post(f"/journalists/{jid}", data={**form, "csrf": csrf})
    assert answer.status_code == 302
    bad = browser.post(
        f"/journalists/{jid}", data={**form, "language": "xx-notalang-1", "csrf": csrf}
    )
    assert bad.status_code == 400 and "language:" in bad.get_data(as_text=True)
    with session_factory(engine)() as session:
        found = session.get(Journalist, jid)
        assert found.role == "Editor" and found.language == "fr"
        change = session.scalars(
            select(Change).where(Change.key == ADAMA).order_by(Change.id.desc())
        ).first()
        assert change.by == "ana" and "desk" in change.command


def test_hostile_names_are_shown_as_text(client) -> None:
    """A name holding markup is escaped on every page that shows it."""
    app, engine = client
    jid = journalist_id(engine, ADAMA)
    with session_factory(engine)() as session:
        session.get(Journalist, jid).name = "<script>alert(1)</script><img src=x onerror=alert(2)>"
        session.commit()
    browser, _csrf = log_in(app, "vic")
    for path in (f"/journalists/{jid}", "/journalists?q=script"):
        text = browser.get(path).get_data(as_text=True)
        assert "<script>alert(1)" not in text and "<img src=x" not in text, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text, path


def test_the_search_pages_by_fifty_and_refuses_a_bad_country(client) -> None:
    """Words match names, emails and outlets; a country that is not two letters is named."""
    app, _engine = client
    browser, _csrf = log_in(app, "vic")
    text = browser.get("/journalists?q=kone").get_data(as_text=True)
    assert ADAMA in text and "achta.mahamat@example.com" not in text
    everyone = browser.get("/journalists").get_data(as_text=True)
    assert "41 found; page 1 of 1" in everyone
    bad = browser.get("/journalists?country=Niger")
    assert bad.status_code == 400
    assert 'country: "Niger" is not a two-letter' in html.unescape(bad.get_data(as_text=True))
    literal = browser.get("/journalists?q=%25").get_data(as_text=True)
    assert "0 found" in literal  # % is a character here, not a wildcard


def test_a_password_change_ends_the_other_sessions(client) -> None:
    """After Ana changes her password in one browser, her other browser is logged out."""
    app, _engine = client
    first, csrf = log_in(app, "ana")
    second, _ = log_in(app, "ana")
    answer = first.post(
        "/password",
        data={"current": PASSWORDS["ana"], "new": "a brand new password", "csrf": csrf},
    )
    assert answer.status_code == 302
    assert first.get("/").status_code == 200
    assert "/login" in second.get("/").headers["Location"]


def test_the_login_goes_back_only_to_a_page_of_the_desk(client) -> None:
    """`next` pointing at another site is ignored (no open redirect)."""
    app, _engine = client
    browser = app.test_client()
    csrf = token(browser.get("/login"))
    for target in ("//evil.example.net/", "https://evil.example.net/", "/\\evil.example.net"):
        answer = browser.post(
            f"/login?next={target}",
            data={"name": "vic", "password": PASSWORDS["vic"], "csrf": csrf},
        )
        assert answer.headers["Location"] == "/", target
        browser.post("/logout", data={"csrf": token(browser.get("/"))})
        csrf = token(browser.get("/login"))


def test_an_officer_cannot_approve_and_a_builder_cannot_approve_their_own(client) -> None:
    """Approval needs an approver, and one who did not build that batch."""
    app, _engine = client
    ana, ana_csrf = log_in(app, "ana")
    ben, ben_csrf = log_in(app, "ben")
    assert ana.post("/releases/sahel-civilians/approve", data={"csrf": ana_csrf}).status_code == 403
    assert ben.post("/releases/sahel-civilians/build", data={"csrf": ben_csrf}).status_code == 302
    ben.post("/releases/sahel-civilians/approve", data={"csrf": ben_csrf})
    page = ben.get("/releases/sahel-civilians").get_data(as_text=True)
    assert "ben built it, so someone else approves it" in page
    assert "doit approuver ce lot" in page  # Ben reads the desk in French


@pytest.mark.parametrize(
    "path",
    ["/", "/journalists", "/releases", "/releases/sahel-civilians", "/bounces", "/suppressions"],
)
def test_each_page_answers_in_french_for_a_french_user(client, path: str) -> None:
    """Ben's language is French: each page is in French and has no English menu."""
    app, _engine = client
    ben, _csrf = log_in(app, "ben")
    text = ben.get(path).get_data(as_text=True)
    assert 'lang="fr"' in text and "Journalistes" in text and "Log out" not in text


CSV = (
    "outlet,name,email,language,role,phones\n"
    "radio-dallol,Zed One,zed.one@example.org,fr,Editor,\n"
    "nope-outlet,,bad-email,xx-1,,\n"
    "radio-dallol,Adama Koné,adama.kone@example.com,fr,Chief,\n"
)


def upload(browser, csrf: str, text: str, name: str = "list.csv"):
    import io

    return browser.post(
        "/import",
        data={
            "csrf": csrf,
            "kind": "journalists",
            "encoding": "",
            "source": "Agence list 2026",
            "file": (io.BytesIO(text.encode("utf-8")), name),
        },
        content_type="multipart/form-data",
    )


def test_an_import_is_shown_before_anything_is_written(client) -> None:
    """The preview says what would be created and changed field by field, and lists every bad
    cell of a refused row; nothing is in the registry until the officer applies it, which
    keeps the good rows and the list's source."""
    app, engine = client
    browser, csrf = log_in(app, "ana")
    preview = upload(browser, csrf, CSV)
    text = html.unescape(preview.get_data(as_text=True))
    assert preview.status_code == 200, text
    assert "1 created, 1 updated, 0 unchanged" in text
    assert "adama.kone@example.com: role: Rédacteur en chef → Chief" in text
    for cell in (
        "outlet: unknown outlet",
        "name: name is empty",
        'email: "bad-email"',
        "language:",
    ):
        assert f"list.csv row 3, {cell}" in text, cell
    with session_factory(engine)() as session:
        assert (
            session.scalar(select(Journalist).where(Journalist.email == "zed.one@example.org"))
            is None
        )
        assert (
            session.scalar(select(Journalist.role).where(Journalist.email == ADAMA))
            == "Rédacteur en chef"
        )
    applied = browser.post("/import/apply", data={"csrf": token(preview)})
    assert applied.status_code == 302
    with session_factory(engine)() as session:
        assert (
            session.scalar(select(Journalist.name).where(Journalist.email == "zed.one@example.org"))
            == "Zed One"
        )
        entry = session.scalars(
            select(Change).where(Change.kind == "import", Change.by == "ana")
        ).one()
        assert entry.by == "ana" and entry.fields["source"] == "Agence list 2026"
    again = browser.post("/import/apply", data={"csrf": token(preview)})
    assert again.status_code == 400  # the upload was used once and is gone


def test_imports_are_refused_to_viewers_and_for_other_files(client) -> None:
    """A viewer cannot import; a file that is not CSV or vCard is named and refused."""
    app, engine = client
    viewer, viewer_csrf = log_in(app, "vic")
    assert upload(viewer, viewer_csrf, CSV).status_code == 403
    officer, csrf = log_in(app, "ana")
    refused = upload(officer, csrf, "MZ\x90\x00", name="tool.exe")
    assert refused.status_code == 400
    assert "tool.exe: not a file to import" in html.unescape(refused.get_data(as_text=True))
    with session_factory(engine)() as session:
        assert (
            session.scalar(select(Journalist).where(Journalist.email == "zed.one@example.org"))
            is None
        )


def test_an_officer_sends_a_test_to_their_own_address(client, smtp_server) -> None:
    """One outlet's message goes to Ana's own address, "[TEST]" in its subject; the batch's
    deliveries are not touched."""
    app, _engine = client
    sink, _port = smtp_server
    browser, csrf = log_in(app, "ana")
    browser.post("/releases/sahel-civilians/build", data={"csrf": csrf})
    answer = browser.post(
        "/releases/sahel-civilians/test", data={"csrf": csrf, "outlet": "radio-dallol"}
    )
    assert answer.status_code == 302
    assert [m["to"] for m in sink.received] == ["ana@example.org"]
    assert sink.received[0]["subject"].startswith("[TEST]")
    page = html.unescape(browser.get("/releases/sahel-civilians").get_data(as_text=True))
    assert "Test sent to ana@example.org" in page and "(radio-dallol, fr)" in page
    assert "Pending 41, sent 0" in page


def test_an_officer_edits_a_text_as_a_new_revision(client) -> None:
    """A changed word makes revision 2; a file with its embargo line removed is refused with
    the line named, and the release stays at revision 2."""
    app, engine = client
    browser, csrf = log_in(app, "ana")
    page = browser.get("/releases/sahel-civilians").get_data(as_text=True)
    text = html.unescape(re.search(r'id="text-fr"[^>]*>([^<]*)</textarea>', page).group(1))
    changed = text.replace("Jamais depuis", "Jamais encore depuis")
    assert changed != text
    browser.post(
        "/releases/sahel-civilians/text", data={"csrf": csrf, "lang": "fr", "text": changed}
    )
    said = html.unescape(browser.get("/releases/sahel-civilians").get_data(as_text=True))
    assert "release sahel-civilians: revision 2:" in said
    broken = re.sub(r"embargo = .*\n", "", changed)
    browser.post(
        "/releases/sahel-civilians/text", data={"csrf": csrf, "lang": "fr", "text": broken}
    )
    said = html.unescape(browser.get("/releases/sahel-civilians").get_data(as_text=True))
    assert "sahel-civilians.fr.md, embargo: missing" in said
    from civic_contacts.releases.store import get_release

    with session_factory(engine)() as session:
        release = get_release(session, "sahel-civilians")
        assert release.revision == 2
        assert "Jamais encore depuis" in next(
            t.body for t in release.translations if t.language == "fr"
        )


def test_releases_are_added_by_upload(client) -> None:
    """Two language files make one new release; a viewer's upload is refused."""
    import io

    app, engine = client
    files = {
        lang: (
            f'+++\nslug = "water-mali"\nlang = "{lang}"\noffice = "niamey"\nconcerns = ["ML"]\n'
            f'embargo = "none"\ntitle = "Water {lang}"\n+++\nBody {lang}.\n'
        )
        for lang in ("en", "fr")
    }

    def form(csrf):
        return {
            "csrf": csrf,
            "files": [(io.BytesIO(t.encode()), f"water.{lang}.md") for lang, t in files.items()],
        }

    viewer, viewer_csrf = log_in(app, "vic")
    assert (
        viewer.post(
            "/releases", data=form(viewer_csrf), content_type="multipart/form-data"
        ).status_code
        == 403
    )
    browser, csrf = log_in(app, "ana")
    browser.post("/releases", data=form(csrf), content_type="multipart/form-data")
    said = html.unescape(browser.get("/releases").get_data(as_text=True))
    assert "release water-mali: created" in said
    from civic_contacts.releases.store import get_release

    with session_factory(engine)() as session:
        assert [t.language for t in get_release(session, "water-mali").translations] == ["en", "fr"]


def wait_sent(browser, path: str, sink, count: int) -> dict:
    """The progress once `count` messages arrived and the send has ended."""
    import json

    assert sink.wait_for(count, timeout=60)
    for _ in range(600):
        data = json.loads(browser.get(path).get_data(as_text=True))
        if not data["running"]:
            return data
        sink.wait_for(count + 1, timeout=0.1)  # a short pause that needs no wall-clock sleep
    raise AssertionError("the send did not end")


def test_a_moved_embargo_notice_is_built_approved_and_sent_from_the_page(
    client, smtp_server
) -> None:
    """The batch goes out after Ben's approval; the embargo is moved in the text; the moved
    notice is then due, built by Ana, refused until approved, approved by Ben, sent to the 41."""
    app, _engine = client
    sink, _port = smtp_server
    ana, csrf = log_in(app, "ana")
    ben, ben_csrf = log_in(app, "ben")
    ana.post("/releases/sahel-civilians/build", data={"csrf": csrf})
    ben.post("/releases/sahel-civilians/approve", data={"csrf": ben_csrf})
    ana.post("/releases/sahel-civilians/send", data={"csrf": csrf})
    done = wait_sent(ana, "/releases/sahel-civilians/progress", sink, 41)
    assert done["sent"] == 41 and done["outcome"] == "finished"

    page = ana.get("/releases/sahel-civilians").get_data(as_text=True)
    text = html.unescape(re.search(r'id="text-en"[^>]*>([^<]*)</textarea>', page).group(1))
    moved = re.sub(r'embargo = "[^"]+"', 'embargo = "2099-01-05T10:00:00Z"', text)
    ana.post("/releases/sahel-civilians/text", data={"csrf": csrf, "lang": "en", "text": moved})
    page = html.unescape(ana.get("/releases/sahel-civilians").get_data(as_text=True))
    assert "Build the moved notice" in page
    ana.post("/releases/sahel-civilians/notices/moved/build", data={"csrf": csrf})
    ana.post("/releases/sahel-civilians/notices/moved/send", data={"csrf": csrf})
    page = html.unescape(ana.get("/releases/sahel-civilians").get_data(as_text=True))
    assert "moved notice of sahel-civilians" in page and "not approved" in page
    assert len(sink.received) == 41
    ben.post("/releases/sahel-civilians/notices/moved/approve", data={"csrf": ben_csrf})
    ana.post("/releases/sahel-civilians/notices/moved/send", data={"csrf": csrf})
    done = wait_sent(ana, "/releases/sahel-civilians/notices/moved/progress", sink, 82)
    assert done["sent"] == 41 and len(set(sink.ids())) == 82
    assert ana.get("/releases/sahel-civilians/notices/moved/preview").status_code == 200


def test_a_journalist_who_moved_is_followed_from_the_review_page(client) -> None:
    """An auto-reply's new address, accepted by an officer: the journalist is at the new
    address at the same outlet, with the same name and language, and the task is gone; a
    viewer could not do it."""
    from civic_contacts.registry.models import Bounce

    app, engine = client
    with session_factory(engine)() as session:
        task = Bounce(
            source="auto-reply.eml",
            email=ADAMA,
            kind="auto-reply",
            action="none",
            reason="auto-reply",
            new_address="adama.kone@newpaper.example.net",
            subject="I have left Agence Sahel Presse",
            diagnostic="I have left; write to adama.kone@newpaper.example.net",
        )
        session.add(task)
        session.commit()
        bid = task.id
    viewer, viewer_csrf = log_in(app, "vic")
    refused = viewer.post(f"/bounces/{bid}/moved", data={"csrf": viewer_csrf, "decision": "accept"})
    assert refused.status_code == 403
    ana, csrf = log_in(app, "ana")
    assert "adama.kone@newpaper.example.net" in ana.get("/bounces").get_data(as_text=True)
    ana.post(f"/bounces/{bid}/moved", data={"csrf": csrf, "decision": "accept"})
    page = html.unescape(ana.get("/bounces").get_data(as_text=True))
    assert "adama.kone@newpaper.example.net added at agence-sahel-presse" in page
    assert "→ adama.kone@newpaper.example.net" not in page
    with session_factory(engine)() as session:
        moved = session.scalar(
            select(Journalist).where(Journalist.email == "adama.kone@newpaper.example.net")
        )
        assert moved.name == "Adama Koné" and moved.outlet.slug == "agence-sahel-presse"
        assert session.scalar(select(Journalist).where(Journalist.email == ADAMA)) is None


def test_a_request_for_another_host_is_refused(desk) -> None:
    """Served for 127.0.0.1, the desk answers a request naming another host (a rebinding
    page's) with 400 and shows nothing."""
    import http.client

    port = int(desk.url.rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/login", headers={"Host": "evil.example.net"})
        answer = conn.getresponse()
        body = answer.read().decode()
        assert answer.status == 400 and "Log in" not in body
        conn.request("GET", "/login", headers={"Host": f"127.0.0.1:{port}"})
        assert conn.getresponse().status == 200
    finally:
        conn.close()


def test_the_registry_page_links_calls_and_whatsapp(client) -> None:
    """Offices, spokespeople and outlets: a valid number is a tel: link, a WhatsApp number a
    wa.me link too."""
    from civic_contacts.registry.models import Phone

    app, engine = client
    with session_factory(engine)() as session:
        phone = session.scalars(
            select(Phone).where(Phone.contact_id.is_not(None), Phone.whatsapp.is_(True))
        ).first()
        e164 = phone.e164
    browser, _csrf = log_in(app, "vic")
    page = browser.get("/registry").get_data(as_text=True)
    assert f'href="tel:{e164}"' in page and f'href="https://wa.me/{e164[1:]}"' in page
    assert "niamey" in page and "Radio Dallol" in page


def test_an_admin_adds_a_user_whose_password_is_shown_once(client) -> None:
    """The one-time password is on the answer to the POST only (no redirect carries it), the
    new user can log in with it, and only an admin reaches the page."""
    app, _engine = client
    officer, officer_csrf = log_in(app, "ana")
    assert officer.get("/users").status_code == 403
    answer = officer.post("/users", data={"csrf": officer_csrf, "name": "eve", "role": "admin"})
    assert answer.status_code == 403
    admin, csrf = log_in(app, "ada")
    answer = admin.post(
        "/users",
        data={"csrf": csrf, "name": "zara", "role": "viewer", "language": "fr", "timezone": "UTC"},
    )
    once = re.search(r'id="one-time">([^<]+)<', answer.get_data(as_text=True)).group(1)
    assert once not in admin.get("/users").get_data(as_text=True)
    newcomer = app.test_client()
    csrf_new = token(newcomer.get("/login"))
    logged = newcomer.post("/login", data={"name": "zara", "password": once, "csrf": csrf_new})
    assert logged.headers["Location"] == "/"
    assert "/password" in newcomer.get("/").headers["Location"]  # must choose their own first
    refused = admin.post("/users/ada/remove", data={"csrf": csrf})
    assert refused.status_code == 302
    assert "last admin" in html.unescape(admin.get("/users").get_data(as_text=True))


def test_builds_and_approvals_are_in_the_releases_history(client) -> None:
    """Who built and who approved, with their times, are listed on the release's page; a
    rebuild says it withdrew the approval."""
    app, _engine = client
    ana, csrf = log_in(app, "ana")
    ben, ben_csrf = log_in(app, "ben")
    ana.post("/releases/sahel-civilians/build", data={"csrf": csrf})
    ben.post("/releases/sahel-civilians/approve", data={"csrf": ben_csrf})
    ana.post("/releases/sahel-civilians/build", data={"csrf": csrf})
    page = html.unescape(ana.get("/releases/sahel-civilians").get_data(as_text=True))
    audit = page.split('id="audit"')[1]
    assert "ben  batch sahel-civilians approved" in audit
    assert audit.count("ana  batch sahel-civilians built") == 2
    assert "must approve this build" in page


def test_a_release_page_gives_routing_reasons_and_coverage_gaps(client) -> None:
    """Each outlet's spokespeople come with why they were chosen, and the outlets the release
    cannot serve in their language are listed as gaps."""
    app, _engine = client
    browser, _csrf = log_in(app, "vic")
    page = html.unescape(browser.get("/releases/sahel-civilians").get_data(as_text=True))
    gaps = page.split('id="gaps"')[1].split("</ul>")[0]
    assert "haagse-courant (nl)" in gaps and "radio-dallol (ha)" in gaps
    routing = page.split('id="routing"')[1]
    assert "<small>" in routing and "speaks" in routing


def test_the_pre_send_check_runs_from_today(demo, db_url: str, tmp_path, dns_server) -> None:
    """An officer runs `doctor` from Today (against a DNS server on loopback); its report
    stays on the page, the identity not set up first; a viewer cannot run it."""
    from civic_contacts.config import load_settings
    from civic_contacts.db import make_engine
    from civic_contacts.desk.app import create_app
    from tests.desk.conftest import SECRET, add_people

    dns, _key = dns_server
    engine = make_engine(db_url)
    add_people(engine)
    settings = load_settings(db=db_url)
    app = create_app(engine, settings, tmp_path / "out", SECRET, lambda: None, dns_server=dns)
    try:
        viewer, viewer_csrf = log_in(app, "vic")
        assert viewer.post("/doctor", data={"csrf": viewer_csrf}).status_code == 403
        ana, csrf = log_in(app, "ana")
        assert "Not run since the desk started" in ana.get("/").get_data(as_text=True)
        ana.post("/doctor", data={"csrf": csrf})
        page = html.unescape(ana.get("/").get_data(as_text=True))
        checks = page.split('class="checks"')[1].split("</ul>")[0]
        assert "FAIL</strong> Identity: the press identity is not set up" in checks
        assert "SPF example.org" in checks
        assert "by ana" in page
    finally:
        engine.dispose()


def test_the_audit_downloads_as_csv(client, smtp_server) -> None:
    """After the send, the audit is a CSV file of one row per recipient with what the server
    said."""
    import csv
    import io

    app, _engine = client
    sink, _port = smtp_server
    ana, csrf = log_in(app, "ana")
    ben, ben_csrf = log_in(app, "ben")
    ana.post("/releases/sahel-civilians/build", data={"csrf": csrf})
    ben.post("/releases/sahel-civilians/approve", data={"csrf": ben_csrf})
    ana.post("/releases/sahel-civilians/send", data={"csrf": csrf})
    wait_sent(ana, "/releases/sahel-civilians/progress", sink, 41)
    answer = ana.get("/releases/sahel-civilians/audit.csv")
    assert "attachment" in answer.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert len(rows) == 41 and {r["status"] for r in rows} == {"sent"}
    assert all(r["server_reply"].startswith("250") for r in rows)


def test_outlets_and_spokespeople_are_edited_with_the_command_lines_checks(client) -> None:
    """An officer changes an outlet's languages and a spokesperson's rank and activity; a bad
    country or rank is refused with its field named and nothing changes; a viewer cannot."""
    from civic_contacts.registry.models import Outlet, PressContact

    app, engine = client
    with session_factory(engine)() as session:
        contact = session.scalars(select(PressContact).order_by(PressContact.id)).first()
        cid, rank = contact.id, contact.rank
        languages = "; ".join(contact.languages)
    viewer, viewer_csrf = log_in(app, "vic")
    assert viewer.post("/outlets/radio-dallol", data={"csrf": viewer_csrf}).status_code == 403
    ana, csrf = log_in(app, "ana")
    form = {
        "csrf": csrf,
        "name": "Radio Dallol",
        "country": "NE",
        "timezone": "Africa/Niamey",
        "languages": "fr; ha",
        "beats": "",
    }
    assert ana.post("/outlets/radio-dallol", data=form).status_code == 302
    bad = ana.post("/outlets/radio-dallol", data={**form, "country": "Niger", "languages": "fr"})
    assert bad.status_code == 400 and "country:" in html.unescape(bad.get_data(as_text=True))
    person = {"csrf": csrf, "name": contact.name, "role": contact.role, "languages": languages}
    assert (
        ana.post(f"/contacts/{cid}", data={**person, "phones": "", "rank": "7"}).status_code == 302
    )
    bad = ana.post(
        f"/contacts/{cid}", data={**person, "phones": "", "rank": "first", "active": "yes"}
    )
    assert bad.status_code == 400 and "rank:" in html.unescape(bad.get_data(as_text=True))
    with session_factory(engine)() as session:
        outlet = session.scalar(select(Outlet).where(Outlet.slug == "radio-dallol"))
        assert outlet.languages == ["fr", "ha"] and outlet.country == "NE"
        changed = session.get(PressContact, cid)
        assert (changed.rank, changed.active) == (7, False) and rank != 7


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/registry",
        "/journalists",
        "/releases",
        "/releases/sahel-civilians",
        "/import",
        "/bounces",
        "/suppressions",
        "/users",
        "/outlets/radio-dallol",
        "/password",
    ],
)
def test_a_pages_title_is_plain_text_and_its_sections_appear_once(client, path: str) -> None:
    """The window's title holds words only, and no section of a page is repeated."""
    app, _engine = client
    ada, _csrf = log_in(app, "ada")
    text = ada.get(path).get_data(as_text=True)
    title = re.search(r"<title>(.*?)</title>", text, re.S).group(1)
    assert "<" not in title and "\n" not in title.strip()
    ids = re.findall(r'\bid="([^"]+)"', text)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
