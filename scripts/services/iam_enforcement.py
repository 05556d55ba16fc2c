"""IAM for the local AWS server and the local Athena: a call made with an IAM
user's access key is allowed or denied by that user's policies, as AWS
decides, with AWS's error.

moto authenticates callers (its IAM users and their access keys) but
authorizes only S3 by resource, evaluates a policy's conditions wrongly (a
condition that does not hold is an explicit deny), and checks every Glue
and Athena call against the resource "*". So the evaluation is Principal
Mapper's (principalmapper, NCC Group's IAM simulator: wildcards, NotAction,
NotResource, condition operators, policy variables; explicit deny first),
and this module says what AWS authorizes for each request:

- S3: the action IAM names (ListObjectsV2 is s3:ListBucket, with the
  request's ``s3:prefix`` as condition key; HeadObject is s3:GetObject; a
  multipart upload's calls are s3:PutObject; DeleteObjects is
  s3:DeleteObject on every key it names) on the bucket or object ARN;
- Glue: the operation on the catalog, the database and the tables it names
  (AWS Glue Developer Guide, "Specifying AWS Glue resource ARNs"; Athena's
  "Configure access to databases and tables in the AWS Glue Data Catalog");
- Athena: the operation on its work group's ARN (the local Athena asks
  here, scripts/services/athena_local/).

The account's administrator (the access key ``testing`` of the test
harness, bootstrap and loader, scripts/services/local_s3.py) is not
checked, as an account's root is not. Signatures are not verified: the
local Athena forwards calls, and the point here is the policy. Glue's
column-statistics calls are Trino's own (Athena never makes them) and go
unchecked.

Every decision for an IAM user is written once per (user, action,
decision) to the JSON lines file $STEDI_IAM_DECISIONS, when set: the tests
read which grants a build used.
"""

from __future__ import annotations

import collections
import collections.abc
import json
import re
import threading
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

# Principal Mapper 1.1.5 imports the ABCs from `collections`, as Python
# before 3.10 allowed; they live in collections.abc now.
for _name in ("Mapping", "MutableMapping"):
    if not hasattr(collections, _name):
        setattr(collections, _name, getattr(collections.abc, _name))

from principalmapper.querying.local_policy_simulation import (  # noqa: E402
    policy_has_matching_statement,
)
from principalmapper.util.case_insensitive_dict import CaseInsensitiveDict  # noqa: E402

ADMIN_ACCESS_KEY = "testing"
ACCOUNT_ID = "123456789012"  # moto's account
DECISIONS_ENVIRONMENT = "STEDI_IAM_DECISIONS"
ENFORCE_ENVIRONMENT = "STEDI_ENFORCE_IAM"

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]+/([^/]+)/")


def caller_access_key(headers: Any, uri: str = "") -> str | None:
    """The access key a SigV4-signed request names, in its Authorization
    header or, presigned, in its query (None: unsigned)."""
    match = _CREDENTIAL.search(headers.get("Authorization", "") or "")
    if match:
        return match.group(1)
    credential = parse_qs(urlparse(uri).query).get("X-Amz-Credential")
    return credential[0].split("/", 1)[0] if credential else None


def global_context(user_arn: str, region: str) -> dict[str, str]:
    """The global condition keys a request carries (aws:username, ...); the
    stand-in is plain HTTP, so aws:SecureTransport is false."""
    return {
        "aws:username": user_arn.rpartition("/")[2],
        "aws:PrincipalArn": user_arn,
        "aws:PrincipalAccount": ACCOUNT_ID,
        "aws:PrincipalType": "User",
        "aws:RequestedRegion": region,
        "aws:SecureTransport": "false",
    }


@dataclass(frozen=True)
class Request:
    """What IAM authorizes: an action on each resource, with condition keys."""

    action: str
    resources: tuple[str, ...]
    context: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    """IAM's answer: 'allowed', 'explicitDeny' or 'implicitDeny'; the
    resource that decided (the last one, when all were allowed); and, when
    allowed, the grants that allowed it: (statement Sid, Resource entry)."""

    decision: str
    resource: str
    grants: tuple[tuple[str, str], ...] = ()


def evaluate(
    policies: list[dict[str, Any]], request: Request, caller: dict[str, str] | None = None
) -> Decision:
    """Allowed only if every resource is allowed by some statement and
    denied by none. ``caller``: the global condition keys (global_context)."""
    keys = CaseInsensitiveDict({**(caller or {}), **request.context})
    grants: list[tuple[str, str]] = []
    for resource in request.resources:
        if any(
            policy_has_matching_statement(policy, "Deny", request.action, resource, keys)
            for policy in policies
        ):
            return Decision("explicitDeny", resource)
        allowing = _grants(policies, request.action, resource, keys)
        if not allowing:
            return Decision("implicitDeny", resource)
        grants.extend(allowing)
    return Decision("allowed", request.resources[-1] if request.resources else "*", tuple(grants))


