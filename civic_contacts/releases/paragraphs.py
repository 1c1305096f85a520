"""How a release's text changed between revisions, paragraph by paragraph and word by word:
what a correction notice tells each journalist since the text they were sent."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass


def paragraphs(body: str) -> list[str]:
    """A Markdown body's paragraphs (blocks between blank lines), whitespace-normalised."""
    blocks = [" ".join(block.split()) for block in re.split(r"\n\s*\n", body.strip())]
    return [b for b in blocks if b]


@dataclass(frozen=True)
class ParagraphChange:
    """One paragraph that differs: "changed" or "added" (numbered in the new text), or
    "removed" (numbered in the old one)."""

    kind: str
    number: int
    text: str
    # For a changed paragraph: its text before, and the words that changed (before, after).
    old: str = ""
    marks: tuple[tuple[str, str], ...] = ()


def word_changes(old: str, new: str) -> tuple[tuple[str, str], ...]:
    """The runs of words that differ between two versions of a paragraph, in order, as
    (before, after): ("23%", "27%"); an insertion has "" before, a deletion "" after."""
    before, after = old.split(), new.split()
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    return tuple(
        (" ".join(before[a0:a1]), " ".join(after[b0:b1]))
        for tag, a0, a1, b0, b1 in matcher.get_opcodes()
        if tag != "equal"
    )


def paragraph_changes(old: str, new: str) -> list[ParagraphChange]:
    """The paragraphs that differ between two bodies, in reading order."""
    before, after = paragraphs(old), paragraphs(new)
    found: list[ParagraphChange] = []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "equal":
            continue
        common = min(a1 - a0, b1 - b0) if tag == "replace" else 0
        for i in range(common):
            was, now = before[a0 + i], after[b0 + i]
            found.append(ParagraphChange("changed", b0 + i + 1, now, was, word_changes(was, now)))
        for j in range(b0 + common, b1):
            found.append(ParagraphChange("added", j + 1, after[j]))
        for i in range(a0 + common, a1):
            found.append(ParagraphChange("removed", i + 1, before[i]))
    return found


def paragraph_summary(found: list[ParagraphChange]) -> str:
    by_kind: dict[str, list[int]] = {}
    for change in found:
        by_kind.setdefault(change.kind, []).append(change.number)
    words = []
    for kind in ("changed", "added", "removed"):
        numbers = by_kind.get(kind)
        if numbers:
            label = "paragraph" if len(numbers) == 1 else "paragraphs"
            verb = "" if kind == "changed" else f" {kind}"
            words.append(f"{label} {', '.join(map(str, numbers))}{verb}")
    return "; ".join(words)
