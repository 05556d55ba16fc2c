"""The S3 loader against a real S3 API server process on 127.0.0.1."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import signal
import subprocess
import sys
import time
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from scripts import dbt_invoke, load_landing
from scripts.aws_session import AwsTarget
from scripts.generate_landing import GeneratorConfig, generate
from scripts.load_landing import MIB, LoadOptions, load
from scripts.local_s3 import fake_aws_environment, moto_server


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    saved = dict(os.environ)
    os.environ.update(fake_aws_environment())
    os.environ.pop("AWS_PROFILE", None)
    try:
        with moto_server(tmp_path_factory.mktemp("moto")) as url:
            yield url
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture
def target(endpoint: str) -> AwsTarget:
    return AwsTarget(region="eu-west-1", endpoint_url=endpoint)


@pytest.fixture
def bucket(target: AwsTarget) -> str:
    name = f"stedi-test-{uuid.uuid4().hex[:12]}"
    target.client("s3").create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    return name


def cli_arguments(landing: Path, bucket: str, target: AwsTarget, *extra: str) -> list[str]:
    """The loader's command-line arguments for the local server."""
    return [
        str(landing),
        "--bucket",
        bucket,
        "--endpoint-url",
        target.endpoint_url or "",
        "--region",
        "eu-west-1",
        *extra,
    ]


def object_bytes(target: AwsTarget, bucket: str, key: str) -> bytes:
    return target.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()


def object_keys(target: AwsTarget, bucket: str) -> set[str]:
    pages = target.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


