"""The desk in Chromium (Debian's, driven by Playwright), as officers use it: log in, build,
a send refused until a second person approves, the approval, the send with its progress to
the end; every page at 390 and 1280 px with nothing scrolling sideways, no error in the
console (a script or style the policy blocks would be one), and axe-core's accessibility
check with no serious or critical violation."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.browser import playwright_chromium
from tests.conftest import need
from tests.desk.conftest import PASSWORDS, Desk

PAGES = [
    "/",
    "/registry",
    "/outlets/radio-dallol",
    "/journalists",
    "/releases",
    "/releases/sahel-civilians",
    "/import",
    "/bounces",
    "/suppressions",
    "/users",
    "/password",
]
AXE_HOME = Path(__file__).resolve().parents[2] / ".ci" / "node" / "node_modules" / "axe-core"


def axe_source() -> str:
    """axe-core, installed from the npm registry by .ci/run (or CIVIC_CONTACTS_AXE)."""
    path = Path(os.environ.get("CIVIC_CONTACTS_AXE") or AXE_HOME / "axe.min.js")
    if not path.is_file():
        need("axe-core", "npm install --prefix .ci/node axe-core@4")
    return path.read_text(encoding="utf-8")


class Browser:
    """One person's browser: its own profile, a page, and the console's errors."""

    def __init__(self, playwright, desk: Desk, profile: Path, width: int) -> None:
        self.context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=playwright_chromium(),
            headless=True,
            args=["--no-sandbox"],
            viewport={"width": width, "height": 900},
        )
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.desk = desk

    def log_in(self, name: str) -> None:
        self.page.goto(self.desk.url + "/login")
        self.page.fill("#name", name)
        self.page.fill("#password", PASSWORDS[name])
        self.page.get_by_role("button", name="Log in").click()
        self.page.wait_for_load_state()

    def open(self, path: str) -> None:
        self.page.goto(self.desk.url + path)
        self.page.wait_for_load_state()

    def sideways(self) -> int:
        """How far the page is wider than its window (0: nothing scrolls sideways)."""
        return self.page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )

    def close(self) -> None:
        self.context.close()


IMPORT = (
    "outlet,name,email,language,role,phones\n"
    "radio-dallol,Mariama Oumarou,mariama.oumarou@example.net,fr,Reporter,\n"
    "unknown-outlet,,not-an-address,fr,,\n"
)
RELEASE = (
    '+++\nslug = "water-mali"\nlang = "en"\noffice = "niamey"\nconcerns = ["ML"]\n'
    'embargo = "none"\ntitle = "Water in Mali"\n+++\nThe wells are dry.\n'
)


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_an_officers_day_in_the_browser(desk: Desk, tmp_path: Path) -> None:
    """Ana (officer, on a phone) imports a CSV through its preview, adds a release, builds
    the embargoed one, opens its preview, sends herself a test; her Send is refused, not
    approved; Ben (approver, in French, in his own browser) approves; Ana sends and watches
    the progress reach 41 of 41; the history shows the build and the approval; the SMTP
    server got the test and each of the 41 once."""
    from playwright.sync_api import sync_playwright

    (tmp_path / "list.csv").write_text(IMPORT, encoding="utf-8")
    (tmp_path / "water.en.md").write_text(RELEASE, encoding="utf-8")
    with sync_playwright() as playwright:
        ana = Browser(playwright, desk, tmp_path / "ana", 390)
        ben = Browser(playwright, desk, tmp_path / "ben", 1280)
        try:
            ana.log_in("ana")
            ana.open("/import")
            ana.page.set_input_files("#file", str(tmp_path / "list.csv"))
            ana.page.get_by_role("button", name="Show what it would change").click()
            ana.page.wait_for_load_state()
            assert "1 created, 0 updated" in ana.page.inner_text("#would")
            assert "list.csv row 3, outlet" in ana.page.inner_text("#refused")
            ana.page.get_by_role("button", name="Import the good rows now").click()
            ana.page.wait_for_load_state()
            assert "1 created" in ana.page.inner_text(".said")

            ana.open("/releases")
            ana.page.set_input_files("#files", str(tmp_path / "water.en.md"))
            ana.page.get_by_role("button", name="Upload").click()
            ana.page.wait_for_load_state()
            assert "release water-mali: created" in ana.page.inner_text(".said")

            ana.open("/releases/sahel-civilians")
            ana.page.get_by_role("button", name="Build").click()
            ana.page.wait_for_load_state()
            assert "42 messages for 15 outlets" in ana.page.inner_text(".said")
            assert "must approve this build" in ana.page.inner_text("main")
            ana.page.get_by_role("link", name="Open the preview").click()
            ana.page.wait_for_load_state()
            assert "sahel-civilians" in ana.page.content()
            ana.page.go_back()
            ana.page.get_by_role("button", name="Send a test to me").click()
            ana.page.wait_for_load_state()
            assert "Test sent to ana@example.org" in ana.page.inner_text(".said")
            ana.page.get_by_role("button", name="Send", exact=True).click()
            ana.page.wait_for_load_state()
            assert "Not sent" in ana.page.inner_text(".said")
            assert [m["to"] for m in desk.sink.received] == ["ana@example.org"]

            ben.log_in("ben")
            ben.open("/releases/sahel-civilians")
            ben.page.get_by_role("button", name="Approuver ce lot").click()
            ben.page.wait_for_load_state()
            assert "Approuvé par ben" in ben.page.inner_text("main")

            ana.open("/releases/sahel-civilians")
            assert "Approved by ben" in ana.page.inner_text("main")
            ana.page.get_by_role("button", name="Send", exact=True).click()
            # The page asks for the counts every second and reloads when the send ends.
            ana.page.locator("#said", has_text="42 of 42 sent").wait_for(timeout=60000)
            audit = " ".join(ana.page.inner_text("#audit ~ ul").split())
            assert "ben batch sahel-civilians approved" in audit
            assert "ana batch sahel-civilians built" in audit
            ana.page.screenshot(path=str(tmp_path / "release-390.png"), full_page=True)
            assert ana.sideways() == 0
            assert ana.errors == [] and ben.errors == []
        finally:
            ana.close()
            ben.close()
    ids = desk.sink.ids()
    assert len(ids) == 43 and len(set(ids)) == 43


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_every_page_fits_and_passes_the_accessibility_check(desk: Desk, tmp_path: Path) -> None:
    """At 390 and 1280 px each page fits its window, logs no console error, and axe-core
    finds no serious or critical violation."""
    from playwright.sync_api import sync_playwright

    axe = axe_source()
    problems = []
    with sync_playwright() as playwright:
        for width in (390, 1280):
            person = Browser(playwright, desk, tmp_path / f"ada-{width}", width)
            try:
                person.log_in("ada")
                for path in ["/login", *PAGES]:
                    if path == "/login":
                        continue
                    person.open(path)
                    if person.sideways():
                        problems.append(
                            f"{path} at {width} px scrolls sideways by {person.sideways()} px"
                        )
                    person.page.evaluate(axe)
                    found = person.page.evaluate(
                        "async () => (await axe.run(document)).violations"
                        ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
                        ".map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))"
                    )
                    problems += [f"{path} at {width} px: {v}" for v in found]
                    name = path.strip("/").replace("/", "-") or "today"
                    person.page.screenshot(
                        path=str(tmp_path / f"{name}-{width}.png"), full_page=True
                    )
                problems += [f"console at {width} px: {e}" for e in person.errors]
            finally:
                person.close()
    assert problems == [], json.dumps(problems, indent=1)