def _grants(
    policies: list[dict[str, Any]], action: str, resource: str, keys: CaseInsensitiveDict
) -> list[tuple[str, str]]:
    """Every Allow statement that allows, each with the Resource entry that
    matched (a NotResource statement as a whole)."""
    found = []
    for policy in policies:
        statements = policy["Statement"]
        for statement in statements if isinstance(statements, list) else [statements]:
            if statement.get("Effect") != "Allow":
                continue
            sid = str(statement.get("Sid", ""))
            if "Resource" not in statement:  # NotResource: the statement decides whole
                if policy_has_matching_statement(
                    {"Statement": [statement]}, "Allow", action, resource, keys
                ):
                    found.append((sid, "NotResource"))
                continue
            entries = statement["Resource"]
            for entry in [entries] if isinstance(entries, str) else entries:
                single = {"Statement": [{**statement, "Resource": entry}]}
                if policy_has_matching_statement(single, "Allow", action, resource, keys):
                    found.append((sid, entry))
    return found


def denial_message(user_arn: str, action: str, decision: Decision) -> str:
    """AWS's AccessDenied text, which names the action and the resource."""
    resource = decision.resource
    reason = (
        "with an explicit deny in an identity-based policy"
        if decision.decision == "explicitDeny"
        else f"because no identity-based policy allows the {action} action"
    )
    return (
        f"User: {user_arn} is not authorized to perform: {action} on resource: {resource} {reason}"
    )


