"""Run dbt commands in this process against the project's profiles.

Every dbt command run through here shares one embedded Spark session (and so
one Derby metastore), which saves a JVM start per command and respects
Derby's one-process limit.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from scripts.common.project_paths import PROFILES_DIR, PROJECT_DIR

__all__ = ["PROFILES_DIR", "PROJECT_DIR", "DbtCommandError", "configure_environment", "invoke"]
DEFAULT_SPARK_DIR = PROJECT_DIR / ".spark" / "local"

LOG = logging.getLogger("dbt_invoke")


class DbtCommandError(RuntimeError):
    """A dbt command did not succeed."""


# The lakehouse job's build. dbt Labs recommends running unit tests in
# development and CI only: their inputs are static, so a production run gains
# nothing from them. `make test` builds with them (and CI with it); the job
# and its benchmark build without.
PRODUCTION_BUILD = ("build", "--exclude-resource-type", "unit_test")

GIB = 1024**3


def driver_memory(total_bytes: int | None = None) -> str:
    """The local Spark driver's heap for a machine with ``total_bytes`` of
    memory (default: this one): a quarter of it, at least 1 GiB and at most
    2 GiB. The benchmark's scale-100 build peaks at 2.6-2.7 GiB for the whole
    process tree with a 2 GiB heap; a larger heap bought no speed, and a
    smaller machine needs room for Python and the OS beside the JVM."""
    if total_bytes is None:
        total_bytes = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    megabytes = min(max(total_bytes // 4, GIB), 2 * GIB) // 1024**2
    return f"{megabytes}m"


def configure_environment(spark_dir: Path = DEFAULT_SPARK_DIR) -> None:
    """Point dbt at the project's profiles and Spark at ``spark_dir``, size
    the driver heap from the machine's memory unless
    STEDI_SPARK_DRIVER_MEMORY says otherwise, and hand the driver's JVM the
    class archive (scripts/devtools/spark_class_archive.py makes it) when there is one, unless
    STEDI_SPARK_JAVA_OPTIONS says otherwise.

    Must run before the first dbt command of the process: the Spark session,
    and with it the warehouse and metastore location, is created once.
    """
    spark_dir = spark_dir.resolve()
    (spark_dir / "logs").mkdir(parents=True, exist_ok=True)
    os.environ["DBT_PROFILES_DIR"] = str(PROFILES_DIR)
    os.environ["STEDI_SPARK_DIR"] = str(spark_dir)
    os.environ.setdefault("STEDI_SPARK_DRIVER_MEMORY", driver_memory())
    if "STEDI_SPARK_JAVA_OPTIONS" not in os.environ:
        from scripts.common import spark_jvm_options

        os.environ["STEDI_SPARK_JAVA_OPTIONS"] = spark_jvm_options.java_options()
    # Spark finds profiles/spark-log4j2.properties relative to the working
    # directory; dbt itself wants the project directory too.
    os.chdir(PROJECT_DIR)


def project_vars() -> dict[str, Any]:
    """The vars of dbt_project.yml, as declared (their defaults)."""
    import yaml

    project = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    return dict(project["vars"])


def dbt_vars(values: Mapping[str, Any]) -> list[str]:
    """``--vars`` arguments for the given values (empty when there are none)."""
    return ["--vars", json.dumps(dict(values))] if values else []


def run(
    args: Sequence[str], target_path: Path | None = None, project_dir: Path = PROJECT_DIR
) -> Any:
    """Run one dbt command (e.g. ``["build"]``) in this project (or a copy
    of it at ``project_dir``) and return its result, failed or not."""
    from dbt.cli.main import dbtRunner  # imported late: slow, and only needed here

    full_args = [*args, "--project-dir", str(project_dir)]
    if target_path is not None:
        full_args += ["--target-path", str(target_path)]
    LOG.info("dbt %s", " ".join(args))
    return dbtRunner().invoke(full_args)


def invoke(args: Sequence[str], target_path: Path | None = None) -> Any:
    """Run one dbt command and return its result; raise DbtCommandError when
    it fails."""
    result = run(args, target_path)
    if not result.success:
        detail = f": {result.exception}" if result.exception else ""
        raise DbtCommandError(f"dbt {' '.join(args)} failed{detail}")
    return result


def show(sql: str, args: Sequence[str] = (), target_path: Path | None = None) -> Any:
    """Every row of an inline query (Jinja and macros allowed), run by
    `dbt show`, as an agate table; raise DbtCommandError when it fails."""
    result = invoke(["show", "--quiet", "--inline", sql, "--limit", "-1", *args], target_path)
    return result.result.results[0].agate_table
