"""The Python modules of scripts/ and tests/python import each other without a circle."""

from __future__ import annotations

import ast
from pathlib import Path

from scripts import dbt_invoke

PACKAGES = ("scripts", "tests")


def module_name(path: Path) -> str:
    relative = path.relative_to(dbt_invoke.PROJECT_DIR).with_suffix("")
    return ".".join(relative.parts)


def project_imports(path: Path, known: set[str]) -> set[str]:
    """The project modules that ``path`` imports, anywhere in it (an import
    inside a function closes a circle as surely as one at the top)."""
    imported: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module)
            imported.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in imported if name in known}


def import_graph() -> dict[str, set[str]]:
    paths = [
        path
        for package in PACKAGES
        for path in (dbt_invoke.PROJECT_DIR / package).rglob("*.py")
        if path.name != "__init__.py"
    ]
    known = {module_name(path) for path in paths}
    return {module_name(path): project_imports(path, known) - {module_name(path)} for path in paths}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import circle, each once, found by depth-first search."""
    found: list[list[str]] = []
    seen: set[frozenset[str]] = set()

    def visit(node: str, path: list[str]) -> None:
        for following in sorted(graph[node]):
            if following in path:
                circle = path[path.index(following) :]
                if frozenset(circle) not in seen:
                    seen.add(frozenset(circle))
                    found.append([*circle, following])
            elif len(path) < 12:
                visit(following, [*path, following])

    for start in sorted(graph):
        visit(start, [start])
    return found


def test_the_graph_sees_imports_inside_functions() -> None:
    graph = import_graph()
    # load_landing imports landing_check inside main(), for --check only
    assert "scripts.landing_check" in graph["scripts.load_landing"]
    assert circles({"a": {"b"}, "b": {"a"}}) == [["a", "b", "a"]]


def test_no_module_imports_itself_through_others() -> None:
    assert circles(import_graph()) == []
