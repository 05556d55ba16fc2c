"""Deliver a local landing folder to the S3 landing zone, as it is.

Uploads each data file of the landing layout (customer/, accelerometer/,
step_trainer/ folders of *.json and *.json.gz) byte for byte to
s3://BUCKET/PREFIX/<dataset>/<file name>.

- As delivered: no line is dropped or edited. Each line's fate (trusted, or
  rejected with a reason) is decided once, by the screening models, so the
  row accounting counts every delivered line. `--check` reports, from those
  same models, the lines they will reject.
- Refuses a whole file only when it cannot be newline-delimited JSON text:
  not UTF-8, binary, unreadable gzip, or one pretty-printed JSON document
  (one line naming the file and the first bad line; the other files still
  go up; exit code 1). A symlink out of the landing folder is refused; other
  names and subfolders are reported and not loaded.
- Idempotent and safe with another load at once: the SHA-256 of each file is
  kept in the object's metadata; a rerun skips unchanged files and replaces
  changed ones. Writes are conditional (If-None-Match: * for a new object,
  If-Match on the replaced one's ETag), so two loads of one folder at once
  write each object once.
- Safe: what S3 stores is exactly the bytes read, or nothing. A file below
  the multipart threshold goes up in one PutObject that carries their
  SHA-256; a larger one in boto3's managed transfer (multipart, parallel
  parts) that carries their CRC-32 as its full-object checksum. An upload
  that fails or is interrupted (Ctrl-C, SIGTERM) is aborted.
- Encrypted: SSE-S3 by default, SSE-KMS with --kms-key-id.
"""

from __future__ import annotations

import argparse
import base64
import ctypes
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from scripts.common.aws_session import (
    AwsTarget,
    add_aws_arguments,
    error_code,
    object_encryption,
)
from scripts.common.cli_logging import configure_logging
from scripts.common.landing_files import (
    DATASETS,
    MIB,
    FileInspection,
    LandingFile,
    NotLoaded,
    inspect_file,
    list_landing,
)

LOG = logging.getLogger("load_landing")

SOURCE_HASH_KEY = "source-sha256"
__all__ = ["DATASETS", "MIB", "LoadOptions", "LoadSummary", "load", "main"]

# Exit codes (the --help epilog repeats them).
EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_AWS = 3
EXIT_CONFLICT = 4
EXIT_INTERRUPTED = 130


@dataclass(frozen=True)
class LoadOptions:
    """Where and how to upload."""

    bucket: str
    prefix: str = "landing"
    concurrency: int = 10
    dry_run: bool = False
    kms_key_id: str | None = None
    multipart_threshold: int = 8 * MIB
    multipart_chunksize: int = 8 * MIB

    def key(self, *parts: str) -> str:
        return "/".join(part.strip("/") for part in parts if part.strip("/"))


@dataclass(frozen=True)
class PlannedUpload:
    """One file to upload, and the condition S3 must find its key in."""

    path: Path
    key: str
    size: int
    sha256: str  # of the file: the object's metadata (for reruns) and checksum
    crc32: int | None  # when large: a multipart upload's full-object checksum
    # the ETag of the object it replaces, or None for a new object
    replaces_etag: str | None


@dataclass
class LoadSummary:
    """What a load did, file by file."""

    uploaded_files: int = 0
    uploaded_bytes: int = 0
    skipped_files: int = 0
    skipped_bytes: int = 0
    # written, unchanged, by another load running at the same time
    loaded_elsewhere: int = 0
    refused: list[tuple[Path, str]] = field(default_factory=list)
    not_loaded: list[NotLoaded] = field(default_factory=list)
    # changed by another writer between this load's check and its write
    conflicts: list[str] = field(default_factory=list)
    records: int = 0  # non-blank lines of the files delivered or unchanged

    @property
    def exit_code(self) -> int:
        if self.refused:
            return EXIT_REFUSED
        return EXIT_CONFLICT if self.conflicts else 0

    def report(self) -> str:
        parts = [
            f"uploaded {self.uploaded_files} files ({format_bytes(self.uploaded_bytes)})",
            f"skipped {self.skipped_files} unchanged ({format_bytes(self.skipped_bytes)})",
        ]
        if self.loaded_elsewhere:
            parts.append(f"{self.loaded_elsewhere} written by another load meanwhile")
        parts.append(f"refused {len(self.refused)}")
        parts.append(f"not landing data {len(self.not_loaded)}")
        if self.conflicts:
            parts.append(f"conflicts {len(self.conflicts)}")
        return ", ".join(parts) + f"; {self.records} lines for the models to screen"


