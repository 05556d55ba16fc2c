"""AWS bootstrap against a real S3/Glue/Athena API server on 127.0.0.1."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator

import pytest

from scripts import bootstrap_aws
from scripts.aws_session import AwsTarget
from scripts.bootstrap_aws import BootstrapOptions, bootstrap
from scripts.local_s3 import fake_aws_environment, moto_server


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AwsTarget]:
    saved = dict(os.environ)
    os.environ.update(fake_aws_environment())
    try:
        with moto_server(tmp_path_factory.mktemp("moto")) as url:
            yield AwsTarget(region="eu-west-1", endpoint_url=url)
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture
def options() -> BootstrapOptions:
    suffix = uuid.uuid4().hex[:8]
    return BootstrapOptions(
        bucket=f"stedi-lake-{suffix}", database_prefix=f"stedi{suffix}", workgroup=f"wg{suffix}"
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
    ]


def test_second_run_changes_nothing(target: AwsTarget, options: BootstrapOptions) -> None:
    first = bootstrap(target, options)
    assert {outcome.state for outcome in first} == {"created"}
    assert len(first) == 9
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
    lifecycle = s3.get_bucket_lifecycle_configuration(Bucket=options.bucket)["Rules"]
    assert lifecycle[0]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}


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


def test_drift_is_repaired_and_reported(target: AwsTarget, options: BootstrapOptions) -> None:
    bootstrap(target, options)
    target.client("s3").put_bucket_versioning(
        Bucket=options.bucket, VersioningConfiguration={"Status": "Suspended"}
    )
    outcomes = {outcome.resource: outcome.state for outcome in bootstrap(target, options)}
    assert outcomes[f"versioning on {options.bucket}"] == "updated"
    assert sorted(set(outcomes.values())) == ["found", "updated"]
    assert target.client("s3").get_bucket_versioning(Bucket=options.bucket)["Status"] == "Enabled"


def test_cli_prints_what_it_created_then_found(
    target: AwsTarget, options: BootstrapOptions, capsys: pytest.CaptureFixture[str]
) -> None:
    arguments = cli_arguments(target, options)
    assert bootstrap_aws.main(arguments) == 0
    assert "9 changed, 0 already as wanted" in capsys.readouterr().out
    assert bootstrap_aws.main(arguments) == 0
    out = capsys.readouterr().out
    assert "0 changed, 9 already as wanted" in out
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
    arguments = [*cli_arguments(target, options), "--pseudonym-key-from-env"]
    assert bootstrap_aws.main(arguments) == 0
    first = capsys.readouterr().out
    assert "12 changed, 0 already as wanted" in first
    assert bootstrap_aws.main(arguments) == 0
    second = capsys.readouterr().out
    assert "0 changed, 12 already as wanted" in second
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
    assert "1 changed, 11 already as wanted" in rotated
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
