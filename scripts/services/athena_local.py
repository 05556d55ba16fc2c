"""A local Athena: the Athena API, answered by a Trino server.

dbt-athena (unmodified) sends its queries to this service instead of AWS:
point AWS_ENDPOINT_URL_ATHENA at it and AWS_ENDPOINT_URL at the local AWS
server (moto, scripts/services/local_aws_server.py) that holds S3 and Glue. Trino's
Hive connector uses that same Glue as its metastore and that same S3 as its
storage, so what dbt-athena reads from Glue directly (tables, partitions,
columns) is what Trino wrote, as on AWS.

The service answers the query calls: StartQueryExecution,
GetQueryExecution, GetQueryResults, StopQueryExecution and
ListQueryExecutions. Each query runs on Trino in a worker thread and reports
its state, its error (Trino's error name and message, as Athena prints
them), its statistics (DataScannedInBytes = Trino's physical input bytes)
and typed results with Athena's header row. Every other Athena call
(work groups, for example) goes to the local AWS server unchanged.

Athena's own dialect is translated where Trino's differs (translate()):
- Hive DDL (CREATE EXTERNAL TABLE with a SerDe, ALTER TABLE SET
  TBLPROPERTIES, ALTER TABLE DROP PARTITION): Athena runs it against Glue,
  and so does the service;
- CTAS properties Trino does not have (table_type, is_external) are dropped,
  write_compression becomes Trino's compression_codec session property;
- backtick identifiers become double quotes.
A view that Trino creates stores one column, `dummy`, in Glue; the service
writes the view's real columns there, as Athena does, because dbt-athena
reads a relation's columns from Glue.

IAM: with $STEDI_ENFORCE_IAM=1, each Athena call is authorized by the
caller's IAM policies on its work group, as the local AWS server authorizes
S3 and Glue (scripts/services/iam_enforcement.py), and the Hive DDL a caller
sends runs against Glue with the caller's own key (``credentials``). A
query runs in the caller's Trino catalog (``catalogs``: a catalog per local
IAM user, whose S3 and Glue calls carry that user's key; the catalog
`awsdatacatalog` the SQL names becomes the caller's), so Trino reads and
writes only what the caller's policies allow, as Athena does with the
caller's credentials. The administrator's queries run in `awsdatacatalog`
(the runner's, in the local build); an IAM user with no catalog is refused.
A query's rows are also written, as the caller, to <result location>/<query
id>.csv, as Athena writes them.

Limits: one Trino, one account and region; no workgroup limits; no result
file for DDL and no .metadata file; query IDs are forgotten on exit.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3

from scripts.common.hive_formats import (
    PARQUET_INPUT_FORMAT,
    PARQUET_OUTPUT_FORMAT,
    PARQUET_SERDE,
    TEXT_INPUT_FORMAT,
    TEXT_OUTPUT_FORMAT,
    TEXT_SERDE,
)
from scripts.services.iam_enforcement import (
    ADMIN_ACCESS_KEY,
    DECISIONS_ENVIRONMENT,
    ENFORCE_ENVIRONMENT,
    DecisionLog,
    athena_request,
    caller_access_key,
    denial_message,
    evaluate,
    global_context,
)
from scripts.services.trino_server import (
    MAX_PARTITIONS_PER_WRITE,
    TRINO_VERSION,
    QueryResult,
    TrinoQueryError,
    cancel,
    catalog_user,
    query,
)

LOG = logging.getLogger("athena_local")

CATALOG = "awsdatacatalog"

# Athena's limits, enforced as Athena enforces them (its service quotas and
# its SQL considerations):
# - a query's text is at most 262,144 bytes of UTF-8; StartQueryExecution
#   refuses a longer one;
MAX_QUERY_BYTES = 262_144
# - one CTAS or INSERT writes at most 100 partitions, and fails with
#   HIVE_TOO_MANY_OPEN_PARTITIONS above that. Trino's Hive connector has
#   the same limit per writer (hive.max-partitions-per-writers, 100 by
#   default); one writer per query, on this one node, makes it per query
#   (MAX_PARTITIONS_PER_WRITE, from trino_server).


@dataclass(frozen=True)
class AthenaLimits:
    """The limits the stand-in enforces: Athena's, or stricter ones that a
    test reaches with less data (the same refusals, on 11 dates instead of
    101). Never looser than Athena's."""

    query_bytes: int = MAX_QUERY_BYTES
    partitions_per_write: int = MAX_PARTITIONS_PER_WRITE

    def __post_init__(self) -> None:
        if not 0 < self.query_bytes <= MAX_QUERY_BYTES:
            raise ValueError(f"query_bytes must be 1 to {MAX_QUERY_BYTES}")
        if not 0 < self.partitions_per_write <= MAX_PARTITIONS_PER_WRITE:
            raise ValueError(f"partitions_per_write must be 1 to {MAX_PARTITIONS_PER_WRITE}")


