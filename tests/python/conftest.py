"""Shared fixtures: an embedded Spark lakehouse built from the fixture data.

dbt runs in this process (scripts.common.dbt_invoke), so every build and query
shares one Spark session whose warehouse and Derby metastore live in a
temporary folder of the test session, apart from the user's .spark/local.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from scripts.common import dbt_invoke
from scripts.common.java_check import require_java
from tests.python.lakehouse import Lakehouse

# PySpark turns timestamps into Python datetimes in the local time zone;
# comparisons with other engines want UTC whatever the machine's zone.
os.environ["TZ"] = "UTC"
time.tzset()
# The tests' local Trino keeps the modest 1 GiB heap the fixture build needs,
# not the share of the machine `make run-athena-local` gives it (a test may
# still pass its own).
os.environ.setdefault("STEDI_TRINO_MEMORY", "1G")
# Its JIT and collector for many builds of small data: C1 alone and the
# parallel collector cost Trino 45% less CPU over three fixture builds
# (scripts/services/trino_server.py jvm_options).
os.environ.setdefault("STEDI_TRINO_JVM_OPTIONS", "-XX:TieredStopAtLevel=1 -XX:+UseParallelGC")


@pytest.fixture(scope="session")
def lakehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lakehouse]:
    require_java()
    work = tmp_path_factory.mktemp("lakehouse")
    dbt_invoke.configure_environment(work / "spark")
    yield Lakehouse(target_path=work / "target")


# The test files that take longest, longest first (make pytest's times on
# two workers, docs/development.md). Each xdist worker takes the next file
# when it is done with one: the long files start first, and the two
# workers end close together instead of one waiting on a long file picked
# up last. Every other file keeps its place after them.
LONGEST_FILES = (
    "test_athena_target.py",
    "test_athena_limits.py",
    "test_incremental.py",
    "test_pull_request_workflow.py",
    "test_spark_thrift_target.py",
    "test_trino_memory.py",
    "test_load_landing.py",
    "test_dbt_build.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return LONGEST_FILES.index(name) if name in LONGEST_FILES else len(LONGEST_FILES)

    items.sort(key=rank)  # stable: each file's tests keep their order
