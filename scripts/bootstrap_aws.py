"""Create (or check) the AWS side of the STEDI lakehouse, idempotently.

- the lake bucket: public access blocked, default encryption (SSE-S3, or
  SSE-KMS with --kms-key-id), versioning, lifecycle rules (multipart
  uploads left incomplete for a day are aborted; an object version that
  stopped being current is deleted after 30 days, and a delete marker left
  alone is removed; query results, the runner's and the consumers', expire
  after 7 days), and a bucket policy
  that denies every request not made over TLS (a statement of the policy
  that grants public access is removed);
- Glue databases for the landing, trusted and curated zones
  (<database-prefix>_landing, ..._trusted, ..._curated);
- an Athena workgroup whose query results go, encrypted, to
  s3://BUCKET/<results-prefix>. The workgroup does not enforce that
  location on its queries: when it does, dbt-athena leaves the location out
  of every CREATE TABLE AS, and Athena writes each table under the results
  prefix, where an expiry rule would delete it and no grant could tell
  results from tables. Not enforced, every table lives under the target's
  s3_data_dir (s3://BUCKET/warehouse/<database>/<table>/);
- a second work group for the consumers of the curated zone (the ML team,
  deploy/ml-consumer-policy.json), with results of its own under
  s3://BUCKET/<consumer-results-prefix>, enforced: a consumer creates no
  table;
- with --pseudonym-key-from-env, the Athena target's pseudonym key: the
  secret of DBT_ENV_SECRET_STEDI_PSEUDONYM_KEY as a one-row table
  <database-prefix>_restricted.pseudonym_key over an encrypted object under
  s3://BUCKET/restricted/, for the dbt runner only. The key never appears
  in SQL (Athena keeps query text in its history and in CloudTrail).

Prints, for each resource, whether it was created, updated (found with
other settings) or found as wanted. A second run changes nothing. With
--check it changes nothing, prints what is missing or has drifted, and exits
non-zero when anything has.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from scripts.common.aws_session import (
    AwsTarget,
    add_aws_arguments,
    error_code,
    object_encryption,
)
from scripts.common.cli_logging import configure_logging
from scripts.common.hive_formats import TEXT_INPUT_FORMAT, TEXT_OUTPUT_FORMAT

LOG = logging.getLogger("bootstrap_aws")

ZONES = ("landing", "trusted", "curated")
ABORT_RULE_ID = "stedi-abort-incomplete-multipart-uploads"
ABORT_AFTER_DAYS = 1
NONCURRENT_RULE_ID = "stedi-expire-noncurrent-versions"
NONCURRENT_AFTER_DAYS = 30
RESULTS_RULE_ID = "stedi-expire-query-results"
CONSUMER_RESULTS_RULE_ID = "stedi-expire-consumer-query-results"
RESULTS_AFTER_DAYS = 7
TLS_ONLY_SID = "stedi-deny-insecure-transport"
EXIT_DRIFT = 4
PSEUDONYM_KEY_ENV = "DBT_ENV_SECRET_STEDI_PSEUDONYM_KEY"
PSEUDONYM_KEY_PREFIX = "restricted/pseudonym_key/"
PSEUDONYM_KEY_TABLE = "pseudonym_key"
JSON_SERDE = "org.apache.hive.hcatalog.data.JsonSerDe"


class PseudonymKeyError(ValueError):
    """The pseudonym key is missing or unusable."""


def pseudonym_key_from_env(env: dict[str, str] | None = None) -> str:
    """The secret pseudonym key, checked as the dbt targets check it."""
    key = (os.environ if env is None else env).get(PSEUDONYM_KEY_ENV, "")
    if not key:
        raise PseudonymKeyError(f"{PSEUDONYM_KEY_ENV} is not set")
    if not 32 <= len(key.encode()) <= 64:
        raise PseudonymKeyError(f"{PSEUDONYM_KEY_ENV} must be 32 to 64 bytes long")
    return key


@dataclass(frozen=True)
class BootstrapOptions:
    """What to create."""

    bucket: str
    database_prefix: str = "stedi"
    workgroup: str = "stedi"
    results_prefix: str = "athena-results"
    consumer_workgroup: str = "stedi-ml"
    consumer_results_prefix: str = "athena-results-ml"
    kms_key_id: str | None = None
    check_only: bool = False  # report, change nothing
    # False only for a local S3 server without TLS (e.g. moto, which
    # enforces the TLS-only statement): never on AWS
    tls_only: bool = True
    # repr=False: options get logged, the key must not be.
    pseudonym_key: str | None = field(default=None, repr=False)

    @property
    def results_location(self) -> str:
        return f"s3://{self.bucket}/{self.results_prefix.strip('/')}/"

    @property
    def consumer_results_location(self) -> str:
        return f"s3://{self.bucket}/{self.consumer_results_prefix.strip('/')}/"

    def database(self, zone: str) -> str:
        return f"{self.database_prefix}_{zone}"


@dataclass(frozen=True)
class Outcome:
    """What bootstrap did to one resource, or with --check would do."""

    resource: str
    state: str  # created | updated | found; with --check: missing | drifted | found
    detail: str = ""  # what differed

    def __str__(self) -> str:
        return f"{self.state:<8} {self.resource}" + (f" ({self.detail})" if self.detail else "")


def outcome(resource: str, state: str, options: BootstrapOptions, detail: str = "") -> Outcome:
    """The outcome of a resource found in ``state``; with --check, named for
    what would be done."""
    if options.check_only:
        state = {"created": "missing", "updated": "drifted"}.get(state, state)
    return Outcome(resource, state, detail)


def should_apply(state: str, options: BootstrapOptions) -> bool:
    return state != "found" and not options.check_only


def ensure_bucket(s3: Any, region: str, options: BootstrapOptions) -> Outcome:
    resource = f"s3 bucket {options.bucket}"
    try:
        s3.head_bucket(Bucket=options.bucket)
        return Outcome(resource, "found")
    except ClientError as error:
        if error_code(error) not in {"404", "NoSuchBucket", "NotFound"}:
            raise
    if options.check_only:
        return outcome(resource, "created", options)
    arguments: dict[str, Any] = {"Bucket": options.bucket}
    if region != "us-east-1":
        arguments["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(**arguments)
    return Outcome(resource, "created")


def ensure_public_access_block(s3: Any, options: BootstrapOptions) -> Outcome:
    wanted = {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    resource = f"public access block on {options.bucket}"
    try:
        current = s3.get_public_access_block(Bucket=options.bucket)[
            "PublicAccessBlockConfiguration"
        ]
        state = "found" if current == wanted else "updated"
    except ClientError as error:
        if error_code(error) != "NoSuchPublicAccessBlockConfiguration":
            raise
        state = "created"
    if should_apply(state, options):
        s3.put_public_access_block(Bucket=options.bucket, PublicAccessBlockConfiguration=wanted)
    return outcome(resource, state, options)


def ensure_encryption(s3: Any, options: BootstrapOptions) -> Outcome:
    default: dict[str, str] = (
        {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": options.kms_key_id}
        if options.kms_key_id
        else {"SSEAlgorithm": "AES256"}
    )
    resource = f"default encryption ({default['SSEAlgorithm']}) on {options.bucket}"
    try:
        rules = s3.get_bucket_encryption(Bucket=options.bucket)[
            "ServerSideEncryptionConfiguration"
        ]["Rules"]
        current = [rule.get("ApplyServerSideEncryptionByDefault") for rule in rules]
        state = "found" if default in current else "updated"
    except ClientError as error:
        if error_code(error) != "ServerSideEncryptionConfigurationNotFoundError":
            raise
        state = "created"
    if should_apply(state, options):
        rule: dict[str, Any] = {"ApplyServerSideEncryptionByDefault": default}
        if options.kms_key_id:
            rule["BucketKeyEnabled"] = True
        s3.put_bucket_encryption(
            Bucket=options.bucket,
            ServerSideEncryptionConfiguration={"Rules": [rule]},
        )
    return outcome(resource, state, options)


def ensure_versioning(s3: Any, options: BootstrapOptions) -> Outcome:
    resource = f"versioning on {options.bucket}"
    status = s3.get_bucket_versioning(Bucket=options.bucket).get("Status")
    state = "found" if status == "Enabled" else "created" if status is None else "updated"
    if should_apply(state, options):
        s3.put_bucket_versioning(
            Bucket=options.bucket, VersioningConfiguration={"Status": "Enabled"}
        )
    return outcome(resource, state, options, "" if state == "found" else f"status {status}")


ABORT_RULE = {
    "ID": ABORT_RULE_ID,
    "Filter": {"Prefix": ""},
    "Status": "Enabled",
    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": ABORT_AFTER_DAYS},
}
# Old object versions (a dropped table's files, an emptied partition, a
# rewritten landing file) are kept this long after they stop being current,
# then deleted for good: the deadline by which erased data leaves storage.
NONCURRENT_RULE = {
    "ID": NONCURRENT_RULE_ID,
    "Filter": {"Prefix": ""},
    "Status": "Enabled",
    "NoncurrentVersionExpiration": {"NoncurrentDays": NONCURRENT_AFTER_DAYS},
    "Expiration": {"ExpiredObjectDeleteMarker": True},
}


def results_expiry_rule(rule_id: str, prefix: str) -> dict[str, Any]:
    """Query results expire; the prefix holds nothing else (every table
    lives under warehouse/), so the rule deletes no table."""
    return {
        "ID": rule_id,
        "Filter": {"Prefix": f"{prefix.strip('/')}/"},
        "Status": "Enabled",
        "Expiration": {"Days": RESULTS_AFTER_DAYS},
        "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
    }


def lifecycle_rules(options: BootstrapOptions) -> list[dict[str, Any]]:
    return [
        ABORT_RULE,
        NONCURRENT_RULE,
        results_expiry_rule(RESULTS_RULE_ID, options.results_prefix),
        results_expiry_rule(CONSUMER_RESULTS_RULE_ID, options.consumer_results_prefix),
    ]


def lifecycle_rule_drift(rule: dict[str, Any], wanted: dict[str, Any]) -> str:
    """How a lifecycle rule differs from the wanted one ("" if not): its
    status, its filter and each of its actions."""
    differences = []
    if rule.get("Status") != "Enabled":
        differences.append(f"status {rule.get('Status')}")
    empty = ({}, {"Prefix": ""})
    rule_filter = rule.get("Filter", {"Prefix": rule.get("Prefix", "")})
    wanted_filter = wanted["Filter"]
    if rule_filter != wanted_filter and not (rule_filter in empty and wanted_filter in empty):
        differences.append(f"filter {json.dumps(rule_filter, sort_keys=True)}")
    for action, value in wanted.items():
        if action not in {"ID", "Status", "Filter"} and rule.get(action) != value:
            differences.append(f"{action} {json.dumps(rule.get(action), sort_keys=True)}")
    return ", ".join(differences)


def ensure_lifecycle_rules(s3: Any, options: BootstrapOptions) -> list[Outcome]:
    """The project's lifecycle rules, one outcome each; the bucket's other
    rules are someone else's and stay as they are."""
    try:
        rules = s3.get_bucket_lifecycle_configuration(Bucket=options.bucket)["Rules"]
    except ClientError as error:
        if error_code(error) != "NoSuchLifecycleConfiguration":
            raise
        rules = []
    wanted_rules = lifecycle_rules(options)
    outcomes = []
    for wanted in wanted_rules:
        ours = [rule for rule in rules if rule.get("ID") == wanted["ID"]]
        drift = "; ".join(filter(None, (lifecycle_rule_drift(rule, wanted) for rule in ours)))
        state = "created" if not ours else "updated" if drift or len(ours) > 1 else "found"
        resource = f"lifecycle rule {wanted['ID']} on {options.bucket}"
        outcomes.append(outcome(resource, state, options, drift))
    if any(should_apply(item.state, options) for item in outcomes):
        ids = {wanted["ID"] for wanted in wanted_rules}
        others = [rule for rule in rules if rule.get("ID") not in ids]
        s3.put_bucket_lifecycle_configuration(
            Bucket=options.bucket, LifecycleConfiguration={"Rules": [*others, *wanted_rules]}
        )
    return outcomes


