"""The run command end to end, as a user starts it: a separate process with
its own Spark, generated data, `dbt build` and the per-zone summary."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scripts import run_lakehouse
from scripts.common import dbt_invoke
from scripts.generate_landing import GeneratorConfig, generate

pytestmark = [pytest.mark.spark]


def summary_rows(output: str) -> dict[tuple[str, str], int]:
    """(zone, table) -> rows, read from the printed summary."""
    pattern = re.compile(r"^\s+(landing|trusted|curated)\s+(\w+)\s+([\d,]+)$", re.MULTILINE)
    return {
        (zone, table): int(count.replace(",", "")) for zone, table, count in pattern.findall(output)
    }


def test_run_builds_generated_data_and_prints_the_zone_summary(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    written = generate(GeneratorConfig(out=landing, scale=0.05, seed=11)).rows
    started = time.time()
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "scripts.run_lakehouse",
            "--landing-root",
            str(landing),
            "--spark-dir",
            str(tmp_path / "spark"),
        ],
        cwd=dbt_invoke.PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-4000:]
    rows = summary_rows(completed.stdout)
    assert rows[("landing", "customer")] == written["customer"]
    assert rows[("landing", "accelerometer")] == written["accelerometer"]
    assert rows[("landing", "step_trainer")] == written["step_trainer"]
    assert 0 < rows[("trusted", "customer_trusted")] < written["customer"]
    assert rows[("curated", "machine_learning_curated")] > 0
    assert "Row accounting: landing = trusted + rejected" in completed.stdout
    assert completed.stdout.count("= balanced") == 3  # customer, accelerometer, step_trainer
    assert "rejected: no_research_consent" in completed.stdout
    # the landing freshness follows: the files were just generated
    freshness = completed.stdout.split("Landing freshness", 1)[1]
    for source in ("customer", "accelerometer", "step_trainer"):
        assert re.search(rf"^\s+{source}\s+pass\s+0\.\d h$", freshness, re.MULTILINE), freshness
    # a production build: the data tests run, the unit tests are CI's
    assert " START test " in completed.stdout
    assert "unit_test" not in completed.stdout
    # the docs (and lineage) are generated for `make docs`
    catalog = dbt_invoke.PROJECT_DIR / "target" / "catalog.json"
    assert catalog.exists() and catalog.stat().st_mtime >= started
    assert "make docs" in completed.stderr
    # quiet: no py4j connection chatter; Spark's own log keeps warnings and
    # errors, not its info lines (query plans, literals included)
    assert "py4j" not in completed.stdout + completed.stderr
    spark_log_file = tmp_path / "spark" / "logs" / "spark.log"
    spark_log = spark_log_file.read_text(encoding="utf-8") if spark_log_file.exists() else ""
    assert not re.search(r"^\S+ \S+ (INFO|DEBUG) ", spark_log, re.MULTILINE), spark_log[:2000]


def test_run_refuses_a_landing_folder_without_data(tmp_path: Path) -> None:
    assert run_lakehouse.main(["--landing-root", str(tmp_path)]) == 2
