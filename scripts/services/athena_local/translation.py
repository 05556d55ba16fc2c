"""Athena's SQL as Trino runs it: the Hive DDL Athena runs against Glue
itself, CTAS properties Trino lacks, backticks, the caller's catalog, and
the statement types Athena reports.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from scripts.common.hive_formats import (
    PARQUET_INPUT_FORMAT,
    PARQUET_OUTPUT_FORMAT,
    PARQUET_SERDE,
    TEXT_INPUT_FORMAT,
    TEXT_OUTPUT_FORMAT,
    TEXT_SERDE,
)

CATALOG = "awsdatacatalog"  # the catalog dbt-athena names in every query


_LEADING_COMMENTS = re.compile(r"\A(?:\s+|--[^\n]*(?:\n|\Z)|/\*.*?\*/)*", re.DOTALL)


# a string literal (kept as it is), or a reference to the catalog awsdatacatalog
_CATALOG_REFERENCE = re.compile(
    rf"""('(?:[^']|'')*')|(?i:(?<![\w."])(?:"{CATALOG}"|{CATALOG})(?=\s*\.))"""
)


def in_catalog(sql: str, catalog: str) -> str:
    """``sql`` with its references to the catalog `awsdatacatalog` made to
    ``catalog`` (string literals untouched). Not a security boundary: Trino's
    access control keeps each user to its own catalog."""
    if catalog == CATALOG:
        return sql
    return _CATALOG_REFERENCE.sub(lambda match: match.group(1) or f'"{catalog}"', sql)


def strip_leading_comments(sql: str) -> str:
    """The statement without dbt's query-header comment (and any other
    comment before its first keyword)."""
    return sql[_LEADING_COMMENTS.match(sql).end() :].strip().rstrip(";").strip()  # type: ignore[union-attr]


@dataclass(frozen=True)
class TrinoStatement:
    """Run ``sql`` on Trino, with these session properties."""

    sql: str
    session: dict[str, str] = field(default_factory=dict)
    view: tuple[str, str] | None = None  # (database, name) of a CREATE VIEW


@dataclass(frozen=True)
class Unload:
    """UNLOAD (``query``) TO ``location``: files and no table. Trino has no
    UNLOAD: the service runs it as a CTAS of an external table at
    ``location`` with these Trino table ``properties`` (and ``session``),
    in a catalog whose metastore is not Glue, then drops that table."""

    query: str
    location: str
    properties: list[str]
    session: dict[str, str] = field(default_factory=dict)  # compression_codec


@dataclass(frozen=True)
class GlueStatement:
    """Apply Hive DDL to Glue, as Athena does: ``apply(glue)``, or
    ``apply(glue, s3)`` if it ``needs_s3`` (the caller's clients)."""

    apply: Callable[..., None]
    needs_s3: bool = False


class UnsupportedFeature(ValueError):
    """An Athena feature the local Athena does not have: the query fails
    with NOT_SUPPORTED and this one line."""


def unquote_identifier(text: str) -> str:
    return text.strip().strip('`"').lower()


def _table_name(text: str) -> tuple[str, str]:
    parts = [
        unquote_identifier(part)
        for part in re.split(r"\.(?=(?:[^`\"]*[`\"][^`\"]*[`\"])*[^`\"]*$)", text)
    ]
    if len(parts) == 3:
        parts = parts[1:]
    if len(parts) != 2:
        raise ValueError(f"expected database.table, got {text}")
    return parts[0], parts[1]


Action = TrinoStatement | GlueStatement | Unload


# The SubstatementTypes that write files and report them in a manifest.
WRITES = frozenset({"CREATE_TABLE_AS_SELECT", "INSERT", "UNLOAD"})
# written_table's database for an UNLOAD, whose "table" is its S3 location
UNLOAD_TARGET = ""

_WRITTEN_TABLE = re.compile(r"(?:insert\s+into|create\s+table)\s+([^\s(]+)", re.IGNORECASE)