ATHENAS_LIMITS = AthenaLimits()

WRITE_LIMITS_SESSION = {
    "task_min_writer_count": "1",
    "task_max_writer_count": "1",
    "scale_writers": "false",
    "task_scale_writers_enabled": "false",
}
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


# --- translation -------------------------------------------------------------


@dataclass(frozen=True)
class TrinoStatement:
    """Run ``sql`` on Trino, with these session properties."""

    sql: str
    session: dict[str, str] = field(default_factory=dict)
    view: tuple[str, str] | None = None  # (database, name) of a CREATE VIEW


@dataclass(frozen=True)
class GlueStatement:
    """Apply Hive DDL to Glue, as Athena does: ``apply(glue)``."""

    apply: Callable[[Any], None]


def _unquote_identifier(text: str) -> str:
    return text.strip().strip('`"').lower()


def _table_name(text: str) -> tuple[str, str]:
    parts = [
        _unquote_identifier(part)
        for part in re.split(r"\.(?=(?:[^`\"]*[`\"][^`\"]*[`\"])*[^`\"]*$)", text)
    ]
    if len(parts) == 3:
        parts = parts[1:]
    if len(parts) != 2:
        raise ValueError(f"expected database.table, got {text}")
    return parts[0], parts[1]


def insert_target(action: TrinoStatement | GlueStatement) -> tuple[str, str] | None:
    """The (database, table) an INSERT INTO writes; None for anything else."""
    if not isinstance(action, TrinoStatement):
        return None
    match = re.match(r"insert\s+into\s+([^\s(]+)", strip_leading_comments(action.sql), re.I)
    return _table_name(match.group(1)) if match else None


def _string_literal(text: str) -> str:
    text = text.strip()
    if not (text.startswith("'") and text.endswith("'")):
        raise ValueError(f"expected a string literal, got {text[:80]}")
    return text[1:-1].replace("''", "'").replace("\\'", "'")


