"""The project built over a landing folder in the test session's Spark."""

from __future__ import annotations

import hashlib
import hmac
import math
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from scripts.common import dbt_invoke
from scripts.run_athena_local import development_pseudonym_key

FIXTURE_LANDING = Path(__file__).resolve().parent.parent / "fixtures" / "landing"

# every model, in build order
MODELS = [
    "stedi_landing.customer_screened",
    "stedi_landing.accelerometer_screened",
    "stedi_landing.step_trainer_screened",
    "stedi_landing.customer_rejected",
    "stedi_landing.accelerometer_rejected",
    "stedi_landing.step_trainer_rejected",
    "stedi_trusted.customer_trusted",
    "stedi_trusted.accelerometer_trusted",
    "stedi_trusted.step_trainer_trusted",
    "stedi_curated.customers_curated",
    "stedi_curated.machine_learning_curated",
]


def normalized(value: Any) -> Any:
    """One form for a value as Spark and Trino return it: times as Trino
    writes them, whole doubles as integers."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and not math.isnan(value) and value == int(value):
        return int(value)
    return value


def pseudonymous_key(domain: str, value: str, key: str | None = None) -> str:
    """Python's own HMAC-SHA256 of '<domain>:<value>': the reference the
    engines' macro versions must agree with."""
    secret = (key or development_pseudonym_key()).encode()
    return hmac.new(secret, f"{domain}:{value}".encode(), hashlib.sha256).hexdigest()


@dataclass
class Lakehouse:
    """The project built over a landing folder in the test session's Spark."""

    target_path: Path
    landing_root: Path = FIXTURE_LANDING
    built_with: dict[str, Any] | None = field(default=None)

    def variables(self, enforce_consent_date: bool) -> dict[str, Any]:
        return {
            "landing_root": str(self.landing_root),
            "enforce_consent_date": enforce_consent_date,
        }

    def build(self, enforce_consent_date: bool) -> None:
        """Run `dbt build --full-refresh` unless the last build used the same
        settings. Without the unit tests: they read their own fixtures,
        never the landing folder, and test_dbt_build runs them once."""
        variables = self.variables(enforce_consent_date)
        if self.built_with == variables:
            return
        self.built_with = None
        # from scratch: the incremental models would keep verdicts made under
        # the previous settings (and stop on them)
        dbt_invoke.invoke(
            [
                "build",
                "--full-refresh",
                "--exclude-resource-type",
                "unit_test",
                *dbt_invoke.dbt_vars(variables),
            ],
            self.target_path,
        )
        self.built_with = variables

    def invalidate(self) -> None:
        """Mark the tables as changed by a test, so the next build runs."""
        self.built_with = None

    def dbt(self, *args: str, enforce_consent_date: bool = True) -> Any:
        """Run a dbt command and return its result, failed or not."""
        variables = self.variables(enforce_consent_date)
        return dbt_invoke.run([*args, *dbt_invoke.dbt_vars(variables)], self.target_path)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        """Run Spark SQL and return the rows as sorted tuples."""
        from pyspark.sql import SparkSession

        spark = SparkSession.builder.getOrCreate()
        return sorted_rows(tuple(row) for row in spark.sql(sql).collect())


def sorted_rows(rows: Iterable[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Rows in order, a null before any value of its column."""
    return sorted(rows, key=lambda row: tuple((value is not None, value) for value in row))


def run_venv_command(
    tool: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a command of this virtual environment (dbt, sqlfluff) in the project."""
    return subprocess.run(
        [str(Path(sys.executable).parent / tool), *args],
        cwd=dbt_invoke.PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


# what a copy of the project leaves out: environments, state and output
_NOT_PROJECT = shutil.ignore_patterns(
    ".venv", ".spark", ".cache", ".git", "node_modules", "target*", "logs", "data", "__pycache__"
)


def tampered_project(work: Path, model_path: str, old: str, new: str) -> Path:
    """A copy of the project in ``work`` whose ``model_path`` has ``old``
    replaced by ``new`` (which must occur once), its YAML untouched."""
    copy = work / "tampered-project"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(dbt_invoke.PROJECT_DIR, copy, ignore=_NOT_PROJECT)
    model = copy / model_path
    text = model.read_text(encoding="utf-8")
    assert text.count(old) == 1, (model_path, old)
    model.write_text(text.replace(old, new), encoding="utf-8")
    return copy


# Changes to a curated model's SQL that its contract must refuse: a
# renamed column and a retyped one.
CONTRACT_BREAKS = {
    "renamed": (
        "models/curated/customers_curated.sql",
        "readings_per_customer.accelerometer_reading_count,",
        "readings_per_customer.accelerometer_reading_count as reading_count,",
    ),
    "retyped": (
        "models/curated/customers_curated.sql",
        "readings_per_customer.accelerometer_reading_count,",
        "cast(readings_per_customer.accelerometer_reading_count as double)"
        " as accelerometer_reading_count,",
    ),
}
