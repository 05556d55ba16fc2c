"""The Java check fails early with a message that says what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.common import java_check


@pytest.mark.parametrize(
    ("output", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15', 17),
        ('java version "1.8.0_392"', 8),
        ('openjdk version "11.0.2" 2019-01-15', 11),
        ('openjdk version "21" 2023-09-19', 21),
        ("no version here", None),
    ],
)
def test_parse_major_version(output: str, major: int | None) -> None:
    assert java_check.parse_major_version(output) == major


@pytest.mark.spark  # Spark's Java, the machine's
def test_installed_java_is_supported() -> None:
    assert java_check.require_java() in java_check.SUPPORTED_MAJOR_VERSIONS


def test_missing_java_home_gives_install_instructions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-java"))
    with pytest.raises(java_check.JavaNotFoundError, match="openjdk-17"):
        java_check.require_java()


def test_unsupported_java_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_home = tmp_path / "jdk"
    (fake_home / "bin").mkdir(parents=True)
    fake_java = fake_home / "bin" / "java"
    fake_java.write_text("#!/bin/sh\necho 'openjdk version \"6.0\" 2010' >&2\n")
    fake_java.chmod(0o755)
    monkeypatch.setenv("JAVA_HOME", str(fake_home))
    with pytest.raises(java_check.JavaNotFoundError, match="Java 6"):
        java_check.require_java()
    assert java_check.main() == 2
