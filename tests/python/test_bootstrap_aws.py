"""AWS bootstrap against a real S3/Glue/Athena API server on 127.0.0.1."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from scripts import bootstrap_aws
from scripts.bootstrap_aws import BootstrapOptions, bootstrap
from scripts.common.aws_session import AwsTarget
from scripts.services.local_s3 import fake_aws_environment, moto_server

pytestmark = [pytest.mark.aws]


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AwsTarget]:
    saved = dict(os.environ)
    os.environ.update(fake_aws_environment())
    try:
        with moto_server(
            tmp_path_factory.mktemp("moto"), "scripts.services.local_aws_server"
        ) as url:
            yield AwsTarget(region="eu-west-1", endpoint_url=url)
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture
def options() -> BootstrapOptions:
    suffix = uuid.uuid4().hex[:8]
    return BootstrapOptions(
        bucket=f"stedi-lake-{suffix}",
        database_prefix=f"stedi{suffix}",
        workgroup=f"wg{suffix}",
        consumer_workgroup=f"ml{suffix}",
    )


def cli_arguments(target: AwsTarget, options: BootstrapOptions) -> list[str]:
    """The bootstrap command line for these options on the test server."""
    return [
        "--bucket",
        options.bucket,
        "--endpoint-url",
        target.endpoint_url or "",
        "--region",
        "eu-west-1",
        "--database-prefix",
        options.database_prefix,
        "--workgroup",
        options.workgroup,
        "--consumer-workgroup",
        options.consumer_workgroup,
    ]


def test_second_run_changes_nothing(target: AwsTarget, options: BootstrapOptions) -> None:
    first = bootstrap(target, options)
    assert {outcome.state for outcome in first} == {"created"}
    assert len(first) == 14
    second = bootstrap(target, options)
    assert [outcome.state for outcome in second] == ["found"] * len(first)


def test_bucket_is_private_encrypted_and_versioned(
    target: AwsTarget, options: BootstrapOptions
) -> None:
    bootstrap(target, options)
    s3 = target.client("s3")
    block = s3.get_public_access_block(Bucket=options.bucket)["PublicAccessBlockConfiguration"]
    assert block == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    rules = s3.get_bucket_encryption(Bucket=options.bucket)["ServerSideEncryptionConfiguration"]
    assert rules["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert s3.get_bucket_versioning(Bucket=options.bucket)["Status"] == "Enabled"
    lifecycle = {
        rule["ID"]: rule
        for rule in s3.get_bucket_lifecycle_configuration(Bucket=options.bucket)["Rules"]
    }
    abort = lifecycle[bootstrap_aws.ABORT_RULE_ID]
    assert abort["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    # old versions go after 30 days (the erasure deadline), lone delete
    # markers with them; query results after 7 days, and nothing else
    noncurrent = lifecycle[bootstrap_aws.NONCURRENT_RULE_ID]
    assert noncurrent["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}
    assert noncurrent["Expiration"] == {"ExpiredObjectDeleteMarker": True}
    results = lifecycle[bootstrap_aws.RESULTS_RULE_ID]
    assert results["Filter"] == {"Prefix": "athena-results/"}
    assert results["Expiration"] == {"Days": 7}
    consumers = lifecycle[bootstrap_aws.CONSUMER_RESULTS_RULE_ID]
    assert consumers["Filter"] == {"Prefix": "athena-results-ml/"}
    assert consumers["Expiration"] == {"Days": 7}


def test_glue_databases_and_athena_workgroup_exist(
    target: AwsTarget, options: BootstrapOptions
) -> None:
    bootstrap(target, options)
    glue = target.client("glue")
    for zone in ("landing", "trusted", "curated"):
        database = glue.get_database(Name=f"{options.database_prefix}_{zone}")["Database"]
        assert database["LocationUri"] == f"s3://{options.bucket}/{zone}/"
    workgroup = target.client("athena").get_work_group(WorkGroup=options.workgroup)["WorkGroup"]
    result = workgroup["Configuration"]["ResultConfiguration"]
    assert result["OutputLocation"] == f"s3://{options.bucket}/athena-results/"
    assert result["EncryptionConfiguration"] == {"EncryptionOption": "SSE_S3"}
    # enforced, dbt-athena would write every table under the results prefix
    assert workgroup["Configuration"]["EnforceWorkGroupConfiguration"] is False
    # the ML team's: results of its own, enforced (a reader creates no table)
    group = target.client("athena").get_work_group(WorkGroup=options.consumer_workgroup)
    configuration = group["WorkGroup"]["Configuration"]
    expected = f"s3://{options.bucket}/athena-results-ml/"
    assert configuration["ResultConfiguration"]["OutputLocation"] == expected
    assert configuration["EnforceWorkGroupConfiguration"] is True


def test_a_workgroup_that_enforces_its_result_location_is_drift(
    target: AwsTarget, options: BootstrapOptions
) -> None:
    bootstrap(target, options)
    athena = target.client("athena")
    athena.update_work_group(
        WorkGroup=options.workgroup,
        ConfigurationUpdates={"EnforceWorkGroupConfiguration": True},
    )
    checked = bootstrap(target, BootstrapOptions(**{**vars(options), "check_only": True}))
    [group] = [outcome for outcome in checked if outcome.resource.startswith("athena workgroup")]
    assert (group.state, group.detail) == ("drifted", "enforces its result location")
    [group] = [o for o in bootstrap(target, options) if o.resource.startswith("athena workgroup")]
    assert group.state == "updated"
    configuration = athena.get_work_group(WorkGroup=options.workgroup)["WorkGroup"]["Configuration"]
    assert configuration["EnforceWorkGroupConfiguration"] is False


def test_drift_is_repaired_and_reported(target: AwsTarget, options: BootstrapOptions) -> None:
    bootstrap(target, options)
    target.client("s3").put_bucket_versioning(
        Bucket=options.bucket, VersioningConfiguration={"Status": "Suspended"}
    )
    outcomes = {outcome.resource: outcome.state for outcome in bootstrap(target, options)}
    assert outcomes[f"versioning on {options.bucket}"] == "updated"
    assert sorted(set(outcomes.values())) == ["found", "updated"]
    assert target.client("s3").get_bucket_versioning(Bucket=options.bucket)["Status"] == "Enabled"


def policy_statements(target: AwsTarget, bucket: str) -> list[dict]:
    return json.loads(target.client("s3").get_bucket_policy(Bucket=bucket)["Policy"])["Statement"]


def test_bucket_policy_denies_plain_http_and_loses_public_statements(
    target: AwsTarget, options: BootstrapOptions
) -> None:
    bootstrap(target, options)
    [statement] = policy_statements(target, options.bucket)
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert set(statement["Resource"]) == {
        f"arn:aws:s3:::{options.bucket}",
        f"arn:aws:s3:::{options.bucket}/*",
    }

    def read_grant(sid: str, principal: str, prefix: str) -> dict[str, Any]:
        return {
            "Sid": sid,
            "Effect": "Allow",
            "Principal": {"AWS": principal},
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{options.bucket}/{prefix}*",
        }

    public_read = read_grant("PublicRead", "*", "")
    partner = read_grant("PartnerRead", "arn:aws:iam::210987654321:root", "curated/")
    target.client("s3").put_bucket_policy(
        Bucket=options.bucket,
        Policy=json.dumps({"Version": "2012-10-17", "Statement": [public_read, partner]}),
    )
    [policy] = [
        outcome for outcome in bootstrap(target, options) if "bucket policy" in outcome.resource
    ]
    assert policy.state == "updated"
    assert "public statement PublicRead removed" in policy.detail
    assert "no TLS-only statement" in policy.detail
    statements = policy_statements(target, options.bucket)
    assert partner in statements  # someone else's private grant stays
    assert [item.get("Sid") for item in statements] == ["PartnerRead", statement["Sid"]]


def test_the_tls_only_policy_refuses_plain_http_requests(
    target: AwsTarget, options: BootstrapOptions
) -> None:
    """moto evaluates bucket policies: its plain-HTTP endpoint is refused once
    the TLS-only statement is in place, as S3 refuses http:// requests."""
    bootstrap(target, options)
    with pytest.raises(ClientError) as refused:
        target.client("s3").put_object(Bucket=options.bucket, Key="landing/x.json", Body=b"{}")
    assert refused.value.response["Error"]["Code"] in {"AccessDenied", "403"}
    # --allow-plain-http (a local server only) takes the statement out again
    plain = BootstrapOptions(**{**options.__dict__, "tls_only": False})
    [policy] = [outcome for outcome in bootstrap(target, plain) if "policy" in outcome.resource]
    assert (policy.state, policy.detail) == ("updated", "TLS-only statement removed")
    target.client("s3").put_object(Bucket=options.bucket, Key="landing/x.json", Body=b"{}")


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"Status": "Disabled"}, "status Disabled"),
        (
            {"AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 30}},
            'AbortIncompleteMultipartUpload {"DaysAfterInitiation": 30}',
        ),
        ({"Filter": {"Prefix": "landing/"}}, 'filter {"Prefix": "landing/"}'),
    ],
)
def test_a_changed_lifecycle_rule_is_drift(
    target: AwsTarget, options: BootstrapOptions, change: dict, detail: str
) -> None:
    bootstrap(target, options)
    s3 = target.client("s3")
    other = {
        "ID": "someone-elses-rule",
        "Filter": {"Prefix": "tmp/"},
        "Status": "Enabled",
        "Expiration": {"Days": 7},
    }
    changed = {**bootstrap_aws.ABORT_RULE, **change}
    s3.put_bucket_lifecycle_configuration(
        Bucket=options.bucket, LifecycleConfiguration={"Rules": [other, changed]}
    )
    outcomes = bootstrap(target, options)
    [rule] = [item for item in outcomes if bootstrap_aws.ABORT_RULE_ID in item.resource]
    assert (rule.state, rule.detail) == ("updated", detail)
    rules = s3.get_bucket_lifecycle_configuration(Bucket=options.bucket)["Rules"]
    ours = [item for item in rules if item["ID"] == bootstrap_aws.ABORT_RULE_ID]
    wanted = bootstrap_aws.ABORT_RULE
    assert [bootstrap_aws.lifecycle_rule_drift(item, wanted) for item in ours] == [""]
    # the project's other rules, which the put replaced, are back as wanted
    assert {
        item.resource.split()[2]: item.state for item in outcomes if "lifecycle" in item.resource
    } == {
        bootstrap_aws.ABORT_RULE_ID: "updated",
        bootstrap_aws.NONCURRENT_RULE_ID: "created",
        bootstrap_aws.RESULTS_RULE_ID: "created",
        bootstrap_aws.CONSUMER_RESULTS_RULE_ID: "created",
    }
    assert {item["ID"] for item in rules} >= {
        bootstrap_aws.NONCURRENT_RULE_ID,
        bootstrap_aws.RESULTS_RULE_ID,
        bootstrap_aws.CONSUMER_RESULTS_RULE_ID,
    }
    assert any(item["ID"] == "someone-elses-rule" for item in rules)


