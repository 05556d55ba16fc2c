"""The JVM class archive: created once (by make spark-archive or recorded by
the first run), mapped by Spark's JVM, never half-written."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.common import dbt_invoke, spark_jvm_options
from scripts.common.java_check import require_java
from scripts.devtools import spark_class_archive

pytestmark = [pytest.mark.spark]


@pytest.fixture(scope="module")
def archive() -> Path:
    """The project's archive (make test creates it before pytest; created
    here otherwise, which takes about a minute)."""
    require_java()
    path = spark_class_archive.create()
    assert path is not None, "the class archive could not be created"
    return path


SPARK_SESSION = """
import sys
from pyspark.sql import SparkSession
spark = (
    SparkSession.builder.master("local[1]")
    .config("spark.ui.enabled", "false")
    .config("spark.driver.bindAddress", "127.0.0.1")
    .config("spark.driver.host", "127.0.0.1")
    .config("spark.driver.extraJavaOptions", sys.argv[1])
    .getOrCreate()
)
assert spark.range(10).count() == 10
spark.stop()
"""


def spark_classes_by_source(java_options: str, log: Path) -> dict[str, int]:
    """Start a Spark session with ``java_options`` and count the Spark
    classes its JVM loaded, by where they came from."""
    subprocess.run(
        [
            sys.executable,
            "-c",
            SPARK_SESSION,
            f"{java_options} -Xlog:class+load=info:file={log}",
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    sources: dict[str, int] = {}
    for line in log.read_text(encoding="utf-8").splitlines():
        if " org.apache.spark." in line and "source: " in line:
            source = line.split("source: ", 1)[1].split(" ")[0]
            sources[source] = sources.get(source, 0) + 1
    return sources


def test_spark_loads_its_classes_from_the_archive(archive: Path, tmp_path: Path) -> None:
    options = spark_jvm_options.java_options()
    assert str(archive) in options
    with_archive = spark_classes_by_source(options, tmp_path / "with.log")
    without = spark_classes_by_source("", tmp_path / "without.log")
    # "shared objects file (top)": the project's archive on top of the JDK's
    assert with_archive.get("shared", 0) > 1000, with_archive
    assert without.get("shared", 0) == 0, without


def test_a_truncated_archive_is_not_usable(archive: Path, tmp_path: Path) -> None:
    whole = tmp_path / "whole.jsa"
    shutil.copyfile(archive, whole)
    assert spark_jvm_options.is_usable(whole)
    truncated = tmp_path / "truncated.jsa"
    truncated.write_bytes(whole.read_bytes()[: 10 * 1024 * 1024])
    assert not spark_jvm_options.is_usable(truncated)


def test_a_failed_training_leaves_no_archive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_java()
    monkeypatch.setattr(spark_jvm_options, "ARCHIVE_DIR", tmp_path / "jvm")
    # Spark refuses a driver memory it cannot read: the training build fails.
    monkeypatch.setenv("STEDI_SPARK_DRIVER_MEMORY", "not-a-size")
    assert spark_class_archive.create() is None
    assert list((tmp_path / "jvm").iterdir()) == []


ENVIRONMENT = (
    "DBT_PROFILES_DIR",
    "STEDI_SPARK_DIR",
    "STEDI_SPARK_DRIVER_MEMORY",
    "STEDI_SPARK_JAVA_OPTIONS",
)


def test_dbt_gets_the_archive_unless_told_otherwise(
    archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # configure_environment sets these and moves to the project: restored after
    monkeypatch.chdir(tmp_path)
    for name in ENVIRONMENT:
        monkeypatch.setenv(name, os.environ.get(name, ""))
    monkeypatch.delenv("STEDI_SPARK_JAVA_OPTIONS")
    dbt_invoke.configure_environment(tmp_path / "spark")
    assert f"-XX:SharedArchiveFile={archive}" in os.environ["STEDI_SPARK_JAVA_OPTIONS"]
    monkeypatch.setenv("STEDI_SPARK_JAVA_OPTIONS", "-Dexplicit=1")
    dbt_invoke.configure_environment(tmp_path / "spark")
    assert os.environ["STEDI_SPARK_JAVA_OPTIONS"] == "-Dexplicit=1"


RECORDING_RUN = """
import os, sys
from pathlib import Path
from scripts.common import spark_jvm_options
from scripts.common.cli_logging import configure_logging
configure_logging()
spark_jvm_options.ARCHIVE_DIR = Path(sys.argv[1])
recording = spark_jvm_options.ArchiveRecording()
recording.start(int(sys.argv[2]))
from pyspark.sql import SparkSession
spark = (
    SparkSession.builder.master("local[1]")
    .config("spark.ui.enabled", "false")
    .config("spark.driver.bindAddress", "127.0.0.1")
    .config("spark.driver.host", "127.0.0.1")
    .config("spark.driver.extraJavaOptions", os.environ["STEDI_SPARK_JAVA_OPTIONS"])
    .getOrCreate()
)
assert spark.range(10).count() == 10
recording.finish()
"""


def test_a_first_run_records_the_archive_as_its_driver_exits(tmp_path: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if k != "STEDI_SPARK_JAVA_OPTIONS"}
    completed = subprocess.run(
        [sys.executable, "-c", RECORDING_RUN, str(tmp_path / "jvm"), str(require_java())],
        cwd=dbt_invoke.PROJECT_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "recorded the JVM class archive" in completed.stderr
    (recorded,) = (tmp_path / "jvm").iterdir()  # the archive alone: no temporary left
    assert recorded.suffix == ".jsa"
    assert spark_jvm_options.is_usable(recorded)
    with_archive = spark_classes_by_source(
        f"-XX:SharedArchiveFile={recorded} {spark_jvm_options.QUIET_CDS}", tmp_path / "with.log"
    )
    assert with_archive.get("shared", 0) > 1000, with_archive


def test_a_run_told_its_java_options_records_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spark_jvm_options, "ARCHIVE_DIR", tmp_path / "jvm")
    monkeypatch.setenv("STEDI_SPARK_JAVA_OPTIONS", "-Dexplicit=1")
    recording = spark_jvm_options.ArchiveRecording()
    recording.start(17)
    recording.finish()
    assert os.environ["STEDI_SPARK_JAVA_OPTIONS"] == "-Dexplicit=1"
    assert not (tmp_path / "jvm").exists()


def test_a_java_without_dynamic_archives_records_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Java 11 refuses -XX:ArchiveClassesAtExit: its Spark would not start
    monkeypatch.setattr(spark_jvm_options, "ARCHIVE_DIR", tmp_path / "jvm")
    monkeypatch.setenv("STEDI_SPARK_JAVA_OPTIONS", "")  # restored afterwards
    monkeypatch.delenv("STEDI_SPARK_JAVA_OPTIONS")
    recording = spark_jvm_options.ArchiveRecording()
    recording.start(11)
    assert "STEDI_SPARK_JAVA_OPTIONS" not in os.environ
    recording.start(17)
    assert "-XX:ArchiveClassesAtExit=" in os.environ["STEDI_SPARK_JAVA_OPTIONS"]
