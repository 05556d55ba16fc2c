"""The Spark driver JVM's options: the class archive when there is one.

scripts/spark_class_archive.py creates the archive; this module only finds
it, so that dbt_invoke can hand it to every Spark start without importing
the archive's builder (which runs dbt itself).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from scripts.java_check import java_executable
from scripts.project_paths import PROJECT_DIR

ARCHIVE_DIR = PROJECT_DIR / ".spark" / "jvm"
# The JVM reports an archive it cannot use (a different classpath) on
# standard output; off, so that no run's output changes because of it.
QUIET_CDS = "-Xlog:cds=off -Xlog:cds+dynamic=off"


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
