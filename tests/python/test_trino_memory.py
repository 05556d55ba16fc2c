"""The local Trino's memory: sized to the machine by default, and a query
that outgrows its memory spills to disk instead of failing.

The spill tests build the fixture landing zone on the athena target with a
tiny per-query memory limit. Without spilling, at 512 kB, the build fails
with EXCEEDED_LOCAL_MEMORY_LIMIT: its heaviest query peaks at 1.06 MB. With
spilling, forced at any use of memory, at 2 MB, the build is green and
Trino reports spilled bytes, the heaviest model's among them. One limit for
both was tried and does not hold: at 1 MB the spilling build failed once in
three runs (revoking memory is asynchronous, and the merge that reads a
spilled aggregation back overshot it) and the build without spilling passed
once under load.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from scripts.load_landing import LoadOptions, load
from scripts.run_athena_local import LocalAthena, dbt, local_athena
from scripts.services import trino_server
from scripts.services.athena_local import service as athena_service
from scripts.services.trino_server import (
    GIB,
    MIB,
    AwsEndpoint,
    QueryResult,
    TrinoSetupError,
    memory_bytes,
    trino_memory,
    write_configuration,
)
from tests.python.lakehouse import FIXTURE_LANDING

pytestmark = [pytest.mark.spark, pytest.mark.trino, pytest.mark.aws]

SPILLING_QUERY_MEMORY = "2MB"
NOT_SPILLING_QUERY_MEMORY = "512kB"


@pytest.mark.parametrize(
    ("total", "heap"),
    [
        (1 * GIB, "1024M"),  # never below 1 GiB
        (8 * GIB, f"{int(8 * GIB * 0.4) // MIB}M"),  # 40% of the machine
        (24 * GIB, f"{int(24 * GIB * 0.4) // MIB}M"),  # this machine: 9.6 GiB
        (64 * GIB, "16384M"),  # never above 16 GiB
    ],
)
def test_trino_takes_40_percent_of_memory_within_floor_and_cap(
    total: int, heap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STEDI_TRINO_MEMORY", raising=False)
    assert trino_memory(total_bytes=total) == heap


def test_an_option_or_the_environment_overrides_the_share(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEDI_TRINO_MEMORY", "6G")
    assert trino_memory(total_bytes=64 * GIB) == "6144M"
    assert trino_memory("1536m", total_bytes=64 * GIB) == "1536M"  # the option comes first
    monkeypatch.delenv("STEDI_TRINO_MEMORY")
    assert trino_memory("20GB", total_bytes=2 * GIB) == "20480M"  # no cap on a choice
    for wrong in ("6", "lots", "256M"):
        with pytest.raises(TrinoSetupError):
            trino_memory(wrong)


def test_this_machine_gets_a_share_within_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STEDI_TRINO_MEMORY", raising=False)
    assert GIB <= memory_bytes(trino_memory()) <= 16 * GIB


def test_jvm_options_from_the_environment_come_last_and_may_replace_g1(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """(Every Trino of the tests starts with conftest.py's options.)"""
    monkeypatch.delenv("STEDI_TRINO_JVM_OPTIONS", raising=False)
    default = trino_server.jvm_options("1G")
    assert "-Xmx1G" in default and "-XX:+UseG1GC" in default
    monkeypatch.setenv("STEDI_TRINO_JVM_OPTIONS", "-XX:TieredStopAtLevel=1 -XX:+UseParallelGC")
    chosen = trino_server.jvm_options("1G")
    assert "-XX:+UseG1GC" not in chosen  # the JVM refuses two collectors
    assert chosen[-2:] == ["-XX:TieredStopAtLevel=1", "-XX:+UseParallelGC"]
    monkeypatch.setenv("STEDI_TRINO_JVM_OPTIONS", "-XX:TieredStopAtLevel=1")
    assert "-XX:+UseG1GC" in trino_server.jvm_options("1G")


def test_trino_spills_into_its_work_folder_and_a_query_gets_half_the_heap(tmp_path: Path) -> None:
    spill = tmp_path / "trino-spill"
    spill.mkdir()
    write_configuration(
        tmp_path / "etc", tmp_path / "data", 8080, AwsEndpoint("http://x"), "6144M", spill
    )
    lines = (tmp_path / "etc" / "config.properties").read_text(encoding="utf-8").splitlines()
    config = dict(line.split("=", 1) for line in lines)
    assert config["query.max-memory-per-node"] == "3072MB"
    assert config["spill-enabled"] == "true"
    assert config["spiller-spill-path"] == str(spill)
    disk = shutil.disk_usage(spill)
    half_free = disk.free / 2
    spill_most = int(config["query-max-spill-per-node"].removesuffix("MB")) * MIB
    assert spill_most == pytest.approx(half_free, rel=0.01)
    # Spilling stops where half the free space is left, not at Trino's 90%.
    threshold = float(config["spiller-max-used-space-threshold"])
    assert threshold == pytest.approx(1 - half_free / disk.total, abs=0.01)
    jvm = (tmp_path / "etc" / "jvm.config").read_text(encoding="utf-8")
    assert "-Xmx6144M" in jvm


class SpillProbe:
    """The stand-in's Trino queries with session properties added, and what
    Trino reported for each: its spilled bytes, or its error."""

    def __init__(self, query: Callable[..., QueryResult]) -> None:
        self.query = query
        self.session: dict[str, str] = {}
        self.spilled: dict[str, int] = {}
        self.errors: list[str] = []

    def __call__(
        self, url: str, sql: str, session: dict[str, str] | None = None, **kwargs: Any
    ) -> QueryResult:
        try:
            result = self.query(url, sql, session={**(session or {}), **self.session}, **kwargs)
        except trino_server.TrinoQueryError as error:
            self.errors.append(str(error))
            raise
        self.spilled[" ".join(sql.split())[:100]] = int(result.stats.get("spilledBytes", 0))
        return result


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalAthena, Path]]:
    """One local Athena, 1 GiB heap, the fixture landing zone loaded. Trino
    spills only when its node's memory pool is nearly full (90% by default),
    which the fixture data never fills: this one spills at any use."""
    work = tmp_path_factory.mktemp("spill")
    revoke_at_once = {"memory-revoking-threshold": "0", "memory-revoking-target": "0"}
    with local_athena(work, heap="1G", trino_properties=revoke_at_once) as local:
        load(FIXTURE_LANDING, local.target(), LoadOptions(bucket=local.bucket))
        yield local, work


