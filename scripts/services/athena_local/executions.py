"""A query execution as the service keeps it, and the query history that
keeps the finished ones across restarts (a JSON line each)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scripts.services.athena_local.translation import unquote_identifier
from scripts.services.trino_server import QueryResult


@dataclass
class Execution:
    query_id: str
    query: str
    database: str | None
    work_group: str
    output_location: str | None
    state: str = "QUEUED"
    reason: str | None = None
    submitted: float = field(default_factory=time.time)
    completed: float | None = None
    kind: str = "DML"  # Athena's StatementType
    subkind: str = "SELECT"  # and SubstatementType
    result: QueryResult | None = None
    trino_query_id: str | None = None  # once Trino has accepted the query
    access_key: str | None = None  # the caller's
    finished: threading.Event = field(default_factory=threading.Event)  # _run is done
    parameters: list[str] = field(default_factory=list)  # ExecutionParameters
    # the result as GetQueryResults pages it: Athena's ColumnInfo, and its
    # rows in Athena's text after the header row Athena writes first for a
    # query that returns rows; the very text of the result files. A query
    # of an earlier run (the history) has only its files, and
    # GetQueryResults reads them.
    columns: list[dict[str, Any]] = field(default_factory=list)
    rows: list[list[str | None]] = field(default_factory=list)
    update_count: int | None = None  # rows a CTAS, INSERT or UNLOAD wrote
    # what Athena reports: <location>/<id>.csv, .txt, or <id> for a write;
    # a write's manifest, <location>/<id>-manifest.csv, lists its files
    result_file: str | None = None
    manifest: str | None = None

    @property
    def schema(self) -> str | None:
        """The query's database as Trino names it: Athena takes the context's
        database quoted or not (awswrangler sends it in backticks)."""
        return unquote_identifier(self.database) if self.database else None


# what the history keeps of an execution: what GetQueryExecution reports
# and GetQueryResults reads (the caller's access key ID, no secret)
_KEPT = (
    "query_id",
    "query",
    "database",
    "work_group",
    "output_location",
    "state",
    "reason",
    "submitted",
    "completed",
    "kind",
    "subkind",
    "access_key",
    "parameters",
    "update_count",
    "result_file",
    "manifest",
)


def append_history(path: Path, execution: Execution) -> None:
    record = {name: getattr(execution, name) for name in _KEPT}
    if execution.result is not None:
        record["scanned"] = int(execution.result.stats.get("physicalInputBytes", 0))
    with path.open("a", encoding="utf-8") as history:
        history.write(json.dumps(record) + "\n")


def read_history(path: Path) -> dict[str, Execution]:
    """The finished queries of earlier runs (a line cut short by a crash
    is skipped: its query is forgotten, as a restart forgot them all before)."""
    executions: dict[str, Execution] = {}
    if not path.exists():
        return executions
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        scanned = record.pop("scanned", None)
        execution = Execution(**record)
        if scanned is not None:
            execution.result = QueryResult([], [], {"physicalInputBytes": scanned})
        execution.finished.set()
        executions[execution.query_id] = execution
    return executions


class AthenaRequestError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
