"""The S3 loader against a real S3 API server process on 127.0.0.1."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from scripts import load_landing
from scripts.common import dbt_invoke
from scripts.common.aws_session import AwsTarget
from scripts.generate_landing import GeneratorConfig, generate
from scripts.load_landing import MIB, LoadOptions, load
from scripts.services.local_s3 import fake_aws_environment, moto_server

pytestmark = [pytest.mark.aws]


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


HOSTILE_LINES: list[Any] = [
    reading(1),
    '{"user": "u2@example.com", "timestamp": 1002,',
    "",
    "   \t",
    json.dumps(reading(3)) + ",",
    json.dumps({"user": "u4@example.com", "timeStamp": 1004, "x": 1.0, "y": 0.0, "z": 0.0}),
    {"user": None, "timestamp": 1005, "x": 1.0, "y": 0.0, "z": 0.0},
    "[1, 2, 3]",
    reading(7),
]


def test_lines_the_models_reject_are_delivered_as_they_are(
    tmp_path: Path, target: AwsTarget, bucket: str
) -> None:
    landing = tmp_path / "landing"
    hostile = write_lines(landing / "accelerometer" / "hostile.json", HOSTILE_LINES)
    summary = load(landing, target, LoadOptions(bucket=bucket))
    assert summary.exit_code == 0
    assert summary.refused == []
    assert summary.records == 7  # the blank and whitespace lines are no records
    assert object_bytes(target, bucket, "landing/accelerometer/hostile.json") == (
        hostile.read_bytes()
    )


def gzip_bytes(text: str) -> bytes:
    return gzip.compress(text.encode("utf-8"), mtime=0)


UNREADABLE_FILES: dict[str, tuple[bytes, str]] = {
    # name: (content, what the one error line says)
    "latin1.json": (
        b'{"user": "a@example.com"}\n{"user": "jos\xe9@example.com"}\n',
        "not UTF-8: byte 0xe9 on line 2, column 14",
    ),
    "binary.json": (b"PK\x03\x04\x00\x00 zip, not text", "binary, not text: a NUL byte on line 1"),
    "utf16.json": ('{"user": "a"}\n'.encode("utf-16"), "binary, not text"),
    "pretty.json": (
        json.dumps([reading(1), reading(2)], indent=2).encode(),
        "one JSON document over 16 lines (pretty-printed)",
    ),
    "truncated.json.gz": (
        gzip_bytes(json.dumps(reading(1)) + "\n")[:-9],
        "not readable gzip",
    ),
    "not-gzip.json.gz": (b'{"user": "a"}\n', "not readable gzip"),
}


def test_files_that_cannot_be_json_lines_are_refused_each_in_one_line(
    tmp_path: Path,
    target: AwsTarget,
    bucket: str,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    landing = tmp_path / "landing"
    for name, (content, _) in UNREADABLE_FILES.items():
        path = landing / "accelerometer" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    write_lines(landing / "accelerometer" / "good.json", [reading(8)])
    with caplog.at_level(logging.INFO):
        code = load_landing.main(cli_arguments(landing, bucket, target))
    assert code == 1  # some files refused
    assert object_keys(target, bucket) == {"landing/accelerometer/good.json"}
    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert len(errors) == len(UNREADABLE_FILES)
    for name, (_, reason) in UNREADABLE_FILES.items():
        [error] = [error for error in errors if f"accelerometer/{name}:" in error]
        assert reason in error, error
        assert "\n" not in error
    assert "Traceback" not in capsys.readouterr().err


def test_gzip_files_go_up_as_they_are(tmp_path: Path, target: AwsTarget, bucket: str) -> None:
    landing = tmp_path / "landing"
    landing.joinpath("accelerometer").mkdir(parents=True)
    one = landing / "accelerometer" / "one.json.gz"
    one.write_bytes(gzip_bytes(json.dumps(reading(1)) + "\n"))
    # two gzip members, as `cat a.gz b.gz` makes: both engines read them
    two = landing / "accelerometer" / "two.json.gz"
    two.write_bytes(gzip_bytes(json.dumps(reading(2)) + "\n") + gzip_bytes(json.dumps(reading(3))))
    summary = load(landing, target, LoadOptions(bucket=bucket))
    assert (summary.uploaded_files, summary.records, summary.refused) == (2, 3, [])
    for path in (one, two):
        key = f"landing/accelerometer/{path.name}"
        assert object_bytes(target, bucket, key) == path.read_bytes()
        head = target.client("s3").head_object(Bucket=bucket, Key=key)
        assert head["ContentType"] == "application/gzip"


def test_a_symlink_out_of_the_landing_folder_is_refused_one_inside_followed(
    tmp_path: Path, target: AwsTarget, bucket: str, caplog: pytest.LogCaptureFixture
) -> None:
    secret = tmp_path / "outside" / "passwd"
    secret.parent.mkdir()
    secret.write_text(json.dumps({"user": "root", "secret": "s3cr3t"}) + "\n")
    landing = tmp_path / "landing"
    real = write_lines(landing / "accelerometer" / "real.json", [reading(1)])
    (landing / "accelerometer" / "outside.json").symlink_to(secret)
    (landing / "accelerometer" / "alias.json").symlink_to(real)
    (landing / "step_trainer").symlink_to(secret.parent, target_is_directory=True)
    with caplog.at_level(logging.INFO):
        code = load_landing.main(cli_arguments(landing, bucket, target, "--verbose"))
    assert code == 1
    assert object_keys(target, bucket) == {
        "landing/accelerometer/real.json",
        "landing/accelerometer/alias.json",
    }
    assert object_bytes(target, bucket, "landing/accelerometer/alias.json") == real.read_bytes()
    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert any(
        "outside.json" in error and "outside the landing folder" in error for error in errors
    )
    assert any("step_trainer" in error and "symlink out of" in error for error in errors)
    assert all("s3cr3t" not in message for message in caplog.messages)


def test_other_names_and_subfolders_are_reported_not_loaded(
    tmp_path: Path, target: AwsTarget, bucket: str, caplog: pytest.LogCaptureFixture
) -> None:
    landing = tmp_path / "landing"
    write_lines(landing / "customer" / "customers.json", [])
    for name in ("upper.JSON", "lines.jsonl", "notes.txt", "nested/inner.json", "x.json/a.json"):
        write_lines(landing / "accelerometer" / name, [reading(1)])
    write_lines(landing / "readme.json", [reading(1)])
    with caplog.at_level(logging.INFO):
        code = load_landing.main(cli_arguments(landing, bucket, target))
    assert code == 0
    assert object_keys(target, bucket) == {"landing/customer/customers.json"}
    warnings = [
        record.getMessage() for record in caplog.records if record.levelno == logging.WARNING
    ]
    for name, reason in (
        ("upper.JSON", "not named *.json or *.json.gz"),
        ("lines.jsonl", "not named *.json or *.json.gz"),
        ("notes.txt", "not named *.json or *.json.gz"),
        ("nested", "a subfolder"),
        ("x.json", "a subfolder"),
        ("readme.json", "not a data set folder"),
    ):
        assert any(f"/{name}: {reason}" in warning for warning in warnings), (name, warnings)
    assert any("not landing data 6" in message for message in caplog.messages)


def test_an_object_with_only_the_good_lines_of_its_file_is_replaced(
    tmp_path: Path, target: AwsTarget, bucket: str
) -> None:
    """An older loader's --quarantine uploaded a file's good lines under the
    whole file's hash: the size tells it from the file, and a rerun
    replaces it with the file as delivered."""
    landing = tmp_path / "landing"
    path = write_lines(landing / "accelerometer" / "a.json", HOSTILE_LINES)
    target.client("s3").put_object(
        Bucket=bucket,
        Key="landing/accelerometer/a.json",
        Body=(json.dumps(reading(1)) + "\n").encode(),
        Metadata={"source-sha256": hashlib.sha256(path.read_bytes()).hexdigest()},
    )
    assert load(landing, target, LoadOptions(bucket=bucket)).uploaded_files == 1
    assert object_bytes(target, bucket, "landing/accelerometer/a.json") == path.read_bytes()


def test_two_loads_at_once_write_each_object_once(
    tmp_path: Path, target: AwsTarget, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both loads list the bucket before either writes (a barrier makes the
    race certain), then one writes while the other waits: the conditional
    writes refuse the second one's, which finds each object written. (The
    second waits because moto, unlike S3, does not make the condition's
    check and the write one atomic step.)"""
    s3 = target.client("s3")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    landing = tmp_path / "landing"
    for index in range(6):
        write_lines(landing / "accelerometer" / f"r{index}.json", [reading(index)])
    both_listed = threading.Barrier(2, timeout=60)
    first_done = threading.Event()
    listings: list[int] = []
    list_objects = load_landing.existing_objects

    def listed_together(*args: Any) -> set[str]:
        found = list_objects(*args)
        both_listed.wait()
        listings.append(1)
        if len(listings) == 2:
            assert first_done.wait(60)
        return found

    def one_load(_: int) -> load_landing.LoadSummary:
        summary = load(landing, target, LoadOptions(bucket=bucket))
        first_done.set()
        return summary

    monkeypatch.setattr(load_landing, "existing_objects", listed_together)
    with ThreadPoolExecutor(max_workers=2) as loads:
        summaries = list(loads.map(one_load, range(2)))
    assert sum(summary.uploaded_files for summary in summaries) == 6
    assert sum(summary.loaded_elsewhere for summary in summaries) == 6
    assert all(summary.exit_code == 0 for summary in summaries)
    versions = s3.list_object_versions(Bucket=bucket)["Versions"]
    assert sorted(version["Key"] for version in versions) == sorted(
        f"landing/accelerometer/r{index}.json" for index in range(6)
    )


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