def _split_top_level(text: str, separator: str = ",") -> list[str]:
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
    for item in _split_top_level(text):
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
    for column in _split_top_level(body):
        column_name, _, column_type = column.strip().partition(" ")
        columns.append({"Name": _unquote_identifier(column_name), "Type": column_type.strip()})
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
                for column in _split_top_level(inner):
                    key, _, key_type = column.strip().partition(" ")
                    partition_keys.append(
                        {"Name": _unquote_identifier(key), "Type": key_type.strip()}
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
    for item in _split_top_level(match.group("partitions")):
        if not item.lower().startswith("partition"):
            raise ValueError(f"unsupported DROP PARTITION clause: {item[:80]}")
        inner, _ = _parenthesised(item, item.index("("))
        spec = {}
        for pair in _split_top_level(inner):
            key, _, value = pair.partition("=")
            spec[_unquote_identifier(key)] = _string_literal(value)
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


_CTAS = re.compile(r"create\s+table\s+(?P<name>[`\"\w.]+)\s+with\s*\(", re.IGNORECASE)
# Athena CTAS properties without a Trino Hive table property of that name.
_DROPPED_PROPERTIES = {"table_type", "is_external"}
_RENAMED_PROPERTIES = {"field_delimiter": "textfile_field_separator"}


def _ctas(statement: str, match: re.Match[str], tables_location: str | None) -> TrinoStatement:
    inner, end = _parenthesised(statement, match.end() - 1)
    kept: list[str] = []
    session: dict[str, str] = {}
    for item in _split_top_level(inner):
        key, _, value = item.partition("=")
        key = key.strip().lower()
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


def translate(sql: str, tables_location: str | None = None) -> TrinoStatement | GlueStatement:
    """What runs where for one Athena statement. ``tables_location``: where
    a CTAS without external_location writes (Athena: the query's result
    location, ``tables/<query id>/``)."""
    statement = strip_leading_comments(sql)
    lowered = statement.lower()
    if re.match(r"create\s+external\s+table\b", lowered):
        return _create_external_table(statement)
    if match := _SET_TBLPROPERTIES.match(statement):
        return _set_tblproperties(match)
    if match := _DROP_PARTITION.match(statement):
        return _drop_partitions(match)
    if match := _CTAS.match(statement):
        return _ctas(statement, match, tables_location)
    if match := _CREATE_VIEW.match(statement):
        return TrinoStatement(statement, view=_table_name(match.group("name")))
    if re.match(r"(create|drop)\s+(database|schema)\b", lowered):
        statement = re.sub(r"\A(\w+)\s+database\b", r"\1 schema", statement, flags=re.IGNORECASE)
    if re.match(r"(create|drop|alter|describe|show)\b", lowered):
        statement = _backticks_to_quotes(statement)
    return TrinoStatement(statement)


# --- types and values as Athena reports them ------------------------------------


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
        key, value = _split_top_level(text[4:-1])
        return f"map<{hive_type(key)},{hive_type(value)}>"
    if base == "row":
        fields = []
        for item in _split_top_level(text[4:-1]):
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


# --- executions -----------------------------------------------------------------


@dataclass
class Execution:
    query_id: str
    query: str
    database: str | None
    work_group: str
    output_location: str | None
    state: str = "QUEUED"
    reason: str | None = None
    submitted: float = field(default_factory=time.time)
    completed: float | None = None
    kind: str = "DML"  # Athena's StatementType
    subkind: str = "SELECT"  # and SubstatementType
    result: QueryResult | None = None
    trino_query_id: str | None = None  # once Trino has accepted the query
    access_key: str | None = None  # the caller's
    finished: threading.Event = field(default_factory=threading.Event)  # _run is done
    # the result's rows as GetQueryResults pages them: Athena's text, after
    # the header row Athena writes first for a query that returns rows
    rows: list[list[str | None]] = field(default_factory=list)


def statement_type(statement: str) -> tuple[str, str]:
    """Athena's StatementType and SubstatementType of a statement."""
    first = strip_leading_comments(statement).lower()
    if re.match(r"create\s+table\b.*\bas\b", first, re.DOTALL):
        return "DDL", "CREATE_TABLE_AS_SELECT"
    if first.startswith(("insert",)):
        return "DML", "INSERT"
    if first.startswith(("select", "with", "values", "(")):
        return "DML", "SELECT"
    if first.startswith(("explain",)):
        return "UTILITY", "EXPLAIN"
    if first.startswith(("describe", "show")):
        return "UTILITY", first.split()[0].upper()
    return "DDL", first.split()[0].upper() if first else "UNKNOWN"


class AthenaLocal:
    """The executions and the Trino and Glue they run on."""

    def __init__(
        self,
        trino_url: str,
        glue: Any,
        aws_url: str,
        workers: int = 8,
        limits: AthenaLimits = ATHENAS_LIMITS,
    ) -> None:
        self.trino_url = trino_url
        # the query-text limit; Trino's catalog enforces the partitions one
        self.limits = limits
        self.glue = glue
        self.aws_url = aws_url
        # the work groups live on the local AWS server (botocore clients
        # are thread-safe; creating one is not)
        self.athena = boto3.session.Session().client(
            "athena", endpoint_url=aws_url, region_name=glue.meta.region_name
        )
        self.iam = boto3.session.Session().client(
            "iam", endpoint_url=aws_url, region_name=glue.meta.region_name
        )
        self.enforce_iam = os.environ.get(ENFORCE_ENVIRONMENT) == "1"
        self.decisions = DecisionLog(os.environ.get(DECISIONS_ENVIRONMENT))
        # access key -> secret of the local IAM users, whose Hive DDL runs
        # against Glue as them (an unknown key's runs as the administrator)
        self.credentials: dict[str, str] = {}
        # access key -> the caller's Trino catalog, when not awsdatacatalog
        self.catalogs: dict[str, str] = {}
        self.clients: dict[tuple[str, str], Any] = {}
        self.policies: dict[str, tuple[float, str, list[dict[str, Any]]]] = {}
        self.buckets_checked: dict[tuple[str, str], float] = {}  # (caller, bucket): when
        self.executions: dict[str, Execution] = {}
        self.work_groups: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="athena-query")
        # For tests of failures Athena can have mid-way (a write batch that
        # S3 refuses, say): given a query's text, true fails that query as
        # INTERNAL_ERROR_QUERY_ENGINE: a write (INSERT INTO) after Trino
        # has written its files, whose new partitions are then taken out of
        # Glue again: Athena does not roll a failed write back, and its
        # files stay in S3; any other query before it runs. None: never.
        self.fail_query: Callable[[str], bool] | None = None

    def authorize(self, access_key: str | None, operation: str, work_group: str) -> None:
        """AccessDeniedException unless the caller's policies allow the
        Athena ``operation`` on ``work_group``."""
        if not self.enforce_iam or access_key == ADMIN_ACCESS_KEY:
            return
        if access_key is None:
            raise AthenaRequestError(
                "MissingAuthenticationTokenException", "Missing Authentication Token"
            )
        user_arn, documents = self._policies_of(access_key)
        region = self.glue.meta.region_name
        request = athena_request(operation, {"WorkGroup": work_group}, region)
        decision = evaluate(documents, request, global_context(user_arn, region))
        self.decisions.record(user_arn, request, decision)
        if decision.decision != "allowed":
            raise AthenaRequestError(
                "AccessDeniedException", denial_message(user_arn, request.action, decision)
            )
        if access_key not in self.catalogs:
            # a real user of the account, whom the stand-in runs no catalog for
            raise AthenaRequestError(
                "AccessDeniedException",
                f"{user_arn} has no Trino catalog on the local Athena: only the users"
                " local_athena creates can query here",
            )

    def _check_output_bucket(self, location: str, access_key: str | None) -> None:
        """Athena looks up the result bucket's region with the caller's
        credentials before it runs a query (s3:GetBucketLocation); without
        the grant it refuses the query."""
        from botocore.exceptions import ClientError

        bucket = location.removeprefix("s3://").partition("/")[0]
        checked = self.buckets_checked.get((access_key or "", bucket))
        if checked is not None and time.monotonic() - checked < 1.0:
            return
        try:
            self.client_for("s3", access_key).get_bucket_location(Bucket=bucket)
        except ClientError as error:
            raise AthenaRequestError(
                "InvalidRequestException",
                f"Unable to verify/create output bucket {bucket}"
                f" ({error.response['Error'].get('Message', '')})",
            ) from None
        self.buckets_checked[(access_key or "", bucket)] = time.monotonic()

    def forget_policies(self) -> None:
        """Read every caller's policies again at its next call (IAM itself
        takes seconds to apply a changed policy; tests need no wait)."""
        self.policies.clear()
        self.buckets_checked.clear()

    def _policies_of(self, access_key: str) -> tuple[str, list[dict[str, Any]]]:
        """The caller's ARN and policies, read again after a second (a test
        changes a policy between dbt commands; dbt polls every 0.1 s)."""
        from botocore.exceptions import ClientError

        cached = self.policies.get(access_key)
        if cached is not None and time.monotonic() - cached[0] < 1.0:
            return cached[1], cached[2]
        try:
            from scripts.services.local_iam import user_policies

            arn, documents = user_policies(self.iam, access_key)
        except (ClientError, PermissionError) as error:
            raise AthenaRequestError(
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            ) from error
        self.policies[access_key] = (time.monotonic(), arn, documents)
        return arn, documents

    def catalog_of(self, access_key: str | None) -> str:
        """The Trino catalog a caller's queries run in."""
        return self.catalogs.get(access_key or "", CATALOG)

    def client_for(self, service: str, access_key: str | None) -> Any:
        """A client with the caller's key, if it is a known local user's;
        else the administrator's."""
        secret = self.credentials.get(access_key or "")
        key = access_key if access_key is not None and secret is not None else ADMIN_ACCESS_KEY
        with self.lock:
            if (service, key) not in self.clients:
                self.clients[(service, key)] = boto3.session.Session().client(
                    service,
                    endpoint_url=self.aws_url,
                    region_name=self.glue.meta.region_name,
                    aws_access_key_id=key,
                    aws_secret_access_key=secret or ADMIN_ACCESS_KEY,
                )
            return self.clients[(service, key)]

    def work_group_of(self, operation: str, request: dict[str, Any]) -> str:
        """The work group an Athena call acts in: the one it names, or its
        query's."""
        if "QueryExecutionId" in request:
            return self._execution(request["QueryExecutionId"]).work_group
        return str(request.get("WorkGroup", "primary"))

    def start(self, request: dict[str, Any], access_key: str | None = None) -> dict[str, Any]:
        size = len(request["QueryString"].encode("utf-8"))
        if size > self.limits.query_bytes:
            raise AthenaRequestError(
                "InvalidRequestException",
                f"Query text of {size} bytes is longer than Athena's maximum of"
                f" {self.limits.query_bytes} bytes",
            )
        context = request.get("QueryExecutionContext", {})
        work_group = request.get("WorkGroup", "primary")
        location = request.get("ResultConfiguration", {}).get("OutputLocation")
        configuration = self._work_group_configuration(work_group)
        if configuration.get("EnforceWorkGroupConfiguration") or not location:
            location = configuration.get("ResultConfiguration", {}).get("OutputLocation", location)
        if location:
            self._check_output_bucket(location, access_key)
        execution = Execution(
            query_id=str(uuid.uuid4()),
            query=request["QueryString"],
            database=context.get("Database"),
            work_group=work_group,
            output_location=location,
            access_key=access_key,
        )
        execution.kind, execution.subkind = statement_type(execution.query)
        with self.lock:
            self.executions[execution.query_id] = execution
        self.pool.submit(self._run, execution)
        return {"QueryExecutionId": execution.query_id}

    def _work_group_configuration(self, name: str) -> dict[str, Any]:
        """The work group's configuration, as the local AWS server holds it
        (an unknown group has none), asked for once per group: dbt sends a
        query at a time, and a build sends hundreds."""
        from botocore.exceptions import ClientError

        if name not in self.work_groups:
            try:
                group = self.athena.get_work_group(WorkGroup=name)["WorkGroup"]
            except ClientError:
                return {}  # not remembered: the group may be created later
            self.work_groups[name] = dict(group.get("Configuration", {}))
        return self.work_groups[name]

    def _run(self, execution: Execution) -> None:
        with self.lock:
            if execution.state != "QUEUED":
                execution.finished.set()
                return  # stopped before it started
            execution.state = "RUNNING"
        outcome, reason = "FAILED", "interrupted"
        try:
            tables = (
                f"{execution.output_location.rstrip('/')}/tables/{execution.query_id}/"
                if execution.output_location
                else None
            )
            action = translate(execution.query, tables)
            failing = self.fail_query
            fails = failing is not None and failing(execution.query)
            target = insert_target(action) if fails else None
            if fails and target is None:
                raise TrinoQueryError("INTERNAL_ERROR_QUERY_ENGINE: failed on purpose by a test")
            partitions_before = self._partition_values(*target) if target else set()
            if isinstance(action, GlueStatement):
                action.apply(self.client_for("glue", execution.access_key))
                execution.result = QueryResult([], [], {})
            else:
                catalog = self.catalog_of(execution.access_key)
                result = query(
                    self.trino_url,
                    in_catalog(action.sql, catalog),
                    schema=execution.database,
                    session={
                        **WRITE_LIMITS_SESSION,
                        **{
                            name.replace(f"{CATALOG}.", f"{catalog}.", 1): value
                            for name, value in action.session.items()
                        },
                    },
                    on_started=lambda trino_id: self._started(execution, trino_id),
                    catalog=catalog,
                )
                if result.update_type:  # a write (CTAS, INSERT) returns no rows
                    result = QueryResult(
                        [], [], result.stats, result.update_type, result.update_count
                    )
                if action.view:
                    glue = self.client_for("glue", execution.access_key)
                    self._store_view_columns(glue, catalog, *action.view)
                if target is not None:
                    self._forget_partitions(*target, partitions_before)
                    raise TrinoQueryError(
                        "INTERNAL_ERROR_QUERY_ENGINE: failed on purpose by a test, after"
                        " writing its files (they stay in S3, as on Athena)"
                    )
                execution.rows = [[athena_text(value) for value in row] for row in result.rows]
                # Athena writes a header row first, except for DDL and
                # utility statements
                if execution.kind == "DML" and result.columns:
                    execution.rows.insert(0, [column["name"] for column in result.columns])
                    self._write_result(execution)
                execution.result = result
            outcome, reason = "SUCCEEDED", None
        except TrinoQueryError as error:
            outcome, reason = "FAILED", str(error)
        except Exception as error:
            outcome, reason = "FAILED", f"{type(error).__name__}: {error}"
        finally:
            # a query stopped while it ran stays CANCELLED (``stop`` has
            # Trino cancel it; what it returned meanwhile is dropped)
            with self.lock:
                if execution.state == "RUNNING":
                    execution.state, execution.reason = outcome, reason
                else:
                    execution.result, execution.rows = None, []
                execution.completed = time.time()
            execution.finished.set()
            if execution.state == "FAILED":
                LOG.info("query %s failed: %s", execution.query_id, execution.reason)

    def _write_result(self, execution: Execution) -> None:
        """The result as Athena writes it, with the caller's credentials:
        <output location>/<query id>.csv (a reader such as pyathena's
        pandas cursor or awswrangler fetches it from S3). A refused write
        fails the query, as on Athena."""
        from botocore.exceptions import ClientError

        if not execution.output_location:
            return
        bucket, _, prefix = execution.output_location.removeprefix("s3://").partition("/")
        key = f"{prefix.rstrip('/')}/{execution.query_id}.csv".lstrip("/")
        s3 = self.client_for("s3", execution.access_key)
        try:
            s3.put_object(Bucket=bucket, Key=key, Body=athena_csv(execution.rows))
        except ClientError as error:
            raise TrinoQueryError(
                f"Access denied when writing output to url: s3://{bucket}/{key} . Please"
                " ensure you are allowed to access the S3 bucket."
                f" ({error.response['Error'].get('Message', '')})"
            ) from None

    def _partition_values(self, database: str, table: str) -> set[tuple[str, ...]]:
        pages = self.glue.get_paginator("get_partitions").paginate(
            DatabaseName=database, TableName=table
        )
        return {tuple(item["Values"]) for page in pages for item in page["Partitions"]}

    def _forget_partitions(self, database: str, table: str, keep: set[tuple[str, ...]]) -> None:
        """Take the partitions a write added out of Glue (its files stay)."""
        added = sorted(self._partition_values(database, table) - keep)
        for start in range(0, len(added), 25):  # Glue's batch limit
            self.glue.batch_delete_partition(
                DatabaseName=database,
                TableName=table,
                PartitionsToDelete=[
                    {"Values": list(values)} for values in added[start : start + 25]
                ],
            )

    def _started(self, execution: Execution, trino_query_id: str) -> None:
        """Trino accepted the query: a stop that came first cancels it now."""
        with self.lock:
            execution.trino_query_id = trino_query_id
            stopped = execution.state == "CANCELLED"
        if stopped:
            self._cancel_on_trino(execution)

    def _cancel_on_trino(self, execution: Execution) -> None:
        if execution.trino_query_id is None:
            return  # _started cancels it once Trino has accepted it
        try:
            catalog = self.catalog_of(execution.access_key)
            cancel(self.trino_url, execution.trino_query_id, catalog_user(catalog))
        except OSError as error:  # it may have finished meanwhile
            LOG.info("Trino query %s not cancelled: %s", execution.trino_query_id, error)

    def _store_view_columns(self, glue: Any, catalog: str, database: str, name: str) -> None:
        """Glue gets the view's columns (Trino stores one called `dummy`)."""
        described = query(
            self.trino_url, f'describe "{catalog}"."{database}"."{name}"', catalog=catalog
        )
        columns = [{"Name": row[0], "Type": hive_type(row[1])} for row in described.rows]
        table = glue.get_table(DatabaseName=database, Name=name)["Table"]
        table_input = table_input_of(table)
        table_input["StorageDescriptor"] = {**table["StorageDescriptor"], "Columns": columns}
        glue.update_table(DatabaseName=database, TableInput=table_input)

    def describe(self, query_id: str) -> dict[str, Any]:
        execution = self._execution(query_id)
        stats = execution.result.stats if execution.result else {}
        elapsed = int(((execution.completed or time.time()) - execution.submitted) * 1000)
        status: dict[str, Any] = {
            "State": execution.state,
            "SubmissionDateTime": execution.submitted,
        }
        if execution.completed:
            status["CompletionDateTime"] = execution.completed
        if execution.reason:
            status["StateChangeReason"] = execution.reason
            status["AthenaError"] = {
                "ErrorCategory": 2,
                "ErrorType": 1100,
                "Retryable": False,
                "ErrorMessage": execution.reason,
            }
        description: dict[str, Any] = {
            "QueryExecutionId": execution.query_id,
            "Query": execution.query,
            "StatementType": execution.kind,
            "SubstatementType": execution.subkind,
            "Status": status,
            "WorkGroup": execution.work_group,
            "Statistics": {
                "DataScannedInBytes": int(stats.get("physicalInputBytes", 0)),
                "EngineExecutionTimeInMillis": elapsed,
                "TotalExecutionTimeInMillis": elapsed,
            },
            "EngineVersion": {
                "SelectedEngineVersion": f"Trino {TRINO_VERSION} (local stand-in)",
                "EffectiveEngineVersion": f"Trino {TRINO_VERSION} (local stand-in)",
            },
        }
        if execution.database:
            description["QueryExecutionContext"] = {
                "Catalog": CATALOG,
                "Database": execution.database,
            }
        if execution.output_location:
            location = execution.output_location.rstrip("/")
            description["ResultConfiguration"] = {
                "OutputLocation": f"{location}/{execution.query_id}.csv"
            }
        return {"QueryExecution": description}

    def results(self, query_id: str, next_token: str | None, max_results: int) -> dict[str, Any]:
        execution = self._execution(query_id)
        if execution.state != "SUCCEEDED" or execution.result is None:
            raise AthenaRequestError(
                "InvalidRequestException",
                f"Query has not yet finished. Current state: {execution.state}",
            )
        result, rows = execution.result, execution.rows
        start = int(next_token or 0)
        page = rows[start : start + max_results]
        types = [athena_type(column["type"]) for column in result.columns]
        answer: dict[str, Any] = {
            "ResultSet": {
                "Rows": [
                    {"Data": [{} if value is None else {"VarCharValue": value} for value in row]}
                    for row in page
                ],
                "ResultSetMetadata": {
                    "ColumnInfo": [
                        {
                            "CatalogName": "hive",
                            "SchemaName": "",
                            "TableName": "",
                            "Name": column["name"],
                            "Label": column["name"],
                            "Type": kind,
                            "Precision": 0,
                            "Scale": 0,
                            "Nullable": "UNKNOWN",
                            "CaseSensitive": kind == "varchar",
                        }
                        for column, kind in zip(result.columns, types, strict=True)
                    ]
                },
            },
        }
        if result.update_count is not None:
            answer["UpdateCount"] = result.update_count
        if start + max_results < len(rows):
            answer["NextToken"] = str(start + max_results)
        return answer

    def stop(self, query_id: str) -> dict[str, Any]:
        execution = self._execution(query_id)
        with self.lock:
            running = execution.state == "RUNNING"
            if execution.state in {"QUEUED", "RUNNING"}:
                execution.state, execution.reason = "CANCELLED", "Query cancelled by user"
                execution.completed = time.time()
        if running:
            self._cancel_on_trino(execution)
        return {}

    def list(self, work_group: str | None) -> dict[str, Any]:
        with self.lock:
            ids = [
                item.query_id
                for item in self.executions.values()
                if work_group is None or item.work_group == work_group
            ]
        return {"QueryExecutionIds": ids}

    def _execution(self, query_id: str) -> Execution:
        with self.lock:
            execution = self.executions.get(query_id)
        if execution is None:
            raise AthenaRequestError(
                "InvalidRequestException", f"QueryExecution {query_id} was not found"
            )
        return execution


