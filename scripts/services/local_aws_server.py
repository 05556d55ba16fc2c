"""moto's AWS server with the calls moto lacks that this project makes: the
Glue column-statistics operations of Trino's Glue metastore, and Athena's
UpdateWorkGroup (bootstrap_aws repairs a drifted work group with it); and
S3's dating of a multipart object, which moto gets wrong; with
$STEDI_ENFORCE_IAM=1, IAM: every call made with an IAM user's key is
allowed or denied by that user's policies (scripts/services/iam_enforcement.py);
and, with $STEDI_AWS_STATE naming a file, state that outlives the process:
S3, Glue, IAM, Athena's work groups and STS are restored from that file as
the server starts and saved there as it is told to stop (moto keeps them
in memory only).

Trino's Hive connector reads and writes column statistics in Glue on every
CREATE TABLE, CTAS and INSERT (even with statistics collection off, it
clears them). moto 5.2 answers those operations with a 500, so the local
Athena stand-in (scripts/services/athena_local/) runs moto through this launcher:
each statistics call succeeds and keeps nothing, as for a table whose
statistics were never computed. Everything else is moto's.

Usage: python -m scripts.services.local_aws_server -H 127.0.0.1 -p PORT
"""

from __future__ import annotations

import calendar
import json
import logging
import os
import pickle
import sys
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any

import moto.server
from moto import backends
from moto.athena.responses import AthenaResponse
from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.exceptions import AccessDeniedError, JsonRESTError, _RESTError
from moto.core.utils import utcnow
from moto.glue.responses import GlueResponse
from moto.s3.exceptions import S3ClientError
from moto.s3.models import FakeBucket, FakeKey, FakeMultipart, FakeTableStorageBucket, S3Backend
from moto.s3.utils import _VersionedKeyStore

from scripts.services import iam_enforcement
from scripts.services.local_s3 import AWS_STATE_ENVIRONMENT


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


def _epoch_seconds(moment: datetime) -> float:
    """A naive UTC time as Glue's JSON gives it: seconds, milliseconds kept."""
    return calendar.timegm(moment.timetuple()) + (moment.microsecond // 1000) / 1000


def _partitions_json(partitions: list[dict[str, Any]]) -> str:
    return json.dumps(
        {
            "Partitions": [
                {**p, "CreationTime": _epoch_seconds(p["CreationTime"])} for p in partitions
            ]
        }
    )


def _get_partitions(self: GlueResponse) -> str:
    """GetPartitions as moto answers it, written by json: moto's generic
    serializer spent 23% of the server's busy time on partition lists
    (a table of 200 reading dates, read by every query on it)."""
    parameters = self.parameters
    partitions = self.glue_backend.get_partitions(
        parameters.get("DatabaseName"), parameters.get("TableName"), parameters.get("Expression")
    )
    return _partitions_json([partition.as_dict() for partition in partitions])


def _batch_get_partition(self: GlueResponse) -> str:
    parameters = self.parameters
    return _partitions_json(
        self.glue_backend.batch_get_partition(
            parameters.get("DatabaseName"),
            parameters.get("TableName"),
            parameters.get("PartitionsToGet"),
        )
    )


GlueResponse.get_partitions = _get_partitions  # type: ignore[method-assign,assignment]
GlueResponse.batch_get_partition = _batch_get_partition  # type: ignore[method-assign,assignment]


# UpdateWorkGroup's ConfigurationUpdates keys that replace a configuration
# key of the same meaning (AWS's API reference, UpdateWorkGroup)
_WORK_GROUP_UPDATES = {
    "EnforceWorkGroupConfiguration": "EnforceWorkGroupConfiguration",
    "PublishCloudWatchMetricsEnabled": "PublishCloudWatchMetricsEnabled",
    "BytesScannedCutoffPerQuery": "BytesScannedCutoffPerQuery",
    "RequesterPaysEnabled": "RequesterPaysEnabled",
    "EngineVersion": "EngineVersion",
}


def _update_work_group(self: AthenaResponse) -> str:
    """UpdateWorkGroup: the configuration updates applied as AWS applies them."""
    name = self._get_param("WorkGroup")
    group = self.athena_backend.work_groups.get(name)
    if group is None:
        return self.error(f"WorkGroup {name} is not found.", 400)
    updates = self._get_param("ConfigurationUpdates", {})
    configuration = group.configuration
    for key, target in _WORK_GROUP_UPDATES.items():
        if key in updates:
            configuration[target] = updates[key]
    result = dict(configuration.get("ResultConfiguration", {}))
    result_updates = updates.get("ResultConfigurationUpdates", {})
    for key in (
        "OutputLocation",
        "EncryptionConfiguration",
        "ExpectedBucketOwner",
        "AclConfiguration",
    ):
        if result_updates.get(f"Remove{key}"):
            result.pop(key, None)
        elif key in result_updates:
            result[key] = result_updates[key]
    configuration["ResultConfiguration"] = result
    if "Description" in self._get_params():
        group.description = self._get_param("Description")
    return "{}"


AthenaResponse.update_work_group = _update_work_group  # type: ignore[attr-defined]


# S3 dates an object made by a multipart upload by when the upload started
# (its Last-Modified is the CreateMultipartUpload time); moto dates it by
# the completion. The screening models find new landing files by that date,
# so the stand-in dates them as S3 does.
_multipart_init = FakeMultipart.__init__
_complete_multipart_upload = S3Backend.complete_multipart_upload


def _multipart_init_dated(self: FakeMultipart, *args: Any, **kwargs: Any) -> None:
    _multipart_init(self, *args, **kwargs)
    self.initiated = utcnow()  # type: ignore[attr-defined]


def _complete_multipart_upload_dated(self: S3Backend, *args: Any, **kwargs: Any) -> Any:
    bucket_name, multipart_id = args[0], args[1]
    initiated = self.get_bucket(bucket_name).multiparts[multipart_id].initiated
    key = _complete_multipart_upload(self, *args, **kwargs)
    if key is not None:
        key.last_modified = initiated
    return key


FakeMultipart.__init__ = _multipart_init_dated  # type: ignore[method-assign]
S3Backend.complete_multipart_upload = _complete_multipart_upload_dated  # type: ignore[method-assign]


# What moto does on every request that the stand-in's load makes costly.
# Measured on the 100-dates test (a sampling profiler over the server):
# finding a request's service listed moto's own package folder each time
# (17% of the server's busy time), and each S3 listing read every object
# of the bucket, each a list of its versions (13%).
_MOTO_MODULES = tuple(backends.list_of_moto_modules())
backends.list_of_moto_modules = lambda: _MOTO_MODULES  # the folder does not change


class _ObjectsUnder:
    """A bucket's objects under one prefix, found by name before any
    object is read: what moto's listing asks of ``bucket.keys``."""

    def __init__(self, keys: _VersionedKeyStore, prefix: str) -> None:
        self._keys, self._prefix = keys, prefix

    def items(self) -> Iterator[tuple[str, FakeKey]]:
        # list() of the names is one step for other threads: no listing
        # sees the store change size under it (moto copies it for that)
        for name in [name for name in list(dict.keys(self._keys)) if name.startswith(self._prefix)]:
            versions = dict.get(self._keys, name)
            if versions:
                yield name, versions[-1]


class _BucketUnder:
    """A bucket whose ``keys`` are its objects under one prefix."""

    def __init__(self, bucket: FakeBucket, prefix: str) -> None:
        self._bucket, self.keys = bucket, _ObjectsUnder(bucket.keys, prefix)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._bucket, name)


