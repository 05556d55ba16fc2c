"""`run_started_at` for linting with sqlfluff's jinja templater: dbt's is the
datetime at which the run started; lint needs only a fixed one."""

from __future__ import annotations

from datetime import datetime, timezone

_STARTED = datetime.fromtimestamp(1_700_000_000, tz=timezone.utc)
microsecond = _STARTED.microsecond


def timestamp() -> float:
    return _STARTED.timestamp()


def strftime(format_string: str) -> str:
    return _STARTED.strftime(format_string)