def start_upload_of_a_big_file(
    landing: Path, bucket: str, target: AwsTarget, *, stderr: Any = subprocess.DEVNULL
) -> subprocess.Popen[bytes]:
    """A loader process uploading one large file in parts, returned once S3
    holds a part of it."""
    write_lines(
        landing / "accelerometer" / "big.json", [reading(index) for index in range(600_000)]
    )
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
        stderr=stderr,
    )
    deadline = time.monotonic() + 120
    parts_done = 0
    while parts_done == 0:
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError("no multipart part appeared while the loader ran")
        for upload in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
            parts = s3.list_parts(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
            parts_done = len(parts.get("Parts", []))
        time.sleep(0.05)
    return process


def test_killed_upload_leaves_no_partial_object_and_rerun_completes(
    tmp_path: Path, target: AwsTarget, bucket: str
) -> None:
    landing = tmp_path / "landing"
    key = "landing/accelerometer/big.json"
    s3 = target.client("s3")
    process = start_upload_of_a_big_file(landing, bucket, target)
    try:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    # its inspection workers die with it rather than linger as orphans
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
    assert (
        object_bytes(target, bucket, key) == (landing / "accelerometer" / "big.json").read_bytes()
    )


@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_and_sigint_abort_the_open_upload_with_one_line(
    tmp_path: Path, target: AwsTarget, bucket: str, signal_number: int
) -> None:
    process = start_upload_of_a_big_file(
        tmp_path / "landing", bucket, target, stderr=subprocess.PIPE
    )
    try:
        process.send_signal(signal_number)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    text = stderr.decode()
    assert process.returncode == load_landing.EXIT_INTERRUPTED, text
    assert "Traceback" not in text, text
    errors = [line for line in text.splitlines() if "interrupted" in line]
    assert len(errors) == 1 and signal.Signals(signal_number).name in errors[0], text
    s3 = target.client("s3")
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    # No partial object. On a fast machine the last parts can land and the
    # upload complete between the signal and the abort: then the object is
    # the whole file, as a rerun would leave it.
    key = "landing/accelerometer/big.json"
    assert object_keys(target, bucket) <= {key}
    if object_keys(target, bucket):
        assert (
            object_bytes(target, bucket, key)
            == (tmp_path / "landing" / "accelerometer" / "big.json").read_bytes()
        )


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
        "--check",
        "--kms-key-id",
    ):
        assert option in text


