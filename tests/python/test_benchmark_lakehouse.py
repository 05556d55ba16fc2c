"""The benchmark's parts that can be checked without a benchmark run: the
hand-written PySpark reference applies the project's rules (on the dirty
fixture landing zone, where every rule, the landing rulebook's too, has a
case) and the memory sampler
sees a whole process tree."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from scripts.benchmarks import lakehouse as benchmark_lakehouse
from scripts.benchmarks import reference_pyspark
from scripts.benchmarks.reference_duckdb import BUILT_TABLES
from tests.python.lakehouse import FIXTURE_LANDING, Lakehouse

pytestmark = [pytest.mark.spark]


def test_pyspark_reference_counts_the_rows_of_the_dbt_build(
    lakehouse: Lakehouse, tmp_path: Path
) -> None:
    from pyspark.sql import SparkSession

    lakehouse.build(enforce_consent_date=True)
    expected = {
        table: lakehouse.rows(f"select count(*) from {schema}.{table}")[0][0]
        for schema, table in BUILT_TABLES
    }
    spark = SparkSession.builder.getOrCreate()
    counts = reference_pyspark.build(
        spark, FIXTURE_LANDING, tmp_path, reference_pyspark.BENCHMARK_PSEUDONYM_KEY
    )
    assert counts == expected
    assert expected == {
        "customer_trusted": 7,
        "accelerometer_trusted": 11,
        "step_trainer_trusted": 7,
        "customers_curated": 5,
        "machine_learning_curated": 7,
    }


def test_peak_memory_covers_the_whole_process_tree(tmp_path: Path) -> None:
    # The child holding 300 MiB is a grandchild of the measured command.
    grandchild = "import time; block = bytearray(300 * 1024 * 1024); time.sleep(2)"
    command = [
        sys.executable,
        "-c",
        f"import subprocess, sys; subprocess.run([sys.executable, '-c', {grandchild!r}])",
    ]
    seconds, peak, _ = benchmark_lakehouse.measured(command, {}, tmp_path / "log")
    assert seconds >= 2
    assert peak >= 300 * 1024 * 1024


def test_a_tree_peak_counts_the_process_the_command_runs_under_once(tmp_path: Path) -> None:
    """The local Athena's peak: the benchmark's own tree (the API, moto,
    Trino and dbt all run under it), dbt counted once."""
    import os

    own = benchmark_lakehouse.tree_rss(os.getpid())
    child = "import time; block = bytearray(300 * 1024 * 1024); time.sleep(2)"
    _, peak, _ = benchmark_lakehouse.measured(
        [sys.executable, "-c", child], {}, tmp_path / "log", tree=os.getpid()
    )
    assert own + 300 * 1024 * 1024 <= peak < own + 2 * 300 * 1024 * 1024


def test_the_local_athenas_runs_are_shares_of_its_own_full_build() -> None:
    measurement = benchmark_lakehouse.Measurement
    report = benchmark_lakehouse.markdown(
        [
            measurement("dbt build", 1, 50.0, 0),
            measurement(benchmark_lakehouse.ATHENA_BUILD, 1, 80.0, 0),
            measurement(benchmark_lakehouse.ATHENA_INCREMENTAL_BUILD, 1, 40.0, 0),
        ],
        "a machine",
    )
    assert "| 1 | dbt build, incremental (+1%), local Athena | 40.0 | 0.00 | 0.50 |" in report
    assert "Local Athena rows:" in report
