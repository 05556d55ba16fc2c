"""The athena target beside local Spark, for the tests that compare them.

`Engines` runs the same dbt command on the local Athena stand-in (a dbt
process of its own, as the runner) and on the test session's Spark, over
one landing folder that the loader also delivers to the stand-in's S3,
and compares every model's rows.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from scripts.common import dbt_invoke
from scripts.load_landing import LoadOptions, load
from scripts.run_athena_local import BUCKET, LocalAthena
from scripts.services.athena_local.limits import ATHENAS_LIMITS, AthenaLimits
from scripts.services.trino_server import QueryResult, query
from tests.python.lakehouse import MODELS, Lakehouse, run_venv_command
from tests.python.lakehouse import normalized as spark_or_trino_value

# when the build ran: not the same on two engines
NOT_COMPARED = {"screened_at"}
# A build after a module's full one: the models alone. The full build ran
# every data test on Trino; a later build's rows are compared with Spark's,
# whose own incremental builds run the data tests (test_incremental).
MODELS_ONLY = ("--exclude-resource-type", "seed", "test", "unit_test")


def landing_prefix(name: str) -> str:
    """Where a test's own landing zone goes: under landing/, the one prefix
    the runner may read landing files from (deploy/'s policy, enforced)."""
    return f"landing/{name}"


@dataclass
class Engines:
    """The stand-in and the test session's Spark over one landing folder."""

    local: LocalAthena
    work: Path
    lakehouse: Lakehouse
    landing: Path
    prefix: str = "landing"
    limits: AthenaLimits = ATHENAS_LIMITS  # the stand-in's, which dbt-athena keeps to

    def variables(self, enforce_consent_date: bool) -> dict[str, Any]:
        return {
            "landing_root": f"s3://{BUCKET}/{self.prefix}",
            "enforce_consent_date": enforce_consent_date,
            "athena_partitions_limit": self.limits.partitions_per_write,
        }

    def load(self) -> None:
        summary = load(self.landing, self.local.target(), LoadOptions(BUCKET, prefix=self.prefix))
        assert summary.exit_code == 0, summary.report()
        self.align_delivery_times()

    def align_delivery_times(self) -> None:
        """Give each local file its S3 object's delivery time. Spark reads the
        local folder and Trino the S3 copy; the rulebook numbers the copies
        of a reading by when their files arrived, and the loader's parallel
        uploads can deliver files in another order than their local times
        (it did: a reading in two fixture files was the original on one
        engine and the duplicate on the other). One delivery, one order.
        Only ever on the test's own copy: never the fixtures' or a user's."""
        assert self.landing.is_relative_to(self.work), f"{self.landing} is not a work copy"
        s3 = self.local.target().client("s3")
        pages = s3.get_paginator("list_objects_v2").paginate(
            Bucket=BUCKET, Prefix=f"{self.prefix}/"
        )
        for page in pages:
            for item in page.get("Contents", []):
                path = self.landing / item["Key"].removeprefix(f"{self.prefix}/")
                if path.is_file():
                    delivered = item["LastModified"].timestamp()
                    os.utime(path, (delivered, delivered))

    def use_copy_of(self, source: Path, name: str) -> None:
        """Build next over a copy of ``source``, loaded under landing/``name``."""
        self.landing, self.prefix = self.work / name, landing_prefix(name)
        shutil.copytree(source, self.landing)

    def athena(
        self, *args: str, enforce_consent_date: bool = True, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return run_venv_command(
            "dbt",
            *args,
            "--target",
            "athena",
            "--target-path",
            str(self.work / "target"),
            "--log-path",
            str(self.work / "logs"),
            "--vars",
            json.dumps(self.variables(enforce_consent_date)),
            env={**self.local.environment(), **(env or {})},
        )

    def spark(self, *args: str, enforce_consent_date: bool = True) -> Any:
        variables = {
            "landing_root": str(self.landing),
            "enforce_consent_date": enforce_consent_date,
        }
        return dbt_invoke.run([*args, *dbt_invoke.dbt_vars(variables)], self.lakehouse.target_path)

    def build_both(self, *args: str, enforce_consent_date: bool = True) -> str:
        """The same dbt build on both engines, side by side; the athena
        output. The two share nothing but the landing files: the athena
        build is a process of its own, Spark's runs here. Spark builds the
        models alone: the rows are compared, and Spark's own tests run in
        the Spark suite (test_dbt_build, test_incremental)."""
        with ThreadPoolExecutor(max_workers=1) as pool:
            athena = pool.submit(
                self.athena, "build", *args, enforce_consent_date=enforce_consent_date
            )
            result = self.spark(
                "build",
                *args,
                "--exclude-resource-type",
                "test",
                "unit_test",
                enforce_consent_date=enforce_consent_date,
            )
            completed = athena.result()
        assert completed.returncode == 0, completed.stdout[-6000:]
        assert result.success, result.exception
        return completed.stdout

    def trino(self, sql: str, session: dict[str, str] | None = None) -> QueryResult:
        return query(self.local.trino_url, sql, session=session)

    def assert_equal(self) -> int:
        """Every model's rows on Trino equal Spark's; the rows compared."""
        from pyspark.sql import SparkSession

        spark = SparkSession.builder.getOrCreate()
        compared = 0
        for relation in MODELS:
            frame = spark.table(relation)
            columns = [column for column in frame.columns if column not in NOT_COMPARED]
            on_spark = comparable(tuple(row) for row in frame.select(*columns).collect())
            column_list = ", ".join(f'"{column}"' for column in columns)
            result = self.trino(f"select {column_list} from awsdatacatalog.{relation}")
            on_trino = comparable(tuple(row) for row in result.rows)
            if on_trino != on_spark:
                spark_set, trino_set = set(on_spark), set(on_trino)
                only_trino = [row for row in on_trino if row not in spark_set][:3]
                only_spark = [row for row in on_spark if row not in trino_set][:3]
                pytest.fail(
                    f"{relation} {columns}: only on Trino {only_trino}, only on Spark {only_spark}"
                )
            compared += len(on_spark)
        return compared


def normalized(value: Any) -> Any:
    """One text for a value as each engine returns it; a landing file by
    its data set folder and name (file: on Spark, s3:// on Trino)."""
    if isinstance(value, str) and value.startswith(("s3://", "file:")):
        return value.rsplit("/", 2)[-2] + "/" + value.rsplit("/", 1)[-1]
    return spark_or_trino_value(value)


def comparable(rows: Any) -> list[tuple[Any, ...]]:
    normal = [tuple(normalized(value) for value in row) for row in rows]
    return sorted(normal, key=lambda row: tuple((v is None, str(v)) for v in row))
