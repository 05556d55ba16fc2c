"""Create the embedded Spark driver's JVM class archive by a build of its own.

`make spark-archive` (which `make test` runs) creates it once per Java and
PySpark install, under .spark/jvm/, by running a small dbt build on generated
data in a JVM that records the classes it loaded as it exits. The first
`make run` records the same archive during its own build instead
(scripts/common/spark_jvm_options.py says how it is used and kept whole).
With it a dbt command starts about 5 s sooner (measured on a one-model
`dbt run`: 25.2 s without, 19.7 s with); without it, or with one the JVM
cannot use, Spark starts as usual, only slower.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from scripts.common import spark_jvm_options
from scripts.common.cli_logging import configure_logging
from scripts.common.java_check import JavaNotFoundError, require_java
from scripts.common.project_paths import PROJECT_DIR

LOG = logging.getLogger("spark_class_archive")

# Enough data for every model to run; generated, so no fixture is needed.
TRAINING_SCALE = 0.02


def train(dump_to: Path, work: Path) -> None:
    """Run a dbt build on generated data in a JVM that writes the classes it
    loaded to ``dump_to`` as it exits, and wait for that exit. Runs in its
    own process (``create`` starts it): Spark starts one JVM per process."""
    from scripts.common import dbt_invoke
    from scripts.generate_landing import GeneratorConfig, generate

    os.environ["STEDI_SPARK_JAVA_OPTIONS"] = spark_jvm_options.recording_options(dump_to)
    landing = work / "landing"
    generate(GeneratorConfig(out=landing, scale=TRAINING_SCALE, seed=1))
    dbt_invoke.configure_environment(spark_dir=work / "spark")
    # Seeds and models: the data tests' queries need no other classes.
    args = [
        *dbt_invoke.PRODUCTION_BUILD,
        "--exclude-resource-type",
        "test",
        *dbt_invoke.dbt_vars({"landing_root": str(landing)}),
        "--log-path",
        str(work / "logs"),
    ]
    dbt_invoke.invoke(args, target_path=work / "target")
    if not spark_jvm_options.stop_driver_jvm():
        raise RuntimeError("dbt ran without starting Spark")


def create(force: bool = False) -> Path | None:
    """Create the archive unless it exists; return its path, or None when
    there is none (no Java, or the JVM could not write a usable one)."""
    try:
        java_major = require_java()
    except JavaNotFoundError as error:
        LOG.warning("no class archive (Spark starts without it): %s", error)
        return None
    path = spark_jvm_options.archive_path()
    if path is None or java_major < spark_jvm_options.FIRST_JAVA_WITH_DYNAMIC_ARCHIVES:
        LOG.info("Java %d makes no class archive: Spark starts without one", java_major)
        return None
    if path.is_file() and not force:
        LOG.info("class archive present: %s", path.relative_to(PROJECT_DIR))
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    LOG.info("creating the JVM class archive for embedded Spark (once, about a minute)")
    with tempfile.TemporaryDirectory(prefix="stedi-class-archive-") as work_dir:
        work = Path(work_dir)
        dump_to = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        try:
            completed = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    "import sys; from pathlib import Path; "
                    "from scripts.devtools.spark_class_archive import train; "
                    "train(Path(sys.argv[1]), Path(sys.argv[2]))",
                    str(dump_to),
                    str(work),
                ],
                cwd=PROJECT_DIR,
                capture_output=True,
                text=True,
                check=False,
                timeout=1200,
            )
            if completed.returncode != 0:
                problem = f"the training build failed:\n{completed.stderr[-3000:]}"
            else:
                problem = spark_jvm_options.install_recorded(dump_to, path)
            if problem:
                LOG.warning("no class archive (Spark starts without it): %s", problem)
                return None
        finally:
            dump_to.unlink(missing_ok=True)
    LOG.info(
        "class archive created in %.0f s: %s",
        time.monotonic() - started,
        path.relative_to(PROJECT_DIR),
    )
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.devtools.spark_class_archive",
        description=(
            "Create, once per Java and PySpark install, the JVM class archive that "
            "makes embedded Spark start about 5 s sooner (under .spark/jvm/). "
            "Never fails the caller: without an archive Spark starts as usual."
        ),
    )
    parser.add_argument("--force", action="store_true", help="recreate it even if it exists")
    args = parser.parse_args(argv)
    configure_logging()
    create(force=args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
