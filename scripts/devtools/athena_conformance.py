"""dbt-athena's own functional tests, run against the local Athena.

`python -m scripts.devtools.athena_conformance` (what `make
conformance-athena` runs) downloads the source release of the installed
dbt-athena from PyPI once (SHA-256 checked, into `.cache/`), starts the
local Athena (moto's S3, Glue and IAM, Trino, the Athena API) and runs the
release's `tests/functional` for Hive tables against it with
dbt-tests-adapter's fixtures, exactly as dbt-athena's maintainers run them
against AWS. The tests make schemas of their own (`test<digits>_<file>`),
so the principal dbt runs as has every Glue database and the whole bucket;
IAM stays enforced. What is left out is named in LEFT_OUT with its reason.
The result is written to docs/athena-conformance.md.
"""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys
import tarfile
import time
import xml.etree.ElementTree as ElementTree
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from scripts.common.cli_logging import configure_logging
from scripts.common.pinned_download import DownloadError, download
from scripts.common.project_paths import PROJECT_DIR
from scripts.run_athena_local import BUCKET, REGION, in_work_folder, local_athena

LOG = logging.getLogger("athena_conformance")
DBT_ATHENA_VERSION = "1.11.1"  # requirements.in's; the suite must be the installed release's
SDIST = (
    "https://files.pythonhosted.org/packages/c7/e9/"
    "d29d78d9294fb6f1299e274770f28ef7da38ed136f3811df1f0854f7c95c/"
    f"dbt_athena-{DBT_ATHENA_VERSION}.tar.gz",
    "6eebf322665af918c4a3f7b621ed115d54df0617eaed14cbacf4ed9de761502c",
)
CACHE_DIR = PROJECT_DIR / ".cache"
RECORD = PROJECT_DIR / "docs" / "athena-conformance.md"
SUITE = "tests/functional/adapter"

ICEBERG = "Iceberg tables: the local Athena builds Hive tables only (NOT_SUPPORTED)"
# Test files of the suite that are not about Hive tables, and why each is
# left out; every other file runs.
LEFT_OUT_FILES = {
    "test_basic_iceberg.py": ICEBERG,
    "test_basic_iceberg_native_drop.py": ICEBERG,
    "test_detailed_table_type.py": ICEBERG,
    "test_ha_iceberg.py": ICEBERG,
    "test_hive_iceberg.py": ICEBERG,
    "test_incremental_iceberg.py": ICEBERG,
    "test_incremental_iceberg_merge_no_updates.py": ICEBERG,
    "test_retries_iceberg.py": ICEBERG,
    "test_python_submissions.py": (
        "Python models run on Athena's Spark work groups, which the local Athena does not have"
    ),
    "catalog_integrations/test_catalogs_v2.py": ICEBERG,
    "catalog_integrations/test_s3_tables.py": "S3 Tables: Iceberg, in a catalog other than Glue's",
}
# Tests of the files that run, left out with their reason: node ids under
# tests/functional/adapter/ (a class stands for all of its tests).
SEED_EMPTY = (
    "`dbt seed --empty`, and seeds left empty by `dbt build --empty`, are dbt-core 1.12's;"
    " this project runs dbt-core 1.11"
)
LEFT_OUT_TESTS = {
    "test_change_relation_types.py::TestChangeRelationTypesIceberg": ICEBERG,
    "test_docs.py::TestDocsGenerateIcebergNonCurrentColumn": ICEBERG,
    "test_empty.py::TestAthenaEmptySeedFlag::test_build_empty_with_seed": SEED_EMPTY,
    "test_empty.py::TestAthenaEmptySeedFlag::test_seed_empty_creates_table_with_zero_rows": (
        SEED_EMPTY
    ),
    "test_empty.py::TestAthenaEmptySeedFlag::test_seed_empty_preserves_column_types": SEED_EMPTY,
    "test_force_batch.py::TestMergeForceBatch": f"merge, an Iceberg strategy. {ICEBERG}",
    "test_incremental_microbatch.py::TestAthenaHiveMicrobatch": (
        f"its Hive model joins an Iceberg model. {ICEBERG}"
    ),
    "test_incremental_microbatch.py::TestAthenaIcebergMicrobatch": ICEBERG,
    "test_incremental_microbatch.py::TestAthenaIcebergMicrobatchMissingUniqueKey": ICEBERG,
    **{
        f"test_on_schema_change.py::TestOnSchemaChange::test__{test}[iceberg]": ICEBERG
        for test in ("sync_all_columns", "append_new_columns", "ignore", "fail")
    },
    "test_on_schema_change.py::TestOnSchemaChangeSpecialChars::"
    "test__append_new_columns_special_chars[iceberg]": ICEBERG,
    "test_partitions.py::TestIcebergTablePartitions": ICEBERG,
    "test_partitions.py::TestIcebergIncrementalPartitions": ICEBERG,
    "test_partitions.py::TestIcebergTableBuckets": ICEBERG,
    "test_partitions.py::TestIcebergTablePartitionsBuckets": ICEBERG,
    "test_snapshot.py::TestIcebergSnapshotCheckCols": ICEBERG,
    "test_snapshot.py::TestIcebergSnapshotTimestamp": ICEBERG,
}


