"""The executions: each query run on Trino in a worker thread, authorized
by the caller's IAM policies, with Athena's states, errors and statistics;
its result files written and paged as Athena's; the query history kept
across restarts when the service is given a history file.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3

from scripts.services.athena_local.executions import (
    AthenaRequestError,
    Execution,
    append_history,
    read_history,
)
from scripts.services.athena_local.iam import CallerAccess
from scripts.services.athena_local.limits import ATHENAS_LIMITS, WRITE_LIMITS_SESSION, AthenaLimits
from scripts.services.athena_local.results import (
    athena_csv,
    athena_text,
    athena_txt,
    column_info,
    columns_of_metadata,
    hive_type,
    metadata_file,
    rows_of_csv,
    rows_of_txt,
)
from scripts.services.athena_local.translation import (
    CATALOG,
    UNLOAD_TARGET,
    WRITES,
    Action,
    GlueStatement,
    Unload,
    UnsupportedFeature,
    bind_parameters,
    in_catalog,
    statement_type,
    table_input_of,
    translate,
    written_table,
)
from scripts.services.iam_enforcement import (
    DECISIONS_ENVIRONMENT,
    ENFORCE_ENVIRONMENT,
    DecisionLog,
)
from scripts.services.trino_server import (
    TRINO_VERSION,
    QueryResult,
    TrinoQueryError,
    cancel,
    catalog_user,
    query,
    unload_catalog,
)

LOG = logging.getLogger("athena_local")


class AthenaLocal(CallerAccess):
    """The executions and the Trino and Glue they run on."""

    def __init__(
        self,
        trino_url: str,
        glue: Any,
        aws_url: str,
        workers: int = 8,
        limits: AthenaLimits = ATHENAS_LIMITS,
        history: Path | None = None,
    ) -> None:
        self.trino_url = trino_url
        # the query-text limit; Trino's catalog enforces the partitions one
        self.limits = limits
        self.glue = glue
        self.aws_url = aws_url
        # the work groups live on the local AWS server (botocore clients
        # are thread-safe; creating one is not)
        self.athena = boto3.session.Session().client(
            "athena", endpoint_url=aws_url, region_name=glue.meta.region_name
        )
        self.iam = boto3.session.Session().client(
            "iam", endpoint_url=aws_url, region_name=glue.meta.region_name
        )
        self.enforce_iam = os.environ.get(ENFORCE_ENVIRONMENT) == "1"
        self.decisions = DecisionLog(os.environ.get(DECISIONS_ENVIRONMENT))
        # access key -> secret of the local IAM users, whose Hive DDL runs
        # against Glue as them (an unknown key's runs as the administrator)
        self.credentials: dict[str, str] = {}
        # access key -> the caller's Trino catalog, when not awsdatacatalog
        self.catalogs: dict[str, str] = {}
        self.clients: dict[tuple[str, str], Any] = {}
        self.policies: dict[str, tuple[float, str, list[dict[str, Any]]]] = {}
        self.buckets_checked: dict[tuple[str, str], float] = {}  # (caller, bucket): when
        self.executions: dict[str, Execution] = {}
        self.work_groups: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()
        # the query history kept across restarts: a JSON line per finished
        # query (its result stays in S3, where GetQueryResults reads it)
        self.history = history
        if history is not None:
            self.executions.update(read_history(history))
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="athena-query")
        # For tests of failures Athena can have mid-way (a write batch that
        # S3 refuses, say): given a query's text, true fails that query as
        # INTERNAL_ERROR_QUERY_ENGINE: a write (INSERT INTO) after Trino
        # has written its files, whose new partitions are then taken out of
        # Glue again: Athena does not roll a failed write back, and its
        # files stay in S3; any other query before it runs. None: never.
        self.fail_query: Callable[[str], bool] | None = None

    def scopes_of(self, operation: str, request: dict[str, Any]) -> list[dict[str, str]]:
        """The resources an Athena call acts on, for ``authorize``: its
        query's work group, each of its queries' (BatchGetQueryExecution),
        the data catalog a metadata call names, or the work group it names
        (else primary)."""
        if "QueryExecutionId" in request:
            return [{"WorkGroup": self._execution(request["QueryExecutionId"]).work_group}]
        if operation == "BatchGetQueryExecution":
            with self.lock:
                groups = {
                    self.executions[query_id].work_group
                    for query_id in request["QueryExecutionIds"]
                    if query_id in self.executions
                }
            return [{"WorkGroup": group} for group in sorted(groups)] or [{"WorkGroup": "primary"}]
        if operation in {"GetDataCatalog"}:
            return [{"DataCatalog": request["Name"]}]
        if "CatalogName" in request:
            return [{"DataCatalog": request["CatalogName"]}]
        return [{"WorkGroup": str(request.get("WorkGroup", "primary"))}]

    def start(self, request: dict[str, Any], access_key: str | None = None) -> dict[str, Any]:
        size = len(request["QueryString"].encode("utf-8"))
        if size > self.limits.query_bytes:
            raise AthenaRequestError(
                "InvalidRequestException",
                f"Query text of {size} bytes is longer than Athena's maximum of"
                f" {self.limits.query_bytes} bytes",
            )
        context = request.get("QueryExecutionContext", {})
        work_group = request.get("WorkGroup", "primary")
        location = request.get("ResultConfiguration", {}).get("OutputLocation")
        configuration = self._work_group_configuration(work_group)
        if configuration.get("EnforceWorkGroupConfiguration") or not location:
            location = configuration.get("ResultConfiguration", {}).get("OutputLocation", location)
        if location:
            self._check_output_bucket(location, access_key)
        catalog = context.get("Catalog", CATALOG)
        if catalog.lower() != CATALOG:
            raise AthenaRequestError(
                "InvalidRequestException",
                f"Catalog {catalog} is not available: the local Athena has one catalog,"
                " AwsDataCatalog (Glue)",
            )
        parameters = [str(value) for value in request.get("ExecutionParameters", [])]
        try:
            bind_parameters(request["QueryString"], parameters)
        except ValueError as error:
            raise AthenaRequestError("InvalidRequestException", str(error)) from None
        execution = Execution(
            query_id=str(uuid.uuid4()),
            query=request["QueryString"],
            database=context.get("Database"),
            work_group=work_group,
            output_location=location,
            access_key=access_key,
            parameters=parameters,
        )
        execution.kind, execution.subkind = statement_type(execution.query)
        with self.lock:
            self.executions[execution.query_id] = execution
        self.pool.submit(self._run, execution)
        return {"QueryExecutionId": execution.query_id}

    def _work_group_configuration(self, name: str) -> dict[str, Any]:
        """The work group's configuration, as the local AWS server holds it
        (an unknown group has none), asked for once per group: dbt sends a
        query at a time, and a build sends hundreds."""
        from botocore.exceptions import ClientError

        if name not in self.work_groups:
            try:
                group = self.athena.get_work_group(WorkGroup=name)["WorkGroup"]
            except ClientError:
                return {}  # not remembered: the group may be created later
            self.work_groups[name] = dict(group.get("Configuration", {}))
        return self.work_groups[name]

    def _run(self, execution: Execution) -> None:
        with self.lock:
            if execution.state != "QUEUED":
                execution.finished.set()
                return  # stopped before it started
            execution.state = "RUNNING"
        outcome, reason = "FAILED", "interrupted"
        try:
            tables = (
                f"{execution.output_location.rstrip('/')}/tables/{execution.query_id}/"
                if execution.output_location
                else None
            )
            action = translate(bind_parameters(execution.query, execution.parameters), tables)
            failing = self.fail_query
            fails = failing is not None and failing(execution.query)
            # an INSERT INTO adds files beside the table's: its manifest
            # lists those it wrote (a CTAS's table and UNLOAD's target are new)
            inserted = (
                written_table(action, execution.schema) if execution.subkind == "INSERT" else None
            )
            target = inserted if fails else None
            if fails and target is None:
                raise TrinoQueryError("INTERNAL_ERROR_QUERY_ENGINE: failed on purpose by a test")
            partitions_before = self._partition_values(*target) if target else set()
            files_before = self._files_of(inserted)
            if isinstance(action, GlueStatement):
                glue = self.client_for("glue", execution.access_key)
                if action.needs_s3:
                    action.apply(glue, self.client_for("s3", execution.access_key))
                else:
                    action.apply(glue)
                execution.result = QueryResult([], [], {})
            elif isinstance(action, Unload):
                execution.result = self._unload(execution, action)
            else:
                catalog = self.catalog_of(execution.access_key)
                result = self._on_trino(execution, action.sql, action.session)
                if action.view:
                    glue = self.client_for("glue", execution.access_key)
                    self._store_view_columns(glue, catalog, *action.view)
                if target is not None:
                    self._forget_partitions(*target, partitions_before)
                    raise TrinoQueryError(
                        "INTERNAL_ERROR_QUERY_ENGINE: failed on purpose by a test, after"
                        " writing its files (they stay in S3, as on Athena)"
                    )
                execution.result = result
            self._keep_result(execution, action, files_before)
            outcome, reason = "SUCCEEDED", None
        except TrinoQueryError as error:
            outcome, reason = "FAILED", str(error)
        except UnsupportedFeature as error:
            outcome, reason = "FAILED", f"NOT_SUPPORTED: {error}"
        except Exception as error:
            outcome, reason = "FAILED", f"{type(error).__name__}: {error}"
        finally:
            # a query stopped while it ran stays CANCELLED (``stop`` has
            # Trino cancel it; what it returned meanwhile is dropped)
            with self.lock:
                if execution.state == "RUNNING":
                    execution.state, execution.reason = outcome, reason
                else:
                    execution.result, execution.rows, execution.columns = None, [], []
                execution.completed = time.time()
            execution.finished.set()
            if self.history is not None:
                append_history(self.history, execution)
            if execution.state == "FAILED":
                LOG.info("query %s failed: %s", execution.query_id, execution.reason)

    def _on_trino(self, execution: Execution, sql: str, session: dict[str, str]) -> QueryResult:
        """Run ``sql`` in the caller's catalog (``session``'s properties
        named for awsdatacatalog are set on the caller's catalog)."""
        catalog = self.catalog_of(execution.access_key)
        return query(
            self.trino_url,
            in_catalog(sql, catalog),
            schema=execution.schema,
            session={
                **WRITE_LIMITS_SESSION,
                **{
                    name.replace(f"{CATALOG}.", f"{catalog}.", 1): value
                    for name, value in session.items()
                },
            },
            on_started=lambda trino_id: self._started(execution, trino_id),
            catalog=catalog,
        )

    def _unload(self, execution: Execution, unload: Unload) -> QueryResult:
        """UNLOAD as a CTAS of an external table at its location, through
        the caller's unload catalog (the caller's S3 access, a metastore
        on local disk: Glue never sees the table), dropped once written.
        Athena refuses a location that holds objects already."""
        bucket, _, prefix = unload.location.removeprefix("s3://").partition("/")
        listed = self.client_for("s3", None).list_objects_v2(
            Bucket=bucket, Prefix=prefix, MaxKeys=1
        )
        if listed.get("KeyCount", 0):
            raise TrinoQueryError(
                f"HIVE_PATH_ALREADY_EXISTS: UNLOAD's target location {unload.location} is not"
                " empty: Athena writes UNLOAD results to an empty location only"
            )
        catalog = unload_catalog(self.catalog_of(execution.access_key))
        table = f'"{catalog}"."unload"."unload_{execution.query_id.replace("-", "_")}"'
        self._on_trino(execution, f'create schema if not exists "{catalog}"."unload"', {})
        properties = ", ".join([f"external_location='{unload.location}'", *unload.properties])
        session = {f"{catalog}.{name}": value for name, value in unload.session.items()}
        try:
            result = self._on_trino(
                execution, f"create table {table} with ({properties}) as {unload.query}", session
            )
        finally:
            self._on_trino(execution, f"drop table if exists {table}", {})
        return result

    def _keep_result(
        self,
        execution: Execution,
        action: Action,
        files_before: set[str],
    ) -> None:
        """The result as Athena keeps it. A query's rows: <id>.csv, the
        header first (also EXPLAIN's); a DDL or utility statement's:
        <id>.txt, no header; each with its columns in <id>.csv.metadata or
        .txt.metadata. A write (CTAS, INSERT INTO, UNLOAD) returns one
        column, rows, and no row: its <id>.metadata, and <id>-manifest.csv
        listing the files it wrote (awswrangler and pyathena read those).
        Without a result location they stay in memory."""
        result = execution.result
        assert result is not None
        if execution.subkind in WRITES:
            execution.columns = [column_info("rows", "bigint")]
            execution.update_count = result.update_count
            table = written_table(action, execution.schema)
            written = sorted(self._files_of(table) - files_before)
            self._write_results(
                execution,
                {
                    "": None,
                    ".metadata": metadata_file(execution.columns),
                    "-manifest.csv": "".join(f"{path}\n" for path in written).encode("utf-8"),
                },
            )
            return
        if result.update_type:  # Trino's DDL returns `result: true`; Athena's nothing
            result = QueryResult([], [], result.stats)
        execution.columns = [column_info(c["name"], c["type"]) for c in result.columns]
        types = [column["type"] for column in result.columns]
        rows = [
            [athena_text(value, kind) for value, kind in zip(row, types, strict=True)]
            for row in result.rows
        ]
        if execution.kind == "DML" or execution.subkind == "EXPLAIN":
            rows.insert(0, [column["Name"] for column in execution.columns])
            suffix, data = ".csv", athena_csv(rows)
        else:
            suffix, data = ".txt", athena_txt(rows)
        self._write_results(
            execution, {suffix: data, f"{suffix}.metadata": metadata_file(execution.columns)}
        )
        execution.rows = rows

    def _write_results(self, execution: Execution, files: dict[str, bytes | None]) -> None:
        """Write <location>/<id><suffix> for each suffix (None: only
        reported) with the caller's credentials, and report the first one
        as the result and any -manifest.csv as the manifest (nothing
        without a result location). A refused write fails the query, as on
        Athena."""
        from botocore.exceptions import ClientError

        if not execution.output_location:
            return
        base = f"{execution.output_location.rstrip('/')}/{execution.query_id}"
        bucket, _, prefix = base.removeprefix("s3://").partition("/")
        s3 = self.client_for("s3", execution.access_key)
        for suffix, data in files.items():
            if data is None:
                continue
            try:
                s3.put_object(Bucket=bucket, Key=prefix + suffix, Body=data)
            except ClientError as error:
                raise TrinoQueryError(
                    f"Access denied when writing output to url: s3://{bucket}/{prefix}{suffix} ."
                    " Please ensure you are allowed to access the S3 bucket."
                    f" ({error.response['Error'].get('Message', '')})"
                ) from None
        execution.result_file = base + next(iter(files))
        if "-manifest.csv" in files:
            execution.manifest = f"{base}-manifest.csv"

    def _files_of(self, table: tuple[str, str] | None) -> set[str]:
        """The s3:// paths of the files under a written table's location
        (none for a statement that writes no table)."""
        if table is None:
            return set()
        if table[0] == UNLOAD_TARGET:
            location = table[1]
        else:
            try:
                described = self.glue.get_table(DatabaseName=table[0], Name=table[1])["Table"]
            except self.glue.exceptions.EntityNotFoundException:
                return set()
            location = described.get("StorageDescriptor", {}).get("Location", "")
        bucket, _, prefix = location.removeprefix("s3://").partition("/")
        if not bucket:
            return set()
        prefix = prefix.rstrip("/") + "/" if prefix else ""
        s3 = self.client_for("s3", None)
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return {
            f"s3://{bucket}/{item['Key']}"
            for page in pages
            for item in page.get("Contents", [])
            if not item["Key"].endswith("/")
        }

    def _partition_values(self, database: str, table: str) -> set[tuple[str, ...]]:
        pages = self.glue.get_paginator("get_partitions").paginate(
            DatabaseName=database, TableName=table
        )
        return {tuple(item["Values"]) for page in pages for item in page["Partitions"]}

    def _forget_partitions(self, database: str, table: str, keep: set[tuple[str, ...]]) -> None:
        """Take the partitions a write added out of Glue (its files stay)."""
        added = sorted(self._partition_values(database, table) - keep)
        for start in range(0, len(added), 25):  # Glue's batch limit
            self.glue.batch_delete_partition(
                DatabaseName=database,
                TableName=table,
                PartitionsToDelete=[
                    {"Values": list(values)} for values in added[start : start + 25]
                ],
            )

    def _started(self, execution: Execution, trino_query_id: str) -> None:
        """Trino accepted the query: a stop that came first cancels it now."""
        with self.lock:
            execution.trino_query_id = trino_query_id
            stopped = execution.state == "CANCELLED"
        if stopped:
            self._cancel_on_trino(execution)

    def _cancel_on_trino(self, execution: Execution) -> None:
        if execution.trino_query_id is None:
            return  # _started cancels it once Trino has accepted it
        try:
            catalog = self.catalog_of(execution.access_key)
            cancel(self.trino_url, execution.trino_query_id, catalog_user(catalog))
        except OSError as error:  # it may have finished meanwhile
            LOG.info("Trino query %s not cancelled: %s", execution.trino_query_id, error)

    def _store_view_columns(self, glue: Any, catalog: str, database: str, name: str) -> None:
        """Glue gets the view's columns (Trino stores one called `dummy`)."""
        described = query(
            self.trino_url, f'describe "{catalog}"."{database}"."{name}"', catalog=catalog
        )
        columns = [{"Name": row[0], "Type": hive_type(row[1])} for row in described.rows]
        table = glue.get_table(DatabaseName=database, Name=name)["Table"]
        table_input = table_input_of(table)
        table_input["StorageDescriptor"] = {**table["StorageDescriptor"], "Columns": columns}
        glue.update_table(DatabaseName=database, TableInput=table_input)

    def describe(self, query_id: str) -> dict[str, Any]:
        execution = self._execution(query_id)
        stats = execution.result.stats if execution.result else {}
        elapsed = int(((execution.completed or time.time()) - execution.submitted) * 1000)
        status: dict[str, Any] = {
            "State": execution.state,
            "SubmissionDateTime": execution.submitted,
        }
        if execution.completed:
            status["CompletionDateTime"] = execution.completed
        if execution.reason:
            status["StateChangeReason"] = execution.reason
            status["AthenaError"] = {
                "ErrorCategory": 2,
                "ErrorType": 1100,
                "Retryable": False,
                "ErrorMessage": execution.reason,
            }
        description: dict[str, Any] = {
            "QueryExecutionId": execution.query_id,
            "Query": execution.query,
            "StatementType": execution.kind,
            "SubstatementType": execution.subkind,
            "Status": status,
            "WorkGroup": execution.work_group,
            "Statistics": {
                "DataScannedInBytes": int(stats.get("physicalInputBytes", 0)),
                "EngineExecutionTimeInMillis": elapsed,
                "TotalExecutionTimeInMillis": elapsed,
            },
            "EngineVersion": {
                "SelectedEngineVersion": f"Trino {TRINO_VERSION} (local stand-in)",
                "EffectiveEngineVersion": f"Trino {TRINO_VERSION} (local stand-in)",
            },
        }
        if execution.database:
            description["QueryExecutionContext"] = {
                "Catalog": CATALOG,
                "Database": execution.database,
            }
        if execution.output_location:
            location = f"{execution.output_location.rstrip('/')}/{execution.query_id}"
            if execution.subkind in WRITES:
                suffix = ""
            elif execution.kind == "DML" or execution.subkind == "EXPLAIN":
                suffix = ".csv"
            else:
                suffix = ".txt"
            description["ResultConfiguration"] = {"OutputLocation": location + suffix}
        if execution.manifest:
            description["Statistics"]["DataManifestLocation"] = execution.manifest
        if execution.parameters:
            description["ExecutionParameters"] = execution.parameters
        return {"QueryExecution": description}

    def results(self, query_id: str, next_token: str | None, max_results: int) -> dict[str, Any]:
        """A page of a query's result: read from the files it wrote (with
        the caller's credentials, as Athena reads them), or from memory."""
        execution = self._execution(query_id)
        if execution.state != "SUCCEEDED" or execution.result is None:
            raise AthenaRequestError(
                "InvalidRequestException",
                f"Query has not yet finished. Current state: {execution.state}",
            )
        columns, rows = self._read_result(execution)
        start = int(next_token or 0)
        page = rows[start : start + max_results]
        answer: dict[str, Any] = {
            "ResultSet": {
                "Rows": [
                    {"Data": [{} if value is None else {"VarCharValue": value} for value in row]}
                    for row in page
                ],
                "ResultSetMetadata": {"ColumnInfo": columns},
            },
        }
        if execution.update_count is not None:
            answer["UpdateCount"] = execution.update_count
        if start + max_results < len(rows):
            answer["NextToken"] = str(start + max_results)
        return answer

    def _read_result(
        self, execution: Execution
    ) -> tuple[list[dict[str, Any]], list[list[str | None]]]:
        from botocore.exceptions import ClientError

        if execution.result_file is None or execution.columns:
            if execution.result_file is not None:
                self._check_result_read(execution)
            return execution.columns, execution.rows
        bucket, _, key = execution.result_file.removeprefix("s3://").partition("/")
        s3 = self.client_for("s3", execution.access_key)
        metadata_key = key + ".metadata"  # <id>.csv.metadata, or a write's <id>.metadata
        try:
            columns = columns_of_metadata(
                s3.get_object(Bucket=bucket, Key=metadata_key)["Body"].read()
            )
            if key.endswith(".csv"):
                rows = rows_of_csv(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
            elif key.endswith(".txt"):
                data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
                rows = rows_of_txt(data, len(columns))
            else:
                rows = []
        except ClientError as error:
            raise AthenaRequestError(
                "InvalidRequestException",
                f"Unable to read the query's result from s3://{bucket}/{key}"
                f" ({error.response['Error'].get('Message', '')})",
            ) from None
        return columns, rows

    def stop(self, query_id: str) -> dict[str, Any]:
        execution = self._execution(query_id)
        with self.lock:
            running = execution.state == "RUNNING"
            if execution.state in {"QUEUED", "RUNNING"}:
                execution.state, execution.reason = "CANCELLED", "Query cancelled by user"
                execution.completed = time.time()
        if running:
            self._cancel_on_trino(execution)
        return {}

    def list(self, request: dict[str, Any]) -> dict[str, Any]:
        """The work group's query IDs, newest first, a page at a time."""
        work_group = request.get("WorkGroup", "primary")
        with self.lock:
            executions = [
                item for item in self.executions.values() if item.work_group == work_group
            ]
        executions.sort(key=lambda item: item.submitted, reverse=True)
        start = int(request.get("NextToken") or 0)
        size = int(request.get("MaxResults", 50))
        answer: dict[str, Any] = {
            "QueryExecutionIds": [item.query_id for item in executions[start : start + size]]
        }
        if start + size < len(executions):
            answer["NextToken"] = str(start + size)
        return answer

    def batch_get(self, query_ids: list[str]) -> dict[str, Any]:
        """BatchGetQueryExecution: the executions known, the others unprocessed."""
        found, missing = [], []
        for query_id in query_ids:
            try:
                found.append(self.describe(query_id)["QueryExecution"])
            except AthenaRequestError as error:
                missing.append(
                    {
                        "QueryExecutionId": query_id,
                        "ErrorCode": "INVALID_INPUT",
                        "ErrorMessage": str(error),
                    }
                )
        return {"QueryExecutions": found, "UnprocessedQueryExecutionIds": missing}

    def _execution(self, query_id: str) -> Execution:
        with self.lock:
            execution = self.executions.get(query_id)
        if execution is None:
            raise AthenaRequestError(
                "InvalidRequestException", f"QueryExecution {query_id} was not found"
            )
        return execution