def test_verbose_logs_every_upload_and_every_skip(
    tmp_path: Path, target: AwsTarget, bucket: str, caplog: pytest.LogCaptureFixture
) -> None:
    landing = tmp_path / "landing"
    for index in range(3):
        write_lines(landing / "accelerometer" / f"r{index}.json", [reading(index)])
    with caplog.at_level(logging.DEBUG):
        assert load_landing.main(cli_arguments(landing, bucket, target, "-v")) == 0
        assert load_landing.main(cli_arguments(landing, bucket, target, "-v")) == 0
    for index in range(3):
        key = f"s3://{bucket}/landing/accelerometer/r{index}.json"
        assert sum(f"uploaded {landing}" in m and key in m for m in caplog.messages) == 1
        assert sum(m == f"unchanged: {key}" for m in caplog.messages) == 1


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({"endpoint": "http://127.0.0.1:9"}, "Could not connect to the endpoint URL"),
        ({"credentials": None}, "Unable to locate credentials"),
    ],
)
def test_network_and_credential_errors_are_one_line_without_a_traceback(
    tmp_path: Path,
    target: AwsTarget,
    bucket: str,
    environment: dict[str, Any],
    message: str,
) -> None:
    landing = tmp_path / "landing"
    write_lines(landing / "accelerometer" / "a.json", [reading(1)])
    env = {**os.environ, "AWS_MAX_ATTEMPTS": "1", "AWS_RETRY_MODE": "standard"}
    endpoint = environment.get("endpoint", target.endpoint_url or "")
    if "credentials" in environment:
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            env.pop(name, None)
        env["AWS_SHARED_CREDENTIALS_FILE"] = str(tmp_path / "no-credentials")
        env["AWS_CONFIG_FILE"] = str(tmp_path / "no-config")
        env["AWS_EC2_METADATA_DISABLED"] = "true"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "scripts.load_landing",
            str(landing),
            "--bucket",
            bucket,
            "--endpoint-url",
            endpoint,
            "--region",
            "eu-west-1",
        ],
        cwd=dbt_invoke.PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == load_landing.EXIT_AWS, completed.stderr
    assert "Traceback" not in completed.stderr
    [error] = [line for line in completed.stderr.splitlines() if "AWS error" in line]
    assert message in error


