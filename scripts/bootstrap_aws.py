"""Create (or check) the AWS side of the STEDI lakehouse, idempotently.

- the lake bucket: public access blocked, default encryption (SSE-S3, or
  SSE-KMS with --kms-key-id), versioning, and a lifecycle rule that aborts
  multipart uploads left incomplete for a day;
- Glue databases for the landing, trusted and curated zones
  (<database-prefix>_landing, ..._trusted, ..._curated);
- an Athena workgroup whose query results go, encrypted, to
  s3://BUCKET/<results-prefix>, enforced for every query of the workgroup;
- with --pseudonym-key-from-env, the Athena target's pseudonym key: the
  secret of DBT_ENV_SECRET_STEDI_PSEUDONYM_KEY as a one-row table
  <database-prefix>_restricted.pseudonym_key over an encrypted object under
  s3://BUCKET/restricted/, for the dbt runner only. The key never appears
  in SQL (Athena keeps query text in its history and in CloudTrail).

Prints, for each resource, whether it was created, updated (found with
other settings) or found as wanted. A second run changes nothing.
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

from scripts.aws_session import AwsTarget, add_aws_arguments, object_encryption

LOG = logging.getLogger("bootstrap_aws")

ZONES = ("landing", "trusted", "curated")
ABORT_RULE_ID = "stedi-abort-incomplete-multipart-uploads"
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
    kms_key_id: str | None = None
    # repr=False: options get logged, the key must not be.
    pseudonym_key: str | None = field(default=None, repr=False)

    @property
    def results_location(self) -> str:
        return f"s3://{self.bucket}/{self.results_prefix.strip('/')}/"

    def database(self, zone: str) -> str:
        return f"{self.database_prefix}_{zone}"


@dataclass(frozen=True)
class Outcome:
    """What bootstrap did to one resource."""

    resource: str
    state: str  # created | updated | found

    def __str__(self) -> str:
        return f"{self.state:<8} {self.resource}"


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def ensure_bucket(s3: Any, region: str, options: BootstrapOptions) -> Outcome:
    resource = f"s3 bucket {options.bucket}"
    try:
        s3.head_bucket(Bucket=options.bucket)
        return Outcome(resource, "found")
    except ClientError as error:
        if _error_code(error) not in {"404", "NoSuchBucket", "NotFound"}:
            raise
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
        if _error_code(error) != "NoSuchPublicAccessBlockConfiguration":
            raise
        state = "created"
    if state != "found":
        s3.put_public_access_block(Bucket=options.bucket, PublicAccessBlockConfiguration=wanted)
    return Outcome(resource, state)


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
        if _error_code(error) != "ServerSideEncryptionConfigurationNotFoundError":
            raise
        state = "created"
    if state != "found":
        rule: dict[str, Any] = {"ApplyServerSideEncryptionByDefault": default}
        if options.kms_key_id:
            rule["BucketKeyEnabled"] = True
        s3.put_bucket_encryption(
            Bucket=options.bucket,
            ServerSideEncryptionConfiguration={"Rules": [rule]},
        )
    return Outcome(resource, state)


def ensure_versioning(s3: Any, options: BootstrapOptions) -> Outcome:
    resource = f"versioning on {options.bucket}"
    status = s3.get_bucket_versioning(Bucket=options.bucket).get("Status")
    if status == "Enabled":
        return Outcome(resource, "found")
    s3.put_bucket_versioning(Bucket=options.bucket, VersioningConfiguration={"Status": "Enabled"})
    return Outcome(resource, "created" if status is None else "updated")


def ensure_abort_incomplete_uploads(s3: Any, options: BootstrapOptions) -> Outcome:
    resource = f"lifecycle rule {ABORT_RULE_ID} on {options.bucket}"
    try:
        rules = s3.get_bucket_lifecycle_configuration(Bucket=options.bucket)["Rules"]
    except ClientError as error:
        if _error_code(error) != "NoSuchLifecycleConfiguration":
            raise
        rules = []
    if any(rule.get("ID") == ABORT_RULE_ID for rule in rules):
        return Outcome(resource, "found")
    rules = [
        *rules,
        {
            "ID": ABORT_RULE_ID,
            "Filter": {"Prefix": ""},
            "Status": "Enabled",
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
        },
    ]
    s3.put_bucket_lifecycle_configuration(
        Bucket=options.bucket, LifecycleConfiguration={"Rules": rules}
    )
    return Outcome(resource, "created")


def ensure_database(glue: Any, zone: str, options: BootstrapOptions) -> Outcome:
    name = options.database(zone)
    resource = f"glue database {name}"
    try:
        glue.get_database(Name=name)
        return Outcome(resource, "found")
    except ClientError as error:
        if _error_code(error) != "EntityNotFoundException":
            raise
    glue.create_database(
        DatabaseInput={
            "Name": name,
            "Description": f"STEDI lakehouse, {zone} zone",
            "LocationUri": f"s3://{options.bucket}/{zone}/",
        }
    )
    return Outcome(resource, "created")


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
        if _error_code(error) not in {"404", "NoSuchKey", "NotFound"}:
            raise
        state = "created"
    if state != "found":
        s3.put_object(
            Bucket=options.bucket,
            Key=object_key,
            Body=(json.dumps({"pseudonym_key": options.pseudonym_key}) + "\n").encode(),
            Metadata={"sha256": fingerprint},
            **object_encryption(options.kms_key_id),
        )
    outcomes.append(Outcome(resource, state))

    database = options.database("restricted")
    table_input = {
        "Name": PSEUDONYM_KEY_TABLE,
        "Description": "The secret of the pseudonymous keys (dbt macro pseudonymous_key)",
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {"classification": "json"},
        "StorageDescriptor": {
            "Columns": [{"Name": "pseudonym_key", "Type": "string"}],
            "Location": f"s3://{options.bucket}/{PSEUDONYM_KEY_PREFIX}",
            "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
            "SerdeInfo": {"SerializationLibrary": JSON_SERDE},
        },
    }
    resource = f"glue table {database}.{PSEUDONYM_KEY_TABLE}"
    try:
        current = glue.get_table(DatabaseName=database, Name=PSEUDONYM_KEY_TABLE)["Table"]
    except ClientError as error:
        if _error_code(error) != "EntityNotFoundException":
            raise
        glue.create_table(DatabaseName=database, TableInput=table_input)
        outcomes.append(Outcome(resource, "created"))
        return outcomes
    wanted = table_input["StorageDescriptor"]
    have = current.get("StorageDescriptor", {})
    if all(have.get(name) == value for name, value in wanted.items()):
        outcomes.append(Outcome(resource, "found"))
    else:
        glue.update_table(DatabaseName=database, TableInput=table_input)
        outcomes.append(Outcome(resource, "updated"))
    return outcomes


def workgroup_configuration(options: BootstrapOptions) -> dict[str, Any]:
    encryption: dict[str, str] = (
        {"EncryptionOption": "SSE_KMS", "KmsKey": options.kms_key_id}
        if options.kms_key_id
        else {"EncryptionOption": "SSE_S3"}
    )
    return {
        "ResultConfiguration": {
            "OutputLocation": options.results_location,
            "EncryptionConfiguration": encryption,
        },
        "EnforceWorkGroupConfiguration": True,
        "PublishCloudWatchMetricsEnabled": True,
    }


def ensure_workgroup(athena: Any, options: BootstrapOptions) -> Outcome:
    resource = f"athena workgroup {options.workgroup} (results {options.results_location})"
    wanted = workgroup_configuration(options)
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
    if options.workgroup not in names:
        athena.create_work_group(
            Name=options.workgroup,
            Configuration=wanted,
            Description="STEDI lakehouse dbt runs",
        )
        return Outcome(resource, "created")
    current = athena.get_work_group(WorkGroup=options.workgroup)["WorkGroup"]
    result = current.get("Configuration", {}).get("ResultConfiguration", {})
    if result == wanted["ResultConfiguration"]:
        return Outcome(resource, "found")
    athena.update_work_group(
        WorkGroup=options.workgroup,
        ConfigurationUpdates={
            "ResultConfigurationUpdates": wanted["ResultConfiguration"],
            "EnforceWorkGroupConfiguration": True,
        },
    )
    return Outcome(resource, "updated")


def bootstrap(target: AwsTarget, options: BootstrapOptions) -> list[Outcome]:
    """Bring every resource to the wanted state; return what was done."""
    region = target.session().region_name or "us-east-1"
    s3 = target.client("s3")
    glue = target.client("glue")
    athena = target.client("athena")
    outcomes = [
        ensure_bucket(s3, region, options),
        ensure_public_access_block(s3, options),
        ensure_encryption(s3, options),
        ensure_versioning(s3, options),
        ensure_abort_incomplete_uploads(s3, options),
        *(ensure_database(glue, zone, options) for zone in ZONES),
        ensure_workgroup(athena, options),
    ]
    if options.pseudonym_key is not None:
        outcomes.extend(ensure_pseudonym_key(s3, glue, options))
    return outcomes


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.bootstrap_aws",
        description=__doc__.split("\n\n")[0],
        epilog="Example: python -m scripts.bootstrap_aws --bucket my-stedi-lake --region eu-west-1",
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
    parser.add_argument("--kms-key-id", help="use SSE-KMS with this key for the bucket and results")
    parser.add_argument(
        "--pseudonym-key-from-env",
        action="store_true",
        help=f"store the Athena target's pseudonym key from ${PSEUDONYM_KEY_ENV} "
        "(32 to 64 bytes) in <prefix>_restricted.pseudonym_key",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
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
        kms_key_id=args.kms_key_id,
        pseudonym_key=pseudonym_key,
    )
    LOG.info("bootstrapping %s (%s)", args.bucket, target.describe())
    try:
        outcomes = bootstrap(target, options)
    except (BotoCoreError, ClientError) as error:
        LOG.error("AWS error: %s", error)
        return 3
    for outcome in outcomes:
        print(outcome)
    changed = sum(1 for outcome in outcomes if outcome.state != "found")
    print(f"{changed} changed, {len(outcomes) - changed} already as wanted")
    return 0


if __name__ == "__main__":
    sys.exit(main())
