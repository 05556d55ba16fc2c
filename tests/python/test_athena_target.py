"""The athena target, proven without an AWS account.

1. `dbt build --target athena` loads the seed and runs every model and the
   landing macro through
   dbt-athena against a local AWS API server (moto, with Athena's catalog
   side effects: tests/python/fake_athena_server.py); every statement the
   server received parses as Athena SQL (sqlglot).
2. The models lint clean as Athena SQL (sqlfluff, jinja templater).
3. The compiled Athena SELECT of every model, transpiled to DuckDB and run
   over the fixture landing lines, which DuckDB reads itself, returns
   exactly the rows of the Spark build, line by line, verdicts and parsed
   values and pseudonymous keys included: Trino's hmac_sha256 is emulated in
   DuckDB by a SQL macro that is itself checked against Python's hmac, and
   Trino's JSON functions by scripts/trino_json.py.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlglot

from scripts.aws_session import AwsTarget
from scripts.bootstrap_aws import BootstrapOptions, bootstrap
from scripts.load_landing import LoadOptions, load
from scripts.local_s3 import fake_aws_environment, moto_server
from scripts.reference_duckdb import (
    HMAC_SHA256_MACROS,
    create_models,
    landing_line_tables,
    models_in_build_order,
    prepare,
)
from tests.python.lakehouse import (
    FIXTURE_LANDING,
    Lakehouse,
    athena_environment,
    development_pseudonym_key,
    pseudonymous_key,
    run_venv_command,
)

BUCKET = "stedi-athena-test"


@dataclass
class AthenaRun:
    endpoint: str
    target_path: Path
    statements: list[str]
    output: str


def run_athena_build(work: Path, endpoint: str) -> Any:
    """`dbt build` of the seed and every model on the athena target (data
    tests need query results, which moto's Athena does not compute)."""
    return run_venv_command(
        "dbt",
        "build",
        "--target",
        "athena",
        "--exclude-resource-type",
        "test",
        "unit_test",
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
        "--vars",
        json.dumps({"landing_root": f"s3://{BUCKET}/landing"}),
        env=athena_environment(endpoint, BUCKET),
    )


def received_statements(target: AwsTarget) -> list[str]:
    """Every query the server's Athena received, in order."""
    athena = target.client("athena")
    ids: list[str] = []
    arguments: dict[str, Any] = {"WorkGroup": "stedi"}
    while True:
        page = athena.list_query_executions(**arguments)
        ids.extend(page.get("QueryExecutionIds", []))
        if not page.get("NextToken"):
            break
        arguments["NextToken"] = page["NextToken"]
    executions = [
        athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"] for query_id in ids
    ]
    executions.sort(key=lambda item: item["Status"]["SubmissionDateTime"])
    return [item["Query"] for item in executions]


@pytest.fixture(scope="module")
def athena_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AthenaRun]:
    work = tmp_path_factory.mktemp("athena")
    saved = dict(os.environ)
    try:
        with moto_server(work, "tests.python.fake_athena_server") as endpoint:
            os.environ.update(fake_aws_environment())
            target = AwsTarget(region="eu-west-1", endpoint_url=endpoint)
            # The local target's key, so that DuckDB can compare with Spark.
            options = BootstrapOptions(
                bucket=BUCKET, pseudonym_key=development_pseudonym_key(), tls_only=False
            )
            bootstrap(target, options)
            load(FIXTURE_LANDING, target, LoadOptions(bucket=BUCKET))
            completed = run_athena_build(work, endpoint)
            assert completed.returncode == 0, completed.stdout[-6000:]
            yield AthenaRun(
                endpoint, work / "target", received_statements(target), completed.stdout
            )
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_dbt_run_on_athena_builds_every_model_and_landing_table(athena_run: AthenaRun) -> None:
    # 2 hooks + 1 seed + 11 models
    assert "Done. PASS=14 WARN=0 ERROR=0 SKIP=0" in athena_run.output
    text = " ".join(" ".join(athena_run.statements).split()).lower()
    for landing in ("customer", "accelerometer", "step_trainer"):
        assert f"create external table `stedi_landing`.`{landing}`" in text
    # text tables of whole lines: no JSON SerDe reads the landing zone
    assert text.count("org.apache.hadoop.hive.serde2.regexserde") == 3
    assert "jsonserde" not in text
    for view in (
        "customer_rejected",
        "accelerometer_rejected",
        "step_trainer_rejected",
    ):
        assert f'create or replace view "awsdatacatalog"."stedi_landing"."{view}" as' in text
    for table in (
        '"stedi_landing"."customer_screened"',
        '"stedi_landing"."accelerometer_screened"',
        '"stedi_landing"."step_trainer_screened"',
        '"stedi_trusted"."customer_trusted"',
        '"stedi_trusted"."accelerometer_trusted"',
        '"stedi_trusted"."step_trainer_trusted"',
        '"stedi_curated"."customers_curated"',
        '"stedi_curated"."machine_learning_curated"',
    ):
        assert f'create table "awsdatacatalog".{table}' in text
    assert text.count("format='parquet'") == 9  # 8 tables and the seed
    assert 'create table "awsdatacatalog"."stedi_landing"."erasure_requests"' in text
    # the key is read from its table, never written into a statement
    assert "select pseudonym_key from awsdatacatalog.stedi_restricted.pseudonym_key" in text
    assert development_pseudonym_key() not in " ".join(athena_run.statements)


