"""Upload a local landing folder to the S3 landing zone, validated and idempotent.

Reads the landing layout (customer/, accelerometer/, step_trainer/ folders of
*.json) and uploads each file to s3://BUCKET/PREFIX/<dataset>/<file name>.

- Validates first: every line must be one JSON object with the data set's
  required keys. A file with bad lines is refused whole (report: file, line,
  reason; exit code 1), or with --quarantine its good lines are uploaded and
  its bad lines, with reasons, go under the quarantine prefix.
- Idempotent: the SHA-256 of each source file is kept in the object's
  metadata; a rerun skips unchanged files and replaces changed ones.
- Safe: what S3 stores is exactly the bytes validated, or nothing. A file
  below the multipart threshold goes up in one PutObject that carries their
  SHA-256; a larger one in boto3's managed transfer (multipart, parallel
  parts) that carries their CRC-32 as its full-object checksum, and a failed
  multipart upload is aborted. S3 refuses an object whose checksum does not
  match. Retries with backoff throughout; S3 shows an object only once it
  is complete.
- Encrypted: SSE-S3 by default, SSE-KMS with --kms-key-id.
"""

from __future__ import annotations

import argparse
import base64
import ctypes
import hashlib
import json
import logging
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from scripts.aws_session import AwsTarget, add_aws_arguments, object_encryption
from scripts.landing_validation import REQUIRED_KEYS, Crc32, FileValidation, validate_file

LOG = logging.getLogger("load_landing")

SOURCE_HASH_KEY = "source-sha256"
DATASETS = tuple(REQUIRED_KEYS)
MIB = 1024 * 1024


@dataclass(frozen=True)
class LoadOptions:
    """Where and how to upload."""

    bucket: str
    prefix: str = "landing"
    quarantine_prefix: str = "quarantine"
    concurrency: int = 10
    dry_run: bool = False
    quarantine: bool = False
    kms_key_id: str | None = None
    multipart_threshold: int = 8 * MIB
    multipart_chunksize: int = 8 * MIB

    def key(self, *parts: str) -> str:
        return "/".join(part.strip("/") for part in parts if part.strip("/"))


@dataclass
class PlannedUpload:
    """One object to upload."""

    dataset: str
    source: Path  # the landing file
    key: str
    body: Path  # what goes up: the landing file, or its good or bad lines
    size: int
    source_sha256: str  # of the landing file: the object's metadata, for reruns
    body_sha256: str  # of the body: a single PutObject's checksum
    # of the body, when it is large: a multipart upload's full-object checksum
    body_crc32: int | None


@dataclass
class LoadSummary:
    """What a load did, file by file."""

    uploaded_files: int = 0
    uploaded_bytes: int = 0
    skipped_files: int = 0
    skipped_bytes: int = 0
    refused: list[FileValidation] = field(default_factory=list)
    quarantined: list[FileValidation] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if self.refused else 0

    def report(self) -> str:
        quarantined_lines = sum(len(item.bad_lines) for item in self.quarantined)
        return (
            f"uploaded {self.uploaded_files} files ({format_bytes(self.uploaded_bytes)}), "
            f"skipped {self.skipped_files} unchanged ({format_bytes(self.skipped_bytes)}), "
            f"refused {len(self.refused)}, "
            f"quarantined {len(self.quarantined)} files ({quarantined_lines} bad lines)"
        )