def written_table(action: Action, schema: str | None) -> tuple[str, str] | None:
    """The (database, table) a CTAS or INSERT INTO writes, its database
    ``schema`` if the statement names none; (UNLOAD_TARGET, location) for
    an UNLOAD; None for anything else."""
    if isinstance(action, Unload):
        return UNLOAD_TARGET, action.location
    if not isinstance(action, TrinoStatement):
        return None
    match = _WRITTEN_TABLE.match(strip_leading_comments(action.sql))
    if match is None:
        return None
    name = match.group(1)
    parts = re.split(r"\.(?=(?:[^`\"]*[`\"][^`\"]*[`\"])*[^`\"]*$)", name)
    if len(parts) == 1:
        return (schema, unquote_identifier(name)) if schema else None
    return _table_name(name)


# String literals, quoted identifiers and comments: text a rewrite of the
# SQL around them must leave as it is (group 1 of the patterns below).
_LEFT_AS_IS = r"""('(?:[^']|'')*'|"(?:[^"]|"")*"|`[^`]*`|--[^\n]*|/\*.*?\*/)"""
# ?, outside them
_PLACEHOLDER = re.compile(_LEFT_AS_IS + r"|\?", re.DOTALL)


def bind_parameters(sql: str, parameters: list[str]) -> str:
    """``sql`` with its ? placeholders replaced, in order, by
    ExecutionParameters (SQL literals, as Athena takes them)."""
    if not parameters:
        return sql
    found = [match for match in _PLACEHOLDER.finditer(sql) if match.group(1) is None]
    if len(found) != len(parameters):
        raise ValueError(
            f"the query has {len(found)} parameter placeholders (?) but"
            f" {len(parameters)} ExecutionParameters were given"
        )
    values = iter(parameters)
    return _PLACEHOLDER.sub(lambda match: match.group(1) or next(values), sql)


# A decimal literal (1.5, 1., .5: no exponent), outside them
_DECIMAL_LITERAL = re.compile(_LEFT_AS_IS + r"|(?<![\w.])(\d+\.\d*|\.\d+)(?![\w.])", re.DOTALL)


def decimal_literals_as_double(sql: str) -> str:
    """Athena reads a decimal literal such as 0.5 as a DOUBLE (a DECIMAL
    is written DECIMAL '0.5', as its data type considerations say), where
    Trino reads a DECIMAL: 1 / 0.0 is Infinity on Athena, a division by
    zero on Trino. Each gets an exponent, Trino's mark of a DOUBLE."""
    return _DECIMAL_LITERAL.sub(lambda match: match.group(1) or match.group(2) + "E0", sql)


def _string_literal(text: str) -> str:
    text = text.strip()
    if not (text.startswith("'") and text.endswith("'")):
        raise ValueError(f"expected a string literal, got {text[:80]}")
    return text[1:-1].replace("''", "'").replace("\\'", "'")


def split_top_level(text: str, separator: str = ",") -> list[str]:
    """``text`` split at ``separator`` outside quotes, brackets and parentheses."""
    parts, depth, quote, current = [], 0, "", []
    for char in text:
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"`":
            quote = char
        elif char in "([<":
            depth += 1
        elif char in ")]>":
            depth -= 1
        elif char == separator and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    if "".join(current).strip():
        parts.append("".join(current))
    return [part.strip() for part in parts]


def _parenthesised(text: str, start: int) -> tuple[str, int]:
    """The text inside the parentheses opening at ``text[start]``, and the
    index after the closing one."""
    assert text[start] == "("
    depth, quote = 0, ""
    for index in range(start, len(text)):
        char = text[index]
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"`":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return text[start + 1 : index], index + 1
    raise ValueError("unbalanced parentheses")


def _properties(text: str) -> dict[str, str]:
    """'k'='v', ... (Hive) as a dict."""
    result = {}
    for item in split_top_level(text):
        key, _, value = item.partition("=")
        result[_string_literal(key)] = _string_literal(value)
    return result


