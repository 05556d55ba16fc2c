"""Types and values as Athena reports them: its type names, its result
text, and the CSV it writes to the result location.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
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


def _row_fields(trino_type: str) -> list[tuple[str, str]]:
    """The (name, type) fields of a row type; an unnamed field is named
    as Athena names it, field0, field1, ..."""
    fields = []
    for index, item in enumerate(split_top_level(trino_type.strip()[4:-1])):
        if item.startswith('"'):
            name, _, kind = item[1:].partition('"')
        else:
            name, _, kind = item.partition(" ")
            if not kind.strip() or name.lower() in {"array", "map", "row"} or "(" in name:
                name, kind = "", item
        fields.append((name or f"field{index}", kind.strip()))
    return fields


def athena_text(value: Any, trino_type: str = "") -> str | None:
    """A value as Athena's GetQueryResults and result CSV write it
    (VarCharValue), given its Trino type: varbinary as hex bytes, a row
    as {name=value, ...}, a map as {key=value, ...}, an array as [a, b]."""
    if value is None:
        return None
    kind = trino_type.strip().lower()
    base = kind.split("(", 1)[0]
    if isinstance(value, bool):
        return "true" if value else "false"
    if base == "varbinary" and isinstance(value, str):
        return " ".join(f"{byte:02x}" for byte in base64.b64decode(value))
    if isinstance(value, list) and base == "row":
        fields = _row_fields(trino_type)
        return (
            "{"
            + ", ".join(
                f"{name}={_nested(item, field_type)}"
                for (name, field_type), item in zip(fields, value, strict=False)
            )
            + "}"
        )
    if isinstance(value, list):
        element = trino_type.strip()[6:-1] if base == "array" else ""
        return "[" + ", ".join(_nested(item, element) for item in value) + "]"
    if isinstance(value, dict):
        key_type, value_type = (
            split_top_level(trino_type.strip()[4:-1]) if base == "map" else ("", "")
        )
        return (
            "{"
            + ", ".join(
                f"{athena_text(key, key_type)}={_nested(item, value_type)}"
                for key, item in value.items()
            )
            + "}"
        )
    return str(value)


def _nested(value: Any, trino_type: str) -> str:
    """A value inside an array, map or row: a null as null."""
    text = athena_text(value, trino_type)
    return "null" if text is None else text


def athena_csv(rows: list[list[str | None]]) -> bytes:
    """Rows (the header first) as Athena's result CSV: every value quoted,
    a quote doubled, a null as nothing at all."""
    lines = []
    for row in rows:
        fields = ["" if value is None else '"' + value.replace('"', '""') + '"' for value in row]
        lines.append(",".join(fields) + "\n")
    return "".join(lines).encode("utf-8")


# Athena's ColumnInfo Precision for a type without a declared one (what
# Athena reports; a decimal's and a varchar's own come from the type).
_PRECISION = {
    "boolean": 0,
    "tinyint": 3,
    "smallint": 5,
    "integer": 10,
    "bigint": 19,
    "float": 17,
    "double": 17,
    "varchar": 2147483647,
    "char": 2147483647,
    "timestamp": 3,
    "timestamp with time zone": 3,
    "time": 3,
    "date": 0,
    "varbinary": 1073741824,
}


def column_info(name: str, trino_type: str) -> dict[str, Any]:
    """A result column as Athena's GetQueryResults describes it."""
    kind = athena_type(trino_type)
    if kind == "real":
        kind = "float"  # Athena's name for a 4-byte float
    precision, scale = _PRECISION.get(kind, 0), 0
    arguments = trino_type.partition("(")[2].rstrip(")").split(",")
    if kind in {"decimal", "varchar", "char"} and arguments[0].strip().isdigit():
        precision = int(arguments[0])
        if kind == "decimal" and len(arguments) > 1:
            scale = int(arguments[1])
    return {
        "CatalogName": "hive",
        "SchemaName": "",
        "TableName": "",
        "Name": name,
        "Label": name,
        "Type": kind,
        "Precision": precision,
        "Scale": scale,
        "Nullable": "UNKNOWN",
        "CaseSensitive": kind in {"varchar", "char"},
    }


