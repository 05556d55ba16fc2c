"""Fail when a model, seed or source, one of their columns, or a project macro
(generic tests included) has no description in dbt's manifest, or when a
column has no personal-data classification (config: {meta: {pii: true|false}}).
An engine's implementation of a dispatched macro (`spark__x`, `athena__x`)
needs none of its own when the macro it implements (`x`) is described.

Runs `dbt parse` first (no warehouse connection) unless --manifest is given.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scripts.common import dbt_invoke

# the adapters whose implementations of a dispatched macro the project has
ENGINES = {"spark", "athena", "default"}


def pii_classification(column: dict[str, Any]) -> object:
    """The column's meta.pii (dbt keeps column config.meta in meta too)."""
    meta = {**column.get("meta", {}), **column.get("config", {}).get("meta", {})}
    return meta.get("pii")


def missing_descriptions(manifest: dict[str, Any], package: str = "stedi") -> list[str]:
    """What lacks a description, as readable names."""
    missing: list[str] = []
    nodes = [
        *manifest.get("nodes", {}).values(),
        *manifest.get("sources", {}).values(),
    ]
    for node in nodes:
        if node.get("package_name") != package or node["resource_type"] not in {
            "model",
            "seed",
            "source",
        }:
            continue
        name = (
            f"source {node['source_name']}.{node['name']}"
            if node["resource_type"] == "source"
            else f"{node['resource_type']} {node['name']}"
        )
        if not node.get("description", "").strip():
            missing.append(name)
        for column in node.get("columns", {}).values():
            if not column.get("description", "").strip():
                missing.append(f"{name} column {column['name']}")
            if not isinstance(pii_classification(column), bool):
                missing.append(f"{name} column {column['name']} (meta.pii)")
    macros = {
        macro["name"]: macro
        for macro in manifest.get("macros", {}).values()
        if macro.get("package_name") == package
    }
    for name, macro in macros.items():
        engine, _, implemented = name.partition("__")
        if engine in ENGINES and macros.get(implemented, {}).get("description", "").strip():
            continue  # the dispatched macro's description covers it
        if not macro.get("description", "").strip():
            missing.append(f"macro {name}")
    return sorted(missing)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.devtools.check_descriptions", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--manifest", type=Path, help="use this manifest.json, skip dbt parse")
    args = parser.parse_args(argv)
    manifest_path = args.manifest
    if manifest_path is None:
        dbt_invoke.configure_environment()
        target = dbt_invoke.PROJECT_DIR / "target"
        dbt_invoke.invoke(["parse", "--quiet"], target)
        manifest_path = target / "manifest.json"
    missing = missing_descriptions(json.loads(manifest_path.read_text(encoding="utf-8")))
    for item in missing:
        print(f"no description: {item}", file=sys.stderr)
    if missing:
        return 1
    print("every model, seed, source, column and macro is described; every column is classified")
    return 0


if __name__ == "__main__":
    sys.exit(main())