_EXTERNAL_TABLE = re.compile(
    r"create\s+external\s+table\s+(?:if\s+not\s+exists\s+)?(?P<name>[`\"\w.]+)\s*", re.IGNORECASE
)


def external_table_input(statement: str) -> tuple[str, dict[str, Any]]:
    """The Glue database and TableInput of a Hive CREATE EXTERNAL TABLE."""
    match = _EXTERNAL_TABLE.match(statement)
    assert match is not None
    database, name = _table_name(match.group("name"))
    body, position = _parenthesised(statement, match.end())
    columns = []
    for column in split_top_level(body):
        column_name, _, column_type = column.strip().partition(" ")
        columns.append({"Name": unquote_identifier(column_name), "Type": column_type.strip()})
    rest = statement[position:]
    descriptor: dict[str, Any] = {"Columns": columns, "SerdeInfo": {"Parameters": {}}}
    parameters: dict[str, str] = {"EXTERNAL": "TRUE"}
    partition_keys: list[dict[str, str]] = []
    formats = {
        "parquet": (PARQUET_INPUT_FORMAT, PARQUET_OUTPUT_FORMAT, PARQUET_SERDE),
        "textfile": (TEXT_INPUT_FORMAT, TEXT_OUTPUT_FORMAT, TEXT_SERDE),
    }
    clause = re.compile(
        r"\s*(?:(?P<partitioned>partitioned\s+by\s*\()"
        r"|row\s+format\s+serde\s+(?P<serde>'[^']*')"
        r"|(?P<serdeproperties>with\s+serdeproperties\s*\()"
        r"|stored\s+as\s+inputformat\s+(?P<input>'[^']*')\s+outputformat\s+(?P<output>'[^']*')"
        r"|stored\s+as\s+(?P<stored>\w+)"
        r"|location\s+(?P<location>'[^']*')"
        r"|(?P<tblproperties>tblproperties\s*\()"
        r"|comment\s+(?P<comment>'(?:[^']|'')*'))",
        re.IGNORECASE,
    )
    index = 0
    while rest[index:].strip():
        found = clause.match(rest, index)
        if found is None:
            raise ValueError(f"unsupported CREATE EXTERNAL TABLE clause: {rest[index:][:80]}")
        index = found.end()
        if (
            found.group("partitioned")
            or found.group("serdeproperties")
            or found.group("tblproperties")
        ):
            inner, index = _parenthesised(rest, index - 1)
            if found.group("partitioned"):
                for column in split_top_level(inner):
                    key, _, key_type = column.strip().partition(" ")
                    partition_keys.append(
                        {"Name": unquote_identifier(key), "Type": key_type.strip()}
                    )
            elif found.group("serdeproperties"):
                descriptor["SerdeInfo"]["Parameters"].update(_properties(inner))
            else:
                parameters.update(_properties(inner))
        elif found.group("serde"):
            descriptor["SerdeInfo"]["SerializationLibrary"] = _string_literal(found.group("serde"))
        elif found.group("input"):
            descriptor["InputFormat"] = _string_literal(found.group("input"))
            descriptor["OutputFormat"] = _string_literal(found.group("output"))
        elif found.group("stored"):
            stored = found.group("stored").lower()
            if stored not in formats:
                raise ValueError(f"unsupported STORED AS {stored}")
            descriptor["InputFormat"], descriptor["OutputFormat"], serde = formats[stored]
            descriptor["SerdeInfo"].setdefault("SerializationLibrary", serde)
        elif found.group("location"):
            descriptor["Location"] = _string_literal(found.group("location"))
    if "InputFormat" not in descriptor:
        descriptor["InputFormat"], descriptor["OutputFormat"], serde = formats["textfile"]
        descriptor["SerdeInfo"].setdefault("SerializationLibrary", serde)
    table_input = {
        "Name": name,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": parameters,
        "StorageDescriptor": descriptor,
        "PartitionKeys": partition_keys,
    }
    return database, table_input


