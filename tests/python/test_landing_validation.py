"""Line validation of landing files: exact line numbers and reasons."""

from __future__ import annotations

import hashlib
import zlib
from pathlib import Path

import pytest

from scripts import landing_validation
from scripts.landing_validation import validate_file


def test_valid_lines_with_crlf_and_blank_lines_pass(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_bytes(
        b'{"sensorReadingTime": 1, "serialNumber": "d", "distanceFromObject": 2}\r\n'
        b"\r\n"
        b'{"sensorReadingTime": 2, "serialNumber": "d", "distanceFromObject": 3}'
    )
    result = validate_file(path, "step_trainer")
    assert result.is_clean
    assert result.good_lines == 2
    assert result.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert result.crc32 is None  # only when asked for
    assert result.size == path.stat().st_size


def test_each_bad_line_has_its_number_and_reason(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_text(
        '{"user": "a", "timestamp": 1, "x": 1, "y": 1, "z": 1}\n'
        '{"user": "a", "timestamp": 2, "x": 1, "y": 1, "z": 1},\n'
        '"just a string"\n'
        '{"user": "a", "timestamp": 3, "x": 1, "y": 1}\n'
        '{"user": "a", "timestamp": null, "x": 1, "y": 1, "z": 1}\n',
        encoding="utf-8",
    )
    result = validate_file(path, "accelerometer")
    assert result.good_lines == 1
    assert [(bad.line_number, bad.reason) for bad in result.bad_lines] == [
        (2, "malformed JSON: Extra data at column 54"),
        (3, "not a JSON object but a str"),
        (4, "missing required key(s): z"),
        (5, "null required key(s): timestamp"),
    ]
    assert result.bad_lines[0].raw.endswith("},")


def test_absent_consent_keys_are_not_required(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(
        '{"customerName": "A", "email": "a@example.com", "serialNumber": "d",'
        ' "registrationDate": 1, "lastUpdateDate": 1}\n',
        encoding="utf-8",
    )
    assert validate_file(path, "customer").is_clean


def test_line_numbers_hold_across_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(landing_validation, "CHUNK_BYTES", 200)
    good = '{"sensorReadingTime": 1, "serialNumber": "d", "distanceFromObject": 2}'
    lines = [good] * 30
    lines[22] = '{"sensorReadingTime": 1, "serialNumber": "d"}'
    lines[27] = '{"sensorReadingTime": NaN, "serialNumber": "d", "distanceFromObject": 2}'
    path = tmp_path / "chunks.json"
    path.write_text("\n".join(lines), encoding="utf-8")  # no final newline
    result = validate_file(path, "step_trainer")
    assert result.good_lines == 28
    assert [(bad.line_number, bad.reason.split(":")[0]) for bad in result.bad_lines] == [
        (23, "missing required key(s)"),
        (28, "malformed JSON"),
    ]


def test_hashes_cover_every_byte_across_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(landing_validation, "CHUNK_BYTES", 200)
    line = '{"sensorReadingTime": 1, "serialNumber": "d", "distanceFromObject": 2}'
    path = tmp_path / "hashed.json"
    path.write_text("\n".join([line] * 25) + "\n\n" + line, encoding="utf-8")
    result = validate_file(path, "step_trainer", with_crc32=True)
    assert result.good_lines == 26
    assert result.size == path.stat().st_size
    assert result.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert result.crc32 == zlib.crc32(path.read_bytes())