class ConformanceSetupError(RuntimeError):
    """The suite cannot be set up (one line for the user)."""


def install(cache: Path = CACHE_DIR) -> Path:
    """The release's folder, downloaded, verified and unpacked if needed."""
    installed = version("dbt-athena")
    if installed != DBT_ATHENA_VERSION:
        raise ConformanceSetupError(
            f"dbt-athena {installed} is installed; this suite is {DBT_ATHENA_VERSION}'s "
            "(update DBT_ATHENA_VERSION and SDIST in scripts/devtools/athena_conformance.py)"
        )
    folder = cache / f"dbt_athena-{DBT_ATHENA_VERSION}"
    if (folder / SUITE).is_dir():
        return folder
    cache.mkdir(parents=True, exist_ok=True)
    archive = cache / f"dbt_athena-{DBT_ATHENA_VERSION}.tar.gz"
    if not archive.exists():
        url, sha256 = SDIST
        try:
            download(url, sha256, archive)
        except DownloadError as error:
            raise ConformanceSetupError(str(error)) from None
    with tarfile.open(archive) as release:
        release.extractall(cache, filter="data")
    return folder


def conformance_policy(bucket: str) -> dict[str, Any]:
    """The suite's principal: the work groups, every Glue database (the
    tests name their own) and the bucket."""
    glue = f"arn:aws:glue:{REGION}:*"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "athena:*", "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": "glue:*",
                "Resource": [f"{glue}:catalog", f"{glue}:database/*", f"{glue}:table/*/*"],
            },
            {
                "Effect": "Allow",
                "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
            },
        ],
    }


@dataclass(frozen=True)
class Outcome:
    """One test's result, from pytest's JUnit XML."""

    test: str  # file.py::Class::test
    result: str  # passed, failed, skipped
    message: str


def outcomes(junit: Path) -> list[Outcome]:
    found = []
    for case in ElementTree.parse(junit).getroot().iter("testcase"):
        module = case.get("classname", "").removeprefix("tests.functional.adapter.")
        *path, cls = module.split(".")
        test = f"{'/'.join(path)}.py::{cls}::{case.get('name')}"
        result, message = "passed", ""
        for kind, name in (("failure", "failed"), ("error", "failed"), ("skipped", "skipped")):
            element = case.find(kind)
            if element is not None:
                result = name
                first_lines = (element.get("message") or "").strip().splitlines()
                message = first_lines[0][:300] if first_lines else ""
                break
        found.append(Outcome(test, result, message))
    return found


