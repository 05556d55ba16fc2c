"""The Spark driver JVM's options, and the class archive they hand it.

A JVM class-data-sharing archive (dynamic CDS, JDK 13+) holds the ~15,000
classes embedded Spark loads, ready to map: a dbt command starts about 5 s
sooner with it. A JVM records one as it exits when started with
-XX:ArchiveClassesAtExit. The first `make run` records it during its own
build (scripts/run_lakehouse.py), so no run waits for a separate training
build; `make spark-archive` (scripts/devtools/spark_class_archive.py) makes
it by a small build of its own, for the tests.

An archive is recorded under a temporary name and renamed into place only
once its JVM has exited and a second JVM has mapped it, so a half-written
archive (which would crash the JVM) is never used.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import tempfile
import time
from pathlib import Path

from scripts.common.java_check import java_executable
from scripts.common.project_paths import PROJECT_DIR

LOG = logging.getLogger("spark_class_archive")
ARCHIVE_DIR = PROJECT_DIR / ".spark" / "jvm"
# The JVM reports an archive it cannot use (a different classpath) on
# standard output; off, so that no run's output changes because of it.
QUIET_CDS = "-Xlog:cds=off -Xlog:cds+dynamic=off"
# Dynamic archives (-XX:ArchiveClassesAtExit) came with JDK 13; Java 8 and
# 11, which Spark 3.5 also runs on, start Spark without one.
FIRST_JAVA_WITH_DYNAMIC_ARCHIVES = 13


def spark_jars() -> Path:
    """PySpark's jars: the driver JVM's classpath."""
    import pyspark

    return Path(pyspark.__file__).resolve().parent / "jars"


def archive_path() -> Path | None:
    """Where the archive for this Java and this PySpark lives (None without
    Java). The name changes with either, so an update gets a new archive
    rather than one the JVM would refuse."""
    java = java_executable()
    if java is None:
        return None
    import pyspark

    java_file = Path(java).resolve()
    identity = f"{java_file}:{java_file.stat().st_mtime_ns}:{pyspark.__version__}:{spark_jars()}"
    digest = hashlib.sha256(identity.encode()).hexdigest()[:16]
    return ARCHIVE_DIR / f"spark-{pyspark.__version__}-{digest}.jsa"


def java_options() -> str:
    """JVM options for the Spark driver: the archive when there is one."""
    path = archive_path()
    if path is None or not path.is_file():
        return ""
    return f"-XX:SharedArchiveFile={path} {QUIET_CDS}"


def recording_options(dump_to: Path) -> str:
    """JVM options that write the classes the JVM loaded to ``dump_to`` as it exits."""
    return f"-XX:ArchiveClassesAtExit={dump_to} {QUIET_CDS}"


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


def stop_driver_jvm(timeout: float = 600) -> bool:
    """Stop this process's Spark driver JVM and wait until it has exited (and
    so written any archive it records); False when no JVM was started. It
    exits when its standard input closes (PySpark's gateway protocol)."""
    from pyspark import SparkContext

    gateway = SparkContext._gateway
    if gateway is None:
        return False
    gateway.shutdown()
    gateway.proc.stdin.close()
    gateway.proc.wait(timeout=timeout)
    SparkContext._gateway = None
    return True


def install_recorded(dump_to: Path, path: Path) -> str:
    """Move the archive a JVM recorded at ``dump_to`` into place at ``path``
    if a JVM can map it; return what was wrong, or "" when it was installed.
    ``dump_to`` is gone afterwards either way."""
    try:
        if not dump_to.is_file():
            return "the JVM wrote no archive"
        if not is_usable(dump_to):
            return "the JVM cannot map the archive it wrote"
        dump_to.replace(path)
    finally:
        dump_to.unlink(missing_ok=True)
    for stale in path.parent.glob("spark-*.jsa"):
        if stale != path:
            stale.unlink()  # made for a Java or PySpark no longer installed
    return ""


class ArchiveRecording:
    """The class archive recorded by this process's own Spark driver, when
    there is none yet: ``start`` before the first dbt command, ``finish``
    after the last (it stops the JVM). Does nothing when an archive exists,
    there is no Java or one older than 13, or STEDI_SPARK_JAVA_OPTIONS
    chooses the options. Never fails the run: without an archive, Spark
    starts as usual."""

    def __init__(self) -> None:
        self.path: Path | None = None
        self.dump_to: Path | None = None

    def start(self, java_major: int) -> None:
        if "STEDI_SPARK_JAVA_OPTIONS" in os.environ:
            return
        if java_major < FIRST_JAVA_WITH_DYNAMIC_ARCHIVES:
            return
        path = archive_path()
        if path is None or path.is_file():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.dump_to = path, path.with_name(f"{path.name}.{os.getpid()}.tmp")
        os.environ["STEDI_SPARK_JAVA_OPTIONS"] = recording_options(self.dump_to)

    def finish(self) -> None:
        if self.path is None or self.dump_to is None:
            return
        started = time.monotonic()
        try:
            stopped = stop_driver_jvm()
            problem = (
                install_recorded(self.dump_to, self.path) if stopped else "Spark never started"
            )
        except (OSError, subprocess.SubprocessError) as error:
            problem = f"{type(error).__name__}: {error}"
        finally:
            self.dump_to.unlink(missing_ok=True)
        if problem:
            LOG.warning("no class archive (later runs start Spark without it): %s", problem)
        else:
            LOG.info(
                "recorded the JVM class archive for later runs in %.0f s: %s",
                time.monotonic() - started,
                self.path,
            )
