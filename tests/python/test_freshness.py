"""`dbt source freshness` on the landing sources, on local Spark: each
folder's age is that of its newest data file (*.json, *.json.gz); daily
deliveries warn after 36 hours and error after 72. (The athena target's run
is in test_athena_target.py.)"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.common import dbt_invoke
from tests.python.lakehouse import FIXTURE_LANDING, Lakehouse

pytestmark = [pytest.mark.spark]

HOUR = 3600


@pytest.fixture(scope="module")
def landing(lakehouse: Lakehouse, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    copy = tmp_path_factory.mktemp("freshness") / "landing"
    shutil.copytree(FIXTURE_LANDING, copy)
    yield copy
    lakehouse.invalidate()  # its landing tables pointed here


def age_files(landing: Path, hours: float) -> None:
    then = time.time() - hours * HOUR
    for path in landing.rglob("*"):
        if path.is_file():
            os.utime(path, (then, then))


def freshness(lakehouse: Lakehouse, landing: Path) -> dict[str, str]:
    """Each landing source's freshness status."""
    variables = dbt_invoke.dbt_vars({"landing_root": str(landing)})
    result = dbt_invoke.run(["source", "freshness", *variables], lakehouse.target_path)
    assert result.result is not None, result.exception
    return {
        item.node.name: str(item.status).lower()
        for item in result.result
        if str(item.node.resource_type) == "source"
    }


@pytest.mark.parametrize(
    ("hours", "status"), [(1, "pass"), (40, "warn"), (80, "error")], ids=["fresh", "late", "stale"]
)
def test_a_folder_is_as_old_as_its_newest_data_file(
    lakehouse: Lakehouse, landing: Path, hours: float, status: str
) -> None:
    age_files(landing, hours)
    assert freshness(lakehouse, landing) == {
        "customer": status,
        "accelerometer": status,
        "step_trainer": status,
    }


def test_one_new_data_file_makes_its_folder_fresh_and_other_files_do_not(
    lakehouse: Lakehouse, landing: Path
) -> None:
    age_files(landing, 80)
    (landing / "customer" / "customers-1.json").touch()
    # a fresh file that is not data leaves its folder stale
    (landing / "accelerometer" / "readings-7-not-data.txt").touch()
    assert freshness(lakehouse, landing) == {
        "customer": "pass",
        "accelerometer": "error",
        "step_trainer": "error",
    }