def test_check_changes_nothing_and_exits_non_zero_on_drift(
    target: AwsTarget, options: BootstrapOptions, capsys: pytest.CaptureFixture[str]
) -> None:
    arguments = [*cli_arguments(target, options), "--check"]
    assert bootstrap_aws.main(arguments) == bootstrap_aws.EXIT_DRIFT
    assert f"missing  s3 bucket {options.bucket}" in capsys.readouterr().out
    with pytest.raises(ClientError):
        target.client("s3").head_bucket(Bucket=options.bucket)

    bootstrap(target, options)
    assert bootstrap_aws.main(arguments) == 0
    assert "0 missing or drifted" in capsys.readouterr().out

    s3 = target.client("s3")
    s3.put_bucket_versioning(Bucket=options.bucket, VersioningConfiguration={"Status": "Suspended"})
    s3.delete_bucket_policy(Bucket=options.bucket)
    assert bootstrap_aws.main(arguments) == bootstrap_aws.EXIT_DRIFT
    out = capsys.readouterr().out
    assert f"drifted  versioning on {options.bucket} (status Suspended)" in out
    assert f"missing  bucket policy on {options.bucket}" in out
    assert "2 missing or drifted" in out
    assert s3.get_bucket_versioning(Bucket=options.bucket)["Status"] == "Suspended"
    with pytest.raises(ClientError):
        s3.get_bucket_policy(Bucket=options.bucket)


