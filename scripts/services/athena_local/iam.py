"""IAM on the local Athena: each call authorized by the caller's policies,
as AWS authorizes it; the result bucket looked up and a result read with
the caller's credentials; the caller's Trino catalog and AWS clients.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import boto3

from scripts.services.athena_local.executions import AthenaRequestError, Execution
from scripts.services.athena_local.translation import CATALOG, WRITES
from scripts.services.iam_enforcement import (
    ADMIN_ACCESS_KEY,
    DecisionLog,
    Request,
    athena_request,
    denial_message,
    evaluate,
    global_context,
)


class CallerAccess:
    """What the service knows of its callers (set by AthenaLocal)."""

    enforce_iam: bool
    decisions: DecisionLog
    glue: Any
    iam: Any
    aws_url: str
    lock: threading.Lock
    # access key -> secret of the local IAM users, whose Hive DDL runs
    # against Glue as them (an unknown key's runs as the administrator)
    credentials: dict[str, str]
    # access key -> the caller's Trino catalog, when not awsdatacatalog
    catalogs: dict[str, str]
    clients: dict[tuple[str, str], Any]
    policies: dict[str, tuple[float, str, list[dict[str, Any]]]]
    buckets_checked: dict[tuple[str, str], float]  # (caller, bucket): when

    def authorize(self, access_key: str | None, operation: str, scope: dict[str, str]) -> None:
        """AccessDeniedException unless the caller's policies allow the
        Athena ``operation`` on its resource: ``scope``'s WorkGroup or
        DataCatalog (``scopes_of``)."""
        if not self.enforce_iam or access_key == ADMIN_ACCESS_KEY:
            return
        if access_key is None:
            raise AthenaRequestError(
                "MissingAuthenticationTokenException", "Missing Authentication Token"
            )
        request = athena_request(operation, scope, self.glue.meta.region_name)
        self._decide(access_key, request, "")
        if access_key not in self.catalogs:
            # a real user of the account, whom the stand-in runs no catalog for
            user_arn = self._policies_of(access_key)[0]
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

    def _check_result_read(self, execution: Execution) -> None:
        """Athena reads a result for GetQueryResults with the caller's
        credentials: the caller's policies must allow s3:GetObject on it.
        A result of this run is in memory, so the policies are evaluated
        here rather than by a read (S3's own answer for one of an earlier
        run, whose files are read)."""
        access_key = execution.access_key
        if not self.enforce_iam or access_key in {None, ADMIN_ACCESS_KEY}:
            return
        assert access_key is not None and execution.result_file is not None
        location = execution.result_file.removeprefix("s3://")
        keys = [location + ".metadata"]  # a write's only file here; else beside its rows
        if execution.subkind not in WRITES:
            keys.insert(0, location)
        request = Request("s3:GetObject", tuple(f"arn:aws:s3:::{key}" for key in keys))
        self._decide(
            access_key, request, f"Unable to read the query's result from {execution.result_file}: "
        )

    def _decide(self, access_key: str, request: Request, context: str) -> None:
        """Evaluate ``request`` against the caller's policies and record the
        decision; AccessDeniedException (``context`` first) unless allowed."""
        user_arn, documents = self._policies_of(access_key)
        region = self.glue.meta.region_name
        decision = evaluate(documents, request, global_context(user_arn, region))
        self.decisions.record(user_arn, request, decision)
        if decision.decision != "allowed":
            raise AthenaRequestError(
                "AccessDeniedException",
                context + denial_message(user_arn, request.action, decision),
            )

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