def write_lines(path: Path, lines: list[Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    path.write_text(text, encoding="utf-8")
    return path


def reading(index: int) -> dict[str, Any]:
    return {
        "user": f"u{index}@example.com",
        "timestamp": 1000 + index,
        "x": 1.0,
        "y": 0.0,
        "z": 0.0,
    }


def test_round_trip_of_generated_landing_is_byte_identical(
    tmp_path: Path, target: AwsTarget, bucket: str
) -> None:
    landing = tmp_path / "landing"
    generate(GeneratorConfig(out=landing, scale=0.05, seed=9, reading_rows_per_file=1000))
    summary = load(landing, target, LoadOptions(bucket=bucket))
    local = {f"landing/{path.parent.name}/{path.name}": path for path in landing.rglob("*.json")}
    assert summary.uploaded_files == len(local) > 3
    assert summary.exit_code == 0
    assert object_keys(target, bucket) == set(local)
    s3 = target.client("s3")
    for key, path in local.items():
        assert object_bytes(target, bucket, key) == path.read_bytes(), key
        # each object carries the SHA-256 of the validated bytes as its checksum
        head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
        assert head["ChecksumSHA256"] == base64.b64encode(
            hashlib.sha256(path.read_bytes()).digest()
        ).decode("ascii"), key
        assert head["ServerSideEncryption"] == "AES256"


def test_rerun_uploads_nothing_unchanged_and_replaces_only_a_changed_file(
    tmp_path: Path, target: AwsTarget, bucket: str
) -> None:
    landing = tmp_path / "landing"
    generate(GeneratorConfig(out=landing, scale=0.02, seed=4, reading_rows_per_file=500))
    first = load(landing, target, LoadOptions(bucket=bucket))
    second = load(landing, target, LoadOptions(bucket=bucket))
    assert second.uploaded_files == 0
    assert second.uploaded_bytes == 0
    assert second.skipped_files == first.uploaded_files

    changed = sorted((landing / "accelerometer").glob("*.json"))[0]
    with changed.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(reading(99)) + "\n")
    third = load(landing, target, LoadOptions(bucket=bucket))
    assert third.uploaded_files == 1
    assert third.uploaded_bytes == changed.stat().st_size
    assert third.skipped_files == first.uploaded_files - 1
    key = f"landing/accelerometer/{changed.name}"
    assert object_bytes(target, bucket, key) == changed.read_bytes()


def test_file_above_multipart_threshold_arrives_byte_identical(
    tmp_path: Path, target: AwsTarget, bucket: str
) -> None:
    big = write_lines(
        tmp_path / "landing" / "accelerometer" / "big.json",
        [reading(index) for index in range(180_000)],
    )
    assert big.stat().st_size > 12 * MIB
    options = LoadOptions(bucket=bucket, multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB)
    load(tmp_path / "landing", target, options)
    key = "landing/accelerometer/big.json"
    head = target.client("s3").head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert head["ETag"].strip('"').endswith("-3")  # three parts: it went multipart
    assert object_bytes(target, bucket, key) == big.read_bytes()
    # the CRC-32 of the validated bytes is the object's full-object checksum
    assert head["ChecksumType"] == "FULL_OBJECT"
    assert head["ChecksumCRC32"] == base64.b64encode(
        zlib.crc32(big.read_bytes()).to_bytes(4, "big")
    ).decode("ascii")


def test_whole_file_uploads_sign_their_checksum_and_multipart_ones_their_body(
    tmp_path: Path, target: AwsTarget, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over plain HTTP botocore hashes every body for the signature unless
    told not to. A PutObject body carries its SHA-256 as a signed checksum
    header, so the loader skips that second hash; the multipart requests,
    whose bodies the checksum header does not cover, stay signed."""
    sent: list[tuple[str, Any]] = []
    make_client = AwsTarget.client

    def recording_client(self: AwsTarget, *args: Any, **kwargs: Any) -> Any:
        client = make_client(self, *args, **kwargs)
        client.meta.events.register(
            "before-send.s3",
            lambda request, event_name, **_: sent.append((event_name.split(".")[-1], request)),
        )
        return client

    monkeypatch.setattr(AwsTarget, "client", recording_client)
    landing = tmp_path / "landing"
    small = write_lines(landing / "accelerometer" / "small.json", [reading(1), reading(2)])
    big = write_lines(
        landing / "accelerometer" / "big.json", [reading(index) for index in range(90_000)]
    )
    options = LoadOptions(bucket=bucket, multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB)
    assert load(landing, target, options).uploaded_files == 2

    def header(request: Any, name: str) -> str:
        value = request.headers[name]
        return value.decode("ascii") if isinstance(value, bytes) else str(value)

    requests: dict[str, list[Any]] = {}
    for operation, request in sent:
        requests.setdefault(operation, []).append(request)
    [put] = requests["PutObject"]
    assert header(put, "X-Amz-Content-SHA256") == "UNSIGNED-PAYLOAD"
    assert header(put, "x-amz-checksum-sha256") == base64.b64encode(
        hashlib.sha256(small.read_bytes()).digest()
    ).decode("ascii")
    assert "x-amz-checksum-sha256" in header(put, "Authorization")  # a signed header
    body, part_size = big.read_bytes(), options.multipart_chunksize
    assert {header(part, "X-Amz-Content-SHA256") for part in requests["UploadPart"]} == {
        hashlib.sha256(body[start : start + part_size]).hexdigest()
        for start in range(0, len(body), part_size)
    }
    [complete] = requests["CompleteMultipartUpload"]
    assert len(header(complete, "X-Amz-Content-SHA256")) == 64  # its XML body's SHA-256
    for path in (small, big):
        assert object_bytes(target, bucket, f"landing/accelerometer/{path.name}") == (
            path.read_bytes()
        )


BAD_FILE_LINES: list[Any] = [
    reading(1),
    '{"user": "u2@example.com", "timestamp": 1002,',
    reading(3),
    {"user": "u4@example.com", "x": 1.0, "y": 0.0, "z": 0.0},
    {"user": None, "timestamp": 1005, "x": 1.0, "y": 0.0, "z": 0.0},
    "[1, 2, 3]",
    reading(7),
]
EXPECTED_BAD = [
    (2, "malformed JSON"),
    (4, "missing required key(s): timestamp"),
    (5, "null required key(s): user"),
    (6, "not a JSON object but a list"),
]


def test_file_with_malformed_lines_is_refused_whole_with_line_numbers(
    tmp_path: Path, target: AwsTarget, bucket: str, caplog: pytest.LogCaptureFixture
) -> None:
    landing = tmp_path / "landing"
    write_lines(landing / "accelerometer" / "bad.json", BAD_FILE_LINES)
    write_lines(landing / "accelerometer" / "good.json", [reading(8)])
    with caplog.at_level(logging.WARNING):
        code = load_landing.main(cli_arguments(landing, bucket, target))
    assert code == 1
    assert object_keys(target, bucket) == {"landing/accelerometer/good.json"}
    for line_number, reason in EXPECTED_BAD:
        assert any(
            f"bad.json line {line_number}: {reason}" in message for message in caplog.messages
        ), (line_number, caplog.messages)
    assert not any("line 1:" in message or "line 3:" in message for message in caplog.messages)


def test_quarantine_uploads_good_lines_and_bad_lines_with_reasons(
    tmp_path: Path, target: AwsTarget, bucket: str
) -> None:
    landing = tmp_path / "landing"
    write_lines(landing / "accelerometer" / "bad.json", BAD_FILE_LINES)
    summary = load(landing, target, LoadOptions(bucket=bucket, quarantine=True))
    assert summary.exit_code == 0
    assert len(summary.quarantined) == 1
    uploaded = object_bytes(target, bucket, "landing/accelerometer/bad.json").decode()
    assert [json.loads(line) for line in uploaded.splitlines()] == [
        reading(1),
        reading(3),
        reading(7),
    ]
    rejected = object_bytes(target, bucket, "quarantine/accelerometer/bad.json.rejected.jsonl")
    records = [json.loads(line) for line in rejected.decode().splitlines()]
    assert [(record["line"], record["reason"].split(":")[0]) for record in records] == [
        (number, reason.split(":")[0]) for number, reason in EXPECTED_BAD
    ]
    assert records[1]["reason"] == "missing required key(s): timestamp"
    assert records[0]["raw"] == BAD_FILE_LINES[1]
    assert all(record["file"] == "bad.json" for record in records)
    # Unchanged source: a rerun uploads nothing, quarantine object included.
    assert load(landing, target, LoadOptions(bucket=bucket, quarantine=True)).uploaded_files == 0


def loader_processes(bucket: str) -> list[int]:
    """Live processes whose command line names the bucket (forked workers
    keep their parent's command line)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if bucket.encode() in command and b"scripts.load_landing" in command and state != "Z":
            found.append(int(entry.name))
    return found


def test_killed_upload_leaves_no_partial_object_and_rerun_completes(
    tmp_path: Path, target: AwsTarget, bucket: str
) -> None:
    landing = tmp_path / "landing"
    big = write_lines(
        landing / "accelerometer" / "big.json", [reading(index) for index in range(600_000)]
    )
    key = "landing/accelerometer/big.json"
    s3 = target.client("s3")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "scripts.load_landing",
            *cli_arguments(landing, bucket, target, "--concurrency", "1"),
            "--multipart-threshold-mib",
            "5",
        ],
        cwd=dbt_invoke.PROJECT_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        parts_done = 0
        while parts_done == 0:
            assert process.poll() is None, "loader finished before it could be killed"
            assert time.monotonic() < deadline, "no multipart part appeared in time"
            for upload in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
                parts = s3.list_parts(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
                parts_done = len(parts.get("Parts", []))
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    # its validation workers die with it rather than linger as orphans
    deadline = time.monotonic() + 30
    while loader_processes(bucket):
        assert time.monotonic() < deadline, f"orphaned loader workers: {loader_processes(bucket)}"
        time.sleep(0.2)
    with pytest.raises(ClientError) as missing:
        s3.head_object(Bucket=bucket, Key=key)
    assert missing.value.response["Error"]["Code"] == "404"

    summary = load(
        landing,
        target,
        LoadOptions(bucket=bucket, multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB),
    )
    assert summary.uploaded_files == 1
    assert object_bytes(target, bucket, key) == big.read_bytes()


def test_dry_run_uploads_nothing(tmp_path: Path, target: AwsTarget, bucket: str) -> None:
    landing = tmp_path / "landing"
    write_lines(
        landing / "step_trainer" / "s.json",
        [{"sensorReadingTime": 1, "serialNumber": "d", "distanceFromObject": 2}],
    )
    summary = load(landing, target, LoadOptions(bucket=bucket, dry_run=True))
    assert summary.uploaded_files == 0
    assert object_keys(target, bucket) == set()


def test_kms_key_option_encrypts_with_sse_kms(
    tmp_path: Path, target: AwsTarget, bucket: str
) -> None:
    landing = tmp_path / "landing"
    write_lines(
        landing / "customer" / "c.json",
        [
            {
                "customerName": "A",
                "email": "a@example.com",
                "serialNumber": "d",
                "registrationDate": 1,
                "lastUpdateDate": 1,
            }
        ],
    )
    key_id = target.client("kms").create_key()["KeyMetadata"]["KeyId"]
    load(landing, target, LoadOptions(bucket=bucket, kms_key_id=key_id))
    head = target.client("s3").head_object(Bucket=bucket, Key="landing/customer/c.json")
    assert head["ServerSideEncryption"] == "aws:kms"
    assert key_id in head["SSEKMSKeyId"]


def test_credentials_never_reach_the_log(
    tmp_path: Path,
    target: AwsTarget,
    bucket: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = "sEcReT-" + uuid.uuid4().hex
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    landing = tmp_path / "landing"
    write_lines(landing / "accelerometer" / "a.json", [reading(1)])
    with caplog.at_level(logging.DEBUG):
        assert load_landing.main(cli_arguments(landing, bucket, target, "--verbose")) == 0
    assert caplog.messages
    assert all(secret not in message for message in caplog.messages)


def test_missing_bucket_stops_with_the_aws_error_and_uploads_nothing(
    tmp_path: Path, target: AwsTarget, caplog: pytest.LogCaptureFixture
) -> None:
    landing = tmp_path / "landing"
    generate(GeneratorConfig(out=landing, scale=0.05, seed=3, reading_rows_per_file=1000))
    missing = f"stedi-missing-{uuid.uuid4().hex[:12]}"
    with caplog.at_level(logging.INFO):
        assert load_landing.main(cli_arguments(landing, missing, target)) == 3
    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert len(errors) == 1 and "AWS error" in errors[0] and "NoSuchBucket" in errors[0]
    with pytest.raises(ClientError):
        target.client("s3").head_bucket(Bucket=missing)


def test_help_explains_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        load_landing.main(["--help"])
    text = capsys.readouterr().out
    for option in (
        "--bucket",
        "--prefix",
        "--region",
        "--endpoint-url",
        "--profile",
        "--concurrency",
        "--dry-run",
        "--quarantine",
        "--kms-key-id",
    ):
        assert option in text
