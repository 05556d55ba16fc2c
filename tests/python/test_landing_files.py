"""Reading landing files: hashes of every byte, refusals with exact lines."""

from __future__ import annotations

import gzip
import hashlib
import zlib
from pathlib import Path

import pytest

from scripts.common import landing_files
from scripts.common.landing_files import inspect_file, list_landing

LINE = b'{"sensorReadingTime": 1, "serialNumber": "d", "distanceFromObject": 2}'


def test_hashes_and_size_cover_every_byte_across_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(landing_files, "CHUNK_BYTES", 200)
    path = tmp_path / "hashed.json"
    path.write_bytes(b"\n".join([LINE] * 25) + b"\n\r\n \t\n" + LINE)  # no final newline
    result = inspect_file(path, "step_trainer", with_crc32=True)
    assert result.is_deliverable
    assert result.lines == 26  # blank and whitespace lines are no records
    assert result.size == path.stat().st_size
    assert result.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert result.crc32 == zlib.crc32(path.read_bytes())
    assert inspect_file(path, "step_trainer").crc32 is None  # only when asked for


def test_a_bad_byte_is_found_on_its_line_across_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(landing_files, "CHUNK_BYTES", 200)
    lines = [LINE] * 30
    lines[22] = b'{"serialNumber": "caf\xe9"}'
    path = tmp_path / "latin1.json"
    path.write_bytes(b"\n".join(lines))
    result = inspect_file(path, "step_trainer")
    assert result.problem is not None
    assert result.problem.startswith("not UTF-8: byte 0xe9 on line 23, column 22")
    # hashed to its end all the same
    assert result.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_lines_the_models_reject_are_no_reason_to_refuse_a_file(tmp_path: Path) -> None:
    path = tmp_path / "hostile.json"
    path.write_bytes(
        b"\xef\xbb\xbf" + LINE + b',\n{not json\n[1, 2]\nnull\n"text"\n{"a": {"b": 1}}\n'
    )
    assert inspect_file(path, "step_trainer").problem is None


def test_a_first_line_that_is_bad_is_one_bad_record_not_a_document(tmp_path: Path) -> None:
    path = tmp_path / "truncated.json"
    path.write_bytes(b'{"sensorReadingTime": 1,\n' + LINE + b"\n")
    assert inspect_file(path, "step_trainer").problem is None


def test_pretty_printed_gzip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "pretty.json.gz"
    path.write_bytes(gzip.compress(b'[\n  {"a": 1},\n  {"a": 2}\n]\n'))
    result = inspect_file(path, "step_trainer")
    assert result.problem is not None and "one JSON document over 4 lines" in result.problem


def test_listing_keeps_data_files_and_says_why_of_the_rest(tmp_path: Path) -> None:
    folder = tmp_path / "landing" / "customer"
    folder.mkdir(parents=True)
    for name in ("b.json", "a.json.gz", "c.JSON", "d.ndjson"):
        (folder / name).write_bytes(b"")
    (folder / "sub").mkdir()
    listing = list_landing(tmp_path / "landing")
    assert [item.name for item in listing.files] == ["a.json.gz", "b.json"]
    assert sorted((item.path.name, item.refused) for item in listing.not_loaded) == [
        ("c.JSON", False),
        ("d.ndjson", False),
        ("sub", False),
    ]
    with pytest.raises(FileNotFoundError):
        list_landing(tmp_path)