def test_athena_target_refuses_to_build_without_its_pseudonym_key(tmp_path: Path) -> None:
    saved = dict(os.environ)
    try:
        with moto_server(tmp_path, "tests.python.fake_athena_server") as endpoint:
            os.environ.update(fake_aws_environment())
            target = AwsTarget(region="eu-west-1", endpoint_url=endpoint)
            bootstrap(target, BootstrapOptions(bucket=BUCKET, tls_only=False))  # no key table
            completed = run_athena_build(tmp_path, endpoint)
            statements = received_statements(target)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert completed.returncode != 0
    assert "No pseudonym key table stedi_restricted.pseudonym_key" in completed.stdout
    assert not [s for s in statements if "create table" in s.lower()]  # no model was built


def test_every_statement_sent_to_athena_parses_as_athena_sql(athena_run: AthenaRun) -> None:
    assert len(athena_run.statements) >= 20
    errors = []
    for statement in athena_run.statements:
        try:
            sqlglot.parse(statement, read="athena", error_level=sqlglot.ErrorLevel.RAISE)
        except sqlglot.errors.ParseError as error:
            errors.append(f"{error}\n{statement[:500]}")
    assert errors == []


def test_models_lint_clean_as_athena_sql() -> None:
    completed = run_venv_command(
        "sqlfluff", "lint", "--config", "tests/sqlfluff_athena/.sqlfluff", "models"
    )
    assert completed.returncode == 0, completed.stdout[-4000:]
    assert "FAIL" not in completed.stdout


# --- 3. semantic equivalence ------------------------------------------------


def duckdb_lakehouse(compiled: Path, manifest: dict[str, Any]) -> duckdb.DuckDBPyConnection:
    """Every model, as compiled for Athena and transpiled to DuckDB, over the
    fixture landing lines as DuckDB reads them itself, in one in-process
    DuckDB."""
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.getOrCreate()
    connection = duckdb.connect()
    seed = spark.table("stedi_landing.erasure_requests").collect()
    prepare(connection, development_pseudonym_key(), [tuple(row) for row in seed])
    lines = landing_line_tables(connection, FIXTURE_LANDING)
    assert all(lines.values()), lines
    create_models(connection, compiled, manifest)
    return connection


def test_duckdb_hmac_emulation_is_python_hmac() -> None:
    connection = duckdb.connect()
    connection.execute(HMAC_SHA256_MACROS)
    for key, value in [
        ("k" * 32, "ann"),
        (development_pseudonym_key(), "Zürich-7"),
        ("x" * 64, ""),
    ]:
        [(digest,)] = connection.execute(
            "select lower(hex(hmac_sha256(encode('device:' || ?), encode(?))))", [value, key]
        ).fetchall()
        assert digest == pseudonymous_key("device", value, key=key)


def normalized(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(timespec="milliseconds")
    if isinstance(value, float) and not math.isnan(value) and value == int(value):
        return int(value)
    return value


def sorted_rows(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    normal = [tuple(normalized(value) for value in row) for row in rows]
    return sorted(normal, key=lambda row: tuple((v is None, str(v)) for v in row))


def test_athena_sql_returns_the_spark_rows_for_every_model(
    athena_run: AthenaRun, lakehouse: Lakehouse
) -> None:
    lakehouse.build(enforce_consent_date=True)  # also the landing rows DuckDB reads
    manifest = json.loads((athena_run.target_path / "manifest.json").read_text())
    compiled = athena_run.target_path / "compiled" / "stedi"
    duck = duckdb_lakehouse(compiled, manifest)
    compared = 0
    for node in models_in_build_order(manifest):
        relation = f"{node['schema']}.{node['name']}"
        from pyspark.sql import SparkSession

        spark_frame = SparkSession.builder.getOrCreate().table(relation)
        # when a verdict was made differs between the two runs
        columns = [column for column in spark_frame.columns if column != "screened_at"]
        spark_rows = [tuple(row) for row in spark_frame.select(*columns).collect()]
        column_list = ", ".join(f'"{column}"' for column in columns)
        duck_rows = duck.execute(f"select {column_list} from awsdatacatalog.{relation}").fetchall()
        assert sorted_rows(duck_rows) == sorted_rows(spark_rows), relation
        assert spark_rows, relation  # the fixture puts rows in every model
        compared += 1
    assert compared == 11


@pytest.mark.parametrize(
    "missing",
    [
        "STEDI_ATHENA_REGION",
        "STEDI_ATHENA_S3_STAGING_DIR",
        "STEDI_ATHENA_S3_DATA_DIR",
        "STEDI_ATHENA_WORK_GROUP",
    ],
)
def test_athena_target_names_a_missing_environment_variable(missing: str, tmp_path: Path) -> None:
    env = athena_environment("http://127.0.0.1:9", BUCKET)
    del env[missing]
    completed = run_venv_command(
        "dbt", "parse", "--target", "athena", "--target-path", str(tmp_path), env=env
    )
    assert completed.returncode != 0
    assert f"Env var required but not provided: '{missing}'" in completed.stdout
