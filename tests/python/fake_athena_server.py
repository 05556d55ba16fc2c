"""moto's AWS server with the Glue-catalog side effects of Athena DDL.

moto's Athena accepts queries but runs none, so a view or table that dbt
creates through Athena never appears in moto's Glue catalog, and dbt-athena,
which reads Glue right after (e.g. GetTableVersions after a view), fails.
This launcher gives moto's StartQueryExecution what real Athena does to the
catalog, in the server process: CREATE [OR REPLACE] VIEW, CREATE TABLE AS and
CREATE EXTERNAL TABLE register the table in Glue, DROP TABLE/VIEW removes it.
The client side (dbt-athena, PyAthena, boto3) is untouched and talks HTTP.

Usage: python -m tests.python.fake_athena_server -H 127.0.0.1 -p PORT
"""

from __future__ import annotations

import contextlib
import sys
from typing import Any

import sqlglot
from moto.athena.models import AthenaBackend
from moto.glue.exceptions import EntityNotFoundException
from moto.glue.models import glue_backends
from sqlglot import exp


def _location(statement: exp.Expression) -> str | None:
    for prop in statement.find_all(exp.LocationProperty):
        return prop.this.name
    for prop in statement.find_all(exp.Property):
        if prop.name.lower() == "external_location":
            return prop.args["value"].name
    return None


def apply_catalog_effects(glue: Any, query: str) -> None:
    """Mirror in ``glue`` what Athena's DDL ``query`` does to the catalog."""
    try:
        statement = sqlglot.parse_one(query, read="athena")
    except sqlglot.errors.ParseError:
        return  # the test suite reports parse errors; nothing to apply
    table = statement.find(exp.Table)
    if table is None or not table.db:
        return
    database, name = table.db.lower(), table.name.lower()
    kind = str(statement.args.get("kind") or "").upper()
    if isinstance(statement, exp.Create) and kind in {"VIEW", "TABLE"}:
        try:
            glue.get_database(database)
        except EntityNotFoundException:
            glue.create_database(database, {"Name": database})
        table_input = {
            "Name": name,
            "TableType": "VIRTUAL_VIEW" if kind == "VIEW" else "EXTERNAL_TABLE",
            "StorageDescriptor": {"Location": _location(statement) or "", "Columns": []},
            "Parameters": {},
        }
        if kind == "VIEW":
            table_input["ViewOriginalText"] = query
        try:
            glue.get_table(database, name)
            glue.update_table(database, name, table_input)
        except EntityNotFoundException:
            glue.create_table(database, name, table_input)
    elif isinstance(statement, exp.Drop) and kind in {"VIEW", "TABLE"}:
        with contextlib.suppress(EntityNotFoundException):
            glue.delete_table(database, name)


_start_query_execution = AthenaBackend.start_query_execution


def start_query_execution(self: AthenaBackend, query: str, *args: Any, **kwargs: Any) -> str:
    execution_id = _start_query_execution(self, query, *args, **kwargs)
    apply_catalog_effects(glue_backends[self.account_id][self.region_name], query)
    return execution_id


AthenaBackend.start_query_execution = start_query_execution  # type: ignore[method-assign]


def main() -> None:
    from moto.server import main as moto_main

    moto_main(sys.argv[1:])


if __name__ == "__main__":
    main()
