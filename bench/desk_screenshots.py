"""Screenshots of the desk for the README, in real headless Chromium (Debian's package,
driven by Playwright): Today, the journalists, a release with its approval and routing, and an
import's preview, at a laptop's 1280 px and a phone's 390 px.

    python bench/desk_screenshots.py --out docs/desk     # needs chromium and playwright

The demo registry is built in a temporary folder, two users are added (an officer who builds,
an approver), and the desk is served on loopback for the run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.browser import chromium_path

PASSWORD = "a password for the screenshots"
IMPORT = (
    "outlet,name,email,language,role,phones\n"
    "radio-dallol,Mariama Oumarou,mariama.oumarou@example.net,fr,Reporter,+227 93 12 34 56\n"
    "radio-dallol,Adama Koné,adama.kone@example.com,fr,Chief editor,\n"
    "unknown-outlet,,not-an-address,xx-1,,\n"
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="desk-shots-"))
    env = {**os.environ, "CIVIC_CONTACTS_CONFIG": str(work / "none.toml")}
    os.environ.update(env)
    subprocess.run(
        [sys.executable, "-m", "civic_contacts", "demo", "--out", str(work / "out")],
        env=env,
        check=True,
        capture_output=True,
    )
    url = f"sqlite:///{work / 'out.sqlite3'}"

    from playwright.sync_api import sync_playwright
    from waitress.server import create_server

    from civic_contacts.config import load_settings
    from civic_contacts.db import make_engine, session_factory
    from civic_contacts.desk.app import create_app
    from civic_contacts.registry import users
    from civic_contacts.registry.history import acting

    engine = make_engine(url)
    with session_factory(engine)() as session, acting("amina", "setup"):
        for name, role in (("amina", "officer"), ("bram", "approver")):
            user, once = users.add_user(session, name, role, "en", "Africa/Niamey")
            users.change_password(session, user, once, PASSWORD)
        session.commit()
    app = create_app(engine, load_settings(db=url), work / "desk", os.urandom(32), lambda: None)  # type: ignore[arg-type,return-value]
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    port = server.effective_port
    threading.Thread(target=server.run, daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    (work / "journalists.csv").write_text(IMPORT, encoding="utf-8")
    with sync_playwright() as playwright:
        for width in (1280, 390):
            context = playwright.chromium.launch_persistent_context(
                str(work / f"profile-{width}"),
                executable_path=chromium_path(),
                headless=True,
                args=["--no-sandbox"],
                viewport={"width": width, "height": 900},
            )
            page = context.new_page()
            page.goto(base + "/login")
            page.fill("#name", "amina")
            page.fill("#password", PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_load_state()
            if width == 1280:
                page.goto(base + "/releases/sahel-civilians")
                page.get_by_role("button", name="Build").click()
                page.wait_for_load_state()
            shots = {
                "today": "/",
                "journalists": "/journalists?country=NE",
                "release": "/releases/sahel-civilians",
            }
            for name, path in shots.items():
                page.goto(base + path)
                page.wait_for_load_state()
                page.screenshot(path=str(args.out / f"{name}-{width}.png"), full_page=width == 390)
            page.goto(base + "/import")
            page.set_input_files("#file", str(work / "journalists.csv"))
            page.get_by_role("button", name="Show what it would change").click()
            page.wait_for_load_state()
            page.screenshot(path=str(args.out / f"import-{width}.png"), full_page=width == 390)
            context.close()
    server.close()
    for shot in sorted(args.out.glob("*.png")):
        print(shot, shot.stat().st_size // 1024, "KiB")


if __name__ == "__main__":
    main()