def format_bytes(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


class ProgressReporter:
    """Thread-safe byte progress: a live bar on a terminal, else a log line
    every 10%."""

    def __init__(self, total: int, stream: Any = sys.stderr) -> None:
        self.total = max(total, 1)
        self.done = 0
        self.stream = stream
        self.interactive = bool(getattr(stream, "isatty", lambda: False)())
        self._lock = threading.Lock()
        self._last_decile = -1
        self._started = time.monotonic()

    def __call__(self, transferred: int) -> None:
        with self._lock:
            self.done += transferred
            fraction = min(self.done / self.total, 1.0)
            if self.interactive:
                bar = "#" * int(fraction * 30)
                self.stream.write(
                    f"\r[{bar:<30}] {fraction:6.1%} {format_bytes(self.done)}"
                    f" / {format_bytes(self.total)}"
                )
                self.stream.flush()
            elif int(fraction * 10) > self._last_decile:
                self._last_decile = int(fraction * 10)
                LOG.info(
                    "progress %3.0f%% (%s of %s, %.1fs)",
                    fraction * 100,
                    format_bytes(self.done),
                    format_bytes(self.total),
                    time.monotonic() - self._started,
                )

    def close(self) -> None:
        if self.interactive:
            self.stream.write("\n")


class _ProgressSubscriber:
    """s3transfer subscriber that forwards byte progress."""

    def __init__(self, progress: ProgressReporter) -> None:
        self.progress = progress

    def on_queued(self, **kwargs: Any) -> None:
        pass

    def on_progress(self, bytes_transferred: int, **kwargs: Any) -> None:
        self.progress(bytes_transferred)

    def on_done(self, **kwargs: Any) -> None:
        pass


def landing_files(root: Path) -> list[tuple[str, Path]]:
    """(dataset, file) for every *.json under the landing layout, sorted."""
    missing = [name for name in DATASETS if not (root / name).is_dir()]
    if len(missing) == len(DATASETS):
        raise FileNotFoundError(f"{root} has none of the folders {', '.join(DATASETS)}")
    return [
        (dataset, path)
        for dataset in DATASETS
        if (root / dataset).is_dir()
        for path in sorted((root / dataset).glob("*.json"))
    ]


def write_quarantine_files(validation: FileValidation, work: Path) -> tuple[Path, Path]:
    """The file's good lines, and its bad lines as JSON records with reasons."""
    good = work / f"{validation.dataset}-{validation.path.name}"
    rejected = work / f"{validation.dataset}-{validation.path.name}.rejected.jsonl"
    bad_numbers = {bad.line_number for bad in validation.bad_lines}
    with validation.path.open("rb") as source, good.open("wb") as out:
        for number, raw in enumerate(source, start=1):
            if number not in bad_numbers and raw.strip():
                out.write(raw if raw.endswith(b"\n") else raw + b"\n")
    with rejected.open("w", encoding="utf-8") as out:
        for bad in validation.bad_lines:
            record = {
                "file": validation.path.name,
                "line": bad.line_number,
                "reason": bad.reason,
                "raw": bad.raw,
            }
            out.write(json.dumps(record) + "\n")
    return good, rejected


def file_digests(path: Path) -> tuple[str, int]:
    """SHA-256 (hex) and CRC-32 of a file the loader wrote itself."""
    sha256, crc32 = hashlib.sha256(), Crc32()
    with path.open("rb") as handle:
        while block := handle.read(MIB):
            sha256.update(block)
            crc32.update(block)
    return sha256.hexdigest(), crc32.value


def put_whole_object(client: Any, bucket: str, item: PlannedUpload, extra_args: dict) -> None:
    """Upload a file in one PutObject, read into memory: meant for files
    below the multipart threshold. The request carries the SHA-256 of the
    bytes that were validated: S3 verifies it, refuses the object
    (BadDigest) if the file changed since, and keeps it as the object's
    checksum, so what lands is what was checked. The loader's client for
    these requests signs that checksum instead of hashing the body again.
    One request, no transfer machinery: cheaper than a managed transfer for
    the many small files of a landing folder."""
    client.put_object(
        Bucket=bucket,
        Key=item.key,
        Body=item.body.read_bytes(),
        ChecksumAlgorithm="SHA256",
        ChecksumSHA256=base64.b64encode(bytes.fromhex(item.body_sha256)).decode("ascii"),
        **extra_args,
    )


def existing_keys(client: Any, bucket: str, prefixes: Sequence[str]) -> set[str]:
    """Keys under the given prefixes: one listing instead of a request per file."""
    keys: set[str] = set()
    paginator = client.get_paginator("list_objects_v2")
    for prefix in prefixes:
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix.strip("/") + "/"):
            keys.update(item["Key"] for item in page.get("Contents", []))
    return keys


