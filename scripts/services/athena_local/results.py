"""Types and values as Athena reports them: its type names, its result
text, and the CSV it writes to the result location.
"""

from __future__ import annotations

from typing import Any

from scripts.services.athena_local.translation import split_top_level


def athena_type(trino_type: str) -> str:
    """Athena's type name for a Trino type signature (what dbt-athena's
    result conversion knows: bare lower-case names)."""
    base = trino_type.split("(", 1)[0].strip().lower()
    if base.startswith("timestamp") and "with time zone" in trino_type:
        return "timestamp with time zone"
    return base


def hive_type(trino_type: str) -> str:
    """The Glue (Hive) column type Athena stores for a Trino type."""
    text = trino_type.strip().lower()
    base = text.split("(", 1)[0]
    simple = {
        "varchar": "string",
        "char": "string",
        "integer": "int",
        "real": "float",
        "varbinary": "binary",
        "timestamp": "timestamp",
    }
    if base == "decimal":
        return text
    if base == "array":
        return f"array<{hive_type(text[6:-1])}>"
    if base == "map":
        key, value = split_top_level(text[4:-1])
        return f"map<{hive_type(key)},{hive_type(value)}>"
    if base == "row":
        fields = []
        for item in split_top_level(text[4:-1]):
            field_name, _, field_type = item.partition(" ")
            fields.append(f"{field_name.strip(chr(34))}:{hive_type(field_type)}")
        return f"struct<{','.join(fields)}>"
    return simple.get(base, base)


def athena_text(value: Any) -> str | None:
    """A value as Athena's GetQueryResults writes it (VarCharValue)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join("null" if v is None else str(athena_text(v)) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={athena_text(v)}" for k, v in value.items()) + "}"
    return str(value)


def athena_csv(rows: list[list[str | None]]) -> bytes:
    """Rows (the header first) as Athena's result CSV: every value quoted,
    a quote doubled, a null as nothing at all."""
    lines = []
    for row in rows:
        fields = ["" if value is None else '"' + value.replace('"', '""') + '"' for value in row]
        lines.append(",".join(fields) + "\n")
    return "".join(lines).encode("utf-8")