def _create_external_table(statement: str) -> GlueStatement:
    database, table_input = external_table_input(statement)

    def apply(glue: Any) -> None:
        glue.create_table(DatabaseName=database, TableInput=table_input)

    return GlueStatement(apply)


_SET_TBLPROPERTIES = re.compile(
    r"alter\s+table\s+(?P<name>[`\"\w.]+)\s+set\s+tblproperties\s*\((?P<properties>.*)\)\s*\Z",
    re.IGNORECASE | re.DOTALL,
)

# Glue's GetTable answer holds read-only fields that UpdateTable refuses.
_TABLE_INPUT_FIELDS = (
    "Name",
    "Description",
    "Owner",
    "Retention",
    "StorageDescriptor",
    "PartitionKeys",
    "ViewOriginalText",
    "ViewExpandedText",
    "TableType",
    "Parameters",
)


def table_input_of(table: dict[str, Any]) -> dict[str, Any]:
    """A Glue GetTable answer as an UpdateTable TableInput."""
    return {name: table[name] for name in _TABLE_INPUT_FIELDS if name in table}


def _set_tblproperties(match: re.Match[str]) -> GlueStatement:
    database, name = _table_name(match.group("name"))
    properties = _properties(match.group("properties"))

    def apply(glue: Any) -> None:
        table = glue.get_table(DatabaseName=database, Name=name)["Table"]
        table_input = table_input_of(table)
        table_input["Parameters"] = {**table.get("Parameters", {}), **properties}
        glue.update_table(DatabaseName=database, TableInput=table_input)

    return GlueStatement(apply)


_DROP_PARTITION = re.compile(
    r"alter\s+table\s+(?P<name>[`\"\w.]+)\s+drop\s+(?P<if_exists>if\s+exists\s+)?"
    r"(?P<partitions>partition\s*\(.*\))\s*\Z",
    re.IGNORECASE | re.DOTALL,
)


def _drop_partitions(match: re.Match[str]) -> GlueStatement:
    """ALTER TABLE ... DROP [IF EXISTS] PARTITION (k='v'), ...: Glue's
    BatchDeletePartition by value, as Athena runs it."""
    database, name = _table_name(match.group("name"))
    specs = []
    for item in split_top_level(match.group("partitions")):
        if not item.lower().startswith("partition"):
            raise ValueError(f"unsupported DROP PARTITION clause: {item[:80]}")
        inner, _ = _parenthesised(item, item.index("("))
        spec = {}
        for pair in split_top_level(inner):
            key, _, value = pair.partition("=")
            spec[unquote_identifier(key)] = _string_literal(value)
        specs.append(spec)
    if_exists = bool(match.group("if_exists"))

    def apply(glue: Any) -> None:
        table = glue.get_table(DatabaseName=database, Name=name)["Table"]
        keys = [key["Name"].lower() for key in table.get("PartitionKeys", [])]
        values = [[spec[key] for key in keys] for spec in specs]
        if not if_exists:
            for value in values:
                glue.get_partition(DatabaseName=database, TableName=name, PartitionValues=value)
        for start in range(0, len(values), 25):  # Glue's batch limit
            glue.batch_delete_partition(
                DatabaseName=database,
                TableName=name,
                PartitionsToDelete=[{"Values": value} for value in values[start : start + 25]],
            )

    return GlueStatement(apply)


_ALTER_COLUMNS = re.compile(
    r"alter\s+table\s+(?P<name>[`\"\w.]+)\s+(?P<verb>add|replace)\s+columns\s*\(",
    re.IGNORECASE,
)
_CHANGE_COLUMN = re.compile(
    r"alter\s+table\s+(?P<name>[`\"\w.]+)\s+change\s+(?:column\s+)?(?P<old>[`\"\w]+)\s+"
    r"(?P<new>[`\"\w]+)\s+(?P<type>.+?)(?:\s+comment\s+(?P<comment>'(?:[^']|'')*'))?\s*\Z",
    re.IGNORECASE | re.DOTALL,
)