class DecisionLog:
    """Each user's use of each grant once (statement, action, Resource
    entry), and each refusal once per action and resource."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.seen: set[tuple[str, ...]] = set()
        self.lock = threading.Lock()

    def record(self, user: str, request: Request, decision: Decision) -> None:
        if not self.path:
            return
        action = request.action
        if decision.decision == "allowed":
            entries: list[dict[str, Any]] = [
                {"sid": sid, "grant": entry, "resource": decision.resource}
                for sid, entry in decision.grants
            ]
        else:
            entries = [{"resource": decision.resource, "context": request.context}]
        with self.lock:
            for entry in entries:
                grant = entry.get("grant", entry["resource"])
                key = (user, action, decision.decision, entry.get("sid", ""), grant)
                if key in self.seen:
                    continue
                self.seen.add(key)
                line = {"user": user, "action": action, "decision": decision.decision, **entry}
                with open(self.path, "a", encoding="utf-8") as log:
                    log.write(json.dumps(line) + "\n")


# --- S3 ---------------------------------------------------------------------

# moto's name of an S3 request (S3Response.data["Action"]) -> IAM's action
_S3_ACTIONS = {
    "ListObjects": "ListBucket",
    "ListObjectsV2": "ListBucket",
    "HeadBucket": "ListBucket",
    "ListBucketVersions": "ListBucketVersions",
    "ListBucketMultipartUploads": "ListBucketMultipartUploads",
    "ListMultipartUploads": "ListBucketMultipartUploads",
    "ListObjectVersions": "ListBucketVersions",
}
# The subresources moto's map lacks, and what IAM calls a request of them
# (the Service Authorization Reference for S3): (bucket or key, method) ->
# {query parameter: action}
_S3_SUBRESOURCES = {
    ("bucket", "GET"): {
        "encryption": "GetEncryptionConfiguration",
        "publicAccessBlock": "GetBucketPublicAccessBlock",
        "ownershipControls": "GetBucketOwnershipControls",
        "object-lock": "GetBucketObjectLockConfiguration",
        "replication": "GetReplicationConfiguration",
    },
    ("bucket", "PUT"): {
        "encryption": "PutEncryptionConfiguration",
        "publicAccessBlock": "PutBucketPublicAccessBlock",
        "ownershipControls": "PutBucketOwnershipControls",
        "object-lock": "PutBucketObjectLockConfiguration",
        "replication": "PutReplicationConfiguration",
    },
    ("bucket", "DELETE"): {
        "encryption": "PutEncryptionConfiguration",
        "publicAccessBlock": "PutBucketPublicAccessBlock",
        "ownershipControls": "PutBucketOwnershipControls",
        "replication": "PutReplicationConfiguration",
    },
    ("key", "GET"): {
        "retention": "GetObjectRetention",
        "legal-hold": "GetObjectLegalHold",
        "attributes": "GetObjectAttributes",
    },
    ("key", "HEAD"): {"versionId": "GetObjectVersion"},
    ("key", "PUT"): {"retention": "PutObjectRetention", "legal-hold": "PutObjectLegalHold"},
}


class MalformedRequest(ValueError):
    """A request body S3 would refuse as MalformedXML."""


def s3_requests(
    moto_action: str,
    bucket: str | None,
    key: str | None,
    uri: str,
    body: Any,
    method: str = "GET",
    copy_source: str | None = None,
) -> list[Request]:
    """The IAM requests one S3 call makes (a copy reads its source too)."""
    query = parse_qs(urlparse(uri).query, keep_blank_values=True)
    action = "s3:" + _S3_ACTIONS.get(moto_action, moto_action)
    subresources = _S3_SUBRESOURCES.get(("key" if key else "bucket", method), {})
    for name, named in subresources.items():
        if name in query:
            action = f"s3:{named}"
    if key:
        requests = [Request(action, (f"arn:aws:s3:::{bucket}/{key}",))]
        if copy_source:  # CopyObject, UploadPartCopy: the source is read
            source = copy_source.lstrip("/").split("?versionId=")
            read = "s3:GetObjectVersion" if len(source) > 1 else "s3:GetObject"
            requests.append(Request(read, (f"arn:aws:s3:::{unquote(source[0])}",)))
        return requests
    if bucket is None:
        return [Request(action, ("*",))]
    bucket_arn = f"arn:aws:s3:::{bucket}"
    if moto_action == "DeleteObject" and body:  # DeleteObjects: every key it names
        return _delete_objects(bucket_arn, body)
    context: dict[str, str] = {}
    if action == "s3:ListBucket":
        for name in ("prefix", "delimiter", "max-keys"):
            if name in query:
                context[f"s3:{name}"] = query[name][0]
    return [Request(action, (bucket_arn,), context)]


def _delete_objects(bucket_arn: str, body: Any) -> list[Request]:
    """DeleteObjects: s3:DeleteObject on each key it names, and
    s3:DeleteObjectVersion on each version."""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError as error:
        raise MalformedRequest(str(error)) from None
    latest, versions = [], []
    for item in root:
        fields = {child.tag.rpartition("}")[2]: child.text or "" for child in item}
        if "Key" in fields:
            (versions if fields.get("VersionId") else latest).append(fields["Key"])
    requests = []
    if latest:
        requests.append(Request("s3:DeleteObject", tuple(f"{bucket_arn}/{k}" for k in latest)))
    if versions:
        arns = tuple(f"{bucket_arn}/{k}" for k in versions)
        requests.append(Request("s3:DeleteObjectVersion", arns))
    return requests


# --- Glue and Athena --------------------------------------------------------

_TRINO_ONLY = re.compile(r"(Get|Update|Delete)ColumnStatisticsFor(Table|Partition)")
_DATABASE_OPERATIONS = {"GetDatabase", "DeleteDatabase", "UpdateDatabase"}
_TABLE_BY_NAME = {"GetTable", "DeleteTable"}


def glue_request(operation: str, params: dict[str, Any], region: str) -> Request | None:
    """Glue's operation on the catalog, the database and the tables it
    names; None for Trino's column-statistics calls."""
    if _TRINO_ONLY.fullmatch(operation):
        return None
    prefix = f"arn:aws:glue:{region}:{ACCOUNT_ID}"
    database = params.get("DatabaseName")
    if operation in _DATABASE_OPERATIONS:
        database = params.get("Name")
    if operation == "CreateDatabase":
        database = params.get("DatabaseInput", {}).get("Name")
    tables: list[str] = []
    if params.get("TableName"):
        tables.append(params["TableName"])
    if operation in _TABLE_BY_NAME and params.get("Name"):
        tables.append(params["Name"])
    if params.get("TableInput", {}).get("Name"):
        tables.append(params["TableInput"]["Name"])
    tables.extend(params.get("TablesToDelete", []))
    resources = [f"{prefix}:catalog"]
    if database:
        resources.append(f"{prefix}:database/{database}")
        resources.extend(f"{prefix}:table/{database}/{table}" for table in tables)
    return Request(f"glue:{operation}", tuple(resources))


# Athena's operations that act on no work group (the Service Authorization
# Reference: their resource is "*")
_ATHENA_UNSCOPED = {"ListWorkGroups", "ListDataCatalogs", "ListEngineVersions"}


def athena_request(operation: str, params: dict[str, Any], region: str) -> Request:
    """Athena's operation on its work group: the one it names (CreateWorkGroup:
    the one it creates), else ``primary``; on the data catalog ``params``
    names as DataCatalog (the metadata calls); a few act on none."""
    if operation in _ATHENA_UNSCOPED:
        return Request(f"athena:{operation}", ("*",))
    if "DataCatalog" in params:  # the metadata calls act on a data catalog
        arn = f"arn:aws:athena:{region}:{ACCOUNT_ID}:datacatalog/{params['DataCatalog']}"
        return Request(f"athena:{operation}", (arn,))
    group = params.get("Name") if operation == "CreateWorkGroup" else params.get("WorkGroup")
    arn = f"arn:aws:athena:{region}:{ACCOUNT_ID}:workgroup/{group or 'primary'}"
    return Request(f"athena:{operation}", (arn,))
