"""Which lines of a local landing folder the screening models will reject, and why.

The loader's --check. It does not judge lines itself: it builds the
screening models and rejected views (`+*_rejected`, without tests) on
embedded Spark over the folder, in a Spark folder of its own, and reports
what the rejected views hold, so that the report and the models cannot
disagree.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from scripts.common import dbt_invoke
from scripts.common.java_check import JavaNotFoundError, require_java
from scripts.common.landing_files import DATASETS

LOG = logging.getLogger("landing_check")

CHECK_SPARK_DIR = dbt_invoke.PROJECT_DIR / ".spark" / "check"
CHECK_SELECTION = " ".join(f"+{dataset}_rejected" for dataset in DATASETS)
# one row per data set, file and reason, with an example line where the
# rejected view keeps the whole line (malformed, or a non-scalar value)
REJECTED_LINES_SQL = "\nunion all\n".join(
    f"""
select
    '{dataset}' as data_set,
    landing_file,
    exclusion_reason,
    count(*) as line_count,
    min(line_as_delivered) as example_line
from {{{{ ref('{dataset}_rejected') }}}}
group by landing_file, exclusion_reason"""
    for dataset in DATASETS
)


@dataclass(frozen=True)
class RejectedLines:
    data_set: str
    landing_file: str | None  # None for an erased customer's rows
    reason: str
    count: int
    example: str | None


def rejected_lines(landing_root: Path, spark_dir: Path = CHECK_SPARK_DIR) -> list[RejectedLines]:
    """Build the screening models over ``landing_root`` and return what
    their rejected views hold, sorted by data set, file and reason."""
    dbt_invoke.configure_environment(spark_dir)
    variables = dbt_invoke.dbt_vars({"landing_root": str(landing_root.resolve())})
    target_path = spark_dir / "target"
    dbt_invoke.invoke(
        [
            "build",
            "--select",
            CHECK_SELECTION,
            "--exclude-resource-type",
            "test",
            "--exclude-resource-type",
            "unit_test",
            "--full-refresh",
            "--quiet",
            *variables,
        ],
        target_path,
    )
    table = dbt_invoke.show(REJECTED_LINES_SQL, variables, target_path)
    rows = [
        RejectedLines(
            str(row["data_set"]),
            None if row["landing_file"] is None else str(row["landing_file"]),
            str(row["exclusion_reason"]),
            int(row["line_count"]),
            None if row["example_line"] is None else str(row["example_line"]),
        )
        for row in table.rows
    ]
    return sorted(rows, key=lambda row: (row.data_set, row.landing_file or "", row.reason))


def _file_name(landing_file: str | None, landing_root: Path) -> str:
    if landing_file is None:
        return "(an erased customer's rows)"
    path = landing_file.removeprefix("file:")
    try:
        return str(Path(path).relative_to(landing_root.resolve()))
    except ValueError:
        return path


def report(rows: list[RejectedLines], landing_root: Path) -> str:
    if not rows:
        return "the screening models reject no line of " + str(landing_root)
    lines = [f"the screening models will reject {sum(row.count for row in rows)} lines:"]
    for row in rows:
        line = f"  {_file_name(row.landing_file, landing_root)}: {row.count} {row.reason}"
        if row.example is not None:
            example = row.example if len(row.example) <= 120 else row.example[:117] + "..."
            line += f", e.g. {example!r}"
        lines.append(line)
    return "\n".join(lines)


def main_check(landing_root: Path) -> int:
    """The --check command: 0 when it ran (whatever it found), 2 when it
    could not (no Java, no landing folder), 1 when dbt failed."""
    try:
        require_java()
    except JavaNotFoundError as error:
        LOG.error("%s", error)
        return 2
    if not any((landing_root / dataset).is_dir() for dataset in DATASETS):
        LOG.error("%s has none of the folders %s", landing_root, ", ".join(DATASETS))
        return 2
    try:
        rows = rejected_lines(landing_root)
    except dbt_invoke.DbtCommandError as error:
        LOG.error("%s (details in logs/dbt.log)", error)
        return 1
    print(report(rows, landing_root))
    return 0
