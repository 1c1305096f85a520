"""The package shows a release's life, one folder a stage, each importing only the stages
below it: ground floor (errors, config, db, migrations) <- registry <- releases <- compose
<- deliver <- after <- the entry points (demo, synthetic data, the desk, cli). No module imports a
higher stage, no modules import each other in a circle, and a module over 600 lines says
in its docstring why it holds together."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "civic_contacts"
STAGES = ["registry", "releases", "compose", "deliver", "after"]
GROUND = {"errors", "config", "db", "migrations"}
ENTRY = {"demo": 6, "synthetic": 6, "desk": 6, "cli": 7, "__main__": 8}
LONG = 600


def stage(module: str) -> int:
    """0 for the ground floor, 1-5 for the stages in order, 6 and up for the entry points."""
    parts = module.split(".")[1:]
    if not parts:
        return 9  # the package itself: the public API over everything
    head = parts[0]
    if head in GROUND:
        return 0
    if head in STAGES:
        return 1 + STAGES.index(head)
    assert head in ENTRY, f"{module} is in no stage: put it in one"
    return ENTRY[head]


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name (the migrations' versions left out)."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        if "versions" in path.parts:
            continue
        name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def imports(path: Path, known: dict[str, Path]) -> set[str]:
    """The package's modules that `path` imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if not node.module.startswith("civic_contacts"):
                continue
            found.add(node.module)
            found.update(
                f"{node.module}.{alias.name}"
                for alias in node.names
                if f"{node.module}.{alias.name}" in known
            )
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("civic_contacts"))
    return {name for name in found if name in known}


def test_no_module_imports_a_higher_stage() -> None:
    """Each stage imports only the stages below it (the public API at the top excepted)."""
    known = modules()
    upward = [
        f"{name} imports {other}"
        for name, path in sorted(known.items())
        for other in sorted(imports(path, known))
        if stage(other) > stage(name) and other != "civic_contacts"
    ]
    assert upward == []


def test_no_modules_import_each_other_in_a_circle() -> None:
    """The import graph has no cycle, within a stage or across stages."""
    known = modules()
    graph = {name: imports(path, known) - {name} for name, path in known.items()}
    # A package's __init__ is imported by every module under it; that edge is no circle.
    graph = {n: {d for d in deps if not n.startswith(d + ".")} for n, deps in graph.items()}
    done: set[str] = set()
    path: list[str] = []

    def visit(name: str) -> None:
        if name in path:
            cycle = [*path[path.index(name) :], name]
            pytest.fail("import circle: " + " -> ".join(cycle))
        if name in done:
            return
        path.append(name)
        for other in sorted(graph[name]):
            visit(other)
        path.pop()
        done.add(name)

    for name in sorted(graph):
        visit(name)


def test_a_long_module_says_why_it_is_one() -> None:
    """A module over 600 lines explains, in its docstring, why it is not split."""
    unexplained = []
    for name, path in sorted(modules().items()):
        text = path.read_text(encoding="utf-8")
        if text.count("\n") <= LONG:
            continue
        docstring = ast.get_docstring(ast.parse(text)) or ""
        if "One module" not in docstring:
            unexplained.append(f"{name} ({text.count(chr(10))} lines)")
    assert unexplained == []


def test_the_layout_check_sees_an_upward_import() -> None:
    """The stage check itself: registry importing deliver is upward, deliver importing
    registry is not."""
    assert stage("civic_contacts.deliver.send") > stage("civic_contacts.registry.store")
    assert stage("civic_contacts.after.returns") > stage("civic_contacts.deliver.tokens")
    assert stage("civic_contacts.config") == 0