def remote_source_hash(client: Any, bucket: str, key: str) -> str | None:
    """The source SHA-256 recorded on an existing object, or None."""
    try:
        head = client.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
            return None
        raise
    return head.get("Metadata", {}).get(SOURCE_HASH_KEY)


def plan_file(validation: FileValidation, options: LoadOptions, work: Path) -> list[PlannedUpload]:
    """The objects to upload for one validated file: none when it is refused."""
    path, dataset = validation.path, validation.dataset
    key = options.key(options.prefix, dataset, path.name)
    if validation.is_clean:
        return [
            PlannedUpload(
                dataset,
                path,
                key,
                path,
                validation.size,
                validation.sha256,
                validation.sha256,
                validation.crc32,
            )
        ]
    for bad in validation.bad_lines:
        LOG.warning("%s line %d: %s", path, bad.line_number, bad.reason)
    if not options.quarantine:
        return []
    good, rejected = write_quarantine_files(validation, work)
    good_sha256, good_crc32 = file_digests(good)
    rejected_sha256, rejected_crc32 = file_digests(rejected)
    quarantine_key = options.key(options.quarantine_prefix, dataset, f"{path.name}.rejected.jsonl")
    return [
        PlannedUpload(
            dataset,
            path,
            key,
            good,
            good.stat().st_size,
            validation.sha256,
            good_sha256,
            good_crc32,
        ),
        PlannedUpload(
            dataset,
            path,
            quarantine_key,
            rejected,
            rejected.stat().st_size,
            validation.sha256,
            rejected_sha256,
            rejected_crc32,
        ),
    ]


def _die_with_parent() -> None:
    """Validation worker initializer: on Linux, ask the kernel to end the
    worker when the loader dies, even by SIGKILL (a killed loader would
    otherwise leave its workers waiting for work forever)."""
    if sys.platform.startswith("linux"):
        pr_set_pdeathsig = 1
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)


def load(root: Path, target: AwsTarget, options: LoadOptions) -> LoadSummary:
    """Validate and upload the landing folder ``root``; see the module doc.

    Files are validated in parallel processes (validation is CPU-bound) and
    each file's upload starts as soon as it is validated, so validation and
    network transfer overlap. Validation starts first of all: importing
    boto3 and setting up its client (about 0.3 s) happen meanwhile.
    """
    files = landing_files(root)
    sizes = [path.stat().st_size for _, path in files]
    progress = ProgressReporter(sum(sizes))
    with (
        tempfile.TemporaryDirectory(prefix="stedi-load-") as work_dir,
        ProcessPoolExecutor(
            # One core is left to this process, which signs and sends the
            # uploads while the others validate.
            max_workers=max(1, min(len(files), (os.cpu_count() or 1) - 1)),
            initializer=_die_with_parent,
        ) as pool,
    ):
        validations = [
            # A file that will go up in parts also gets the CRC-32 of the
            # bytes validated: its multipart upload's full-object checksum.
            pool.submit(validate_file, path, dataset, size >= options.multipart_threshold)
            for (dataset, path), size in zip(files, sizes, strict=True)
        ]
        try:
            summary = _upload_validated(
                as_completed(validations),
                len(files),
                root,
                target,
                options,
                Path(work_dir),
                progress,
            )
        except BaseException:
            # Stop at once: validating the files left is no use now.
            for validation in validations:
                validation.cancel()
            raise
        finally:
            progress.close()
    for validation in summary.refused:
        LOG.error(
            "refused %s: %d bad lines (first: line %d, %s); nothing of it was uploaded",
            validation.path,
            len(validation.bad_lines),
            validation.bad_lines[0].line_number,
            validation.bad_lines[0].reason,
        )
    return summary