def tls_only_statement(bucket: str) -> dict[str, Any]:
    return {
        "Sid": TLS_ONLY_SID,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def grants_public_access(statement: dict[str, Any]) -> bool:
    """An Allow to everyone: principal "*" (or an AWS principal "*"). A
    condition on it does not make it private for this check: the lake's
    bucket grants nothing to everyone."""
    if statement.get("Effect") != "Allow":
        return False
    principal = statement.get("Principal")
    if isinstance(principal, dict):
        principal = principal.get("AWS")
    principals = principal if isinstance(principal, list) else [principal]
    return "*" in principals


def ensure_bucket_policy(s3: Any, options: BootstrapOptions) -> Outcome:
    """The TLS-only statement is in the bucket policy, as wanted, and no
    statement grants public access (such a statement is removed); the
    policy's other statements are kept."""
    resource = f"bucket policy on {options.bucket} " + (
        "(TLS only, nothing public)" if options.tls_only else "(nothing public, plain HTTP allowed)"
    )
    try:
        policy = json.loads(s3.get_bucket_policy(Bucket=options.bucket)["Policy"])
    except ClientError as error:
        if error_code(error) != "NoSuchBucketPolicy":
            raise
        policy = None
    statements = [] if policy is None else policy.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    public = [statement for statement in statements if grants_public_access(statement)]
    ours = [statement for statement in statements if statement.get("Sid") == TLS_ONLY_SID]
    kept = [statement for statement in statements if statement not in public + ours]
    wanted = [tls_only_statement(options.bucket)] if options.tls_only else []
    verb = "" if options.check_only else " removed"
    differences = [f"public statement {item.get('Sid', '(no Sid)')}{verb}" for item in public]
    if ours != wanted:
        differences.append("no TLS-only statement" if wanted else f"TLS-only statement{verb}")
    state = "found" if not differences else "created" if policy is None else "updated"
    if should_apply(state, options):
        if kept or wanted:
            s3.put_bucket_policy(
                Bucket=options.bucket,
                Policy=json.dumps({"Version": "2012-10-17", "Statement": [*kept, *wanted]}),
            )
        else:
            s3.delete_bucket_policy(Bucket=options.bucket)
    return outcome(resource, state, options, "" if policy is None else ", ".join(differences))


def ensure_database(glue: Any, zone: str, options: BootstrapOptions) -> Outcome:
    name = options.database(zone)
    resource = f"glue database {name}"
    try:
        glue.get_database(Name=name)
        return Outcome(resource, "found")
    except ClientError as error:
        if error_code(error) != "EntityNotFoundException":
            raise
    if options.check_only:
        return outcome(resource, "created", options)
    glue.create_database(
        DatabaseInput={
            "Name": name,
            "Description": f"STEDI lakehouse, {zone} zone",
            "LocationUri": f"s3://{options.bucket}/{zone}/",
        }
    )
    return Outcome(resource, "created")


def text_table_input(
    name: str,
    column: str,
    location: str,
    *,
    classification: str,
    serde: str,
    serde_parameters: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A Glue external table of one string column over text files."""
    serde_info: dict[str, Any] = {"SerializationLibrary": serde}
    if serde_parameters:
        serde_info["Parameters"] = serde_parameters
    return {
        "Name": name,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {"classification": classification},
        "StorageDescriptor": {
            "Columns": [{"Name": column, "Type": "string"}],
            "Location": location,
            "InputFormat": TEXT_INPUT_FORMAT,
            "OutputFormat": TEXT_OUTPUT_FORMAT,
            "SerdeInfo": serde_info,
        },
    }


def ensure_pseudonym_key(s3: Any, glue: Any, options: BootstrapOptions) -> list[Outcome]:
    """The key object (compared by a SHA-256 fingerprint in its metadata,
    never by printing it), its Glue database and its one-column table."""
    assert options.pseudonym_key is not None
    outcomes = [ensure_database(glue, "restricted", options)]
    object_key = PSEUDONYM_KEY_PREFIX + "key.json"
    fingerprint = hashlib.sha256(options.pseudonym_key.encode()).hexdigest()
    resource = f"pseudonym key s3://{options.bucket}/{object_key} (sha256 {fingerprint[:12]}...)"
    try:
        head = s3.head_object(Bucket=options.bucket, Key=object_key)
        state = "found" if head.get("Metadata", {}).get("sha256") == fingerprint else "updated"
    except ClientError as error:
        if error_code(error) not in {"404", "NoSuchKey", "NotFound"}:
            raise
        state = "created"
    if should_apply(state, options):
        s3.put_object(
            Bucket=options.bucket,
            Key=object_key,
            Body=(json.dumps({"pseudonym_key": options.pseudonym_key}) + "\n").encode(),
            Metadata={"sha256": fingerprint},
            **object_encryption(options.kms_key_id),
        )
    outcomes.append(outcome(resource, state, options))

    database = options.database("restricted")
    table_input = text_table_input(
        PSEUDONYM_KEY_TABLE,
        "pseudonym_key",
        f"s3://{options.bucket}/{PSEUDONYM_KEY_PREFIX}",
        classification="json",
        serde=JSON_SERDE,
    )
    table_input["Description"] = "The secret of the pseudonymous keys (dbt macro pseudonymous_key)"
    resource = f"glue table {database}.{PSEUDONYM_KEY_TABLE}"
    try:
        current = glue.get_table(DatabaseName=database, Name=PSEUDONYM_KEY_TABLE)["Table"]
    except ClientError as error:
        if error_code(error) != "EntityNotFoundException":
            raise
        if not options.check_only:
            glue.create_table(DatabaseName=database, TableInput=table_input)
        outcomes.append(outcome(resource, "created", options))
        return outcomes
    wanted = table_input["StorageDescriptor"]
    have = current.get("StorageDescriptor", {})
    if all(have.get(name) == value for name, value in wanted.items()):
        outcomes.append(Outcome(resource, "found"))
    else:
        if not options.check_only:
            glue.update_table(DatabaseName=database, TableInput=table_input)
        outcomes.append(outcome(resource, "updated", options))
    return outcomes


@dataclass(frozen=True)
class WorkGroup:
    """One of the project's Athena work groups."""

    kind: str  # as outcomes name it: "workgroup", "consumer workgroup"
    name: str
    results_location: str
    enforced: bool
    description: str


def work_groups(options: BootstrapOptions) -> list[WorkGroup]:
    return [
        # see the module's docstring: tables under warehouse/, not results
        WorkGroup(
            "workgroup",
            options.workgroup,
            options.results_location,
            False,
            "STEDI lakehouse dbt runs",
        ),
        WorkGroup(
            "consumer workgroup",
            options.consumer_workgroup,
            options.consumer_results_location,
            True,
            "STEDI curated zone readers",
        ),
    ]


def workgroup_configuration(options: BootstrapOptions, group: WorkGroup) -> dict[str, Any]:
    encryption: dict[str, str] = (
        {"EncryptionOption": "SSE_KMS", "KmsKey": options.kms_key_id}
        if options.kms_key_id
        else {"EncryptionOption": "SSE_S3"}
    )
    return {
        "ResultConfiguration": {
            "OutputLocation": group.results_location,
            "EncryptionConfiguration": encryption,
        },
        "EnforceWorkGroupConfiguration": group.enforced,
        "PublishCloudWatchMetricsEnabled": True,
    }


def ensure_workgroup(athena: Any, options: BootstrapOptions, group: WorkGroup) -> Outcome:
    resource = f"athena {group.kind} {group.name} (results {group.results_location})"
    wanted = workgroup_configuration(options, group)
    # Listing, rather than get_work_group's error, tells existence the same
    # way on AWS and on S3-compatible test servers.
    names: set[str] = set()
    arguments: dict[str, Any] = {}
    while True:
        page = athena.list_work_groups(**arguments)
        names.update(group["Name"] for group in page.get("WorkGroups", []))
        if not page.get("NextToken"):
            break
        arguments["NextToken"] = page["NextToken"]
    if group.name not in names:
        if options.check_only:
            return outcome(resource, "created", options)
        athena.create_work_group(
            Name=group.name, Configuration=wanted, Description=group.description
        )
        return Outcome(resource, "created")
    configuration = athena.get_work_group(WorkGroup=group.name)["WorkGroup"].get(
        "Configuration", {}
    )
    differences = []
    if configuration.get("ResultConfiguration", {}) != wanted["ResultConfiguration"]:
        differences.append("result configuration")
    enforced = configuration.get("EnforceWorkGroupConfiguration", True)
    if enforced != wanted["EnforceWorkGroupConfiguration"]:
        differences.append("enforces its result location" if enforced else "does not enforce")
    if not differences:
        return Outcome(resource, "found")
    if not options.check_only:
        athena.update_work_group(
            WorkGroup=group.name,
            ConfigurationUpdates={
                "ResultConfigurationUpdates": wanted["ResultConfiguration"],
                "EnforceWorkGroupConfiguration": wanted["EnforceWorkGroupConfiguration"],
            },
        )
    return outcome(resource, "updated", options, ", ".join(differences))


def bootstrap(target: AwsTarget, options: BootstrapOptions) -> list[Outcome]:
    """Bring every resource to the wanted state; return what was done."""
    region = target.session().region_name or "us-east-1"
    s3 = target.client("s3")
    glue = target.client("glue")
    athena = target.client("athena")
    outcomes = [ensure_bucket(s3, region, options)]
    # A bucket that --check found missing has no settings to check.
    if outcomes[0].state != "missing":
        outcomes += [
            ensure_public_access_block(s3, options),
            ensure_encryption(s3, options),
            ensure_versioning(s3, options),
            *ensure_lifecycle_rules(s3, options),
            ensure_bucket_policy(s3, options),
        ]
    outcomes += [
        *(ensure_database(glue, zone, options) for zone in ZONES),
        *(ensure_workgroup(athena, options, group) for group in work_groups(options)),
    ]
    if options.pseudonym_key is not None:
        outcomes.extend(ensure_pseudonym_key(s3, glue, options))
    return outcomes


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.bootstrap_aws",
        description=__doc__.split("\n\n")[0],
        epilog=(
            "Example: python -m scripts.bootstrap_aws --bucket my-stedi-lake --region eu-west-1\n"
            "Exit codes: 0 done (with --check: nothing missing or drifted), 2 pseudonym key "
            f"missing or unusable, 3 AWS error, {EXIT_DRIFT} --check found something missing "
            "or drifted."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--bucket", required=True, help="the lake's S3 bucket")
    add_aws_arguments(parser)
    parser.add_argument(
        "--database-prefix",
        default="stedi",
        help="Glue databases are <prefix>_landing, _trusted, _curated (default: stedi)",
    )
    parser.add_argument("--workgroup", default="stedi", help="Athena workgroup (default: stedi)")
    parser.add_argument(
        "--results-prefix",
        default="athena-results",
        help="key prefix of Athena's query results in the bucket (default: athena-results)",
    )
    parser.add_argument(
        "--consumer-workgroup",
        default="stedi-ml",
        help="Athena workgroup of the curated zone's readers (default: stedi-ml)",
    )
    parser.add_argument(
        "--consumer-results-prefix",
        default="athena-results-ml",
        help="key prefix of their query results (default: athena-results-ml)",
    )
    parser.add_argument("--kms-key-id", help="use SSE-KMS with this key for the bucket and results")
    parser.add_argument(
        "--pseudonym-key-from-env",
        action="store_true",
        help=f"store the Athena target's pseudonym key from ${PSEUDONYM_KEY_ENV} "
        "(32 to 64 bytes) in <prefix>_restricted.pseudonym_key",
    )
    parser.add_argument(
        "--allow-plain-http",
        action="store_true",
        help="leave the TLS-only statement out of the bucket policy: only for a local S3 "
        "server without TLS (never on AWS)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help=f"change nothing: report what is missing or has drifted (exit {EXIT_DRIFT} if any)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    configure_logging()
    args = parse_args(argv)
    target = AwsTarget(region=args.region, endpoint_url=args.endpoint_url, profile=args.profile)
    try:
        pseudonym_key = pseudonym_key_from_env() if args.pseudonym_key_from_env else None
    except PseudonymKeyError as error:
        LOG.error("%s; nothing changed", error)
        return 2
    options = BootstrapOptions(
        bucket=args.bucket,
        database_prefix=args.database_prefix,
        workgroup=args.workgroup,
        results_prefix=args.results_prefix,
        consumer_workgroup=args.consumer_workgroup,
        consumer_results_prefix=args.consumer_results_prefix,
        kms_key_id=args.kms_key_id,
        pseudonym_key=pseudonym_key,
        check_only=args.check,
        tls_only=not args.allow_plain_http,
    )
    LOG.info(
        "%s %s (%s)",
        "checking" if args.check else "bootstrapping",
        args.bucket,
        target.describe(),
    )
    try:
        outcomes = bootstrap(target, options)
    except (BotoCoreError, ClientError) as error:
        LOG.error("AWS error: %s", error)
        return 3
    for outcome in outcomes:
        print(outcome)
    changed = sum(1 for item in outcomes if item.state != "found")
    if args.check:
        print(f"{changed} missing or drifted, {len(outcomes) - changed} as wanted")
        return EXIT_DRIFT if changed else 0
    print(f"{changed} changed, {len(outcomes) - changed} already as wanted")
    return 0


if __name__ == "__main__":
    sys.exit(main())