_list_objects = S3Backend.list_objects


def _list_objects_by_name(
    self: S3Backend, bucket: Any, prefix: str | None, *args: Any, **kwargs: Any
) -> Any:
    if (
        prefix
        and isinstance(bucket.keys, _VersionedKeyStore)
        and not isinstance(bucket, FakeTableStorageBucket)
    ):
        bucket = _BucketUnder(bucket, prefix)
    return _list_objects(self, bucket, prefix, *args, **kwargs)


S3Backend.list_objects = _list_objects_by_name  # type: ignore[method-assign]


class _S3AccessDenied(S3ClientError):
    def __init__(self, message: str) -> None:
        super().__init__("AccessDenied", message)


def _caller_policies(response: Any, s3: bool) -> tuple[str, list[dict[str, Any]]]:
    """The caller's user ARN and policy documents; moto's errors for an
    unsigned call or an unknown key."""
    from moto.iam.access_control import IAMPolicy, IAMRequest, S3IAMRequest

    if "Authorization" not in response.headers:
        if s3:
            raise _S3AccessDenied("Access Denied")
        raise AccessDeniedError(user_arn="anonymous", action=response._get_action())
    iam_request = (S3IAMRequest if s3 else IAMRequest)(
        account_id=response.current_account,
        method=response.method,
        path=response.raw_path,
        data=response.data,
        body=response.raw_body,
        headers=response.headers,
        action=response._get_action(),
    )
    access_key = iam_request._access_key
    if not _key_is_active(access_key):
        iam_request._raise_invalid_access_key("InvalidId")
    documents = [IAMPolicy(policy)._policy_json for policy in access_key.collect_policies()]
    return access_key.arn, documents


def _key_is_active(access_key: Any) -> bool:
    """An IAM user's key counts while Active, as on AWS (an assumed role's
    credentials have no status)."""
    user = getattr(access_key, "_owner_user_name", None)
    if user is None:
        return True
    keys = access_key.backend.get_user(user).access_keys
    return any(
        key.access_key_id == access_key._access_key_id and key.status == "Active" for key in keys
    )