class _Uploads:
    """Starts uploads: a small file in one PutObject on a thread pool, a
    large one as a managed multipart transfer."""

    def __init__(
        self,
        put_client: Any,
        manager: Any,
        small_files: ThreadPoolExecutor,
        options: LoadOptions,
        progress: ProgressReporter,
    ) -> None:
        self.put_client = put_client
        self.manager = manager
        self.small_files = small_files
        self.options = options
        self.progress = progress
        self.encryption = object_encryption(options.kms_key_id)

    def start(self, item: PlannedUpload) -> Any:
        """A future whose result() raises if the upload failed."""
        extra_args = {
            "Metadata": {SOURCE_HASH_KEY: item.source_sha256},
            "ContentType": "application/x-ndjson",
            **self.encryption,
        }
        # A large body goes up in parts, carrying the CRC-32 of the bytes
        # validated as its full-object checksum (S3 offers no full-object
        # SHA-256 for multipart uploads): S3 combines the parts' CRCs and
        # refuses the object (BadDigest) if they differ, so what lands is
        # what was checked, as with a single PutObject. A file that grew
        # past the threshold after it was listed has no CRC-32; it goes up
        # in one PutObject (up to 5 GiB).
        if item.size >= self.options.multipart_threshold and item.body_crc32 is not None:
            extra_args["ChecksumCRC32"] = base64.b64encode(
                item.body_crc32.to_bytes(4, "big")
            ).decode("ascii")
            return self.manager.upload(
                str(item.body),
                self.options.bucket,
                item.key,
                extra_args=extra_args,
                subscribers=[_ProgressSubscriber(self.progress)],
            )
        future = self.small_files.submit(
            put_whole_object, self.put_client, self.options.bucket, item, extra_args
        )
        future.add_done_callback(lambda done: self._count(done, item.size))
        return future

    def _count(self, done: Future[None], size: int) -> None:
        if not done.cancelled() and done.exception() is None:
            self.progress(size)


