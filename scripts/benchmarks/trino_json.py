"""Trino's JSON functions as the Athena SQL uses them, for DuckDB.

The DuckDB proof runs the project's Athena SQL, transpiled by sqlglot, in
DuckDB. DuckDB's own JSON reader differs from Trino's where the landing
rulebook cares: it accepts NaN and a trailing comma in an object, and keeps
a key given twice. These Python functions follow what Trino's source does
(releases 470 to 480: JsonTypeUtil.jsonParse, JsonToMapCast,
JsonExtract's scalar extractor):

- json_parse accepts strict JSON only (no NaN, single quotes, comments,
  leading zeros or anything after the value); a key given twice keeps its
  last value; it returns canonical JSON: keys sorted, compact, floats as
  Java's Double.toString writes them (1.50 -> 1.5, 1e2 -> 100.0).
- CAST(json AS MAP(VARCHAR, JSON)) is null unless the JSON is an object;
  each value is canonical JSON, a null value the JSON text 'null'.
- is_json_scalar, json_extract_scalar(json, '$') and json_format as Trino's.

They are an emulation: the athena target on a real Trino engine is the
proof that replaces it (see the README).
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

import sqlglot
from sqlglot import exp

NAMES = {
    "json_parse": "trino_json_parse",
    "json_to_map": "trino_json_to_map",
    "is_json_scalar": "trino_is_json_scalar",
    "json_extract_scalar": "trino_json_extract_scalar",
    "json_format": "trino_json_format",
}


class _NotJson(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise _NotJson(name)


def java_double(value: float) -> str:
    """Java's Double.toString (the shortest digits, as JDK 19 and later)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    sign = "-" if value < 0 else ""
    digits_tuple = Decimal(repr(abs(value))).normalize().as_tuple()
    digits = "".join(str(digit) for digit in digits_tuple.digits)
    exponent = int(digits_tuple.exponent) + len(digits) - 1  # of the first digit
    if -3 <= exponent < 7:
        if exponent >= 0:
            whole = digits[: exponent + 1].ljust(exponent + 1, "0")
            fraction = digits[exponent + 1 :] or "0"
        else:
            whole = "0"
            fraction = "0" * (-exponent - 1) + digits
        return f"{sign}{whole}.{fraction}"
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{exponent}"


def _canonical(value: Any) -> str:
    if isinstance(value, dict):
        members = (
            f"{json.dumps(key, ensure_ascii=False)}:{_canonical(value[key])}"
            for key in sorted(value)
        )
        return "{" + ",".join(members) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_canonical(item) for item in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return java_double(value)
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _load(text: str) -> Any:
    return json.loads(text, parse_constant=_reject_constant)


def json_parse(text: str) -> str | None:
    """Trino's json_parse under try(): canonical JSON, or null."""
    try:
        return _canonical(_load(text))
    except (ValueError, RecursionError):
        return None


def json_to_map(text: str) -> dict[str, str] | None:
    """CAST(json AS MAP(VARCHAR, JSON)) under try()."""
    value = _load(text)
    if not isinstance(value, dict):
        return None
    return {key: _canonical(item) for key, item in value.items()}


def is_json_scalar(text: str) -> bool:
    return not isinstance(_load(text), (dict, list))


def json_extract_scalar(text: str, path: str) -> str | None:
    if path != "$":
        raise ValueError(f"only the path '$' is emulated, not {path!r}")
    value = _load(text)
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, str):
        return value
    return _canonical(value)


def json_format(text: str) -> str:
    return text


def register(connection: Any) -> None:
    """The functions above in a DuckDB connection, under NAMES."""
    from duckdb import map_type, sqltypes

    varchar = sqltypes.VARCHAR
    connection.create_function(NAMES["json_parse"], json_parse, [varchar], varchar)
    connection.create_function(
        NAMES["json_to_map"],
        json_to_map,
        [varchar],
        map_type(varchar, varchar),
    )
    connection.create_function(NAMES["is_json_scalar"], is_json_scalar, [varchar], sqltypes.BOOLEAN)
    connection.create_function(
        NAMES["json_extract_scalar"], json_extract_scalar, [varchar, varchar], varchar
    )
    connection.create_function(NAMES["json_format"], json_format, [varchar], varchar)


def _call(name: str, *arguments: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=NAMES[name], expressions=list(arguments))


def _emulate(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.ParseJSON):
        return _call("json_parse", node.this)
    if isinstance(node, exp.Cast) and node.to.is_type(exp.DataType.Type.MAP):
        return _call("json_to_map", node.this)
    if isinstance(node, exp.JSONExtractScalar):
        return _call("json_extract_scalar", node.this, node.expression)
    if isinstance(node, exp.JSONFormat):
        return _call("json_format", node.this)
    if isinstance(node, exp.Anonymous) and str(node.this).lower() == "is_json_scalar":
        return _call("is_json_scalar", *node.expressions)
    return node


def athena_to_duckdb(athena_sql: str) -> str:
    """Athena SQL as DuckDB SQL, Trino's JSON functions calling the Python
    functions above."""
    tree = sqlglot.parse_one(athena_sql, read="athena")
    return tree.transform(_emulate).sql(dialect="duckdb")
