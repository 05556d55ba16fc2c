"""The Python modules of scripts/ and tests/python import each other without
a circle, scripts/' roles import only the roles below them, and the
command-line tools share one logging set-up."""

from __future__ import annotations

import ast
from pathlib import Path

from scripts.common import dbt_invoke

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
    assert "scripts.common.landing_check" in graph["scripts.load_landing"]
    assert circles({"a": {"b"}, "b": {"a"}}) == [["a", "b", "a"]]


def test_no_module_imports_itself_through_others() -> None:
    assert circles(import_graph()) == []


# Each role of scripts/ and the roles it may import (scripts/__init__.py says
# what each holds). A module that needs one further up belongs elsewhere.
ROLE_IMPORTS = {
    "scripts.common": set(),
    "scripts.services": {"scripts.common"},
    "scripts": {"scripts.common", "scripts.services"},
    "scripts.devtools": {"scripts.common", "scripts"},
    "scripts.benchmarks": {"scripts.common", "scripts.services", "scripts", "scripts.devtools"},
}


def role(module: str) -> str:
    """scripts.common.dbt_invoke -> scripts.common; scripts.run_lakehouse ->
    scripts; a folder inside a role's is that role's."""
    return ".".join(module.rsplit(".", 1)[0].split(".")[:2])


def role_violations(graph: dict[str, set[str]]) -> list[str]:
    return sorted(
        f"{module} imports {imported}"
        for module, imports in graph.items()
        if module.startswith("scripts.")
        for imported in imports
        if role(imported) != role(module) and role(imported) not in ROLE_IMPORTS[role(module)]
    )


def test_every_module_of_scripts_has_a_known_role() -> None:
    modules = [module for module in import_graph() if module.startswith("scripts.")]
    assert {role(module) for module in modules} == set(ROLE_IMPORTS)


def test_roles_import_only_the_roles_below_them() -> None:
    assert role_violations(import_graph()) == []
    upward = {"scripts.common.dbt_invoke": {"scripts.run_lakehouse"}}
    assert role_violations(upward) == ["scripts.common.dbt_invoke imports scripts.run_lakehouse"]


def test_command_line_tools_share_one_logging_set_up() -> None:
    configures = []
    for path in (dbt_invoke.PROJECT_DIR / "scripts").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "basicConfig":
                configures.append(module_name(path))
    assert configures == ["scripts.common.cli_logging"]