def _column_list(text: str) -> list[dict[str, str]]:
    """`name` type [COMMENT '...'], ... as Glue columns."""
    columns = []
    for item in split_top_level(text):
        name, _, rest = item.strip().partition(" ")
        kind, comment = rest, ""
        found = re.search(r"\s+comment\s+('(?:[^']|'')*')\s*\Z", rest, re.IGNORECASE)
        if found:
            kind, comment = rest[: found.start()], _string_literal(found.group(1))
        column = {"Name": unquote_identifier(name), "Type": kind.strip().lower()}
        if comment:
            column["Comment"] = comment
        columns.append(column)
    return columns


def _alter_columns(statement: str, match: re.Match[str]) -> GlueStatement:
    """ALTER TABLE ADD COLUMNS (...) or REPLACE COLUMNS (...): Glue's
    columns, as Athena changes them (the data files stay as they are)."""
    database, name = _table_name(match.group("name"))
    inner, end = _parenthesised(statement, match.end() - 1)
    if statement[end:].strip():
        raise ValueError(f"unexpected text after the columns: {statement[end:][:80]}")
    columns, verb = _column_list(inner), match.group("verb").lower()

    def apply(glue: Any) -> None:
        table = glue.get_table(DatabaseName=database, Name=name)["Table"]
        current = table["StorageDescriptor"].get("Columns", [])
        taken = {column["Name"] for column in (current if verb == "add" else [])}
        taken |= {key["Name"] for key in table.get("PartitionKeys", [])}
        for column in columns:
            if column["Name"] in taken:
                raise ValueError(f"HIVE_COLUMN_ALREADY_EXISTS: Column {column['Name']} exists")
            taken.add(column["Name"])
        _update_columns(glue, database, table, current + columns if verb == "add" else columns)

    return GlueStatement(apply)


def _change_column(match: re.Match[str]) -> GlueStatement:
    """ALTER TABLE CHANGE [COLUMN] old new type: renamed and retyped in place."""
    database, name = _table_name(match.group("name"))
    old, new = unquote_identifier(match.group("old")), unquote_identifier(match.group("new"))
    kind = match.group("type").strip().lower()
    comment = _string_literal(match.group("comment")) if match.group("comment") else None

    def apply(glue: Any) -> None:
        table = glue.get_table(DatabaseName=database, Name=name)["Table"]
        columns = [dict(column) for column in table["StorageDescriptor"].get("Columns", [])]
        found = [column for column in columns if column["Name"] == old]
        if not found:
            raise ValueError(f"COLUMN_NOT_FOUND: Column {old} does not exist in {database}.{name}")
        found[0].update({"Name": new, "Type": kind})
        if comment is not None:
            found[0]["Comment"] = comment
        _update_columns(glue, database, table, columns)

    return GlueStatement(apply)


def _update_columns(
    glue: Any, database: str, table: dict[str, Any], columns: list[dict[str, str]]
) -> None:
    table_input = table_input_of(table)
    table_input["StorageDescriptor"] = {**table["StorageDescriptor"], "Columns": columns}
    glue.update_table(DatabaseName=database, TableInput=table_input)


_ADD_PARTITION = re.compile(
    r"alter\s+table\s+(?P<name>[`\"\w.]+)\s+add\s+(?P<if_not_exists>if\s+not\s+exists\s+)?"
    r"(?P<partitions>partition\s*\(.*)\Z",
    re.IGNORECASE | re.DOTALL,
)
_PARTITION_SPEC = re.compile(
    r"\s*partition\s*(?P<spec>\((?:[^()']|'(?:[^']|'')*')*\))(?:\s*location\s+(?P<location>'[^']*'))?",
    re.IGNORECASE,
)