def _upload_validated(
    validated: Iterator[Future[FileValidation]],
    file_count: int,
    root: Path,
    target: AwsTarget,
    options: LoadOptions,
    work: Path,
    progress: ProgressReporter,
) -> LoadSummary:
    """Upload each file as its validation comes in; see ``load``."""
    from boto3.s3.transfer import TransferConfig, create_transfer_manager

    summary = LoadSummary()
    session = target.session()
    pool_size = max(10, options.concurrency * 2)
    client = target.client("s3", pool_size, session=session)
    # put_whole_object's requests carry their body's SHA-256 as a checksum,
    # which the signature covers: no second hash of each body to sign it
    # (about 0.8 ms less CPU per file of 0.8 MiB).
    put_client = target.client("s3", pool_size, session=session, hash_bodies_for_signature=False)
    LOG.info(
        "loading %d files from %s to s3://%s/%s (%s)",
        file_count,
        root,
        options.bucket,
        options.prefix,
        target.describe(),
    )
    config = TransferConfig(
        multipart_threshold=options.multipart_threshold,
        multipart_chunksize=options.multipart_chunksize,
        max_concurrency=options.concurrency,
        use_threads=True,
    )
    present = existing_keys(client, options.bucket, [options.prefix, options.quarantine_prefix])
    started: list[tuple[PlannedUpload, Any]] = []
    would_upload: list[PlannedUpload] = []
    with (
        ThreadPoolExecutor(max_workers=options.concurrency) as small_files,
        create_transfer_manager(client, config) as manager,
    ):
        uploads = _Uploads(put_client, manager, small_files, options, progress)
        try:
            for finished in validated:
                validation = finished.result()
                planned = plan_file(validation, options, work)
                if not validation.is_clean:
                    (summary.quarantined if planned else summary.refused).append(validation)
                if not planned:
                    progress(validation.size)
                for item in planned:
                    if (
                        item.key in present
                        and remote_source_hash(client, options.bucket, item.key)
                        == item.source_sha256
                    ):
                        summary.skipped_files += 1
                        summary.skipped_bytes += item.size
                        progress(item.size)
                        LOG.debug("unchanged: s3://%s/%s", options.bucket, item.key)
                    elif options.dry_run:
                        would_upload.append(item)
                    else:
                        started.append((item, uploads.start(item)))
            for item, future in started:
                future.result()
                summary.uploaded_files += 1
                summary.uploaded_bytes += item.size
        except BaseException:
            # The transfer manager cancels its own transfers as it exits on
            # an error; the small files still queued are cancelled here.
            small_files.shutdown(wait=False, cancel_futures=True)
            raise
    for item in would_upload:
        LOG.info("would upload %s -> s3://%s/%s", item.body, options.bucket, item.key)
    if options.dry_run:
        LOG.info(
            "dry run: %d files (%s) would be uploaded",
            len(would_upload),
            format_bytes(sum(item.size for item in would_upload)),
        )
    return summary


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.load_landing",
        description=__doc__.split("\n\n")[0],
        epilog=(
            "Examples:\n"
            "  python -m scripts.load_landing data/landing --bucket my-stedi-lake\n"
            "  python -m scripts.load_landing data/landing --bucket lake "
            "--endpoint-url http://127.0.0.1:5000 --quarantine\n"
            "Exit codes: 0 done, 1 files refused for bad lines, 2 usage, 3 AWS error."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("landing_root", type=Path, help="local landing folder to upload")
    parser.add_argument("--bucket", required=True, help="target S3 bucket")
    parser.add_argument(
        "--prefix", default="landing", help="key prefix of the landing zone (default: landing)"
    )
    parser.add_argument(
        "--quarantine-prefix",
        default="quarantine",
        help="key prefix for rejected lines with --quarantine (default: quarantine)",
    )
    parser.add_argument(
        "--quarantine",
        action="store_true",
        help="upload the good lines of a file with bad lines; write the bad ones, with "
        "reasons, under --quarantine-prefix (default: refuse such a file whole)",
    )
    add_aws_arguments(parser)
    parser.add_argument(
        "--concurrency", type=int, default=10, help="parallel transfers (default 10)"
    )
    parser.add_argument(
        "--kms-key-id", help="encrypt with SSE-KMS under this key (default: SSE-S3)"
    )
    parser.add_argument(
        "--multipart-threshold-mib",
        type=int,
        default=8,
        help="files above this size go multipart, in parts of this size (default 8)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="validate and report, upload nothing"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every file")
    args = parser.parse_args(argv)
    if args.concurrency < 1:
        parser.error("--concurrency must be at least 1")
    if args.multipart_threshold_mib < 5:
        parser.error("--multipart-threshold-mib must be at least 5 (S3's minimum part size)")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(name)s: %(message)s",
    )
    for noisy in ("botocore", "boto3", "s3transfer", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    target = AwsTarget(region=args.region, endpoint_url=args.endpoint_url, profile=args.profile)
    options = LoadOptions(
        bucket=args.bucket,
        prefix=args.prefix,
        quarantine_prefix=args.quarantine_prefix,
        concurrency=args.concurrency,
        dry_run=args.dry_run,
        quarantine=args.quarantine,
        kms_key_id=args.kms_key_id,
        multipart_threshold=args.multipart_threshold_mib * MIB,
        multipart_chunksize=args.multipart_threshold_mib * MIB,
    )
    try:
        summary = load(args.landing_root, target, options)
    except FileNotFoundError as error:
        LOG.error("%s", error)
        return 2
    except (BotoCoreError, ClientError) as error:
        LOG.error("AWS error: %s", error)
        return 3
    LOG.info("%s", summary.report())
    return summary.exit_code


if __name__ == "__main__":
    sys.exit(main())
