"""The library API as README.md shows it: its example runs as written."""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

import pytest

import civic_contacts


def readme_example() -> str:
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = text.split("## Use as a library", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None
    return match.group(1)


def test_every_exported_name_is_there() -> None:
    """Each name in `__all__` can be imported from the package."""
    for name in civic_contacts.__all__:
        assert getattr(civic_contacts, name) is not None, name


@pytest.mark.smtp
def test_the_readme_example_builds_and_sends(smtp_server, tmp_path: Path) -> None:
    """The README's library example, run as written (with the test server's port), builds the
    demo batch, sends every message once and reports them all sent."""
    sink, port = smtp_server
    code = readme_example()
    assert "port=2525" in code
    printed = io.StringIO()
    here = Path.cwd()
    os.chdir(tmp_path)
    try:
        with contextlib.redirect_stdout(printed):
            exec(compile(code.replace("port=2525", f"port={port}"), "README.md", "exec"), {})
    finally:
        os.chdir(here)
    lines = printed.getvalue().splitlines()
    assert lines[0].startswith("41 messages, 41 new; preview: ")
    assert (tmp_path / "outbox" / "preview.html").is_file()
    assert lines[1].startswith("sent 41; now {'total': 41, 'pending': 0")
    assert len(sink.ids()) == 41 == len(set(sink.ids()))
