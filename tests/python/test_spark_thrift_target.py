"""The `spark` target: dbt-spark's thrift method against a real Spark Thrift
Server started from the installed pyspark, on the fixture landing data."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from scripts.common import dbt_invoke
from scripts.services.spark_thrift_server import local_target_settings, spark_thrift_server
from tests.python.lakehouse import FIXTURE_LANDING, Lakehouse, pseudonymous_key, run_venv_command

pytestmark = [pytest.mark.spark]

# A stand-in for the cluster's real secret; unlike the local target's key it
# must reach Spark only through the session configuration.
THRIFT_PSEUDONYM_KEY = "thrift-test-pseudonym-key-7f3a9c1e5b2d8f40"
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
    with spark_thrift_server(tmp_path / "thrift") as server:
        env = dict(
            os.environ,
            DBT_PROFILES_DIR=str(dbt_invoke.PROFILES_DIR),
            STEDI_SPARK_HOST="127.0.0.1",
            STEDI_SPARK_PORT=str(server.port),
            DBT_ENV_SECRET_STEDI_PSEUDONYM_KEY=THRIFT_PSEUDONYM_KEY,
        )
        completed = run_venv_command(
            "dbt",
            "build",
            "--log-path",
            str(tmp_path / "logs"),
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
        connection = hive.connect(host="127.0.0.1", port=server.port, username="stedi")
        cursor = connection.cursor()
        thrift_counts = {}
        for relation in session_counts:
            cursor.execute(f"select count(*) from {relation}")
            thrift_counts[relation] = cursor.fetchone()[0]
        cursor.execute("select distinct device_key from stedi_curated.machine_learning_curated")
        device_keys = {row[0] for row in cursor.fetchall()}
        connection.close()

        # A key Spark would redact (it contains 'secret') stops the run
        # before any model.
        env["DBT_ENV_SECRET_STEDI_PSEUDONYM_KEY"] = "a-secret-that-spark-would-redact-0123456789"
        refused = run_venv_command(
            "dbt",
            "run",
            "--target",
            "spark",
            "--log-path",
            str(tmp_path / "logs"),
            "--target-path",
            str(tmp_path / "target-refused"),
            env=env,
        )
    assert thrift_counts == session_counts
    assert all(count > 0 for count in thrift_counts.values())
    # The cluster's secret made the keys: the same as Python's HMAC with it.
    assert device_keys == {
        pseudonymous_key("device", serial, key=THRIFT_PSEUDONYM_KEY)
        for serial in ("dev-ann", "dev-bob", "dev-sis")
    }
    assert refused.returncode != 0
    assert "no usable pseudonym key" in refused.stdout
    # The secret is in no file dbt wrote: compiled and run SQL, manifest, logs.
    written = [
        path for path in tmp_path.rglob("*") if path.is_file() and "thrift" not in path.parts
    ]
    assert written
    for path in written:
        assert THRIFT_PSEUDONYM_KEY.encode() not in path.read_bytes(), path


def test_the_local_thrift_server_gets_the_local_targets_spark_settings(tmp_path: Path) -> None:
    import yaml

    profile = yaml.safe_load((dbt_invoke.PROFILES_DIR / "profiles.yml").read_text())
    local = profile["stedi"]["outputs"]["local"]["server_side_parameters"]
    settings = local_target_settings(tmp_path, {"STEDI_SPARK_DRIVER_MEMORY": "1536m"})
    # the same engine settings, rendered for the server's own folder
    for name, value in local.items():
        if "{{" not in str(value) and name not in {"spark.stedi.pseudonym_key", "spark.app.name"}:
            assert settings[name] == str(value), name
    assert settings["spark.driver.memory"] == "1536m"
    assert settings["spark.sql.warehouse.dir"] == f"{tmp_path}/warehouse"
    assert (
        f"databaseName={tmp_path}/metastore_db;"
        in settings["spark.hadoop.javax.jdo.option.ConnectionURL"]
    )
    assert "-XX:+UseParallelGC" in settings["spark.driver.extraJavaOptions"]
    assert f"-Dstedi.spark.dir={tmp_path}" in settings["spark.driver.extraJavaOptions"]
    # no key of its own: each dbt session brings the cluster's secret
    assert "spark.stedi.pseudonym_key" not in settings


@pytest.mark.parametrize("missing", ["STEDI_SPARK_HOST", "DBT_ENV_SECRET_STEDI_PSEUDONYM_KEY"])
def test_spark_target_names_a_missing_environment_variable(missing: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEDI_SPARK_")}
    env["DBT_PROFILES_DIR"] = str(dbt_invoke.PROFILES_DIR)
    env["STEDI_SPARK_HOST"] = "127.0.0.1"
    env["DBT_ENV_SECRET_STEDI_PSEUDONYM_KEY"] = THRIFT_PSEUDONYM_KEY
    del env[missing]
    completed = run_venv_command(
        "dbt", "parse", "--target", "spark", "--target-path", str(tmp_path), env=env
    )
    assert completed.returncode != 0
    assert f"Env var required but not provided: '{missing}'" in completed.stdout
