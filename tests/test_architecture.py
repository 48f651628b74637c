"""The package's shape (issue 10): no import cycle, small modules, pure logic kept pure, tests that mirror it.

Read from the source files (AST), not by importing them, so every import counts, including
the ones inside functions that are sometimes used to hide a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support import ROOT

PACKAGE = ROOT / "tracker"
# "Modules under ~300 lines": the formatter gives call arguments and long imports a line per
# name, which may take a module a little past 300; past 330 it must be split.
MAX_LINES = 330
# Status rules, eSMS parsing and codes, tokens, phones, request schemas: no Flask, no database.
PURE = ("tracker.status", "tracker.tokens", "tracker.phones", "tracker.schemas", "tracker.esms")
IMPURE_ROOTS = ("flask", "werkzeug", "sqlalchemy", "psycopg", "alembic", "tracker.db", "tracker.models")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str) -> set[str]:
    """Every module of ours and every outside top-level name that ``name`` imports, anywhere in it."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    return found


GRAPH = {name: {m for m in imports_of(name) if m in MODULES and m != name} for name in MODULES}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle():
    assert cycles(GRAPH) == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_over_about_300_lines(name):
    lines = len(MODULES[name].read_text().splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines"


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith(PURE)))
def test_pure_modules_stay_free_of_flask_and_the_database(name):
    impure = {m for m in imports_of(name) if m.startswith(IMPURE_ROOTS)}
    assert impure == set()


def expected_tests(name: str) -> Path:
    """tracker/a/b.py is tested in tests/a/test_b.py, tracker/x.py in tests/test_x.py, the code of
    a package's __init__ in tests/a/test_a.py, and create_app (tracker/__init__.py) in tests/test_app.py."""
    parts = name.split(".")[1:]
    if MODULES[name].name == "__init__.py":
        return ROOT / "tests" / Path(*parts) / f"test_{parts[-1]}.py" if parts else ROOT / "tests" / "test_app.py"
    return ROOT / "tests" / Path(*parts[:-1]) / f"test_{parts[-1]}.py"


def has_code(name: str) -> bool:
    """A module with a function or class of its own (a package __init__ that only re-exports has none)."""
    tree = ast.parse(MODULES[name].read_text())
    return any(isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) for node in tree.body)


@pytest.mark.parametrize("name", sorted(n for n in MODULES if not n.endswith("__main__") and has_code(n)))
def test_every_source_module_has_its_test_module(name):
    assert expected_tests(name).is_file(), f"{name}: no {expected_tests(name).relative_to(ROOT)}"
