"""The files of a local landing folder, and whether each can be delivered.

The loader delivers landing files as they are: each line's fate (trusted, or
rejected with a reason) is decided once, by the screening models, so that
the row accounting counts every delivered line. What is decided here is only
whether a file can be newline-delimited JSON text at all, and which entries
of the folder are landing data:

- data files are the files named ``*.json`` or ``*.json.gz`` directly in a
  data set's folder (the models read exactly those; the names are
  case-sensitive on every engine);
- a file is refused whole when it is not UTF-8 text (a latin-1 export),
  binary (a NUL byte: also UTF-16), not readable gzip, or one pretty-printed
  JSON document rather than one object per line;
- a symlink is followed only when it stays inside the landing folder;
- anything else (other names, subfolders) is reported, never loaded.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

DATASETS = ("customer", "accelerometer", "step_trainer")
DATA_FILE_SUFFIXES = (".json", ".json.gz")
# Files are read in chunks of whole lines, so that memory stays flat.
CHUNK_BYTES = 8 * 1024 * 1024
MIB = 1024 * 1024
# What the landing rulebook trims around a line: JSON's whitespace and the
# byte order mark (macros/landing/landing_records.sql).
_LINE_PADDING = b" \t\r\n"
_BYTE_ORDER_MARK = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class LandingFile:
    """A data file to deliver."""

    dataset: str
    path: Path  # in the landing folder (a symlink's own name)
    size: int

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class NotLoaded:
    """An entry of the landing folder that is not delivered, and why."""

    path: Path
    reason: str
    refused: bool  # True: meant as data but unusable; False: not landing data


@dataclass(frozen=True)
class LandingListing:
    files: list[LandingFile]
    not_loaded: list[NotLoaded]


def is_data_file_name(name: str) -> bool:
    return name.endswith(DATA_FILE_SUFFIXES)


def list_landing(root: Path) -> LandingListing:
    """The data files of the landing folder ``root`` (sorted by data set,
    then name), and every other entry with the reason it is not loaded.
    Raises FileNotFoundError when ``root`` has none of the data set folders."""
    real_root = root.resolve()
    if not any((root / name).is_dir() for name in DATASETS):
        raise FileNotFoundError(f"{root} has none of the folders {', '.join(DATASETS)}")
    files: list[LandingFile] = []
    not_loaded: list[NotLoaded] = []
    for entry in sorted(root.iterdir()):
        if entry.name not in DATASETS or not entry.is_dir():
            not_loaded.append(NotLoaded(entry, "not a data set folder", refused=False))
    for dataset in DATASETS:
        folder = root / dataset
        if not folder.is_dir():
            continue
        if not folder.resolve().is_relative_to(real_root):
            not_loaded.append(
                NotLoaded(folder, "a symlink out of the landing folder, not followed", True)
            )
            continue
        for path in sorted(folder.iterdir()):
            verdict = _entry_verdict(path, real_root)
            if verdict is None:
                files.append(LandingFile(dataset, path, path.stat().st_size))
            else:
                not_loaded.append(verdict)
    return LandingListing(files, not_loaded)


def _entry_verdict(path: Path, real_root: Path) -> NotLoaded | None:
    """None for a data file to deliver, else why the entry is not loaded."""
    if path.is_symlink():
        try:
            resolved = path.resolve(strict=True)
        except (OSError, RuntimeError):
            return NotLoaded(path, "a broken symlink", refused=True)
        if not resolved.is_relative_to(real_root):
            return NotLoaded(path, f"a symlink to {resolved}, outside the landing folder", True)
    if path.is_dir():
        return NotLoaded(
            path, "a subfolder: the models read only a data set folder's own files", False
        )
    if not is_data_file_name(path.name):
        return NotLoaded(path, "not named *.json or *.json.gz: the models do not read it", False)
    if not path.is_file():
        return NotLoaded(path, "not a regular file", refused=True)
    return None


class ByteCount:
    """A byte counter behind hashlib's update() interface."""

    def __init__(self) -> None:
        self.value = 0

    def update(self, data: bytes) -> None:
        self.value += len(data)


class Crc32:
    """zlib's CRC-32 behind hashlib's update() interface."""

    def __init__(self) -> None:
        self.value = 0

    def update(self, data: bytes) -> None:
        self.value = zlib.crc32(data, self.value)


@dataclass
class FileInspection:
    """What reading one data file found."""

    path: Path
    dataset: str
    size: int = 0
    sha256: str = ""  # of the bytes delivered (a .json.gz file: compressed)
    crc32: int | None = None  # when asked for: a large file's multipart checksum
    lines: int = 0  # non-blank lines: the records the models will screen
    problem: str | None = None  # why the file is refused, or None

    @property
    def is_deliverable(self) -> bool:
        return self.problem is None