def _partition_spec(text: str) -> dict[str, str]:
    spec = {}
    for pair in split_top_level(text.strip()[1:-1]):
        key, _, value = pair.partition("=")
        spec[unquote_identifier(key)] = _string_literal(value)
    return spec


def _add_partitions(match: re.Match[str]) -> GlueStatement:
    """ALTER TABLE ADD [IF NOT EXISTS] PARTITION (k='v') [LOCATION '...'] ...:
    Glue partitions with the table's storage, at the location given or at
    <table location>/k=v/."""
    database, name = _table_name(match.group("name"))
    text, index, specs = match.group("partitions"), 0, []
    while text[index:].strip():
        found = _PARTITION_SPEC.match(text, index)
        if found is None:
            raise ValueError(f"unsupported ADD PARTITION clause: {text[index:][:80]}")
        location = found.group("location")
        specs.append(
            (_partition_spec(found.group("spec")), _string_literal(location) if location else None)
        )
        index = found.end()
    if_not_exists = bool(match.group("if_not_exists"))

    def apply(glue: Any) -> None:
        table = glue.get_table(DatabaseName=database, Name=name)["Table"]
        keys = [key["Name"].lower() for key in table.get("PartitionKeys", [])]
        partitions = []
        for spec, location in specs:
            if sorted(spec) != sorted(keys):
                raise ValueError(
                    f"HIVE_INVALID_PARTITION_VALUE: the partition keys of {database}.{name}"
                    f" are {keys}, not {sorted(spec)}"
                )
            values = [spec[key] for key in keys]
            partitions.append((values, location or _partition_location(table, keys, values)))
        _create_partitions(glue, database, table, partitions, if_not_exists)

    return GlueStatement(apply)


def _partition_location(table: dict[str, Any], keys: list[str], values: list[str]) -> str:
    from urllib.parse import quote

    base = table["StorageDescriptor"]["Location"].rstrip("/")
    return (
        base + "/" + "/".join(f"{k}={quote(v, safe='')}" for k, v in zip(keys, values, strict=True))
    )


def _create_partitions(
    glue: Any,
    database: str,
    table: dict[str, Any],
    partitions: list[tuple[list[str], str]],
    if_not_exists: bool,
) -> None:
    descriptor = table["StorageDescriptor"]
    for start in range(0, len(partitions), 100):  # Glue's batch limit
        batch = partitions[start : start + 100]
        answer = glue.batch_create_partition(
            DatabaseName=database,
            TableName=table["Name"],
            PartitionInputList=[
                {"Values": values, "StorageDescriptor": {**descriptor, "Location": location}}
                for values, location in batch
            ],
        )
        for error in answer.get("Errors", []):
            code = error.get("ErrorDetail", {}).get("ErrorCode", "")
            if code == "AlreadyExistsException" and if_not_exists:
                continue
            raise ValueError(
                f"HIVE_METASTORE_ERROR: partition {error.get('PartitionValues')} of"
                f" {database}.{table['Name']}: {code}"
            )


_MSCK_REPAIR = re.compile(r"msck\s+repair\s+table\s+(?P<name>[`\"\w.]+)\s*\Z", re.IGNORECASE)


