"""The ML team's Athena clients, as a notebook calls them: awswrangler and
pyathena, with their defaults, against the local Athena.

Each reader returns a table's rows as plain Python values (``plain``), so
that the tests compare them with Spark's rows as they compare Trino's.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

WORK_GROUP = "stedi-ml"  # the consumer's (deploy/ml-consumer-policy.json)
DATABASE = "stedi_curated"


def plain(value: Any) -> Any:
    """A value as a client returns it (pandas, numpy, pyarrow) as Python's."""
    import pandas as pd

    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, (str, bytes, datetime, date)):
        return value.item()  # a numpy scalar
    return value


def frame_rows(frame: Any, columns: list[str], dates: set[str]) -> list[tuple[Any, ...]]:
    """A pandas DataFrame's rows, in ``columns``' order. A client may give
    a date column as pandas timestamps (pyathena's pandas cursor parses
    dates so): ``dates`` are made dates again."""
    selected = frame[columns].astype(object)
    rows = []
    for row in selected.itertuples(index=False):
        values = [plain(value) for value in row]
        for index, column in enumerate(columns):
            if column in dates and isinstance(values[index], datetime):
                values[index] = values[index].date()
        rows.append(tuple(values))
    return rows


def awswrangler_readers(results: str) -> dict[str, Callable[[str], Any]]:
    """awswrangler's reads of a table by name: a DataFrame each.
    ``results``: the consumer's results location (UNLOAD writes there)."""
    import awswrangler as wr

    # a local query takes well under the second awswrangler waits between polls
    wr.config.athena_query_wait_polling_delay = 0.1

    def query(table: str, **options: Any) -> Any:
        return wr.athena.read_sql_query(
            f"select * from {table}", database=DATABASE, workgroup=WORK_GROUP, **options
        )

    return {
        "read_sql_query (CTAS, the default)": query,
        "read_sql_query, ctas_approach=False": lambda table: query(table, ctas_approach=False),
        "read_sql_query, unload_approach=True": lambda table: query(
            table,
            ctas_approach=False,
            unload_approach=True,
            s3_output=f"{results}unload/{uuid.uuid4().hex}/",
        ),
        "read_sql_table": lambda table: wr.athena.read_sql_table(
            table, database=DATABASE, workgroup=WORK_GROUP
        ),
    }


def pyathena_readers(results: str, region: str) -> dict[str, Callable[[str], Any]]:
    """pyathena's reads of a table by name: a DataFrame, or a cursor's rows
    as (columns, rows)."""
    from pyathena import connect
    from pyathena.pandas.cursor import PandasCursor

    def connection(**options: Any) -> Any:
        return connect(
            work_group=WORK_GROUP,
            region_name=region,
            schema_name=DATABASE,
            poll_interval=0.1,  # a local query takes well under pyathena's default second
            **options,
        )

    def rows(table: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        cursor = connection().cursor()
        cursor.execute(f"select * from {table}")
        columns = [column[0] for column in cursor.description]
        return columns, [tuple(row) for row in cursor.fetchall()]

    def pandas(table: str, **options: Any) -> Any:
        cursor = connection(cursor_class=PandasCursor, s3_staging_dir=results).cursor(**options)
        return cursor.execute(f"select * from {table}").as_pandas()

    return {
        "Cursor": rows,
        "PandasCursor": pandas,
        "PandasCursor(unload=True)": lambda table: pandas(table, unload=True),
    }


def awscli_rows(table: str, env: dict[str, str]) -> list[list[str | None]]:
    """``select * from table`` through awscli (its own process, the same
    environment): the header row and the rows, as Athena's text."""
    import json
    import time

    from tests.python.lakehouse import run_venv_command

    def aws(*args: str) -> Any:
        completed = run_venv_command("aws", "athena", *args, "--output", "json", env=env)
        assert completed.returncode == 0, completed.stderr[-2000:]
        return json.loads(completed.stdout)

    started = aws(
        "start-query-execution",
        "--query-string",
        f"select * from {table}",
        "--work-group",
        WORK_GROUP,
        "--query-execution-context",
        f"Database={DATABASE}",
    )
    query_id = started["QueryExecutionId"]
    deadline = time.monotonic() + 120
    while True:
        state = aws("get-query-execution", "--query-execution-id", query_id)
        if state["QueryExecution"]["Status"]["State"] not in {"QUEUED", "RUNNING"}:
            break
        assert time.monotonic() < deadline, "the query did not finish"
        time.sleep(0.2)
    assert state["QueryExecution"]["Status"]["State"] == "SUCCEEDED", state
    answer = aws("get-query-results", "--query-execution-id", query_id)
    return [
        [cell.get("VarCharValue") for cell in row["Data"]] for row in answer["ResultSet"]["Rows"]
    ]
