"""The project's own models, compiled for Athena and transpiled by sqlglot to
DuckDB, run in process over a landing folder: the DuckDB reference of the
benchmark (scripts/benchmarks/lakehouse.py), and the engine with which the
test suite checks that the Athena SQL returns the Spark rows.

The landing tables hold the delivered lines, read here as Spark's and
Trino's text readers read them (landing_line_tables); the models' SQL parses
them. Athena's hmac_sha256 has no DuckDB function; HMAC_SHA256_MACROS spells
out RFC 2104 in DuckDB SQL (the tests check it against Python's hmac).
Trino's JSON functions differ from DuckDB's; scripts/benchmarks/trino_json.py gives
DuckDB Trino's.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scripts.benchmarks import trino_json
from scripts.benchmarks.reference_inputs import BENCHMARK_PSEUDONYM_KEY, landing_tables
from scripts.common import dbt_invoke
from scripts.common.cli_logging import configure_logging

LOG = logging.getLogger("reference_duckdb")
# The tables the three engines of the benchmark must agree on.
BUILT_TABLES = (
    ("stedi_trusted", "customer_trusted"),
    ("stedi_trusted", "accelerometer_trusted"),
    ("stedi_trusted", "step_trainer_trusted"),
    ("stedi_curated", "customers_curated"),
    ("stedi_curated", "machine_learning_curated"),
)
SCHEMAS = ("stedi_landing", "stedi_trusted", "stedi_curated", "stedi_restricted")
HMAC_SHA256_MACROS = """
create macro hmac_key_block(key, pad) as xor(
    (key || unhex(repeat('00', 64 - octet_length(key))))::bit,
    unhex(repeat(pad, 64))::bit)::blob;
create macro hmac_sha256(message, key) as unhex(sha256(
    hmac_key_block(key, '5c') || unhex(sha256(hmac_key_block(key, '36') || message))));
