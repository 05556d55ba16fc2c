"""Line-by-line validation of landing JSON files.

Each line of a landing file must be one JSON object carrying the data set's
required keys with non-null values. Consent keys are optional: an absent
key means no consent.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import msgspec

REQUIRED_KEYS: dict[str, tuple[str, ...]] = {
    "customer": ("customerName", "email", "serialNumber", "registrationDate", "lastUpdateDate"),
    "accelerometer": ("user", "timestamp", "x", "y", "z"),
    "step_trainer": ("sensorReadingTime", "serialNumber", "distanceFromObject"),
}

# Any JSON value but null: a required key must carry a value.
_NonNull = Union[bool, int, float, str, list, dict]  # noqa: UP007 (msgspec reads the union)
# Whole chunks of lines are decoded by one C call (msgspec); only a chunk
# that fails is checked line by line, for exact line numbers and reasons.
CHUNK_BYTES = 8 * 1024 * 1024
# gc=False: a decoded record holds only JSON values, which cannot refer back
# to it, so it needs no cycle tracking; untracked, the hundreds of thousands
# of records of a chunk cost the garbage collector nothing (with the copies
# saved in _chunks: about 15% less validation CPU, on scale-30 data).
_DECODERS = {
    dataset: msgspec.json.Decoder(
        msgspec.defstruct(f"{dataset}_record", [(key, _NonNull) for key in keys], gc=False)
    )
    for dataset, keys in REQUIRED_KEYS.items()
}


@dataclass(frozen=True)
class BadLine:
    """One line that failed validation."""

    line_number: int
    reason: str
    raw: str


@dataclass
class FileValidation:
    """What validation found in one file."""

    path: Path
    dataset: str
    good_lines: int = 0
    bad_lines: list[BadLine] = field(default_factory=list)
    sha256: str = ""
    crc32: int | None = None  # when asked for: a large file's multipart checksum
    size: int = 0

    @property
    def is_clean(self) -> bool:
        return not self.bad_lines


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def line_problem(line: bytes, required: tuple[str, ...]) -> str | None:
    """Why a line is invalid, or None when it is a valid record."""
    try:
        record = json.loads(line, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        return f"malformed JSON: {error.msg} at column {error.colno}"
    except (ValueError, UnicodeDecodeError) as error:
        return f"malformed JSON: {error}"
    if not isinstance(record, dict):
        return f"not a JSON object but a {type(record).__name__}"
    missing = [key for key in required if key not in record]
    if missing:
        return "missing required key(s): " + ", ".join(missing)
    null = [key for key in required if record[key] is None]
    if null:
        return "null required key(s): " + ", ".join(null)
    return None


class Crc32:
    """zlib's CRC-32 behind hashlib's update() interface."""

    def __init__(self) -> None:
        self.value = 0

    def update(self, data: bytes) -> None:
        self.value = zlib.crc32(data, self.value)


def _chunks(path: Path, digests: Sequence[Any]) -> Iterator[tuple[int, bytes]]:
    """(number of the chunk's first line, chunk) of whole lines, about
    CHUNK_BYTES each, so that memory stays flat on large files. Each of
    ``digests`` (objects with hashlib's update()) is fed every byte on the
    way: one read of the file serves the hashes and the validation."""
    first_line = 1
    rest = b""
    with path.open("rb") as handle:
        while block := handle.read(CHUNK_BYTES):
            for digest in digests:
                digest.update(block)
            # No copies in the common case: a file smaller than a chunk
            # comes in one block that ends with its last line.
            data = rest + block if rest else block
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                rest = data
                continue
            chunk, rest = (data, b"") if cut == len(data) else (data[:cut], data[cut:])
            yield first_line, chunk
            first_line += chunk.count(b"\n")
    if rest:
        yield first_line, rest


def validate_file(path: Path, dataset: str, with_crc32: bool = False) -> FileValidation:
    """Validate every line of ``path``; blank lines are ignored. The result
    carries the SHA-256 of the bytes validated and, ``with_crc32``, their
    CRC-32 (S3's full-object checksum for a multipart upload)."""
    required = REQUIRED_KEYS[dataset]
    decoder = _DECODERS[dataset]
    result = FileValidation(path=path, dataset=dataset)
    digest = hashlib.sha256()
    crc32 = Crc32() if with_crc32 else None
    for first_line, chunk in _chunks(path, [digest] if crc32 is None else [digest, crc32]):
        result.size += len(chunk)
        try:
            result.good_lines += len(decoder.decode_lines(chunk))
            continue
        except (msgspec.DecodeError, msgspec.ValidationError):
            pass
        for number, raw in enumerate(chunk.split(b"\n"), start=first_line):
            stripped = raw.strip()
            if not stripped:
                continue
            problem = line_problem(stripped, required)
            if problem is None:
                result.good_lines += 1
            else:
                text = stripped.decode("utf-8", errors="replace")
                result.bad_lines.append(BadLine(number, problem, text))
    # Size and hashes are of the very bytes that were validated.
    result.sha256 = digest.hexdigest()
    if crc32 is not None:
        result.crc32 = crc32.value
    return result
