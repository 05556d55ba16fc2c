"""What both references of the benchmark read besides the landing files:
the landing sources' declared keys (the dbt YAML, so that they parse the
same keys and aliases as the models) and the pseudonym key of their runs."""

from __future__ import annotations

from typing import Any

import yaml

from scripts.common.project_paths import PROJECT_DIR

BENCHMARK_PSEUDONYM_KEY = "benchmark-pseudonym-key-not-for-production"


def landing_tables() -> list[dict[str, Any]]:
    sources = yaml.safe_load(
        (PROJECT_DIR / "models" / "landing" / "_landing__sources.yml").read_text()
    )
    return list(sources["sources"][0]["tables"])


def landing_keys() -> dict[str, dict[str, list[str]]]:
    """Per landing table, each declared key with its aliases (meta.aliases),
    from the sources YAML."""
    keys: dict[str, dict[str, list[str]]] = {}
    for table in landing_tables():
        keys[table["name"]] = {
            column["name"]: list(column.get("config", {}).get("meta", {}).get("aliases", []))
            for column in table["columns"]
        }
    return keys