def record(found: list[Outcome], seconds: float, path: Path = RECORD) -> None:
    """docs/athena-conformance.md: the latest run's result."""
    counts = Counter(outcome.result for outcome in found)
    lines = [
        "# dbt-athena's functional tests on the local Athena",
        "",
        f"The latest run of `make conformance-athena`: dbt-athena {DBT_ATHENA_VERSION}'s",
        "`tests/functional` (from its PyPI source release) against the local Athena,",
        f"on {time.strftime('%Y-%m-%d')}, in {seconds / 60:.0f} minutes:",
        f"**{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped**.",
        "The skipped tests are skipped by the suite itself, on AWS too (its reasons below).",
        "",
        "## Left out, and why",
        "",
    ]
    reasons: dict[str, list[str]] = {}
    for name, reason in [*LEFT_OUT_FILES.items(), *LEFT_OUT_TESTS.items()]:
        reasons.setdefault(reason, []).append(name)
    for reason, names in reasons.items():
        lines += [f"- {reason}:", *(f"  - `{name}`" for name in names)]
    lines += [
        "",
        "## Every test that ran",
        "",
        "| test | result |",
        "| --- | --- |",
    ]
    for outcome in sorted(found, key=lambda outcome: outcome.test):
        note = f": {outcome.message}" if outcome.result != "passed" and outcome.message else ""
        lines.append(f"| `{outcome.test}` | {outcome.result}{note.replace('|', '/')} |")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def run(selection: Sequence[str], work: Path) -> int:
    suite = install()
    started = time.monotonic()
    adapter = suite / SUITE
    files = sorted(
        str(path.relative_to(suite))
        for path in adapter.rglob("test_*.py")
        if str(path.relative_to(adapter)) not in LEFT_OUT_FILES
    )
    junit = work / "junit.xml"
    command = [
        sys.executable,
        "-m",
        "pytest",
        *(selection or files),
        "-p",
        "no:cacheprovider",
        "-o",
        "addopts=",
        "-v",
        "--disable-warnings",
        f"--junitxml={junit}",
        *(f"--deselect={SUITE}/{test}" for test in LEFT_OUT_TESTS),
    ]
    with local_athena(work, runner_policy=conformance_policy(BUCKET)) as local:
        env = local.environment()
        env.update(
            {
                "DBT_TEST_ATHENA_S3_STAGING_DIR": f"s3://{local.bucket}/athena-results/",
                "DBT_TEST_ATHENA_S3_TMP_TABLE_DIR": f"s3://{local.bucket}/conformance-tmp/",
                "DBT_TEST_ATHENA_REGION_NAME": REGION,
                "DBT_TEST_ATHENA_DATABASE": "awsdatacatalog",
                "DBT_TEST_ATHENA_SCHEMA": "conformance",
                "DBT_TEST_ATHENA_WORK_GROUP": "stedi",
                "DBT_TEST_ATHENA_THREADS": "1",
                "DBT_TEST_ATHENA_POLL_INTERVAL": "0.1",
                "DBT_TEST_ATHENA_NUM_RETRIES": "0",
            }
        )
        LOG.info("dbt-athena %s's functional tests on %s", DBT_ATHENA_VERSION, local.athena_url)
        exit_code = subprocess.run(command, cwd=suite, env=env, check=False).returncode
    if junit.exists() and not selection:
        record(outcomes(junit), time.monotonic() - started)
        LOG.info("result written to %s", RECORD.relative_to(PROJECT_DIR))
    return exit_code


def main(argv: Sequence[str] | None = None) -> int:
    configure_logging()
    parser = argparse.ArgumentParser(
        prog="python -m scripts.devtools.athena_conformance",
        description=__doc__.split("\n\n")[0],
    )
    parser.add_argument(
        "tests",
        nargs="*",
        help=f"pytest node ids under {SUITE}/ to run instead of the whole suite "
        "(then no result is recorded)",
    )
    parser.add_argument(
        "--work-dir", type=Path, help="keep the servers' logs here (default: a temporary folder)"
    )
    args = parser.parse_args(argv)
    selection = [f"{SUITE}/{test}" for test in args.tests]
    return in_work_folder(
        args.work_dir,
        "stedi-conformance-",
        lambda work: run(selection, work),
        (ConformanceSetupError,),
    )


if __name__ == "__main__":
    sys.exit(main())
