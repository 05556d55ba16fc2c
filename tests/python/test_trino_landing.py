"""The landing rulebook's Athena SQL executed on a real Trino, equal to Spark.

Trino 476 (the engine Athena v3 is built on) runs on 127.0.0.1 over a real
S3 API server that is also its Glue metastore (moto). The fixture landing
zone goes up through the loader, plus a file that is not data; the landing
tables are text tables of one column under the RegexSerDe, registered in
Glue as the athena target's DDL (macros/create_landing_tables.sql) has
Athena register them. (Here through Glue's API: Trino's own CREATE TABLE
also writes column statistics, which moto's Glue does not implement.
Running dbt-athena's DDL itself on Trino is the next step.) Then every record the rulebook's
compiled Athena SQL gives on Trino must equal, line by line, what the same
macro gives on Spark: the verdict flags and every parsed value.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from scripts import dbt_invoke
from scripts.aws_session import AwsTarget
from scripts.bootstrap_aws import text_table_input
from scripts.landing_files import DATASETS
from scripts.load_landing import LoadOptions, load
from scripts.local_s3 import fake_aws_environment, moto_server
from scripts.trino_server import AwsEndpoint, query, trino_server
from tests.python.lakehouse import FIXTURE_LANDING, athena_environment, run_venv_command

BUCKET = "stedi-trino"
REGEX_SERDE = "org.apache.hadoop.hive.serde2.RegexSerDe"


@dataclass(frozen=True)
class TrinoLanding:
    trino: str
    endpoint: str
    work: Path


@pytest.fixture(scope="module")
def trino_landing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrinoLanding]:
    work = tmp_path_factory.mktemp("trino")
    saved = dict(os.environ)
    try:
        os.environ.update(fake_aws_environment())
        with moto_server(work) as endpoint:
            target = AwsTarget(region="eu-west-1", endpoint_url=endpoint)
            s3 = target.client("s3")
            s3.create_bucket(
                Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
            )
            summary = load(FIXTURE_LANDING, target, LoadOptions(bucket=BUCKET))
            assert summary.refused == [] and summary.uploaded_files > 10
            # what the loader does not deliver, a user may still put there
            stray = FIXTURE_LANDING / "accelerometer" / "readings-7-not-data.txt"
            s3.put_object(
                Bucket=BUCKET, Key=f"landing/accelerometer/{stray.name}", Body=stray.read_bytes()
            )
            target.client("glue").create_database(DatabaseInput={"Name": "stedi_landing"})
            aws = AwsEndpoint(endpoint, access_key=os.environ["AWS_ACCESS_KEY_ID"])
            for dataset in DATASETS:
                target.client("glue").create_table(
                    DatabaseName="stedi_landing", TableInput=landing_table_input(dataset)
                )
            with trino_server(aws, work) as trino:
                yield TrinoLanding(trino, endpoint, work)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def landing_table_input(dataset: str) -> dict[str, Any]:
    """The Glue table that the athena target's landing DDL makes."""
    return text_table_input(
        dataset,
        "line",
        f"s3://{BUCKET}/landing/{dataset}/",
        classification="text",
        serde=REGEX_SERDE,
        serde_parameters={"input.regex": "(.*)"},
    )


def compiled_athena_records_sql(dataset: str, landing: TrinoLanding) -> str:
    """The rulebook's CTEs for ``dataset`` compiled for the athena target."""
    completed = run_venv_command(
        "dbt",
        "compile",
        "--quiet",
        "--target",
        "athena",
        "--target-path",
        str(landing.work / "target-athena"),
        "--log-path",
        str(landing.work / "logs"),
        "--vars",
        json.dumps({"landing_root": f"s3://{BUCKET}/landing"}),
        "--inline",
        f"with {{{{ landing_record_ctes('{dataset}') }}}} select * from landing_records",
        env=athena_environment(landing.endpoint, BUCKET),
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return completed.stdout


@pytest.fixture(scope="module")
def spark_records(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("spark-records")
    out = work / "records.json"
    completed = run_venv_command(
        "python",
        "-m",
        "tests.python.landing_records_on_spark",
        str(FIXTURE_LANDING),
        str(out),
        str(work / "spark"),
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    records: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return records


def comparable(columns: list[str], row: list[Any]) -> tuple[str, ...]:
    """A record with its file as a name (Spark sees file:, Trino s3://) and
    without the file's modification time (the upload's, on S3)."""
    values = dict(zip(columns, row, strict=True))
    values["landing_file"] = str(values["landing_file"]).rsplit("/", 1)[-1]
    values.pop("landing_file_modified_ms")
    return tuple("\0null" if value is None else str(value) for value in values.values())


def test_the_landing_ddl_defines_the_tables_trino_reads(trino_landing: TrinoLanding) -> None:
    """The Glue tables Trino reads here are those the athena target's DDL
    defines: the same SerDe, regex and input format."""
    ddl = (dbt_invoke.PROJECT_DIR / "macros" / "create_landing_tables.sql").read_text()
    storage = landing_table_input("customer")["StorageDescriptor"]
    assert f"'{storage['SerdeInfo']['SerializationLibrary']}'" in ddl
    assert "'input.regex' = '(.*)'" in ddl or "'input.regex'='(.*)'" in ddl
    assert f"'{storage['InputFormat']}'" in ddl


@pytest.mark.parametrize(
    ("dataset", "records"), [("customer", 23), ("accelerometer", 46), ("step_trainer", 31)]
)
def test_every_landing_record_on_trino_equals_spark(
    trino_landing: TrinoLanding, spark_records: dict[str, Any], dataset: str, records: int
) -> None:
    result = query(trino_landing.trino, compiled_athena_records_sql(dataset, trino_landing))
    columns = [column["name"].lower() for column in result.columns]
    spark = spark_records[dataset]
    assert columns == [name.lower() for name in spark["columns"]]
    on_trino = sorted(comparable(columns, row) for row in result.rows)
    on_spark = sorted(comparable(columns, row) for row in spark["rows"])
    assert len(on_trino) == records  # the blank lines and the .txt file are no records
    assert on_trino == on_spark
    files = {row[columns.index("landing_file")] for row in result.rows}
    assert all(str(name).endswith((".json", ".json.gz")) for name in files)
    assert any(str(name).endswith(".json.gz") for name in files) == (dataset == "accelerometer")
