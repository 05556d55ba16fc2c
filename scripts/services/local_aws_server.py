"""moto's AWS server with the Glue calls that Trino's Glue metastore makes
and moto lacks: the column-statistics operations.

Trino's Hive connector reads and writes column statistics in Glue on every
CREATE TABLE, CTAS and INSERT (even with statistics collection off, it
clears them). moto 5.2 answers those operations with a 500, so the local
Athena stand-in (scripts/services/athena_local.py) runs moto through this launcher:
each statistics call succeeds and keeps nothing, as for a table whose
statistics were never computed. Everything else is moto's.

Usage: python -m scripts.services.local_aws_server -H 127.0.0.1 -p PORT
"""

from __future__ import annotations

import json
import sys

from moto.glue.responses import GlueResponse


def _no_statistics(self: GlueResponse) -> str:
    """Get*ColumnStatistics*: none known, none missing."""
    return json.dumps({"ColumnStatisticsList": [], "Errors": []})


def _nothing_to_report(self: GlueResponse) -> str:
    """Update*/Delete*ColumnStatistics*: accepted, nothing kept."""
    return json.dumps({"Errors": []})


for _scope in ("table", "partition"):
    setattr(GlueResponse, f"get_column_statistics_for_{_scope}", _no_statistics)
    setattr(GlueResponse, f"update_column_statistics_for_{_scope}", _nothing_to_report)
    setattr(GlueResponse, f"delete_column_statistics_for_{_scope}", _nothing_to_report)


def main() -> None:
    from moto.server import main as moto_main

    moto_main(sys.argv[1:])


if __name__ == "__main__":
    main()