class LoadInterrupted(Exception):
    """SIGINT or SIGTERM arrived during the load."""

    def __init__(self, signal_number: int) -> None:
        super().__init__(signal.Signals(signal_number).name)
        self.signal_number = signal_number


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


def put_whole_object(client: Any, bucket: str, item: PlannedUpload, extra_args: dict) -> None:
    """Upload a file in one PutObject, read into memory: meant for files
    below the multipart threshold. The request carries the SHA-256 of the
    bytes that were read and hashed: S3 verifies it, refuses the object
    (BadDigest) if the file changed since, and keeps it as the object's
    checksum, so what lands is what was checked. The loader's client for
    these requests signs that checksum instead of hashing the body again.
    One request, no transfer machinery: cheaper than a managed transfer for
    the many small files of a landing folder."""
    client.put_object(
        Bucket=bucket,
        Key=item.key,
        Body=item.path.read_bytes(),
        ChecksumAlgorithm="SHA256",
        ChecksumSHA256=base64.b64encode(bytes.fromhex(item.sha256)).decode("ascii"),
        **write_condition(item),
        **extra_args,
    )


def write_condition(item: PlannedUpload) -> dict[str, str]:
    """The conditional write that makes a concurrent load's write fail
    (412) instead of writing a second version: a new key must still be
    absent, a replaced object still the one that was checked."""
    if item.replaces_etag is None:
        return {"IfNoneMatch": "*"}
    return {"IfMatch": item.replaces_etag}


@dataclass(frozen=True)
class RemoteObject:
    sha256: str | None  # the source SHA-256 in its metadata
    size: int
    etag: str


def existing_objects(client: Any, bucket: str, prefix: str) -> set[str]:
    """The keys under ``prefix``: one listing instead of a request per file."""
    keys: set[str] = set()
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix.strip("/") + "/"):
        keys.update(item["Key"] for item in page.get("Contents", []))
    return keys


def remote_object(client: Any, bucket: str, key: str) -> RemoteObject | None:
    """The object at ``key`` (its recorded source hash, size and ETag), or None."""
    try:
        head = client.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error_code(error) in {"404", "NoSuchKey", "NotFound"}:
            return None
        raise
    return RemoteObject(
        head.get("Metadata", {}).get(SOURCE_HASH_KEY), head["ContentLength"], head["ETag"]
    )


def holds_file(remote: RemoteObject | None, sha256: str, size: int) -> bool:
    """Whether the object is the file of this SHA-256 and size. The size
    too: an object that an older loader's --quarantine wrote with a file's
    good lines only carries the whole file's hash."""
    return remote is not None and remote.sha256 == sha256 and remote.size == size