"""
# Placeholder values: compiling reads the athena profile, connects nowhere.
OFFLINE_ATHENA_ENVIRONMENT = {
    "STEDI_ATHENA_REGION": "eu-west-1",
    "STEDI_ATHENA_S3_STAGING_DIR": "s3://offline/athena-results/",
    "STEDI_ATHENA_S3_DATA_DIR": "s3://offline/warehouse/",
    "STEDI_ATHENA_WORK_GROUP": "offline",
    "AWS_ACCESS_KEY_ID": "offline",
    "AWS_SECRET_ACCESS_KEY": "offline",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
}


def compile_for_athena(target_path: Path) -> dict[str, Any]:
    """`dbt compile --target athena` of the models, offline; the manifest."""
    env = {
        **os.environ,
        **OFFLINE_ATHENA_ENVIRONMENT,
        "DBT_PROFILES_DIR": str(dbt_invoke.PROFILES_DIR),
    }
    completed = subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            "compile",
            "--target",
            "athena",
            "--no-populate-cache",
            "--no-introspect",
            "--indirect-selection",
            "empty",
            "--select",
            "resource_type:model",
            "--target-path",
            str(target_path),
            "--log-path",
            str(target_path / "logs"),
        ],
        cwd=dbt_invoke.PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"dbt compile --target athena failed:\n{completed.stdout[-4000:]}")
    return json.loads((target_path / "manifest.json").read_text())


def models_in_build_order(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    models = {
        unique_id: node
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] == "model"
    }
    ordered: list[dict[str, Any]] = []
    done: set[str] = set()

    def visit(unique_id: str) -> None:
        if unique_id in done:
            return
        for parent in models[unique_id]["depends_on"]["nodes"]:
            if parent in models:
                visit(parent)
        done.add(unique_id)
        ordered.append(models[unique_id])

    for unique_id in sorted(models):
        visit(unique_id)
    return ordered


def prepare(
    connection: Any, pseudonym_key: str, erasure_requests: Sequence[tuple[Any, ...]]
) -> None:
    """The catalog, the HMAC macros, the key table and the erasure seed."""
    # the engines' sessions run in UTC (Athena's always does)
    connection.execute("set TimeZone = 'UTC'")
    connection.execute("attach ':memory:' as awsdatacatalog")
    for schema in SCHEMAS:
        connection.execute(f"create schema awsdatacatalog.{schema}")
    connection.execute(HMAC_SHA256_MACROS)
    trino_json.register(connection)
    connection.execute(
        "create table awsdatacatalog.stedi_restricted.pseudonym_key as select ? as pseudonym_key",
        [pseudonym_key],
    )
    connection.execute(
        "create table awsdatacatalog.stedi_landing.erasure_requests"
        " (email_sha256 varchar, requested_on date)"
    )
    if erasure_requests:
        connection.executemany(
            "insert into awsdatacatalog.stedi_landing.erasure_requests values (?, ?)",
            list(erasure_requests),
        )


def create_models(connection: Any, compiled: Path, manifest: dict[str, Any]) -> list[str]:
    """Every model in build order, as compiled for Athena, transpiled to
    DuckDB; returns the relations created."""
    created = []
    for node in models_in_build_order(manifest):
        athena_sql = (compiled / node["original_file_path"]).read_text(encoding="utf-8")
        duck_sql = trino_json.athena_to_duckdb(athena_sql)
        materialization = "view" if node["config"]["materialized"] == "view" else "table"
        relation = f"awsdatacatalog.{node['schema']}.{node['name']}"
        connection.execute(f"create {materialization} {relation} as {duck_sql}")
        created.append(relation)
    return created


LINE_BREAK = re.compile(r"\r\n|\r|\n")


def landing_lines(path: Path) -> list[str]:
    """The lines of a landing file as Spark's and Trino's text readers give
    them: gzip decompressed by the .gz name, a byte order mark at the start
    of the file skipped, lines ended by LF, CRLF or a lone CR."""
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        data = gzip.decompress(data)
    text = data.decode("utf-8", errors="replace")
    text = text.removeprefix("\ufeff")
    lines = LINE_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def landing_files(folder: Path) -> list[Path]:
    """What both engines read of a data set's folder: its files, not its
    subfolders, less hidden names (starting with '.' or '_'); the models
    keep the data files among them."""
    if not folder.is_dir():
        return []
    return sorted(
        path for path in folder.iterdir() if path.is_file() and not path.name.startswith((".", "_"))
    )


def landing_line_tables(connection: Any, landing_root: Path) -> dict[str, int]:
    """The landing tables as Athena declares them (one column `line`), with
    its file pseudo-columns "$path" (as Spark names the file, so that the
    two engines' rows compare) and "$file_modified_time"; the lines per
    table."""
    counts = {}
    for table in landing_tables():
        name, folder = table["name"], table["meta"]["landing_folder"]
        connection.execute(
            f"create table awsdatacatalog.stedi_landing.{name}"
            ' (line varchar, "$path" varchar, "$file_modified_time" timestamp)'
        )
        rows = []
        for path in landing_files(landing_root / folder):
            modified_ms = path.stat().st_mtime_ns // 1_000_000
            uri = f"file:{path.resolve()}"
            rows.extend((line, uri, modified_ms) for line in landing_lines(path))
        if rows:
            connection.executemany(
                f"insert into awsdatacatalog.stedi_landing.{name}"
                " values (?, ?, make_timestamp(? * 1000))",
                rows,
            )
        counts[name] = len(rows)
    return counts


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.benchmarks.reference_duckdb", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--landing-root", type=Path, required=True, help="landing folder")
    parser.add_argument(
        "--compiled",
        type=Path,
        required=True,
        help="target folder of `dbt compile --target athena` (see compile_for_athena)",
    )
    args = parser.parse_args(argv)
    configure_logging()
    import duckdb

    from scripts.erasure_request import listed_requests

    manifest = json.loads((args.compiled / "manifest.json").read_text())
    connection = duckdb.connect()
    prepare(connection, BENCHMARK_PSEUDONYM_KEY, listed_requests())
    landing_line_tables(connection, args.landing_root.resolve())
    create_models(connection, args.compiled / "compiled" / "stedi", manifest)
    counts = {}
    for relation in (
        "stedi_trusted.customer_trusted",
        "stedi_trusted.accelerometer_trusted",
        "stedi_trusted.step_trainer_trusted",
        "stedi_curated.customers_curated",
        "stedi_curated.machine_learning_curated",
    ):
        [(count,)] = connection.execute(
            f"select count(*) from awsdatacatalog.{relation}"
        ).fetchall()
        counts[relation.split(".")[1]] = int(count)
    print(json.dumps(counts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