def _msck_repair(match: re.Match[str]) -> GlueStatement:
    """MSCK REPAIR TABLE: a partition in Glue for each k=v/ folder under the
    table's location that holds files and that Glue does not list yet."""
    database, name = _table_name(match.group("name"))

    def apply(glue: Any, s3: Any) -> None:
        from urllib.parse import unquote

        table = glue.get_table(DatabaseName=database, Name=name)["Table"]
        keys = [key["Name"].lower() for key in table.get("PartitionKeys", [])]
        if not keys:
            return
        location = table["StorageDescriptor"]["Location"].rstrip("/") + "/"
        bucket, _, prefix = location.removeprefix("s3://").partition("/")
        found: dict[tuple[str, ...], str] = {}
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for page in pages:
            for item in page.get("Contents", []):
                parts = item["Key"][len(prefix) :].split("/")[: len(keys)]
                pairs = [part.partition("=") for part in parts]
                if len(pairs) == len(keys) and all(
                    pair[0].lower() == key and pair[1]
                    for pair, key in zip(pairs, keys, strict=True)
                ):
                    values = tuple(unquote(pair[2]) for pair in pairs)
                    found[values] = location + "/".join(parts)
        pages = glue.get_paginator("get_partitions").paginate(DatabaseName=database, TableName=name)
        known = {tuple(item["Values"]) for page in pages for item in page["Partitions"]}
        missing = [
            (list(values), path) for values, path in sorted(found.items()) if values not in known
        ]
        _create_partitions(glue, database, table, missing, if_not_exists=True)

    return GlueStatement(apply, needs_s3=True)


_CTAS = re.compile(r"create\s+table\s+(?P<name>[`\"\w.]+)\s+with\s*\(", re.IGNORECASE)
# Athena CTAS properties without a Trino Hive table property of that name.
_DROPPED_PROPERTIES = {"table_type", "is_external"}
_RENAMED_PROPERTIES = {"field_delimiter": "textfile_field_separator"}


def _ctas(statement: str, match: re.Match[str], tables_location: str | None) -> TrinoStatement:
    inner, end = _parenthesised(statement, match.end() - 1)
    kept: list[str] = []
    session: dict[str, str] = {}
    for item in split_top_level(inner):
        key, _, value = item.partition("=")
        key = key.strip().lower()
        if key == "table_type" and _string_literal(value).lower() != "hive":
            raise UnsupportedFeature(
                f"table_type {_string_literal(value)}: the local Athena builds Hive tables"
                " only (Iceberg tables are not supported)"
            )
        if key in _DROPPED_PROPERTIES:
            continue
        if key == "write_compression":
            session[f"{CATALOG}.compression_codec"] = _string_literal(value).upper()
            continue
        kept.append(f"{_RENAMED_PROPERTIES.get(key, key)}={value.strip()}")
    if tables_location and not any(item.startswith("external_location=") for item in kept):
        # Athena writes such a table under the result location
        kept.append(f"external_location='{tables_location}'")
    properties = f" with ({', '.join(kept)})" if kept else ""
    sql = f"create table {match.group('name')}{properties} {statement[end:].lstrip()}"
    return TrinoStatement(sql, session)


_CREATE_VIEW = re.compile(
    r"create\s+(?:or\s+replace\s+)?view\s+(?P<name>[`\"\w.]+)\s+as\b", re.IGNORECASE
)


def _backticks_to_quotes(statement: str) -> str:
    """Hive's `identifier` as SQL's "identifier" (outside string literals)."""
    out, quote = [], ""
    for char in statement:
        if quote:
            if char == quote:
                quote = ""
        elif char == "'":
            quote = char
        elif char == "`":
            char = '"'
        out.append(char)
    return "".join(out)


_UNLOAD_FORMATS = {"PARQUET", "ORC", "AVRO", "JSON", "TEXTFILE"}
_UNLOAD_TO = re.compile(r"\s*to\s*(?P<location>'[^']*')\s*with\s*\(", re.IGNORECASE)


