"""dbt's `graph` for linting with sqlfluff's jinja templater: its `sources`,
read from models/landing/_landing__sources.yml the way dbt's flat graph
holds them (what the landing macros read)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

_SOURCES_YAML = Path(__file__).resolve().parents[2] / "models" / "landing" / "_landing__sources.yml"


def _sources() -> dict[str, dict[str, Any]]:
    sources: dict[str, dict[str, Any]] = {}
    for source in yaml.safe_load(_SOURCES_YAML.read_text(encoding="utf-8"))["sources"]:
        for table in source["tables"]:
            columns = {
                column["name"]: {
                    "name": column["name"],
                    "data_type": column.get("data_type"),
                    "meta": column.get("config", {}).get("meta", {}),
                    "config": column.get("config", {}),
                }
                for column in table.get("columns", [])
            }
            sources[f"source.stedi.{source['name']}.{table['name']}"] = {
                "package_name": "stedi",
                "source_name": source["name"],
                "name": table["name"],
                "identifier": table["name"],
                "meta": table.get("meta", {}),
                "columns": columns,
            }
    return sources


sources = _sources()
