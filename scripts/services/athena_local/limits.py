"""Athena's limits, as the stand-in enforces them: the query text's
bytes and the partitions one write may hold; or a test's stricter ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from scripts.services.trino_server import MAX_PARTITIONS_PER_WRITE

# Athena's limits, enforced as Athena enforces them (its service quotas and
# its SQL considerations):
# - a query's text is at most 262,144 bytes of UTF-8; StartQueryExecution
#   refuses a longer one;
MAX_QUERY_BYTES = 262_144
# - one CTAS or INSERT writes at most 100 partitions, and fails with
#   HIVE_TOO_MANY_OPEN_PARTITIONS above that. Trino's Hive connector has
#   the same limit per writer (hive.max-partitions-per-writers, 100 by
#   default); one writer per query, on this one node, makes it per query
#   (MAX_PARTITIONS_PER_WRITE, from trino_server).


@dataclass(frozen=True)
class AthenaLimits:
    """The limits the stand-in enforces: Athena's, or stricter ones that a
    test reaches with less data (the same refusals, on 11 dates instead of
    101). Never looser than Athena's."""

    query_bytes: int = MAX_QUERY_BYTES
    partitions_per_write: int = MAX_PARTITIONS_PER_WRITE

    def __post_init__(self) -> None:
        if not 0 < self.query_bytes <= MAX_QUERY_BYTES:
            raise ValueError(f"query_bytes must be 1 to {MAX_QUERY_BYTES}")
        if not 0 < self.partitions_per_write <= MAX_PARTITIONS_PER_WRITE:
            raise ValueError(f"partitions_per_write must be 1 to {MAX_PARTITIONS_PER_WRITE}")


ATHENAS_LIMITS = AthenaLimits()

# A write's session: one writer, never scaled out, so that the per-writer
# partition limit is the query's
WRITE_LIMITS_SESSION = {
    "task_min_writer_count": "1",
    "task_max_writer_count": "1",
    "scale_writers": "false",
    "task_scale_writers_enabled": "false",
}
