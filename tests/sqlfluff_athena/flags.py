"""dbt's `flags` for linting with sqlfluff's jinja templater: lint renders
the full build's SQL, like the offline `dbt compile --no-introspect`, so the
project's is_incremental_with_state() is false and no hook acts."""

from __future__ import annotations

INTROSPECT = False
WHICH = "compile"