def test_cli_prints_what_it_created_then_found(
    target: AwsTarget, options: BootstrapOptions, capsys: pytest.CaptureFixture[str]
) -> None:
    arguments = cli_arguments(target, options)
    assert bootstrap_aws.main(arguments) == 0
    assert "14 changed, 0 already as wanted" in capsys.readouterr().out
    assert bootstrap_aws.main(arguments) == 0
    out = capsys.readouterr().out
    assert "0 changed, 14 already as wanted" in out
    assert f"found    glue database {options.database_prefix}_landing" in out


PSEUDONYM_KEY = "bootstrap-test-pseudonym-key-5e0c2a9b7d13f864"


def test_pseudonym_key_is_stored_encrypted_and_never_printed(
    target: AwsTarget,
    options: BootstrapOptions,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(bootstrap_aws.PSEUDONYM_KEY_ENV, PSEUDONYM_KEY)
    # The key object is read back over the test server's plain HTTP.
    arguments = [*cli_arguments(target, options), "--pseudonym-key-from-env", "--allow-plain-http"]
    assert bootstrap_aws.main(arguments) == 0
    first = capsys.readouterr().out
    assert "16 changed, 1 already as wanted" in first
    assert bootstrap_aws.main(arguments) == 0
    second = capsys.readouterr().out
    assert "0 changed, 17 already as wanted" in second
    assert PSEUDONYM_KEY not in first + second + caplog.text

    s3 = target.client("s3")
    stored = s3.get_object(Bucket=options.bucket, Key="restricted/pseudonym_key/key.json")
    assert stored["ServerSideEncryption"] == "AES256"
    assert json.loads(stored["Body"].read()) == {"pseudonym_key": PSEUDONYM_KEY}
    table = target.client("glue").get_table(
        DatabaseName=f"{options.database_prefix}_restricted", Name="pseudonym_key"
    )["Table"]
    assert table["StorageDescriptor"]["Location"] == (
        f"s3://{options.bucket}/restricted/pseudonym_key/"
    )
    assert [column["Name"] for column in table["StorageDescriptor"]["Columns"]] == ["pseudonym_key"]

    # a new key (rotation) replaces the object, and only it
    monkeypatch.setenv(bootstrap_aws.PSEUDONYM_KEY_ENV, PSEUDONYM_KEY[::-1])
    assert bootstrap_aws.main(arguments) == 0
    rotated = capsys.readouterr().out
    assert "1 changed, 16 already as wanted" in rotated
    assert "updated  pseudonym key" in rotated


@pytest.mark.parametrize("key", ["", "too-short"])
def test_missing_or_short_pseudonym_key_changes_nothing(
    key: str, target: AwsTarget, options: BootstrapOptions, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(bootstrap_aws.PSEUDONYM_KEY_ENV, key)
    arguments = ["--bucket", options.bucket, "--endpoint-url", target.endpoint_url or ""]
    assert bootstrap_aws.main([*arguments, "--pseudonym-key-from-env"]) == 2
    buckets = {bucket["Name"] for bucket in target.client("s3").list_buckets()["Buckets"]}
    assert options.bucket not in buckets
