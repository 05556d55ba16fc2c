"""The athena target executed for real, row for row equal to local Spark.

dbt-athena (unmodified) builds the project on the local Athena stand-in
(scripts/services/athena_local/): Trino 476, the engine Athena v3 is built on, runs
every statement over moto's S3 and Glue, which dbt-athena reads directly
too. The landing folder goes up through the loader; Spark builds the same
folder. Every model and rejected view must then hold exactly Spark's rows
(all columns but the times of screening and of the file's delivery), and
the zone summary and row accounting must read the same:
- on the fixture landing zone, under both values of enforce_consent_date,
  with every data test and unit test run on Trino;
- through incremental runs: new files, a consent change and an erasure, and
  a reading that moves out of the null date (the null partition in Glue);
- on generated data (scale 0.25, over 11 reading dates:
  tests/python/test_athena_limits.py);
- on the public data set, when STEDI_PUBLIC_LANDING names its landing
  folder (not in make test).
dbt runs as the runner, under exactly deploy/dbt-athena-runner-policy.json,
enforced on every S3, Glue and Athena call (scripts/services/iam_enforcement.py):
two builds in a row pass; without a statement a build needs, the build fails
with AccessDenied naming the action; and the policy grants nothing the
module's builds did not use.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlglot

from scripts.devtools.spark_s3 import spark_s3_environment
from scripts.erasure_request import email_hash, erasure_salt
from scripts.run_athena_local import (
    BUCKET,
    REGION,
    athena_environment,
    local_athena,
)
from scripts.services.athena_local.translation import table_input_of
from scripts.services.local_iam import (
    RUNNER_POLICY,
    Principal,
    local_policy_values,
    render_policy,
    replace_policy,
)
from tests.python.athena_clients import (
    awscli_rows,
    awswrangler_readers,
    frame_rows,
    pyathena_readers,
)
from tests.python.athena_engines import MODELS_ONLY, NOT_COMPARED, Engines, comparable
from tests.python.lakehouse import (
    CONTRACT_BREAKS,
    FIXTURE_LANDING,
    MODELS,
    Lakehouse,
    development_pseudonym_key,
    run_venv_command,
    tampered_project,
)
from tests.python.lakehouse import normalized as spark_or_trino_value
from tests.python.test_incremental import (
    FIRST_DATE,
    IVY,
    bob_withdraws_consent,
    next_day_readings,
)

pytestmark = [pytest.mark.spark, pytest.mark.trino, pytest.mark.aws]


@pytest.fixture(scope="module")
def engines(lakehouse: Lakehouse, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engines]:
    work = tmp_path_factory.mktemp("athena")
    landing = work / "landing"
    shutil.copytree(FIXTURE_LANDING, landing)
    lakehouse.invalidate()
    with local_athena(work) as local:
        engines = Engines(local, work, lakehouse, landing)
        engines.load()
        # what the loader does not deliver, a user may still put there
        stray = landing / "accelerometer" / "readings-7-not-data.txt"
        local.target().client("s3").put_object(
            Bucket=BUCKET, Key=f"landing/accelerometer/{stray.name}", Body=stray.read_bytes()
        )
        yield engines
    lakehouse.invalidate()


def test_without_consent_date_enforcement_trino_equals_spark(engines: Engines) -> None:
    engines.build_both(
        "--full-refresh", "--exclude-resource-type", "unit_test", enforce_consent_date=False
    )
    assert engines.assert_equal() > 100


def test_a_full_build_runs_every_test_on_trino_and_equals_spark(engines: Engines) -> None:
    output = engines.build_both("--full-refresh")
    assert "ERROR=0" in output and "WARN=0" in output
    # 45 data tests, 9 unit tests, 11 models, 1 seed, 2 hooks (the exposure: no-op)
    passed = int(output.split("PASS=", 1)[1].split()[0])
    assert passed >= 60, output[-2000:]
    assert engines.assert_equal() > 100


def test_spark_and_trino_over_the_same_s3_objects_give_the_same_rows(engines: Engines) -> None:
    """One S3 for both engines: after bootstrap and load, the local target's
    Spark reads the landing zone's objects through hadoop-aws (a process
    of its own: a JVM takes its jars when it starts) and Trino the same
    objects (the full build above built its tables from them); every
    model's rows agree, the landing files' names and modification times
    included."""
    out = engines.work / "spark-on-s3.json"
    env = {
        **engines.local.environment(),
        # the local target's own credentials, not the Athena runner's
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        **spark_s3_environment(engines.local.aws_url, path_style=True),
    }
    completed = run_venv_command(
        "python",
        "-m",
        "tests.python.spark_rows",
        f"s3://{BUCKET}/{engines.prefix}",
        str(out),
        str(engines.work / "spark-on-s3"),
        env=env,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    on_spark = json.loads(out.read_text(encoding="utf-8"))
    files = set()
    for relation in MODELS:
        columns = on_spark[relation]["columns"]
        column_list = ", ".join(f'"{column}"' for column in columns)
        result = engines.trino(f"select {column_list} from awsdatacatalog.{relation}")
        spark_rows = sorted(map(tuple, on_spark[relation]["rows"]), key=str)
        trino_rows = sorted((tuple(map(spark_or_trino_value, row)) for row in result.rows), key=str)
        assert trino_rows == spark_rows, relation
        if "landing_file" in columns:
            files.update(row[columns.index("landing_file")] for row in spark_rows)
    files.discard(None)  # an erased customer's rejected rows keep nothing, not even the file
    assert files and all(name.startswith(f"s3://{BUCKET}/{engines.prefix}/") for name in files)


def test_two_builds_in_a_row_ran_as_the_runner_and_nothing_was_refused(
    engines: Engines,
) -> None:
    # the two full builds above: the second dropped and rebuilt every
    # table the first made, which only a second build on one account does
    decisions = engines.local.iam_decisions()
    runner = engines.local.runner.arn
    used = {(item["action"], item["sid"]) for item in decisions if item["user"] == runner}
    for needed in [
        ("athena:StartQueryExecution", "AthenaQueriesInTheStediWorkgroupOnly"),
        ("glue:DeleteTable", "GlueCatalogOfTheThreeZones"),
        ("s3:PutObject", "WriteTrustedAndCuratedTables"),
        ("s3:DeleteObject", "WriteTrustedAndCuratedTables"),
        ("s3:GetObject", "ReadTheLandingZone"),
        ("s3:GetObject", "ReadThePseudonymKeyObject"),
    ]:
        assert needed in used, needed
    refused = [
        item for item in decisions if item["user"] == runner and item["decision"] != "allowed"
    ]
    assert refused == []


def client_as(engines: Engines, service: str, principal: Principal) -> Any:
    import boto3

    url = engines.local.athena_url if service == "athena" else engines.local.aws_url
    return boto3.client(
        service,
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id=principal.access_key,
        aws_secret_access_key=principal.secret_key,
    )


def query_as(
    engines: Engines, principal: Principal, sql: str, work_group: str, database: str = ""
) -> dict[str, Any]:
    """Run ``sql`` through the Athena API as ``principal`` (in ``database``,
    if given): its final execution, with its rows when it succeeded."""
    athena = client_as(engines, "athena", principal)
    context = {"QueryExecutionContext": {"Database": database}} if database else {}
    query_id = athena.start_query_execution(QueryString=sql, WorkGroup=work_group, **context)[
        "QueryExecutionId"
    ]
    assert engines.local.service.executions[query_id].finished.wait(timeout=300)
    execution = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
    if execution["Status"]["State"] == "SUCCEEDED":
        rows = athena.get_query_results(QueryExecutionId=query_id)["ResultSet"]["Rows"]
        execution["Rows"] = [[cell.get("VarCharValue") for cell in row["Data"]] for row in rows]
    return execution


# What the ML team must not read: every zone but the curated one, by table.
NOT_FOR_CONSUMERS = [
    "stedi_landing.customer",
    "stedi_landing.accelerometer_screened",
    "stedi_landing.customer_rejected",
    "stedi_trusted.customer_trusted",
    "stedi_trusted.step_trainer_trusted",
    "stedi_restricted.pseudonym_key",
]


def test_the_ml_consumer_reads_the_curated_zone_and_nothing_else(engines: Engines) -> None:
    from botocore.exceptions import ClientError

    consumer = engines.local.consumer
    for table in ("machine_learning_curated", "customers_curated"):
        sql = f"select count(*) from stedi_curated.{table}"
        execution = query_as(engines, consumer, sql, "stedi-ml")
        assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
        expected = engines.trino(f"select count(*) from awsdatacatalog.stedi_curated.{table}")
        assert execution["Rows"][1] == [str(expected.rows[0][0])]
        # in the context's database, named as awswrangler names it
        sql = f"select count(*) from {table}"
        execution = query_as(engines, consumer, sql, "stedi-ml", database="`stedi_curated`")
        assert execution["Rows"][1] == [str(expected.rows[0][0])], execution["Status"]
    with pytest.raises(ClientError) as outside:  # not in the runner's work group
        client_as(engines, "athena", consumer).start_query_execution(
            QueryString="select 1", WorkGroup="stedi"
        )
    assert "not authorized to perform: athena:StartQueryExecution" in str(outside.value)

    admin_glue = engines.local.target().client("glue")
    admin_s3 = engines.local.target().client("s3")
    glue, s3 = client_as(engines, "glue", consumer), client_as(engines, "s3", consumer)
    for relation in NOT_FOR_CONSUMERS:
        execution = query_as(engines, consumer, f"select * from {relation} limit 1", "stedi-ml")
        assert execution["Status"]["State"] == "FAILED", relation
        reason = execution["Status"]["StateChangeReason"]
        assert "not authorized to perform: glue:GetTable" in reason, reason
        database, table = relation.split(".")
        with pytest.raises(ClientError) as by_glue:
            glue.get_table(DatabaseName=database, Name=table)
        assert by_glue.value.response["Error"]["Code"] == "AccessDeniedException"
        described = admin_glue.get_table(DatabaseName=database, Name=table)["Table"]
        location = described.get("StorageDescriptor", {}).get("Location")
        if not location:
            continue  # a view: no objects of its own
        prefix = location.removeprefix(f"s3://{BUCKET}/").rstrip("/") + "/"
        listed = admin_s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix)["Contents"]
        with pytest.raises(ClientError) as by_s3:
            s3.get_object(Bucket=BUCKET, Key=listed[0]["Key"])
        assert by_s3.value.response["Error"]["Code"] == "AccessDenied", relation
    curated = admin_glue.get_table(DatabaseName="stedi_curated", Name="customers_curated")
    prefix = curated["Table"]["StorageDescriptor"]["Location"].removeprefix(f"s3://{BUCKET}/")
    key = admin_s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix)["Contents"][0]["Key"]
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    # nor through the runner's catalog, however the query names it
    for sneaky in (
        "select * from awsdatacatalog/**/.stedi_trusted.customer_trusted",
        "select * from system.jdbc.tables where table_cat = 'awsdatacatalog'",
    ):
        execution = query_as(engines, consumer, sneaky, "stedi-ml")
        assert execution["Status"]["State"] == "FAILED", sneaky
        assert "Access Denied" in execution["Status"]["StateChangeReason"], execution["Status"]
    # nor by copying a landing file to where it may read
    landing = admin_s3.list_objects_v2(Bucket=BUCKET, Prefix="landing/customer/")["Contents"]
    with pytest.raises(ClientError) as copied:
        s3.copy_object(
            Bucket=BUCKET,
            Key="athena-results-ml/copied.json",
            CopySource={"Bucket": BUCKET, "Key": landing[0]["Key"]},
        )
    assert "not authorized to perform: s3:GetObject" in str(copied.value)
    # its results are where its work group puts them, written as the consumer
    results = admin_s3.list_objects_v2(Bucket=BUCKET, Prefix="athena-results-ml/")["Contents"]
    assert any(item["Key"].endswith(".csv") for item in results)


CURATED = ("machine_learning_curated", "customers_curated")


def spark_rows(relation: str) -> tuple[list[str], list[tuple[Any, ...]], set[str]]:
    """A model's compared columns and rows, as the test session's Spark
    built it, and its date columns."""
    from pyspark.sql import SparkSession
    from pyspark.sql.types import DateType

    frame = SparkSession.builder.getOrCreate().table(relation)
    columns = [column for column in frame.columns if column not in NOT_COMPARED]
    dates = {field.name for field in frame.schema.fields if isinstance(field.dataType, DateType)}
    return columns, comparable(tuple(row) for row in frame.select(*columns).collect()), dates


@pytest.fixture
def as_consumer(engines: Engines, monkeypatch: pytest.MonkeyPatch) -> Principal:
    """The environment a notebook of the ML team has: its key, the standard
    endpoint variables, nothing else."""
    consumer = engines.local.consumer
    for name, value in {
        **consumer.environment(),
        "AWS_ENDPOINT_URL": engines.local.aws_url,
        "AWS_ENDPOINT_URL_ATHENA": engines.local.athena_url,
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    return consumer


def test_the_ml_teams_clients_read_the_curated_tables_with_sparks_rows(
    engines: Engines, as_consumer: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """awswrangler and pyathena, called as a notebook calls them, get
    every row Spark built: awswrangler's default read (a CTAS whose data
    manifest it reads), its plain read (the query's CSV), its UNLOAD read
    and read_sql_table; pyathena's cursor, its pandas cursor (the CSV, and
    UNLOAD's Parquet) and its arrow cursor. awscli reads the same rows."""
    from pyarrow import fs

    results = f"s3://{BUCKET}/athena-results-ml/"
    readers = {
        **awswrangler_readers(results),
        **pyathena_readers(results, REGION),
        "ArrowCursor": lambda table: arrow_rows(table),
    }
    # pyathena's arrow cursor builds pyarrow's S3 file system with no
    # endpoint, and pyarrow's constructor reads none from the environment
    # (apache/arrow#49643): it would call AWS. Here alone it is pointed at
    # the local S3; what it reads, and how, is pyathena's and Arrow's own.
    original = fs.S3FileSystem
    monkeypatch.setattr(
        fs,
        "S3FileSystem",
        lambda **options: original(
            endpoint_override=engines.local.aws_url, scheme="http", **options
        ),
    )
    for table in CURATED:
        columns, expected, dates = spark_rows(f"stedi_curated.{table}")
        assert expected, table
        for name, read in readers.items():
            answer = read(table)
            if isinstance(answer, tuple):  # a DB-API cursor's columns and rows
                names, rows = answer
                got = [tuple(row[names.index(column)] for column in columns) for row in rows]
            else:
                got = frame_rows(answer, columns, dates)
            assert comparable(got) == expected, f"{name} on {table}"
        by_awscli = awscli_rows(table, dict(os.environ))
        header = by_awscli[0]
        assert [column for column in header if column not in NOT_COMPARED] == columns
        assert len(by_awscli) - 1 == len(expected), table


def arrow_rows(table: str) -> Any:
    from pyathena import connect
    from pyathena.arrow.cursor import ArrowCursor

    cursor = connect(work_group="stedi-ml", region_name=REGION, schema_name="stedi_curated").cursor(
        ArrowCursor
    )
    return cursor.execute(f"select * from {table}").as_arrow().to_pandas()


def test_the_consumer_reads_the_catalog_and_its_query_history(
    engines: Engines, as_consumer: Principal
) -> None:
    """What the clients' catalog views and result caches call: Athena's
    metadata calls answered from Glue, within the consumer's Glue grants;
    its own queries, listed and fetched in a batch; a second identical
    query served from pyathena's result cache."""
    import awswrangler as wr
    import boto3
    from botocore.exceptions import ClientError
    from pyathena import connect

    athena = boto3.client("athena")
    catalog = {"CatalogName": "AwsDataCatalog", "DatabaseName": "stedi_curated"}
    listed = athena.list_table_metadata(**catalog, Expression="*curated")["TableMetadataList"]
    assert sorted(table["Name"] for table in listed) == sorted(CURATED)
    described = athena.get_table_metadata(**catalog, TableName="machine_learning_curated")
    metadata = described["TableMetadata"]
    assert [key["Name"] for key in metadata["PartitionKeys"]] == ["reading_date"]
    assert metadata["Parameters"]["location"].startswith(f"s3://{BUCKET}/warehouse/stedi_curated/")
    with pytest.raises(ClientError) as elsewhere:  # Glue's grants hold
        athena.get_table_metadata(
            CatalogName="AwsDataCatalog", DatabaseName="stedi_trusted", TableName="customer_trusted"
        )
    assert "glue:GetTable" in str(elsewhere.value)
    tables = wr.catalog.tables(database="stedi_curated")
    assert sorted(tables["Table"]) == sorted(CURATED)
    admin = boto3.client(  # the catalog's every database: not the consumer's to list
        "athena", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    databases = admin.list_databases(CatalogName="AwsDataCatalog")["DatabaseList"]
    assert {"stedi_landing", "stedi_trusted", "stedi_curated"} <= {d["Name"] for d in databases}

    cursor = connect(work_group="stedi-ml", region_name=REGION, poll_interval=0.1).cursor()
    sql = "select count(*) from stedi_curated.customers_curated"
    first = cursor.execute(sql, cache_size=10).query_id
    assert cursor.execute(sql, cache_size=10).query_id == first  # found in the history
    ids = athena.list_query_executions(WorkGroup="stedi-ml", MaxResults=5)["QueryExecutionIds"]
    assert ids[0] == first and len(ids) == 5
    batch = athena.batch_get_query_execution(QueryExecutionIds=[*ids, "not-a-query"])
    assert [item["QueryExecutionId"] for item in batch["QueryExecutions"]] == ids
    assert batch["UnprocessedQueryExecutionIds"][0]["QueryExecutionId"] == "not-a-query"


def glue_table_locations(engines: Engines) -> dict[str, str]:
    """Every Glue table of the project's databases and its S3 location."""
    glue = engines.local.target().client("glue")
    locations = {}
    for database in glue.get_databases()["DatabaseList"]:
        pages = glue.get_paginator("get_tables").paginate(DatabaseName=database["Name"])
        for page in pages:
            for table in page["TableList"]:
                if table.get("TableType") != "VIRTUAL_VIEW":
                    name = f"{database['Name']}.{table['Name']}"
                    locations[name] = table["StorageDescriptor"]["Location"]
    return locations


def test_every_table_lives_under_its_zone_and_none_under_the_results(engines: Engines) -> None:
    """The work group does not force its result location on a CTAS, so
    dbt-athena writes every model table under s3_data_dir (warehouse/); the
    results prefix holds only query results, and its expiry rule deletes no
    table. On AWS a table under the results prefix could not be rebuilt:
    dbt-athena deletes a dropped table's objects, and the runner may not
    delete results."""
    locations = glue_table_locations(engines)
    assert "stedi_curated.machine_learning_curated" in locations
    results = f"s3://{BUCKET}/athena-results/"
    assert [name for name, where in locations.items() if where.startswith(results)] == []
    for name, where in locations.items():
        database, table = name.split(".")
        if database.endswith("_landing") and table in {"customer", "accelerometer", "step_trainer"}:
            assert where.startswith(f"s3://{BUCKET}/{engines.prefix}/"), name
        elif database.endswith("_restricted"):
            assert where.startswith(f"s3://{BUCKET}/restricted/"), name
        else:
            assert where.startswith(f"s3://{BUCKET}/warehouse/{database}/{table}/"), name
    s3 = engines.local.target().client("s3")
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="athena-results/tables/")
    assert listed.get("KeyCount", 0) == 0


def test_source_freshness_reads_the_landing_files_on_trino(engines: Engines) -> None:
    # the loader wrote the objects minutes ago: every source is fresh
    completed = engines.athena("source", "freshness")
    assert completed.returncode == 0, completed.stdout[-3000:]
    for source in ("customer", "accelerometer", "step_trainer"):
        assert re.search(rf"PASS\S* freshness of landing\.{source} ", completed.stdout), source


def test_every_statement_is_athena_sql_and_no_secret_is_in_one(engines: Engines) -> None:
    statements = [item.query for item in engines.local.service.executions.values()]
    assert len(statements) >= 100
    errors = []
    for statement in statements:
        try:
            sqlglot.parse(statement, read="athena", error_level=sqlglot.ErrorLevel.RAISE)
        except sqlglot.errors.ParseError as error:
            errors.append(f"{error}\n{statement[:500]}")
    assert errors == []
    text = " ".join(" ".join(statements).split()).lower()
    # text tables of whole lines: no JSON SerDe reads the landing zone
    assert "org.apache.hadoop.hive.serde2.regexserde" in text
    assert "jsonserde" not in text
    # the key is read from its table, never written into a statement
    assert "select pseudonym_key from awsdatacatalog.stedi_restricted.pseudonym_key" in text
    assert development_pseudonym_key() not in " ".join(statements)


def test_the_zone_summary_and_accounting_equal_spark(
    engines: Engines, capfd: pytest.CaptureFixture[str]
) -> None:
    completed = engines.athena(
        "run-operation", "print_zone_summary", "--args", '{engine: "Trino 476"}'
    )
    assert completed.returncode == 0, completed.stdout[-3000:]
    assert "rows per zone (target athena on Trino 476)" in completed.stdout
    capfd.readouterr()
    assert engines.spark("run-operation", "print_zone_summary").success
    on_spark = capfd.readouterr().out

    def body(text: str) -> list[str]:
        lines = [line.strip() for line in text.splitlines()]
        start = next(i for i, line in enumerate(lines) if "rows per zone" in line)
        return [line for line in lines[start + 1 :] if line and not line[0].isdigit()]

    athena_body = body(completed.stdout)
    assert athena_body == body(on_spark)
    assert "= balanced" in " ".join(athena_body)


def test_incremental_runs_on_trino_equal_spark(engines: Engines) -> None:
    # new files: the next day's readings
    next_day_readings(engines.landing)
    engines.load()
    engines.build_both(*MODELS_ONLY)
    engines.assert_equal()
    # a consent change and an erasure
    bob_withdraws_consent(engines.landing)
    engines.load()
    request = f"('{email_hash(IVY, erasure_salt())}', date '2026-11-28')"
    engines.trino(f"insert into awsdatacatalog.stedi_landing.erasure_requests values {request}")
    engines.lakehouse.rows(f"insert into stedi_landing.erasure_requests values {request}")
    engines.build_both(*MODELS_ONLY)
    engines.assert_equal()
    # Ivy's readings joined the fixture's 4 erased ones, keeping no e-mail
    erased = engines.trino(
        "select count(*), count(raw_user), count(user_email), count(erasure_request_sha256)"
        " from awsdatacatalog.stedi_landing.accelerometer_screened"
        " where exclusion_reason = 'erased'"
    )
    [[rows, raw_users, emails, hashes]] = erased.rows
    assert rows > 4 and (raw_users, emails, hashes) == (0, 0, rows)


def move_to_null_date_on_trino(engines: Engines, table: str, time_column: str) -> str:
    """Put the first admitted reading of FIRST_DATE back in the null date as
    implausible_time, as a screening before its time had come left it; the
    condition that finds it."""
    relation = f"awsdatacatalog.{table}"
    columns = [row[0] for row in engines.trino(f"describe {relation}").rows]
    identity = [column for column in columns if column.startswith("raw_")] + ["landing_file"]
    [chosen] = engines.trino(
        f"select {', '.join(identity)} from {relation}"
        f" where reading_date = date '{FIRST_DATE}' and exclusion_reason is null"
        f" order by {time_column}, landing_file limit 1"
    ).rows
    condition = " and ".join(
        f"{column} is not distinct from {sql_literal(value)}"
        for column, value in zip(identity, chosen, strict=True)
    )
    replaced = {
        "exclusion_reason": (
            f"case when {condition} then 'implausible_time' else exclusion_reason end"
        ),
        "reading_date": f"case when {condition} then null else reading_date end",
    }
    select = ", ".join(replaced.get(column, column) for column in columns)
    engines.trino(
        f"insert into {relation} select {select} from {relation}"
        f" where reading_date = date '{FIRST_DATE}' or reading_date is null",
        session={"awsdatacatalog.insert_existing_partitions_behavior": "OVERWRITE"},
    )
    moved = engines.trino(f"select reading_date from {relation} where {condition}").rows
    assert moved == [[None]]
    return condition


def sql_literal(value: Any) -> str:
    if value is None:
        return "null"
    return "'" + str(value).replace("'", "''") + "'"


def test_a_reading_leaves_the_null_date_on_trino_as_on_spark(engines: Engines) -> None:
    before = engines.assert_equal()
    conditions = {
        table: move_to_null_date_on_trino(engines, table, time_column)
        for table, time_column in [
            ("stedi_landing.accelerometer_screened", "reading_time_ms"),
            ("stedi_landing.step_trainer_screened", "sensor_reading_time_ms"),
        ]
    }
    completed = engines.athena("build", *MODELS_ONLY)
    assert completed.returncode == 0, completed.stdout[-6000:]
    for table, condition in conditions.items():
        assert engines.trino(
            f"select reading_date, exclusion_reason from awsdatacatalog.{table} where {condition}"
        ).rows == [[FIRST_DATE.isoformat(), None]]
    assert engines.assert_equal() == before  # Spark's rows, unchanged


@pytest.mark.skipif(
    not os.environ.get("STEDI_PUBLIC_LANDING"),
    reason="set STEDI_PUBLIC_LANDING to the public data set's landing folder to compare it",
)
def test_the_public_data_set_on_trino_equals_spark(engines: Engines) -> None:
    """By flag, not in make test: the public data set is not in the repository."""
    engines.use_copy_of(Path(os.environ["STEDI_PUBLIC_LANDING"]).resolve(), "public")
    engines.load()
    engines.build_both("--full-refresh", "--exclude-resource-type", "unit_test")
    assert engines.assert_equal() > 10_000


@pytest.mark.parametrize("change", sorted(CONTRACT_BREAKS))
def test_a_column_change_the_contract_does_not_declare_fails_the_athena_build(
    engines: Engines, change: str, tmp_path: Path
) -> None:
    project = tampered_project(tmp_path, *CONTRACT_BREAKS[change])
    completed = engines.athena(
        "run", "--select", "customers_curated", "--project-dir", str(project)
    )
    assert completed.returncode != 0
    assert "contract" in completed.stdout.lower(), completed.stdout[-3000:]
    assert "accelerometer_reading_count" in completed.stdout
    kept = engines.trino(
        "select count(accelerometer_reading_count) > 0"
        " from awsdatacatalog.stedi_curated.customers_curated"
    )
    assert kept.rows == [[True]]  # the last good build's table


def test_readers_find_the_last_good_table_during_a_rebuild_and_after_a_failed_one(
    engines: Engines, tmp_path: Path
) -> None:
    """Table models are written beside the old table and swapped in Glue
    (`ha`): a reader never finds customer_trusted missing or empty."""
    import threading

    count_sql = "select count(*) from awsdatacatalog.stedi_trusted.customer_trusted"
    [[before]] = engines.trino(count_sql).rows
    assert int(before) > 0
    seen: list[Any] = []
    done = threading.Event()

    def read_while_building() -> None:
        while not done.is_set():
            try:
                seen.append(engines.trino(count_sql).rows[0][0])
            except Exception as error:  # a missing table, say
                seen.append(repr(error))

    reader = threading.Thread(target=read_while_building)
    reader.start()
    try:
        rebuilt = engines.athena("run", "--select", "customer_trusted")
        broken = tampered_project(
            tmp_path,
            "models/trusted/customer_trusted.sql",
            "select * from admitted",
            "select * from admitted where 1 / (length(email) - length(email)) = 1",
        )
        failed = engines.athena("run", "--select", "customer_trusted", "--project-dir", str(broken))
    finally:
        done.set()
        reader.join()
    assert rebuilt.returncode == 0, rebuilt.stdout[-3000:]
    assert failed.returncode != 0 and "Division by zero" in failed.stdout, failed.stdout[-3000:]
    assert len(seen) > 1
    assert set(seen) == {before}
    assert engines.trino(count_sql).rows == [[before]]


def test_the_athena_target_refuses_to_build_without_its_pseudonym_key(engines: Engines) -> None:
    # an account bootstrapped without --pseudonym-key-from-env
    glue = engines.local.target().client("glue")
    key_table = glue.get_table(DatabaseName="stedi_restricted", Name="pseudonym_key")["Table"]
    glue.delete_table(DatabaseName="stedi_restricted", Name="pseudonym_key")
    started = set(engines.local.service.executions)
    try:
        completed = engines.athena("build")
    finally:
        glue.create_table(DatabaseName="stedi_restricted", TableInput=table_input_of(key_table))
    assert completed.returncode != 0
    assert "No pseudonym key table stedi_restricted.pseudonym_key" in completed.stdout
    created = [
        item.query
        for query_id, item in engines.local.service.executions.items()
        if query_id not in started and "create table" in item.query.lower()
    ]
    assert created == []  # no model was built


def athena_client(engines: Engines) -> Any:
    """Athena, as the runner."""
    import boto3

    runner = engines.local.runner
    return boto3.client(
        "athena",
        endpoint_url=engines.local.athena_url,
        region_name=REGION,
        aws_access_key_id=runner.access_key,
        aws_secret_access_key=runner.secret_key,
    )


def run_on_athena(engines: Engines, sql: str) -> dict[str, Any]:
    """Run ``sql`` through the Athena API; its final status."""
    athena = athena_client(engines)
    query_id = athena.start_query_execution(QueryString=sql, WorkGroup="stedi")["QueryExecutionId"]
    return dict(finished(engines, query_id)["Status"])


def finished(engines: Engines, query_id: str) -> dict[str, Any]:
    assert engines.local.service.executions[query_id].finished.wait(timeout=300)
    return athena_client(engines).get_query_execution(QueryExecutionId=query_id)["QueryExecution"]


def test_results_are_written_and_read_back_as_athena_writes_them(engines: Engines) -> None:
    """A query's rows go to <id>.csv (the header first, every value quoted,
    a null as nothing) beside <id>.csv.metadata, its columns; a DDL or
    utility statement's to <id>.txt; GetQueryResults reads them back, with
    Athena's text for varbinary, row, map and array values, and EXPLAIN's
    header. ExecutionParameters fill the ? placeholders. A decimal literal
    is a DOUBLE, as on Athena."""
    from botocore.exceptions import ClientError

    athena, s3 = athena_client(engines), engines.local.target().client("s3")
    sql = (
        "select X'31FF' as b, cast(row(1, 'x') as row(a integer, b varchar)) as r,"
        " row(2, null) as unnamed, map(array['k'], array[array[1, null]]) as m,"
        " array['a', null] as a, cast(null as varchar) as n, '' as e, 'q\"u,o' as q,"
        " cast(1.5 as decimal(5, 2)) as d, cast(? as integer) + 1 as p"
    )
    query_id = athena.start_query_execution(
        QueryString=sql, WorkGroup="stedi", ExecutionParameters=["41"]
    )["QueryExecutionId"]
    execution = finished(engines, query_id)
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
    assert execution["ExecutionParameters"] == ["41"]
    location = execution["ResultConfiguration"]["OutputLocation"]
    assert location.endswith(f"/{query_id}.csv")
    key = location.removeprefix(f"s3://{BUCKET}/")
    written = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode()
    assert written.splitlines()[0] == '"b","r","unnamed","m","a","n","e","q","d","p"'
    answer = athena.get_query_results(QueryExecutionId=query_id)["ResultSet"]
    values = [cell.get("VarCharValue") for cell in answer["Rows"][1]["Data"]]
    assert values == [
        "31 ff",
        "{a=1, b=x}",
        "{field0=2, field1=null}",
        "{k=[1, null]}",
        "[a, null]",
        None,
        "",
        'q"u,o',
        "1.50",
        "42",
    ]
    assert '"[a, null]",,"",' in written  # a null unquoted, an empty text quoted
    types = [
        (column["Type"], column["Precision"])
        for column in answer["ResultSetMetadata"]["ColumnInfo"]
    ]
    assert types[0] == ("varbinary", 1073741824) and types[-2:] == [("decimal", 5), ("integer", 10)]
    assert s3.head_object(Bucket=BUCKET, Key=key + ".metadata")["ContentLength"] > 0

    explained = athena.start_query_execution(QueryString="explain select 1", WorkGroup="stedi")
    assert finished(engines, explained["QueryExecutionId"])["Status"]["State"] == "SUCCEEDED"
    plan = athena.get_query_results(QueryExecutionId=explained["QueryExecutionId"])
    plan = plan["ResultSet"]["Rows"]
    assert plan[0]["Data"][0]["VarCharValue"] == "Query Plan" and len(plan) > 1

    # a decimal literal is a DOUBLE on Athena (a DECIMAL is DECIMAL '0.5')
    doubles = athena.start_query_execution(
        QueryString="select 1 / 0.0, 0 / 0.0, typeof(.5), typeof(decimal '0.5')", WorkGroup="stedi"
    )
    assert finished(engines, doubles["QueryExecutionId"])["Status"]["State"] == "SUCCEEDED"
    rows = athena.get_query_results(QueryExecutionId=doubles["QueryExecutionId"])
    values = [cell["VarCharValue"] for cell in rows["ResultSet"]["Rows"][1]["Data"]]
    assert values == ["Infinity", "NaN", "double", "decimal(1,1)"]

    shown = athena.start_query_execution(
        QueryString="show tables in stedi_curated", WorkGroup="stedi"
    )
    execution = finished(engines, shown["QueryExecutionId"])
    location = execution["ResultConfiguration"]["OutputLocation"]
    assert location.endswith(".txt")
    text = s3.get_object(Bucket=BUCKET, Key=location.removeprefix(f"s3://{BUCKET}/"))["Body"]
    assert "customers_curated\n" in text.read().decode()

    with pytest.raises(ClientError) as mismatched:
        athena.start_query_execution(
            QueryString="select ?, ?", WorkGroup="stedi", ExecutionParameters=["1"]
        )
    assert "2 parameter placeholders" in str(mismatched.value)


def test_unload_writes_parquet_files_and_a_manifest_and_no_table(engines: Engines) -> None:
    """UNLOAD writes its files, lists them in <id>-manifest.csv and leaves
    Glue as it was; a location that holds objects already is refused."""
    athena, s3 = athena_client(engines), engines.local.target().client("s3")
    tables_before = glue_table_locations(engines)
    target = f"s3://{BUCKET}/athena-results/unloaded/"
    sql = (
        "unload (select customer_key, registration_at from stedi_curated.customers_curated)"
        f" to '{target}' with (format = 'PARQUET', compression = 'SNAPPY')"
    )
    query_id = athena.start_query_execution(QueryString=sql, WorkGroup="stedi")["QueryExecutionId"]
    execution = finished(engines, query_id)
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
    manifest = execution["Statistics"]["DataManifestLocation"]
    assert manifest.endswith(f"{query_id}-manifest.csv")
    listed = s3.get_object(Bucket=BUCKET, Key=manifest.removeprefix(f"s3://{BUCKET}/"))["Body"]
    files = listed.read().decode().split()
    assert files and all(path.startswith(target) for path in files)
    head = s3.get_object(
        Bucket=BUCKET, Key=files[0].removeprefix(f"s3://{BUCKET}/"), Range="bytes=0-3"
    )
    assert head["Body"].read() == b"PAR1"
    results = athena.get_query_results(QueryExecutionId=query_id)
    count = engines.trino("select count(*) from awsdatacatalog.stedi_curated.customers_curated")
    assert results["UpdateCount"] == count.rows[0][0]
    assert glue_table_locations(engines) == tables_before
    again = run_on_athena(engines, sql)
    assert again["State"] == "FAILED" and "not empty" in again["StateChangeReason"]


def test_the_hive_ddl_athena_runs_itself_changes_glue(engines: Engines) -> None:
    """MSCK REPAIR TABLE, ALTER TABLE ADD PARTITION and ADD, CHANGE and
    REPLACE COLUMNS act on Glue, as Athena's Hive DDL does; an Iceberg
    table is refused in one line."""
    glue, s3 = engines.local.target().client("glue"), engines.local.target().client("s3")
    prefix = "warehouse/stedi_trusted/hive_ddl_probe/"
    for day in ("2022-01-01", "2022-01-02"):
        s3.put_object(Bucket=BUCKET, Key=f"{prefix}d={day}/part-0.txt", Body=b"a\nb\n")
    table = "stedi_trusted.hive_ddl_probe"

    def run(sql: str) -> dict[str, Any]:
        return run_on_athena(engines, sql)

    def columns() -> list[tuple[str, str]]:
        described = glue.get_table(DatabaseName="stedi_trusted", Name="hive_ddl_probe")["Table"]
        return [(c["Name"], c["Type"]) for c in described["StorageDescriptor"]["Columns"]]

    def partitions() -> dict[str, str]:
        listed = glue.get_partitions(DatabaseName="stedi_trusted", TableName="hive_ddl_probe")
        return {
            item["Values"][0]: item["StorageDescriptor"]["Location"]
            for item in listed["Partitions"]
        }

    try:
        created = run(
            f"create external table {table} (x string) partitioned by (d string)"
            f" stored as textfile location 's3://{BUCKET}/{prefix}'"
        )
        assert created["State"] == "SUCCEEDED", created
        assert run(f"msck repair table {table}")["State"] == "SUCCEEDED"
        assert sorted(partitions()) == ["2022-01-01", "2022-01-02"]
        assert engines.trino(f"select count(*) from awsdatacatalog.{table}").rows == [[4]]
        added = run(f"alter table {table} add partition (d = '2022-01-03')")
        assert added["State"] == "SUCCEEDED", added
        assert partitions()["2022-01-03"] == f"s3://{BUCKET}/{prefix}d=2022-01-03"
        again = run(f"alter table {table} add partition (d = '2022-01-03')")
        assert again["State"] == "FAILED" and "AlreadyExists" in again["StateChangeReason"]
        assert (
            run(f"alter table {table} add if not exists partition (d = '2022-01-03')")["State"]
            == "SUCCEEDED"
        )
        assert run(f"alter table {table} add columns (y int comment 'new')")["State"] == "SUCCEEDED"
        assert columns() == [("x", "string"), ("y", "int")]
        assert run(f"alter table {table} change column y z bigint")["State"] == "SUCCEEDED"
        assert columns() == [("x", "string"), ("z", "bigint")]
        assert run(f"alter table {table} replace columns (x string)")["State"] == "SUCCEEDED"
        assert columns() == [("x", "string")]
        iceberg = run(
            "create table stedi_trusted.iceberg_probe with (table_type = 'ICEBERG',"
            f" location = 's3://{BUCKET}/warehouse/stedi_trusted/iceberg_probe/') as select 1 as x"
        )
        assert iceberg["State"] == "FAILED"
        assert iceberg["StateChangeReason"].startswith("NOT_SUPPORTED: table_type ICEBERG")
    finally:
        glue.delete_table(DatabaseName="stedi_trusted", Name="hive_ddl_probe")
        listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
        for item in listed:
            s3.delete_object(Bucket=BUCKET, Key=item["Key"])


def test_query_text_longer_than_athenas_limit_is_refused(engines: Engines) -> None:
    from botocore.exceptions import ClientError

    from scripts.services.athena_local.limits import MAX_QUERY_BYTES

    head = "select 1 -- "
    # é is two bytes of UTF-8: the limit counts bytes, not characters
    at_limit = head + "é" * ((MAX_QUERY_BYTES - len(head)) // 2) + "x" * (len(head) % 2)
    assert len(at_limit.encode()) == MAX_QUERY_BYTES
    assert run_on_athena(engines, at_limit)["State"] == "SUCCEEDED"
    with pytest.raises(ClientError) as refused:
        athena_client(engines).start_query_execution(QueryString=at_limit + "x", WorkGroup="stedi")
    assert refused.value.response["Error"]["Code"] == "InvalidRequestException"
    assert "262144 bytes" in refused.value.response["Error"]["Message"]


@pytest.mark.parametrize(("partitions", "state"), [(100, "SUCCEEDED"), (101, "FAILED")])
def test_a_write_of_more_than_100_partitions_fails_as_on_athena(
    engines: Engines, partitions: int, state: str
) -> None:
    table = f"stedi_landing.partition_limit_{partitions}"
    location = f"s3://{BUCKET}/warehouse/stedi_landing/partition_limit_{partitions}/"
    status = run_on_athena(
        engines,
        f"create table {table} with (format = 'PARQUET', partitioned_by = ARRAY['p'],"
        f" external_location = '{location}')"
        f" as select x, x as p from unnest(sequence(1, {partitions})) as t (x)",
    )
    try:
        assert status["State"] == state, status
        if state == "FAILED":
            assert status["StateChangeReason"].startswith("HIVE_TOO_MANY_OPEN_PARTITIONS: ")
            assert "100" in status["StateChangeReason"]
    finally:
        run_on_athena(engines, f"drop table if exists {table}")


# A count Trino takes minutes over (10^11 rows): still running when stopped.
ENDLESS_QUERY = (
    "select count(*) from unnest(sequence(1, 10000)) as a (x)"
    " cross join unnest(sequence(1, 10000)) as b (y)"
    " cross join unnest(sequence(1, 1000)) as c (z)"
)


def wait_for(condition: Any, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"no {what} after {seconds} s"
        time.sleep(0.1)


def test_a_stopped_query_is_cancelled_on_trino_and_stays_cancelled(engines: Engines) -> None:
    athena = athena_client(engines)
    query_id = athena.start_query_execution(QueryString=ENDLESS_QUERY, WorkGroup="stedi")[
        "QueryExecutionId"
    ]
    execution = engines.local.service.executions[query_id]
    wait_for(lambda: execution.trino_query_id is not None, "Trino query")
    athena.stop_query_execution(QueryExecutionId=query_id)

    def trino_state() -> dict[str, Any]:
        url = f"{engines.local.trino_url}/v1/query/{execution.trino_query_id}"
        request = urllib.request.Request(url, headers={"X-Trino-User": "stedi"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)

    wait_for(lambda: trino_state()["state"] == "FAILED", "cancellation on Trino")
    assert trino_state()["errorCode"]["name"] == "USER_CANCELED"
    assert execution.finished.wait(timeout=60), "the query's thread never ended"
    status = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]
    assert status["State"] == "CANCELLED"


# A statement of the runner policy, and a dbt command that needs it.
REMOVED_STATEMENTS = {
    "AthenaQueriesInTheStediWorkgroupOnly": ("run", "--select", "customer_trusted"),
    "GlueCatalogOfTheThreeZones": ("run", "--select", "customer_trusted"),
    "ListTheLakePrefixes": ("run", "--select", "customer_trusted"),
    "WriteTrustedAndCuratedTables": ("run", "--select", "customer_trusted"),
    "ReadTheLandingZone": (
        "show",
        "--inline",
        "select count(*) as customers from {{ source('landing', 'customer') }}",
    ),
    "WriteAndReadQueryResults": ("show", "--inline", "select 1 as one"),
    "FindTheResultsBucket": ("show", "--inline", "select 1 as one"),
    "ReadThePseudonymKeyTable": ("run", "--select", "customers_curated"),
    "ReadThePseudonymKeyObject": ("run", "--select", "customers_curated"),
}


def runner_policy() -> dict[str, Any]:
    return render_policy(RUNNER_POLICY, local_policy_values(BUCKET, REGION))


@pytest.mark.parametrize("sid", sorted(REMOVED_STATEMENTS))
def test_without_a_statement_the_build_needs_it_fails_naming_the_action(
    engines: Engines, sid: str
) -> None:
    policy = runner_policy()
    removed = next(item for item in policy["Statement"] if item["Sid"] == sid)
    without = {**policy, "Statement": [item for item in policy["Statement"] if item is not removed]}
    iam = engines.local.target().client("iam")
    replace_policy(iam, engines.local.runner, without)
    try:
        engines.local.service.forget_policies()
        completed = engines.athena(*REMOVED_STATEMENTS[sid])
    finally:
        replace_policy(iam, engines.local.runner, policy)
        engines.local.service.forget_policies()
    assert completed.returncode != 0
    named = re.findall(r"not authorized to perform: ([a-z0-9]+:[A-Za-z]+)", completed.stdout)
    assert named, completed.stdout[-3000:]
    assert set(named) <= set(removed["Action"]), (named, removed["Action"])


def test_the_runner_policy_grants_nothing_the_builds_did_not_use(engines: Engines) -> None:
    """Every action and every resource of each statement was used by the
    builds of this module (which ran as the runner), through that statement."""
    runner = engines.local.runner.arn
    allowed = [
        item
        for item in engines.local.iam_decisions()
        if item["user"] == runner and item["decision"] == "allowed"
    ]
    unused = []
    for statement in runner_policy()["Statement"]:
        sid = statement["Sid"]
        used = [item for item in allowed if item["sid"] == sid]
        actions = {item["action"] for item in used}
        grants = {item["grant"] for item in used}
        unused += [(sid, action) for action in statement["Action"] if action not in actions]
        resources = statement["Resource"]
        for resource in [resources] if isinstance(resources, str) else resources:
            if resource not in grants:
                unused.append((sid, resource))
    assert unused == []


def test_models_lint_clean_as_athena_sql() -> None:
    completed = run_venv_command(
        "sqlfluff", "lint", "--config", "tests/sqlfluff_athena/.sqlfluff", "models"
    )
    assert completed.returncode == 0, completed.stdout[-4000:]
    assert "FAIL" not in completed.stdout


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
