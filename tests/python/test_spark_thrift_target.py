"""The `spark` target: dbt-spark's thrift method against a real Spark Thrift
Server started from the installed pyspark, on the fixture landing data."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from scripts import dbt_invoke
from tests.python.lakehouse import FIXTURE_LANDING, Lakehouse, run_venv_command
from tests.python.thrift_server import spark_thrift_server

MODELS = {
    "stedi_trusted": ["customer_trusted", "accelerometer_trusted", "step_trainer_trusted"],
    "stedi_curated": ["customers_curated", "machine_learning_curated"],
}


def test_dbt_build_over_thrift_matches_the_session_target(
    tmp_path: Path, lakehouse: Lakehouse
) -> None:
    from pyhive import hive

    lakehouse.build(enforce_consent_date=True)
    session_counts = {
        f"{schema}.{model}": lakehouse.rows(f"select count(*) from {schema}.{model}")[0][0]
        for schema, models in MODELS.items()
        for model in models
    }
    with spark_thrift_server(tmp_path / "thrift") as port:
        env = dict(
            os.environ,
            DBT_PROFILES_DIR=str(dbt_invoke.PROFILES_DIR),
            STEDI_SPARK_HOST="127.0.0.1",
            STEDI_SPARK_PORT=str(port),
        )
        completed = run_venv_command(
            "dbt",
            "build",
            "--target",
            "spark",
            # dbt runs unit tests in development and CI, not against a
            # cluster (and dbt-core's unit-test materialization fetches a
            # result from a CTAS, which Thrift does not return).
            "--exclude-resource-type",
            "unit_test",
            "--target-path",
            str(tmp_path / "target"),
            "--vars",
            json.dumps({"landing_root": str(FIXTURE_LANDING)}),
            env=env,
        )
        assert completed.returncode == 0, completed.stdout[-6000:]
        assert "Completed successfully" in completed.stdout
        connection = hive.connect(host="127.0.0.1", port=port, username="stedi")
        cursor = connection.cursor()
        thrift_counts = {}
        for relation in session_counts:
            cursor.execute(f"select count(*) from {relation}")
            thrift_counts[relation] = cursor.fetchone()[0]
        connection.close()
    assert thrift_counts == session_counts
    assert all(count > 0 for count in thrift_counts.values())


@pytest.mark.parametrize("missing", ["STEDI_SPARK_HOST"])
def test_spark_target_names_a_missing_environment_variable(missing: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEDI_SPARK_")}
    env["DBT_PROFILES_DIR"] = str(dbt_invoke.PROFILES_DIR)
    completed = run_venv_command(
        "dbt", "parse", "--target", "spark", "--target-path", str(tmp_path), env=env
    )
    assert completed.returncode != 0
    assert f"Env var required but not provided: '{missing}'" in completed.stdout