def test_check_reports_the_lines_the_models_will_reject(tmp_path: Path) -> None:
    """--check runs the screening models themselves on local Spark: the
    report is their verdict, not a second rulebook."""
    day = 1_655_564_000_000  # 2022-06-18, in ms
    landing = tmp_path / "landing"
    write_lines(
        landing / "customer" / "customers.json",
        [
            {
                "customerName": "Ada",
                "email": "ada@example.com",
                "serialNumber": "dev-1",
                "registrationDate": day,
                "lastUpdateDate": day,
                "shareWithResearchAsOfDate": day,
            }
        ],
    )

    def ada_reading(seconds: int, time_key: str = "timestamp") -> dict[str, Any]:
        return {"user": "ada@example.com", time_key: day + seconds * 1000, "x": 1, "y": 0, "z": 0}

    write_lines(
        landing / "accelerometer" / "readings.json",
        [
            ada_reading(1),
            '{"user": "ada@example.com", "timestamp": 1655564002000,',  # cut short
            "",
            json.dumps(ada_reading(3)) + ",",  # one trailing comma is tolerated
            ada_reading(4, "timeStamp"),  # the older exports' spelling
            {**ada_reading(5), "user": None},
            "[1, 2, 3]",
            {**ada_reading(6), "user": "bob@example.com"},
        ],
    )
    write_lines(landing / "step_trainer" / "devices.json", [])
    completed = subprocess.run(
        [sys.executable, "-m", "scripts.load_landing", str(landing), "--check"],
        cwd=dbt_invoke.PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    report = completed.stdout
    assert "the screening models will reject 4 lines:" in report, report
    assert "accelerometer/readings.json: 2 malformed, e.g. '[1, 2, 3]'" in report, report
    assert "accelerometer/readings.json: 1 missing_field" in report, report
    assert "accelerometer/readings.json: 1 unknown_customer" in report, report