def _check(response: Any, requests: list[iam_enforcement.Request], s3: bool) -> None:
    caller = iam_enforcement.caller_access_key(response.headers, response.uri)
    if caller == iam_enforcement.ADMIN_ACCESS_KEY:
        return
    user_arn, policies = _caller_policies(response, s3)
    context = iam_enforcement.global_context(user_arn, response.region)
    for request in requests:
        decision = iam_enforcement.evaluate(policies, request, context)
        _DECISIONS.record(user_arn, request, decision)
        if decision.decision != "allowed":
            message = iam_enforcement.denial_message(user_arn, request.action, decision)
            if s3:
                raise _S3AccessDenied(message)
            if response.service_name in ("iam", "sts"):
                raise _RESTError("AccessDenied", message)
            raise JsonRESTError("AccessDeniedException", message)


def _authorize_s3(
    self: ActionAuthenticatorMixin, bucket_name: str | None = None, key_name: str | None = None
) -> None:
    moto_action = self.data.get("Action", "")  # type: ignore[attr-defined]
    deletes_keys = moto_action == "DeleteObject" and not key_name
    try:
        requests = iam_enforcement.s3_requests(
            moto_action,
            bucket_name,
            key_name,
            self.uri,  # type: ignore[attr-defined]
            self.raw_body if deletes_keys else None,  # type: ignore[attr-defined]
            method=self.method,  # type: ignore[attr-defined]
            copy_source=self.headers.get("x-amz-copy-source"),  # type: ignore[attr-defined]
        )
    except iam_enforcement.MalformedRequest:
        raise S3ClientError(
            "MalformedXML",
            "The XML you provided was not well-formed or did not validate against our"
            " published schema",
        ) from None
    _check(self, requests, s3=True)


def _authorize_normal(self: ActionAuthenticatorMixin, resource: str = "*") -> None:
    operation = self._get_action()  # type: ignore[attr-defined]
    service = self.service_name  # type: ignore[attr-defined]
    if service == "sts" and operation == "GetCallerIdentity":
        return  # always allowed, as on AWS
    params = _json_params(self)
    region = self.region  # type: ignore[attr-defined]
    if service == "glue":
        request = iam_enforcement.glue_request(operation, params, region)
        if request is None:
            return
    elif service == "athena":
        request = iam_enforcement.athena_request(operation, params, region)
    else:
        request = iam_enforcement.Request(f"{service}:{operation}", (resource,))
    _check(self, [request], s3=False)


def _json_params(response: Any) -> dict[str, Any]:
    try:
        params = json.loads(response.body or "{}")
    except (TypeError, ValueError):
        return {}
    return params if isinstance(params, dict) else {}


_DECISIONS = iam_enforcement.DecisionLog(os.environ.get(iam_enforcement.DECISIONS_ENVIRONMENT))


def enforce_iam() -> None:
    """Every later call is authorized by the caller's IAM policies."""
    ActionAuthenticatorMixin._authenticate_and_authorize_s3_action = _authorize_s3  # type: ignore[method-assign]
    ActionAuthenticatorMixin._authenticate_and_authorize_normal_action = _authorize_normal  # type: ignore[method-assign]


# what a state file keeps: every service the local Athena's users touch
_KEPT_SERVICES = ("s3", "glue", "iam", "athena", "sts")


def restore_state(path: Path) -> None:
    """The services as a stopped server saved them (nothing if none did)."""
    if not path.exists():
        return
    with path.open("rb") as saved:
        services = pickle.load(saved)  # the user's own state folder
    for name, backend in services.items():
        backends.get_backend(name).update(backend)  # type: ignore[call-overload]


def save_state(path: Path) -> None:
    """Every kept service, written whole or not at all."""
    services = {name: backends.get_backend(name) for name in _KEPT_SERVICES}  # type: ignore[call-overload]
    partial = path.with_name(path.name + ".partial")
    with partial.open("wb") as saving:
        pickle.dump(services, saving, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(partial, path)


def keep_state(path: Path) -> None:
    """Restore ``path`` now; save it when the server is told to stop
    (SIGTERM, or SIGINT from a terminal's Ctrl-C), once."""
    restore_state(path)
    saved = threading.Event()

    def stop(number: int, frame: FrameType | None) -> None:
        if not saved.is_set():
            saved.set()
            save_state(path)
        raise SystemExit(0)

    # moto's main sets its own handler of both signals (which exits at
    # once): it takes ours instead
    moto.server.signal_handler = stop


def main() -> None:
    from moto.server import main as moto_main

    if os.environ.get(iam_enforcement.ENFORCE_ENVIRONMENT) == "1":
        enforce_iam()
    if os.environ.get(AWS_STATE_ENVIRONMENT):
        keep_state(Path(os.environ[AWS_STATE_ENVIRONMENT]))
    # no line per request in the server's log (12% of its busy time under a
    # build's load); errors and their tracebacks are still written
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    moto_main(sys.argv[1:])


if __name__ == "__main__":
    main()
