"""scripts/erasure_request.py: the hash scheme and the seed it appends to.
(That the build honours a request is tested in test_dbt_build.py.)"""

from __future__ import annotations

import hashlib
import io
import shutil
from pathlib import Path

import pytest

from scripts import erasure_request
from scripts.erasure_request import SEED_PATH, email_hash, erasure_salt


def test_hash_is_salted_sha256_of_the_normalized_email() -> None:
    salt = erasure_salt()
    assert salt == "stedi-erasure-v1"
    expected = hashlib.sha256(b"stedi-erasure-v1:ann@example.com").hexdigest()
    assert email_hash("  Ann@Example.COM ", salt) == expected
    assert email_hash("ann@example.com", "another-salt") != expected


def test_append_adds_a_request_once_and_never_the_email(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seed = tmp_path / "erasure_requests.csv"
    shutil.copy(SEED_PATH, seed)
    before = seed.read_text()
    arguments = ["--append", "--requested-on", "2026-11-27", "--seed", str(seed)]

    monkeypatch.setattr("sys.stdin", io.StringIO(" Hana.Hidden@Example.com\n"))
    assert erasure_request.main(arguments) == 0
    digest = email_hash("hana.hidden@example.com", erasure_salt())
    assert capsys.readouterr().out.strip() == digest
    assert seed.read_text() == before + f"{digest},2026-11-27\n"

    monkeypatch.setattr("sys.stdin", io.StringIO("hana.hidden@example.com\n"))
    assert erasure_request.main(arguments) == 0  # listed already: unchanged
    assert seed.read_text() == before + f"{digest},2026-11-27\n"
    assert "hana" not in seed.read_text().lower()


def test_not_an_email_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seed = tmp_path / "erasure_requests.csv"
    shutil.copy(SEED_PATH, seed)
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))
    assert erasure_request.main(["--append", "--seed", str(seed)]) == 2
    assert seed.read_text() == SEED_PATH.read_text()


def test_shipped_seed_names_customers_by_hash_only() -> None:
    lines = SEED_PATH.read_text().splitlines()
    assert lines[0] == "email_sha256,requested_on"
    for line in lines[1:]:
        digest, requested_on = line.split(",")
        assert len(digest) == 64 and set(digest) <= set("0123456789abcdef")
        assert len(requested_on) == len("2026-11-01")
        assert "@" not in line
