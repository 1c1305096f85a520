"""Screenshots of what a journalist and a press officer see, in real headless Chromium
(Debian's package): an English and a French demo message, and preview.html, at a desktop's
1200 px and a phone's 390 px.

    python bench/screenshots.py --out /tmp/shots     # needs `chromium` (apt-get install chromium)

The demo is built into a temporary folder with its invented registry. Each page is shown in a
frame of the given width (Chromium's windows are never narrower than 500 px), saved as PNG in
--out (not part of the repository), and measured: whether the page scrolls sideways, and where
the embargo banner and the contact block land. The test suite checks the same at 390 px.
"""

from __future__ import annotations

import argparse
import email
import json
import os
import subprocess
import sys
import tempfile
from email import policy
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.browser import chromium_path, measure, screenshot

WIDTHS = (1200, 390)
WATCHED = {
    "message": [".embargo-banner", ".contacts"],
    "preview": ["#next", ".variant .headers"],
}


def build_demo(work: Path) -> Path:
    """The demo's outbox, built with its own registry and config in `work`."""
    env = {
        **os.environ,
        "CIVIC_CONTACTS_DB": f"sqlite:///{work / 'demo.sqlite3'}",
        "CIVIC_CONTACTS_CONFIG": str(work / "config.toml"),
    }
    subprocess.run(
        [sys.executable, "-m", "civic_contacts", "demo", "--out", str(work / "out")],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return work / "out"


def html_parts(outbox: Path) -> dict[str, str]:
    """The HTML part of the first message in each language."""
    found: dict[str, str] = {}
    for line in (outbox / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if entry["language"] in found:
            continue
        data = (outbox / entry["path"]).read_bytes()
        msg = email.message_from_bytes(data, policy=policy.default)
        html = next(p for p in msg.walk() if p.get_content_type() == "text/html")
        found[entry["language"]] = str(html.get_content())
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the PNG files")
    args = parser.parse_args()
    browser = chromium_path()
    if browser is None:
        raise SystemExit("chromium is not installed (apt-get install -y chromium)")
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        outbox = build_demo(work)
        pages = {f"message-{lang}": html for lang, html in sorted(html_parts(outbox).items())}
        pages["preview"] = (outbox / "preview.html").read_text(encoding="utf-8")
        for name, page in pages.items():
            watched = WATCHED["preview" if name == "preview" else "message"]
            for width in WIDTHS:
                target = args.out / f"{name}-{width}.png"
                screenshot(browser, work / f"shot-{name}-{width}", page, target, width)
                found = measure(browser, work / f"measure-{name}-{width}", page, watched, width)
                sideways = found["scrollWidth"] > width
                placed = []
                for selector in watched:
                    box = found["elements"][selector]
                    if box is None:
                        placed.append(f"{selector} missing")
                        continue
                    inside = box["left"] >= 0 and box["right"] <= width
                    placed.append(
                        f"{selector} at y={box['top']:.0f}"
                        + ("" if inside else f" OVERFLOWS to x={box['right']:.0f}")
                    )
                print(
                    f"{target}: {width} px, "
                    + ("SCROLLS SIDEWAYS" if sideways else "no sideways scroll")
                    + "; "
                    + "; ".join(placed)
                )


if __name__ == "__main__":
    main()
