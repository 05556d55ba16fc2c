"""A class-data-sharing archive for the embedded Spark driver's JVM.

Starting embedded Spark loads some 15,000 classes from Spark's jars, and the
JVM verifies and links each of them: a large part of the ~25 s a small dbt
command takes. A JVM class-data-sharing archive (JDK 13+, dynamic CDS) holds
those classes ready to map; with it a dbt command starts about 5 s sooner
(measured on a one-model `dbt run`: 25.2 s without, 19.7 s with).

`make run` and `make test` create the archive once per Java and PySpark
install, under .spark/jvm/, by running a small dbt build on generated data in
a JVM that writes the classes it loaded as it exits. scripts/dbt_invoke.py
passes it to Spark through STEDI_SPARK_JAVA_OPTIONS (profiles.yml). Without
an archive, or with one the JVM cannot use (a different classpath), Spark
starts as usual, only slower: the JVM's CDS messages are switched off.

The archive is written under a temporary name and only renamed into place
once the JVM has exited and a second JVM has mapped it, so a half-written
archive (which would crash the JVM) is never used.
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

from scripts.java_check import java_executable
from scripts.project_paths import PROJECT_DIR
from scripts.spark_jvm_options import QUIET_CDS, archive_path, spark_jars

LOG = logging.getLogger("spark_class_archive")

# Enough data for every model to run; generated, so no fixture is needed.
TRAINING_SCALE = 0.02


def is_usable(archive: Path) -> bool:
    """Whether a JVM on Spark's classpath maps ``archive``: -Xshare:on makes
    it fail, rather than go on without, when it cannot (a truncated archive
    makes it abort)."""
    java = java_executable()
    if java is None:
        return False
    # An aborting JVM writes its crash report into its working directory.
    with tempfile.TemporaryDirectory(prefix="stedi-class-archive-check-") as scratch:
        completed = subprocess.run(
            [
                java,
                f"-XX:SharedArchiveFile={archive.resolve()}",
                "-Xshare:on",
                "-cp",
                f"{spark_jars()}/*",
                "-version",
            ],
            cwd=scratch,
            capture_output=True,
            check=False,
            timeout=120,
        )
    return completed.returncode == 0


def train(dump_to: Path, work: Path) -> None:
    """Run a dbt build on generated data in a JVM that writes the classes it
    loaded to ``dump_to`` as it exits, and wait for that exit. Runs in its
    own process (``create`` starts it): Spark starts one JVM per process."""
    from scripts import dbt_invoke
    from scripts.generate_landing import GeneratorConfig, generate

    os.environ["STEDI_SPARK_JAVA_OPTIONS"] = f"-XX:ArchiveClassesAtExit={dump_to} {QUIET_CDS}"
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

    from pyspark import SparkContext

    # The JVM writes the archive as it exits, and it exits when its standard
    # input closes (PySpark's gateway protocol); wait for that here.
    gateway = SparkContext._gateway
    if gateway is None:
        raise RuntimeError("dbt ran without starting Spark")
    gateway.shutdown()
    gateway.proc.stdin.close()
    gateway.proc.wait(timeout=600)


def create(force: bool = False) -> Path | None:
    """Create the archive unless it exists; return its path, or None when
    there is none (no Java, or the JVM could not write a usable one)."""
    path = archive_path()
    if path is None:
        LOG.warning("no Java found: no class archive (Spark starts without it)")
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
                    "from scripts.spark_class_archive import train; "
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
            elif not dump_to.is_file():
                problem = "the JVM wrote no archive"
            elif not is_usable(dump_to):
                problem = "the JVM cannot map the archive it wrote"
            else:
                problem = ""
            if problem:
                LOG.warning("no class archive (Spark starts without it): %s", problem)
                return None
            dump_to.replace(path)
        finally:
            dump_to.unlink(missing_ok=True)
    LOG.info(
        "class archive created in %.0f s: %s",
        time.monotonic() - started,
        path.relative_to(PROJECT_DIR),
    )
    for stale in path.parent.glob("spark-*.jsa"):
        if stale != path:
            stale.unlink()  # made for a Java or PySpark no longer installed
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.spark_class_archive",
        description=(
            "Create, once per Java and PySpark install, the JVM class archive that "
            "makes embedded Spark start about 5 s sooner (under .spark/jvm/). "
            "Never fails the caller: without an archive Spark starts as usual."
        ),
    )
    parser.add_argument("--force", action="store_true", help="recreate it even if it exists")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    create(force=args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
