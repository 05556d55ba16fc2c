"""s3:// for the embedded Spark: the hadoop-aws jars, and the settings that
point them at an S3 API server.

`python -m scripts.devtools.spark_s3 install` (what `make spark-s3` runs) downloads
hadoop-aws 3.3.4, the release of PySpark 3.5's own Hadoop client, and the
AWS SDK bundle it was built against from Maven Central into `.cache/jars/`
(git-ignored), each checked against a pinned SHA-256; a second run does
nothing. `spark_s3_environment(...)` gives the environment variables with
which the local target's Spark (profiles/profiles.yml) loads them and reads
`s3://` and `s3a://` through S3A: at an endpoint such as the local S3
server (path-style), credentials from the standard AWS chain.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from scripts.common.cli_logging import configure_logging
from scripts.common.pinned_download import DownloadError, download
from scripts.common.project_paths import PROJECT_DIR

LOG = logging.getLogger("spark_s3")
CACHE_DIR = PROJECT_DIR / ".cache" / "jars"
MAVEN = "https://repo1.maven.org/maven2"
# PySpark 3.5 ships Hadoop 3.3.4 (pyspark/jars/hadoop-client-api-3.3.4.jar);
# hadoop-aws must be that release, with the SDK bundle its POM names.
JARS = {
    "hadoop-aws-3.3.4.jar": (
        f"{MAVEN}/org/apache/hadoop/hadoop-aws/3.3.4/hadoop-aws-3.3.4.jar",
        "53f9ae03c681a30a50aa17524bd9790ab596b28481858e54efd989a826ed3a4a",
    ),
    "aws-java-sdk-bundle-1.12.262.jar": (
        f"{MAVEN}/com/amazonaws/aws-java-sdk-bundle/1.12.262/aws-java-sdk-bundle-1.12.262.jar",
        "873fe7cf495126619997bec21c44de5d992544aea7e632fdc77adb1a0915bae5",
    ),
}


class SparkS3SetupError(RuntimeError):
    """The jars cannot be installed (one line for the user)."""


def _download(url: str, sha256: str, destination: Path) -> None:
    try:
        download(url, sha256, destination)
    except DownloadError as error:
        raise SparkS3SetupError(str(error)) from None


def install(cache: Path = CACHE_DIR) -> list[Path]:
    """The jars' paths, downloaded and verified if needed."""
    cache.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, (url, sha256) in JARS.items():
        if not (cache / name).exists():
            _download(url, sha256, cache / name)
        paths.append(cache / name)
    return paths


def spark_s3_environment(endpoint: str | None = None, path_style: bool = False) -> dict[str, str]:
    """The variables with which the local target's Spark reads s3:// (jars
    installed first if needed); ``endpoint``: an S3 API server other than
    AWS's, e.g. the local one (which wants path-style requests)."""
    env = {"STEDI_SPARK_JARS": ",".join(str(path) for path in install())}
    if endpoint:
        env["STEDI_SPARK_S3_ENDPOINT"] = endpoint
    if path_style:
        env["STEDI_SPARK_S3_PATH_STYLE"] = "true"
    return env


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.devtools.spark_s3",
        description=__doc__.split("\n\n")[0],
        epilog="Example: python -m scripts.devtools.spark_s3 install",
    )
    parser.add_argument("command", choices=["install"], help="install: download and verify")
    args = parser.parse_args(argv)
    configure_logging()
    try:
        if args.command == "install":
            for path in install():
                LOG.info("%s", path)
    except SparkS3SetupError as error:
        LOG.error("%s", error)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
