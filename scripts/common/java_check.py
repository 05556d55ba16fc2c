"""Check that a Java runtime that Spark 3.5 supports is installed.

PySpark starts a JVM; without a suitable Java it fails deep inside with a
Py4J error. This check fails first, with a message that says what to do.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

SUPPORTED_MAJOR_VERSIONS = (17, 11, 8)
INSTALL_HINT = (
    "Install Java 17, e.g. `sudo apt-get install -y openjdk-17-jre-headless` "
    "(Debian/Ubuntu) or `brew install openjdk@17` (macOS), or point JAVA_HOME "
    "at an existing Java 17."
)


class JavaNotFoundError(RuntimeError):
    """No usable Java runtime."""


def java_executable() -> str | None:
    """The java that PySpark will start: $JAVA_HOME/bin/java, else the PATH's."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        candidate = Path(java_home) / "bin" / "java"
        return str(candidate) if candidate.exists() else None
    return shutil.which("java")


def parse_major_version(version_output: str) -> int | None:
    """Major version from `java -version` output ('1.8.0_392' -> 8, '17.0.15' -> 17)."""
    match = re.search(r'version "(\d+)(?:\.(\d+))?', version_output)
    if not match:
        return None
    major = int(match.group(1))
    if major == 1 and match.group(2):
        return int(match.group(2))
    return major


def require_java() -> int:
    """Return the Java major version, or raise JavaNotFoundError explaining the fix."""
    java = java_executable()
    if java is None:
        where = "JAVA_HOME/bin/java" if os.environ.get("JAVA_HOME") else "java on the PATH"
        raise JavaNotFoundError(f"Spark needs Java 17, but there is no {where}. {INSTALL_HINT}")
    completed = subprocess.run(
        [java, "-version"], capture_output=True, text=True, check=False, timeout=60
    )
    major = parse_major_version(completed.stderr + completed.stdout)
    if major not in SUPPORTED_MAJOR_VERSIONS:
        found = f"Java {major}" if major else "a Java whose version could not be read"
        raise JavaNotFoundError(
            f"Spark 3.5 runs on Java 17 (or 11, 8); {java} is {found}. {INSTALL_HINT}"
        )
    return major


def main() -> int:
    try:
        major = require_java()
    except JavaNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"java: {major} ({java_executable()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