def build(loaded: tuple[LocalAthena, Path], probe: SpillProbe, spill: bool) -> int:
    local, work = loaded
    probe.session = {
        "query_max_memory_per_node": SPILLING_QUERY_MEMORY if spill else NOT_SPILLING_QUERY_MEMORY,
        # reading a spilled aggregation back merges up to 4 MB by default
        "aggregation_operator_unspill_memory_limit": "64kB",
        "spill_enabled": str(spill).lower(),
    }
    probe.spilled.clear()
    probe.errors.clear()
    variables = {"landing_root": f"s3://{local.bucket}/landing", "enforce_consent_date": True}
    arguments = ("build", "--full-refresh", "--exclude-resource-type", "unit_test")
    return dbt(local, *arguments, work=work, variables=variables).returncode


@pytest.fixture
def probe(monkeypatch: pytest.MonkeyPatch) -> SpillProbe:
    probe = SpillProbe(athena_service.query)
    monkeypatch.setattr(athena_service, "query", probe)
    return probe


def test_with_a_tiny_query_memory_the_build_spills_to_disk_and_passes(
    loaded: tuple[LocalAthena, Path], probe: SpillProbe
) -> None:
    assert build(loaded, probe, spill=True) == 0, probe.errors
    assert sum(probe.spilled.values()) > 0
    # the heaviest model: the window that dedupes and ranks the readings
    model = 'create table "awsdatacatalog"."stedi_landing"."accelerometer_screened"'
    spilled = [bytes_ for sql, bytes_ in probe.spilled.items() if sql.startswith(model)]
    assert max(spilled, default=0) > 0, probe.spilled


def test_without_spilling_the_same_build_exceeds_the_memory_limit(
    loaded: tuple[LocalAthena, Path], probe: SpillProbe
) -> None:
    assert build(loaded, probe, spill=False) != 0
    assert any("EXCEEDED_LOCAL_MEMORY_LIMIT" in error for error in probe.errors), probe.errors
    assert sum(probe.spilled.values()) == 0
