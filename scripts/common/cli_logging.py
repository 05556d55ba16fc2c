"""The one logging set-up every command-line tool of the project uses.

One format everywhere, so that a run's log reads the same whichever tool
wrote it; the AWS, HTTP and py4j libraries speak at warning level only,
because at info they log every request or connection (and at debug, request
headers: never a secret in a log).
"""

from __future__ import annotations

import logging

FORMAT = "%(asctime)s %(name)s: %(message)s"
# Libraries whose info and debug lines are per request, not per step.
# py4j (PySpark's bridge to the JVM) logs every connection it closes.
QUIET_LIBRARIES = ("botocore", "boto3", "s3transfer", "urllib3", "pyhive", "py4j")


def configure_logging(verbose: bool = False) -> None:
    """Log the project's steps at info (debug when ``verbose``) to stderr."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format=FORMAT)
    for library in QUIET_LIBRARIES:
        logging.getLogger(library).setLevel(logging.WARNING)
