"""The executions: each query run on Trino in a worker thread, authorized
by the caller's IAM policies, with Athena's states, errors, statistics and
result pages.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import boto3

from scripts.services.athena_local.limits import ATHENAS_LIMITS, WRITE_LIMITS_SESSION, AthenaLimits
from scripts.services.athena_local.results import athena_csv, athena_text, athena_type, hive_type
from scripts.services.athena_local.translation import (
    CATALOG,
    GlueStatement,
    in_catalog,
    insert_target,
    statement_type,
    table_input_of,
    translate,
    unquote_identifier,
)
from scripts.services.iam_enforcement import (
    ADMIN_ACCESS_KEY,
    DECISIONS_ENVIRONMENT,
    ENFORCE_ENVIRONMENT,
    DecisionLog,
    athena_request,
    denial_message,
    evaluate,
    global_context,
)
from scripts.services.trino_server import (
    TRINO_VERSION,
    QueryResult,
    TrinoQueryError,
    cancel,
    catalog_user,
    query,
)

LOG = logging.getLogger("athena_local")


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
    # the result's rows as GetQueryResults pages them: Athena's text, after
    # the header row Athena writes first for a query that returns rows
    rows: list[list[str | None]] = field(default_factory=list)

    @property
    def schema(self) -> str | None:
        """The query's database as Trino names it: Athena takes the context's
        database quoted or not (awswrangler sends it in backticks)."""
        return unquote_identifier(self.database) if self.database else None


class AthenaRequestError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class AthenaLocal:
    """The executions and the Trino and Glue they run on."""

    def __init__(
        self,
        trino_url: str,
        glue: Any,
        aws_url: str,
        workers: int = 8,
        limits: AthenaLimits = ATHENAS_LIMITS,
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
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="athena-query")
        # For tests of failures Athena can have mid-way (a write batch that
        # S3 refuses, say): given a query's text, true fails that query as
        # INTERNAL_ERROR_QUERY_ENGINE: a write (INSERT INTO) after Trino
        # has written its files, whose new partitions are then taken out of
        # Glue again: Athena does not roll a failed write back, and its
        # files stay in S3; any other query before it runs. None: never.
        self.fail_query: Callable[[str], bool] | None = None

    def authorize(self, access_key: str | None, operation: str, work_group: str) -> None:
        """AccessDeniedException unless the caller's policies allow the
        Athena ``operation`` on ``work_group``."""
        if not self.enforce_iam or access_key == ADMIN_ACCESS_KEY:
            return
        if access_key is None:
            raise AthenaRequestError(
                "MissingAuthenticationTokenException", "Missing Authentication Token"
            )
        user_arn, documents = self._policies_of(access_key)
        region = self.glue.meta.region_name
        request = athena_request(operation, {"WorkGroup": work_group}, region)
        decision = evaluate(documents, request, global_context(user_arn, region))
        self.decisions.record(user_arn, request, decision)
        if decision.decision != "allowed":
            raise AthenaRequestError(
                "AccessDeniedException", denial_message(user_arn, request.action, decision)
            )
        if access_key not in self.catalogs:
            # a real user of the account, whom the stand-in runs no catalog for
            raise AthenaRequestError(
                "AccessDeniedException",
                f"{user_arn} has no Trino catalog on the local Athena: only the users"
                " local_athena creates can query here",
            )

    def _check_output_bucket(self, location: str, access_key: str | None) -> None:
        """Athena looks up the result bucket's region with the caller's
        credentials before it runs a query (s3:GetBucketLocation); without
        the grant it refuses the query."""
        from botocore.exceptions import ClientError

        bucket = location.removeprefix("s3://").partition("/")[0]
        checked = self.buckets_checked.get((access_key or "", bucket))
        if checked is not None and time.monotonic() - checked < 1.0:
            return
        try:
            self.client_for("s3", access_key).get_bucket_location(Bucket=bucket)
        except ClientError as error:
            raise AthenaRequestError(
                "InvalidRequestException",
                f"Unable to verify/create output bucket {bucket}"
                f" ({error.response['Error'].get('Message', '')})",
            ) from None
        self.buckets_checked[(access_key or "", bucket)] = time.monotonic()

    def forget_policies(self) -> None:
        """Read every caller's policies again at its next call (IAM itself
        takes seconds to apply a changed policy; tests need no wait)."""
        self.policies.clear()
        self.buckets_checked.clear()

    def _policies_of(self, access_key: str) -> tuple[str, list[dict[str, Any]]]:
        """The caller's ARN and policies, read again after a second (a test
        changes a policy between dbt commands; dbt polls every 0.1 s)."""
        from botocore.exceptions import ClientError

        cached = self.policies.get(access_key)
        if cached is not None and time.monotonic() - cached[0] < 1.0:
            return cached[1], cached[2]
        try:
            from scripts.services.local_iam import user_policies

            arn, documents = user_policies(self.iam, access_key)
        except (ClientError, PermissionError) as error:
            raise AthenaRequestError(
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            ) from error
        self.policies[access_key] = (time.monotonic(), arn, documents)
        return arn, documents

    def catalog_of(self, access_key: str | None) -> str:
        """The Trino catalog a caller's queries run in."""
        return self.catalogs.get(access_key or "", CATALOG)

    def client_for(self, service: str, access_key: str | None) -> Any:
        """A client with the caller's key, if it is a known local user's;
        else the administrator's."""
        secret = self.credentials.get(access_key or "")
        key = access_key if access_key is not None and secret is not None else ADMIN_ACCESS_KEY
        with self.lock:
            if (service, key) not in self.clients:
                self.clients[(service, key)] = boto3.session.Session().client(
                    service,
                    endpoint_url=self.aws_url,
                    region_name=self.glue.meta.region_name,
                    aws_access_key_id=key,
                    aws_secret_access_key=secret or ADMIN_ACCESS_KEY,
                )
            return self.clients[(service, key)]

    def work_group_of(self, operation: str, request: dict[str, Any]) -> str:
        """The work group an Athena call acts in: the one it names, or its
        query's."""
        if "QueryExecutionId" in request:
            return self._execution(request["QueryExecutionId"]).work_group
        return str(request.get("WorkGroup", "primary"))

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
        execution = Execution(
            query_id=str(uuid.uuid4()),
            query=request["QueryString"],
            database=context.get("Database"),
            work_group=work_group,
            output_location=location,
            access_key=access_key,
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
            action = translate(execution.query, tables)
            failing = self.fail_query
            fails = failing is not None and failing(execution.query)
            target = insert_target(action) if fails else None
            if fails and target is None:
                raise TrinoQueryError("INTERNAL_ERROR_QUERY_ENGINE: failed on purpose by a test")
            partitions_before = self._partition_values(*target) if target else set()
            if isinstance(action, GlueStatement):
                action.apply(self.client_for("glue", execution.access_key))
                execution.result = QueryResult([], [], {})
            else:
                catalog = self.catalog_of(execution.access_key)
                result = query(
                    self.trino_url,
                    in_catalog(action.sql, catalog),
                    schema=execution.schema,
                    session={
                        **WRITE_LIMITS_SESSION,
                        **{
                            name.replace(f"{CATALOG}.", f"{catalog}.", 1): value
                            for name, value in action.session.items()
                        },
                    },
                    on_started=lambda trino_id: self._started(execution, trino_id),
                    catalog=catalog,
                )
                if result.update_type:  # a write (CTAS, INSERT) returns no rows
                    result = QueryResult(
                        [], [], result.stats, result.update_type, result.update_count
                    )
                if action.view:
                    glue = self.client_for("glue", execution.access_key)
                    self._store_view_columns(glue, catalog, *action.view)
                if target is not None:
                    self._forget_partitions(*target, partitions_before)
                    raise TrinoQueryError(
                        "INTERNAL_ERROR_QUERY_ENGINE: failed on purpose by a test, after"
                        " writing its files (they stay in S3, as on Athena)"
                    )
                execution.rows = [[athena_text(value) for value in row] for row in result.rows]
                # Athena writes a header row first, except for DDL and
                # utility statements
                if execution.kind == "DML" and result.columns:
                    execution.rows.insert(0, [column["name"] for column in result.columns])
                    self._write_result(execution)
                execution.result = result
            outcome, reason = "SUCCEEDED", None
        except TrinoQueryError as error:
            outcome, reason = "FAILED", str(error)
        except Exception as error:
            outcome, reason = "FAILED", f"{type(error).__name__}: {error}"
        finally:
            # a query stopped while it ran stays CANCELLED (``stop`` has
            # Trino cancel it; what it returned meanwhile is dropped)
            with self.lock:
                if execution.state == "RUNNING":
                    execution.state, execution.reason = outcome, reason
                else:
                    execution.result, execution.rows = None, []
                execution.completed = time.time()
            execution.finished.set()
            if execution.state == "FAILED":
                LOG.info("query %s failed: %s", execution.query_id, execution.reason)

    def _write_result(self, execution: Execution) -> None:
        """The result as Athena writes it, with the caller's credentials:
        <output location>/<query id>.csv (a reader such as pyathena's
        pandas cursor or awswrangler fetches it from S3). A refused write
        fails the query, as on Athena."""
        from botocore.exceptions import ClientError

        if not execution.output_location:
            return
        bucket, _, prefix = execution.output_location.removeprefix("s3://").partition("/")
        key = f"{prefix.rstrip('/')}/{execution.query_id}.csv".lstrip("/")
        s3 = self.client_for("s3", execution.access_key)
        try:
            s3.put_object(Bucket=bucket, Key=key, Body=athena_csv(execution.rows))
        except ClientError as error:
            raise TrinoQueryError(
                f"Access denied when writing output to url: s3://{bucket}/{key} . Please"
                " ensure you are allowed to access the S3 bucket."
                f" ({error.response['Error'].get('Message', '')})"
            ) from None

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
            location = execution.output_location.rstrip("/")
            description["ResultConfiguration"] = {
                "OutputLocation": f"{location}/{execution.query_id}.csv"
            }
        return {"QueryExecution": description}

    def results(self, query_id: str, next_token: str | None, max_results: int) -> dict[str, Any]:
        execution = self._execution(query_id)
        if execution.state != "SUCCEEDED" or execution.result is None:
            raise AthenaRequestError(
                "InvalidRequestException",
                f"Query has not yet finished. Current state: {execution.state}",
            )
        result, rows = execution.result, execution.rows
        start = int(next_token or 0)
        page = rows[start : start + max_results]
        types = [athena_type(column["type"]) for column in result.columns]
        answer: dict[str, Any] = {
            "ResultSet": {
                "Rows": [
                    {"Data": [{} if value is None else {"VarCharValue": value} for value in row]}
                    for row in page
                ],
                "ResultSetMetadata": {
                    "ColumnInfo": [
                        {
                            "CatalogName": "hive",
                            "SchemaName": "",
                            "TableName": "",
                            "Name": column["name"],
                            "Label": column["name"],
                            "Type": kind,
                            "Precision": 0,
                            "Scale": 0,
                            "Nullable": "UNKNOWN",
                            "CaseSensitive": kind == "varchar",
                        }
                        for column, kind in zip(result.columns, types, strict=True)
                    ]
                },
            },
        }
        if result.update_count is not None:
            answer["UpdateCount"] = result.update_count
        if start + max_results < len(rows):
            answer["NextToken"] = str(start + max_results)
        return answer

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

    def list(self, work_group: str | None) -> dict[str, Any]:
        with self.lock:
            ids = [
                item.query_id
                for item in self.executions.values()
                if work_group is None or item.work_group == work_group
            ]
        return {"QueryExecutionIds": ids}

    def _execution(self, query_id: str) -> Execution:
        with self.lock:
            execution = self.executions.get(query_id)
        if execution is None:
            raise AthenaRequestError(
                "InvalidRequestException", f"QueryExecution {query_id} was not found"
            )
        return execution