class AthenaRequestError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _handler(service: AthenaLocal) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            LOG.debug(format, *args)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            target = self.headers.get("X-Amz-Target", "")
            operation = target.rpartition(".")[2]
            if not target.startswith("AmazonAthena.") or operation not in OPERATIONS:
                self._forward(body)
                return
            try:
                request = json.loads(body or b"{}")
                if not isinstance(request, dict):
                    raise ValueError("not a JSON object")
            except ValueError:
                self._reply(400, {"__type": "SerializationException", "Message": "bad JSON"})
                return
            try:
                caller = caller_access_key(self.headers)
                service.authorize(caller, operation, service.work_group_of(operation, request))
                if operation == "StartQueryExecution":
                    answer = service.start(request, caller)
                else:
                    answer = OPERATIONS[operation](service, request)
                self._reply(200, answer)
            except AthenaRequestError as error:
                self._reply(400, {"__type": error.code, "Message": str(error)})
            except KeyError as error:  # a required parameter missing
                message = f"missing parameter {error}"
                self._reply(400, {"__type": "InvalidRequestException", "Message": message})
            except Exception as error:  # reported to the caller, detail to the log
                LOG.exception("%s failed", operation)
                message = f"{type(error).__name__}: {error}"
                self._reply(500, {"__type": "InternalServerException", "Message": message})

        def _reply(self, status: int, answer: dict[str, Any]) -> None:
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _forward(self, body: bytes) -> None:
            """Any other call: to the local AWS server, as it came."""
            headers = {
                name: value
                for name, value in self.headers.items()
                if name.lower() not in {"host", "content-length", "connection"}
            }
            request = urllib.request.Request(
                service.aws_url + self.path, data=body, headers=headers, method="POST"
            )
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    status, data, kind = response.status, response.read(), response.headers
            except urllib.error.HTTPError as error:
                status, data, kind = error.code, error.read(), error.headers
            self.send_response(status)
            self.send_header("Content-Type", kind.get("Content-Type", "application/x-amz-json-1.1"))
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


OPERATIONS: dict[str, Callable[[AthenaLocal, dict[str, Any]], dict[str, Any]]] = {
    "StartQueryExecution": lambda service, request: service.start(request),
    "GetQueryExecution": lambda service, request: service.describe(request["QueryExecutionId"]),
    "GetQueryResults": lambda service, request: service.results(
        request["QueryExecutionId"], request.get("NextToken"), int(request.get("MaxResults", 1000))
    ),
    "StopQueryExecution": lambda service, request: service.stop(request["QueryExecutionId"]),
    "ListQueryExecutions": lambda service, request: service.list(request.get("WorkGroup")),
}


@contextmanager
def athena_local(
    trino_url: str, aws_url: str, glue: Any, limits: AthenaLimits = ATHENAS_LIMITS
) -> Iterator[tuple[str, AthenaLocal]]:
    """Serve the Athena API on a free port of 127.0.0.1; yield its URL and
    the service (its executions, for tests and benchmarks)."""
    service = AthenaLocal(trino_url, glue, aws_url, limits=limits)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(service))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="athena-local", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", service
    finally:
        server.shutdown()
        server.server_close()
        service.pool.shutdown(wait=False, cancel_futures=True)
