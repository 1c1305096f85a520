"""Real headless Chromium for the tests and for `bench/screenshots.py`: run it on a page, and
measure where parts of a page land at a given window width."""

from __future__ import annotations

import html
import json
import shutil
import subprocess
from pathlib import Path

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def chromium_path() -> str | None:
    """Debian's chromium, if installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def playwright_chromium() -> str:
    """Debian's Chromium for Playwright to drive: its path, or (in CI) a failure naming what
    is missing (a skip on a developer's machine)."""
    from tests.conftest import need

    path = chromium_path()
    if path is None:
        need("Chromium", "install Debian's chromium package")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        need("Playwright", "pip install -e '.[test]'")
    assert path is not None
    return path


def run_chromium(browser: str, profile: Path, *args: str) -> str:
    """Run Chromium once with a fresh profile folder; its stdout (the DOM with --dump-dom)."""
    result = subprocess.run(
        [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"chromium failed: {result.stderr[-2000:]}")
    return result.stdout


# Chromium will not make a window narrower than 500 px, so a page is shown in a frame of the
# wanted width inside a wrapper page: the frame is its viewport (media queries and all).
MIN_WINDOW = 500

# Appended to the framed page: after layout, it writes what the test needs into the wrapper's
# <pre id="measured">: the page's width against its viewport's, and each selected element's box.
_MEASURE = """
<script>
(function () {
  var found = {viewport: window.innerWidth, scrollWidth: document.documentElement.scrollWidth,
               elements: {}};
  SELECTORS.forEach(function (selector) {
    var element = document.querySelector(selector);
    if (!element) { found.elements[selector] = null; return; }
    var box = element.getBoundingClientRect();
    var widest = box.right;
    element.querySelectorAll("*").forEach(function (child) {
      widest = Math.max(widest, child.getBoundingClientRect().right);
    });
    found.elements[selector] = {left: box.left, right: widest, top: box.top,
                                height: box.height, text: element.innerText.slice(0, 300)};
  });
  var out = parent.document.createElement("pre");
  out.id = "measured";
  out.textContent = JSON.stringify(found);
  parent.document.body.appendChild(out);
})();
</script>
"""


def framed(page_html: str, width: int, height: int) -> str:
    """A wrapper page showing `page_html` in a frame `width` pixels wide."""
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head>'
        '<body style="margin:0;background:#ffffff">'
        f'<iframe style="border:0;display:block;width:{width}px;height:{height}px" '
        f'srcdoc="{html.escape(page_html, quote=True)}"></iframe></body></html>'
    )


def measure(
    browser: str, profile: Path, page_html: str, selectors: list[str], width: int, height: int = 900
) -> dict:
    """Where `selectors` land in `page_html` in a viewport `width` pixels wide: the page's
    scroll width against the viewport's, and each element's box (None when absent)."""
    script = _MEASURE.replace("SELECTORS", json.dumps(selectors))
    if "</body>" in page_html:
        marked = page_html.replace("</body>", script + "</body>")
    else:
        marked = page_html + script
    page = profile.parent / f"{profile.name}-page.html"
    page.write_text(framed(marked, width, height), encoding="utf-8")
    window = f"--window-size={max(width, MIN_WINDOW)},{height}"
    dom = run_chromium(browser, profile, window, "--dump-dom", page.as_uri())
    start = dom.index('<pre id="measured">') + len('<pre id="measured">')
    return json.loads(html.unescape(dom[start : dom.index("</pre>", start)]))


def screenshot(
    browser: str, profile: Path, page_html: str, target: Path, width: int, height: int = 2400
) -> Path:
    """A PNG of `page_html` in a viewport `width` pixels wide (and `height` tall)."""
    from PIL import Image

    page = profile.parent / f"{profile.name}-shot.html"
    page.write_text(framed(page_html, width, height), encoding="utf-8")
    window = f"--window-size={max(width, MIN_WINDOW)},{height}"
    run_chromium(browser, profile, f"--screenshot={target}", window, page.as_uri())
    with Image.open(target) as image:
        image.crop((0, 0, width, height)).save(target)
    return target