# The result's .metadata file: Athena's protocol buffer of the columns, as
# JDBC drivers read it (field 4, repeated: a column, whose fields are 1
# catalog, 4 name, 5 label, 6 type, 7 precision, 8 scale, 9 nullable,
# 10 case sensitive). GetQueryResults reads the columns back from it.
_NULLABLE = {"NOT_NULL": 1, "NULLABLE": 2, "UNKNOWN": 3}


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, value: int | str | bytes) -> bytes:
    if isinstance(value, int):
        return _varint(number << 3) + _varint(value)
    data = value.encode("utf-8") if isinstance(value, str) else value
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def metadata_file(columns: list[dict[str, Any]]) -> bytes:
    """The .metadata file of a result with these ColumnInfo columns."""
    out = bytearray()
    for column in columns:
        encoded = b"".join(
            [
                _field(1, column["CatalogName"]),
                _field(4, column["Name"]),
                _field(5, column["Label"]),
                _field(6, column["Type"]),
                _field(7, column["Precision"]),
                _field(8, column["Scale"]),
                _field(9, _NULLABLE[column["Nullable"]]),
                _field(10, int(column["CaseSensitive"])),
            ]
        )
        out += _field(4, encoded)
    return bytes(out)


def _fields(data: bytes) -> Iterator[tuple[int, int | bytes]]:
    index = 0

    def varint() -> int:
        nonlocal index
        value, shift = 0, 0
        while True:
            byte = data[index]
            index += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value

    while index < len(data):
        key = varint()
        number, wire = key >> 3, key & 7
        if wire == 0:
            yield number, varint()
        elif wire == 2:
            length = varint()
            yield number, data[index : index + length]
            index += length
        else:
            raise ValueError(f"unexpected protocol buffer wire type {wire}")


def columns_of_metadata(data: bytes) -> list[dict[str, Any]]:
    """The ColumnInfo columns a .metadata file holds."""
    nullable = {number: name for name, number in _NULLABLE.items()}
    columns = []
    for number, value in _fields(data):
        if number != 4 or not isinstance(value, bytes):
            continue
        fields = dict(_fields(value))

        def text(number: int, fields: dict[int, int | bytes] = fields) -> str:
            value = fields.get(number, b"")
            return value.decode("utf-8") if isinstance(value, bytes) else str(value)

        columns.append(
            {
                "CatalogName": text(1),
                "SchemaName": "",
                "TableName": "",
                "Name": text(4),
                "Label": text(5),
                "Type": text(6),
                "Precision": int(fields.get(7, 0)),  # type: ignore[arg-type]
                "Scale": int(fields.get(8, 0)),  # type: ignore[arg-type]
                "Nullable": nullable.get(int(fields.get(9, 3)), "UNKNOWN"),  # type: ignore[arg-type]
                "CaseSensitive": bool(fields.get(10, 0)),
            }
        )
    return columns


def athena_txt(rows: list[list[str | None]]) -> bytes:
    """Rows as Athena's result text of a DDL or utility statement: tab
    separated, no header, no quoting."""
    return "".join("\t".join(value or "" for value in row) + "\n" for row in rows).encode("utf-8")


def rows_of_txt(data: bytes, width: int) -> list[list[str | None]]:
    """The rows of a .txt result whose statement returned ``width`` columns."""
    lines = data.decode("utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    rows: list[list[str | None]] = []
    for line in lines:
        values: list[str | None] = list(line.split("\t", max(width - 1, 0)))
        rows.append(values + [None] * (width - len(values)))
    return rows


def rows_of_csv(data: bytes) -> list[list[str | None]]:
    """The rows (header first) of Athena's result CSV: a quoted value is
    text, an unquoted empty one null (so an empty line is one null)."""
    text = data.decode("utf-8")
    rows: list[list[str | None]] = []
    row: list[str | None] = []
    index, end = 0, len(text)
    while index < end:
        if text[index] == '"':
            closing = index + 1
            parts = []
            while True:
                quote = text.index('"', closing)
                parts.append(text[closing:quote])
                if text.startswith('"', quote + 1):
                    parts.append('"')
                    closing = quote + 2
                    continue
                break
            row.append("".join(parts))
            index = quote + 1
        else:
            row.append(None)
        if index >= end:
            break
        if text[index] == ",":
            index += 1
            if index >= end or text[index] == "\n":
                row.append(None)
                if index < end:
                    index += 1
                    rows.append(row)
                    row = []
        elif text[index] == "\n":
            rows.append(row)
            row = []
            index += 1
        else:
            raise ValueError(f"unexpected character {text[index]!r} in a result CSV")
    if row:
        rows.append(row)
    return rows