def _raw_blocks(path: Path, digests: Sequence[Any]) -> Iterator[bytes]:
    """The file's bytes in blocks, each fed to ``digests`` on the way: one
    read serves the hashes and the inspection."""
    with path.open("rb") as handle:
        while block := handle.read(CHUNK_BYTES):
            for digest in digests:
                digest.update(block)
            yield block


def _gunzip(blocks: Iterator[bytes]) -> Iterator[bytes]:
    """Decompress gzip, including files of several members (as `cat a.gz
    b.gz` makes; Hadoop's and Trino's readers take them too)."""
    decompressor = zlib.decompressobj(wbits=31)
    in_member = False
    for block in blocks:
        while block:
            in_member = True
            yield decompressor.decompress(block)
            if not decompressor.eof:
                break
            in_member = False
            block = decompressor.unused_data
            decompressor = zlib.decompressobj(wbits=31)
    if in_member:
        raise zlib.error("the file ends in the middle of a gzip member")


def _lines_in_chunks(blocks: Iterator[bytes]) -> Iterator[tuple[int, bytes]]:
    """(number of the chunk's first line, chunk of whole lines)."""
    first_line = 1
    rest = b""
    for block in blocks:
        data = rest + block if rest else block
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            rest = data
            continue
        chunk, rest = data[:cut], data[cut:]
        yield first_line, chunk
        first_line += chunk.count(b"\n")
    if rest:
        yield first_line, rest


def _first_record_line(chunk: bytes) -> bytes | None:
    for raw in chunk.split(b"\n"):
        line = raw.removeprefix(_BYTE_ORDER_MARK).strip(_LINE_PADDING)
        if line:
            return line
    return None


def _is_one_line_value(line: bytes) -> bool:
    """Whether a line is a whole JSON value (one trailing comma allowed, as
    the rulebook does)."""
    try:
        json.loads(line.removesuffix(b","))
    except ValueError:
        return False
    return True


def inspect_file(path: Path, dataset: str, with_crc32: bool = False) -> FileInspection:
    """Read a data file once: its size, SHA-256 (and, ``with_crc32``, its
    CRC-32) and whether it can be newline-delimited JSON text at all."""
    result = FileInspection(path=path, dataset=dataset)
    digest = hashlib.sha256()
    crc32 = Crc32() if with_crc32 else None
    size = ByteCount()
    digests: list[Any] = [digest, size] if crc32 is None else [digest, size, crc32]
    raw = _raw_blocks(path, digests)
    gzipped = path.name.endswith(".gz")
    first_line: bytes | None = None
    try:
        for number, chunk in _lines_in_chunks(_gunzip(raw) if gzipped else raw):
            result.problem = _chunk_problem(number, chunk)
            if result.problem is not None:
                break
            result.lines += sum(1 for line in chunk.split(b"\n") if line.strip(_LINE_PADDING))
            if first_line is None:
                first_line = _first_record_line(chunk)
    except zlib.error as error:
        result.problem = f"not readable gzip ({error})"
    except OSError as error:
        result.problem = f"cannot be read ({error.strerror or error})"
    # Size and hashes are of every byte of the file: read to its end.
    try:
        for _ in raw:
            pass
    except OSError as error:
        result.problem = f"cannot be read ({error.strerror or error})"
    result.size = size.value
    result.sha256 = digest.hexdigest()
    if crc32 is not None:
        result.crc32 = crc32.value
    if result.problem is None and first_line is not None and not _is_one_line_value(first_line):
        result.problem = _pretty_printed_problem(path, gzipped, result.lines)
    return result


def _chunk_problem(first_line: int, chunk: bytes) -> str | None:
    nul = chunk.find(b"\x00")
    if nul >= 0:
        line = first_line + chunk.count(b"\n", 0, nul)
        return f"binary, not text: a NUL byte on line {line} (UTF-16 or a binary format?)"
    try:
        chunk.decode("utf-8")
    except UnicodeDecodeError as error:
        line_start = chunk.rfind(b"\n", 0, error.start) + 1
        line = first_line + chunk.count(b"\n", 0, error.start)
        column = error.start - line_start + 1
        byte = chunk[error.start]
        return (
            f"not UTF-8: byte 0x{byte:02x} on line {line}, column {column} "
            "(re-encode it, e.g. iconv -f latin1 -t utf-8)"
        )
    return None


def _pretty_printed_problem(path: Path, gzipped: bool, lines: int) -> str | None:
    """The refusal of a file that is one JSON document over several lines;
    None when it is not (its first line is then one bad record)."""
    if lines < 2:
        return None
    data = path.read_bytes()
    if gzipped:
        data = b"".join(_gunzip(iter([data])))
    try:
        msgspec.json.decode(data.removeprefix(_BYTE_ORDER_MARK))
    except msgspec.DecodeError:
        return None
    return (
        f"one JSON document over {lines} lines (pretty-printed), not one object per line "
        "(e.g. jq -c '.[]' makes one of it)"
    )