def _die_with_parent() -> None:
    """Inspection worker initializer: on Linux, ask the kernel to end the
    worker when the loader dies, even by SIGKILL (a killed loader would
    otherwise leave its workers waiting for work forever). Ctrl-C reaches
    the whole process group: the loader handles it, its workers ignore it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        pr_set_pdeathsig = 1
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)


def load(root: Path, target: AwsTarget, options: LoadOptions) -> LoadSummary:
    """Upload the data files of the landing folder ``root``; see the module doc.

    Files are read (hashed, and checked to be text) in parallel processes,
    as that is CPU-bound, and each file's upload starts as soon as it is
    read, so reading and network transfer overlap.
    """
    listing = list_landing(root)
    summary = LoadSummary()
    for entry in listing.not_loaded:
        if entry.refused:
            summary.refused.append((entry.path, entry.reason))
            LOG.error("refused %s: %s", entry.path, entry.reason)
        else:
            summary.not_loaded.append(entry)
            LOG.warning("not loaded %s: %s", entry.path, entry.reason)
    files = listing.files
    progress = ProgressReporter(sum(item.size for item in files))
    with ProcessPoolExecutor(
        # One core is left to this process, which signs and sends the
        # uploads while the others read.
        max_workers=max(1, min(len(files), (os.cpu_count() or 1) - 1)),
        initializer=_die_with_parent,
    ) as pool:
        inspections = [
            # A file that will go up in parts also gets the CRC-32 of the
            # bytes read: its multipart upload's full-object checksum.
            pool.submit(
                inspect_file, item.path, item.dataset, item.size >= options.multipart_threshold
            )
            for item in files
        ]
        try:
            _upload_inspected(
                as_completed(inspections), files, root, target, options, progress, summary
            )
        except BaseException:
            # Stop at once: reading the files left is no use now.
            for inspection in inspections:
                inspection.cancel()
            raise
        finally:
            progress.close()
    return summary


class _Uploads:
    """Starts uploads: a small file in one PutObject on a thread pool, a
    large one as a managed multipart transfer. Remembers the multipart
    uploads it began, so that an interrupted load can abort them."""

    def __init__(
        self,
        client: Any,
        put_client: Any,
        manager: Any,
        small_files: ThreadPoolExecutor,
        options: LoadOptions,
        progress: ProgressReporter,
    ) -> None:
        self.client = client
        self.put_client = put_client
        self.manager = manager
        self.small_files = small_files
        self.options = options
        self.progress = progress
        self.encryption = object_encryption(options.kms_key_id)
        self.multipart: dict[str, PlannedUpload] = {}
        self._lock = threading.Lock()
        # boto3's managed transfer takes no conditional-write arguments: they
        # are added to the CompleteMultipartUpload request of each key here.
        client.meta.events.register(
            "before-parameter-build.s3.CompleteMultipartUpload", self._add_condition
        )
        # The IDs of the multipart uploads this load began: on an interrupt,
        # those still open are aborted, and no other load's.
        self.upload_ids: set[str] = set()
        client.meta.events.register("after-call.s3.CreateMultipartUpload", self._remember_id)

    def _remember_id(self, parsed: dict[str, Any], **kwargs: Any) -> None:
        if "UploadId" in parsed:
            with self._lock:
                self.upload_ids.add(parsed["UploadId"])

    def _add_condition(self, params: dict[str, Any], **kwargs: Any) -> None:
        with self._lock:
            item = self.multipart.get(params.get("Key", ""))
        if item is not None:
            params.update(write_condition(item))

    def start(self, item: PlannedUpload) -> Any:
        """A future whose result() raises if the upload failed."""
        extra_args = {
            "Metadata": {SOURCE_HASH_KEY: item.sha256},
            "ContentType": "application/gzip"
            if item.key.endswith(".gz")
            else "application/x-ndjson",
            **self.encryption,
        }
        # A large file goes up in parts, carrying the CRC-32 of the bytes
        # read as its full-object checksum (S3 offers no full-object
        # SHA-256 for multipart uploads): S3 combines the parts' CRCs and
        # refuses the object (BadDigest) if they differ, so what lands is
        # what was checked, as with a single PutObject. A file that grew
        # past the threshold after it was listed has no CRC-32; it goes up
        # in one PutObject (up to 5 GiB).
        if item.size >= self.options.multipart_threshold and item.crc32 is not None:
            extra_args["ChecksumCRC32"] = base64.b64encode(item.crc32.to_bytes(4, "big")).decode(
                "ascii"
            )
            with self._lock:
                self.multipart[item.key] = item
            return self.manager.upload(
                str(item.path),
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

    def abort_open(self) -> None:
        """Abort the multipart uploads this load began and did not complete
        (the managed transfer aborts those it cancels; this also catches one
        it had not cleaned up). Best effort: the bucket's lifecycle rule
        aborts any left after a day."""
        with self._lock:
            upload_ids = set(self.upload_ids)
        if not upload_ids:
            return
        try:
            aborted = self._abort_uploads(upload_ids)
        except (BotoCoreError, ClientError) as error:
            LOG.warning(
                "could not abort open multipart uploads (%s); the bucket's lifecycle rule "
                "aborts them after a day",
                error,
            )
            return
        if aborted:
            LOG.info("aborted %d open multipart uploads", aborted)

    def _abort_uploads(self, upload_ids: set[str]) -> int:
        aborted = 0
        paginator = self.client.get_paginator("list_multipart_uploads")
        prefix = self.options.key(self.options.prefix) + "/"
        for page in paginator.paginate(Bucket=self.options.bucket, Prefix=prefix):
            for upload in page.get("Uploads", []):
                if upload["UploadId"] in upload_ids:
                    self.client.abort_multipart_upload(
                        Bucket=self.options.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                    )
                    aborted += 1
        return aborted


def _upload_inspected(
    inspected: Iterator[Future[FileInspection]],
    files: Sequence[LandingFile],
    root: Path,
    target: AwsTarget,
    options: LoadOptions,
    progress: ProgressReporter,
    summary: LoadSummary,
) -> None:
    """Upload each file as its inspection comes in; see ``load``."""
    from boto3.s3.transfer import TransferConfig, create_transfer_manager

    session = target.session()
    pool_size = max(10, options.concurrency * 2)
    client = target.client("s3", pool_size, session=session)
    # put_whole_object's requests carry their body's SHA-256 as a checksum,
    # which the signature covers: no second hash of each body to sign it
    # (about 0.8 ms less CPU per file of 0.8 MiB).
    put_client = target.client("s3", pool_size, session=session, hash_bodies_for_signature=False)
    LOG.info(
        "loading %d files from %s to s3://%s/%s (%s)",
        len(files),
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
    present = existing_objects(client, options.bucket, options.prefix)
    started: list[tuple[PlannedUpload, Any]] = []
    would_upload: list[PlannedUpload] = []
    uploads: _Uploads | None = None
    try:
        with (
            ThreadPoolExecutor(max_workers=options.concurrency) as small_files,
            create_transfer_manager(client, config) as manager,
        ):
            uploads = _Uploads(client, put_client, manager, small_files, options, progress)
            try:
                for finished in inspected:
                    item = _plan(finished.result(), client, present, options, progress, summary)
                    if item is None:
                        continue
                    if options.dry_run:
                        would_upload.append(item)
                    else:
                        started.append((item, uploads.start(item)))
                for item, future in started:
                    _finish(item, future, client, options, summary)
            except BaseException:
                # The transfer manager cancels its own transfers (and so
                # aborts their multipart uploads) as it exits on an error;
                # the small files still queued are cancelled here.
                small_files.shutdown(wait=False, cancel_futures=True)
                raise
    except BaseException:
        if uploads is not None:
            uploads.abort_open()
        raise
    for item in would_upload:
        LOG.info("would upload %s -> s3://%s/%s", item.path, options.bucket, item.key)
    if options.dry_run:
        LOG.info(
            "dry run: %d files (%s) would be uploaded",
            len(would_upload),
            format_bytes(sum(item.size for item in would_upload)),
        )


def _plan(
    inspection: FileInspection,
    client: Any,
    present: set[str],
    options: LoadOptions,
    progress: ProgressReporter,
    summary: LoadSummary,
) -> PlannedUpload | None:
    """The upload of an inspected file, or None when it is refused or
    already there unchanged."""
    if not inspection.is_deliverable:
        summary.refused.append((inspection.path, str(inspection.problem)))
        LOG.error("refused %s: %s", inspection.path, inspection.problem)
        progress(inspection.size)
        return None
    summary.records += inspection.lines
    key = options.key(options.prefix, inspection.dataset, inspection.path.name)
    remote = remote_object(client, options.bucket, key) if key in present else None
    if holds_file(remote, inspection.sha256, inspection.size):
        summary.skipped_files += 1
        summary.skipped_bytes += inspection.size
        progress(inspection.size)
        LOG.debug("unchanged: s3://%s/%s", options.bucket, key)
        return None
    return PlannedUpload(
        inspection.path,
        key,
        inspection.size,
        inspection.sha256,
        inspection.crc32,
        remote.etag if remote is not None else None,
    )


def _finish(
    item: PlannedUpload, future: Any, client: Any, options: LoadOptions, summary: LoadSummary
) -> None:
    """Wait for one upload and count it. A write refused by its condition
    (412) means another load wrote the key meanwhile: fine if it wrote this
    very file, a conflict to report if not."""
    try:
        future.result()
    except ClientError as error:
        if error_code(error) not in {"PreconditionFailed", "412"}:
            raise
        remote = remote_object(client, options.bucket, item.key)
        if holds_file(remote, item.sha256, item.size):
            summary.loaded_elsewhere += 1
            LOG.debug("written meanwhile by another load: s3://%s/%s", options.bucket, item.key)
            return
        summary.conflicts.append(item.key)
        LOG.error(
            "s3://%s/%s was changed by another writer during this load; "
            "it still holds their version (rerun to replace it)",
            options.bucket,
            item.key,
        )
        return
    summary.uploaded_files += 1
    summary.uploaded_bytes += item.size
    LOG.debug("uploaded %s -> s3://%s/%s", item.path, options.bucket, item.key)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.load_landing",
        description=__doc__.split("\n\n")[0],
        epilog=(
            "Examples:\n"
            "  python -m scripts.load_landing data/landing --bucket my-stedi-lake\n"
            "  python -m scripts.load_landing data/landing --bucket lake "
            "--endpoint-url http://127.0.0.1:5000\n"
            "  python -m scripts.load_landing data/landing --check\n"
            f"Exit codes: 0 done, {EXIT_REFUSED} some files refused, {EXIT_USAGE} usage or no "
            f"landing folder, {EXIT_AWS} AWS error, {EXIT_CONFLICT} an object changed by "
            f"another writer meanwhile, {EXIT_INTERRUPTED} interrupted (SIGINT or SIGTERM)."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("landing_root", type=Path, help="local landing folder to upload")
    parser.add_argument("--bucket", help="target S3 bucket (required unless --check)")
    parser.add_argument(
        "--prefix", default="landing", help="key prefix of the landing zone (default: landing)"
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
        "--dry-run", action="store_true", help="read, check and report, upload nothing"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="upload nothing: run the screening models on local Spark over the folder "
        "and report the lines they will reject, and why (needs Java; about a minute)",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log every file uploaded or skipped"
    )
    args = parser.parse_args(argv)
    if not args.check and not args.bucket:
        parser.error("--bucket is required (unless --check)")
    if args.concurrency < 1:
        parser.error("--concurrency must be at least 1")
    if args.multipart_threshold_mib < 5:
        parser.error("--multipart-threshold-mib must be at least 5 (S3's minimum part size)")
    return args


def _raise_interrupted(signal_number: int, frame: FrameType | None) -> None:
    # Once: a second Ctrl-C must not cut short the aborting of open uploads.
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, _already_stopping)
    raise LoadInterrupted(signal_number)


def _already_stopping(signal_number: int, frame: FrameType | None) -> None:
    LOG.warning("stopping: aborting open uploads first")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    configure_logging(verbose=args.verbose)
    if args.check:
        from scripts.common import landing_check

        return landing_check.main_check(args.landing_root)
    target = AwsTarget(region=args.region, endpoint_url=args.endpoint_url, profile=args.profile)
    options = LoadOptions(
        bucket=args.bucket,
        prefix=args.prefix,
        concurrency=args.concurrency,
        dry_run=args.dry_run,
        kms_key_id=args.kms_key_id,
        multipart_threshold=args.multipart_threshold_mib * MIB,
        multipart_chunksize=args.multipart_threshold_mib * MIB,
    )
    # Both signals end the load the same way: open uploads aborted, one line.
    previous = {
        number: signal.signal(number, _raise_interrupted)
        for number in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        summary = load(args.landing_root, target, options)
    except LoadInterrupted as interrupted:
        LOG.error("interrupted by %s: open uploads aborted; rerun to finish the load", interrupted)
        return EXIT_INTERRUPTED
    except FileNotFoundError as error:
        LOG.error("%s", error)
        return EXIT_USAGE
    except (BotoCoreError, ClientError) as error:
        LOG.error("AWS error: %s", error)
        return EXIT_AWS
    except OSError as error:
        LOG.error("cannot read the landing folder: %s", error)
        return EXIT_USAGE
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    LOG.info("%s", summary.report())
    return summary.exit_code


if __name__ == "__main__":
    sys.exit(main())