def _unload(statement: str) -> Unload:
    """UNLOAD (query) TO 's3://...' WITH (format = ..., compression = ...,
    field_delimiter = ..., partitioned_by = ARRAY[...])."""
    query, end = _parenthesised(statement, statement.index("("))
    to = _UNLOAD_TO.match(statement, end)
    if to is None:
        raise ValueError("UNLOAD needs TO 's3://...' WITH (format = ...)")
    location = _string_literal(to.group("location"))
    if not location.startswith("s3://"):
        raise ValueError(f"UNLOAD's TO must be an s3:// location, got {location}")
    inner, rest = _parenthesised(statement, to.end() - 1)
    if statement[rest:].strip():
        raise ValueError(f"unexpected text after UNLOAD's WITH: {statement[rest:][:80]}")
    properties, session = [], {}
    for item in split_top_level(inner):
        key, _, value = item.partition("=")
        key, value = key.strip().lower(), value.strip()
        if key == "format":
            kind = _string_literal(value).upper()
            if kind not in _UNLOAD_FORMATS:
                raise ValueError(f"UNLOAD format {kind} is not supported")
            properties.append(f"format='{kind}'")
        elif key == "compression":
            session["compression_codec"] = _string_literal(value).upper()
        elif key == "field_delimiter":
            properties.append(f"textfile_field_separator={value}")
        elif key == "partitioned_by":
            properties.append(f"partitioned_by={value}")
        else:
            raise ValueError(f"UNLOAD property {key} is not supported")
    if not any(item.startswith("format=") for item in properties):
        raise ValueError("UNLOAD needs a format")
    location = location if location.endswith("/") else location + "/"
    return Unload(query.strip(), location, properties, session)


def translate(sql: str, tables_location: str | None = None) -> Action:
    """What runs where for one Athena statement. ``tables_location``: where
    a CTAS without external_location writes (Athena: the query's result
    location, ``tables/<query id>/``)."""
    statement = strip_leading_comments(sql)
    lowered = statement.lower()
    if re.search(r"'table_type'\s*=\s*'iceberg'", lowered) or re.match(
        r"(optimize|vacuum)\b", lowered
    ):
        raise UnsupportedFeature(
            "Iceberg tables (and OPTIMIZE and VACUUM) are not supported by the local Athena,"
            " which builds Hive tables only"
        )
    if re.match(r"create\s+external\s+table\b", lowered):
        return _create_external_table(statement)
    if re.match(r"unload\s*\(", lowered):
        return _unload(decimal_literals_as_double(statement))
    if match := _SET_TBLPROPERTIES.match(statement):
        return _set_tblproperties(match)
    if match := _DROP_PARTITION.match(statement):
        return _drop_partitions(match)
    if match := _ALTER_COLUMNS.match(statement):
        return _alter_columns(statement, match)
    if match := _CHANGE_COLUMN.match(statement):
        return _change_column(match)
    if match := _ADD_PARTITION.match(statement):
        return _add_partitions(match)
    if match := _MSCK_REPAIR.match(statement):
        return _msck_repair(match)
    statement = decimal_literals_as_double(statement)
    if match := _CTAS.match(statement):
        return _ctas(statement, match, tables_location)
    if match := _CREATE_VIEW.match(statement):
        return TrinoStatement(statement, view=_table_name(match.group("name")))
    if re.match(r"(create|drop)\s+(database|schema)\b", lowered):
        statement = re.sub(r"\A(\w+)\s+database\b", r"\1 schema", statement, flags=re.IGNORECASE)
    if re.match(r"(create|drop|alter|describe|show)\b", lowered):
        statement = _backticks_to_quotes(statement)
    return TrinoStatement(statement)


def statement_type(statement: str) -> tuple[str, str]:
    """Athena's StatementType and SubstatementType of a statement."""
    first = strip_leading_comments(statement).lower()
    if re.match(r"create\s+table\b.*\bas\b", first, re.DOTALL):
        return "DDL", "CREATE_TABLE_AS_SELECT"
    if first.startswith(("insert",)):
        return "DML", "INSERT"
    if re.match(r"unload\s*\(", first):
        return "DML", "UNLOAD"
    if first.startswith(("select", "with", "values", "(")):
        return "DML", "SELECT"
    if first.startswith(("explain",)):
        return "UTILITY", "EXPLAIN"
    if first.startswith(("describe", "show")):
        return "UTILITY", first.split()[0].upper()
    return "DDL", first.split()[0].upper() if first else "UNKNOWN"
