"""The local Athena that stays up (scripts/serve_athena_local.py): started
over a state folder, stopped and started again, it keeps its tables,
landing files, IAM users, query history and endpoints, so that an
incremental `dbt build --target athena` after the restart picks up the
new landing files."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from scripts.common.aws_session import AwsTarget
from scripts.common.project_paths import PROJECT_DIR
from scripts.load_landing import LoadOptions, load
from scripts.run_athena_local import BUCKET
from tests.python.lakehouse import FIXTURE_LANDING, run_venv_command
from tests.python.test_incremental import next_day_readings

pytestmark = [pytest.mark.trino, pytest.mark.aws]


def exported(lines: list[str]) -> dict[str, str]:
    import shlex

    env = {}
    for line in lines:
        name, _, value = line.removeprefix("export ").strip().partition("=")
        env[name] = shlex.split(value)[0] if value else ""
    return env


@contextmanager
def served(state: Path, log: Path) -> Iterator[dict[str, str]]:
    """The local Athena over ``state``, as its command runs it; the
    environment it exports. Stopped as a user stops it (SIGTERM, as
    Ctrl-C's SIGINT), which saves the state."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    env_file = state / "env.sh"
    env_file.unlink(missing_ok=True)  # written again once the servers are up
    process = subprocess.Popen(
        [sys.executable, "-m", "scripts.serve_athena_local", "--state-dir", str(state)],
        cwd=PROJECT_DIR,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=log.open("ab"),
    )
    try:
        deadline = time.monotonic() + 240
        while not env_file.exists():
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "the local Athena did not start"
            time.sleep(0.5)
        yield exported(env_file.read_text(encoding="utf-8").splitlines())
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=600) == 0, log.read_text()[-3000:]


def dbt_build(env: dict[str, str], work: Path) -> None:
    completed = run_venv_command(
        "dbt",
        "build",
        "--select",  # the table whose rows are counted, and what it is built from
        "+accelerometer_trusted",
        "--exclude-resource-type",  # the seed and the models: their rows are what is checked
        "test",
        "unit_test",
        "--target",
        "athena",
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
        "--vars",
        json.dumps({"landing_root": f"s3://{BUCKET}/landing", "enforce_consent_date": True}),
        env={**os.environ, **env},
    )
    assert completed.returncode == 0, completed.stdout[-4000:]


def load_as_administrator(landing: Path, env: dict[str, str], monkeypatch: Any) -> None:
    """The loader, with the local administrator's key (the runner may only read landing)."""
    with monkeypatch.context() as patched:
        patched.setenv("AWS_ACCESS_KEY_ID", "testing")
        patched.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        target = AwsTarget(region=env["AWS_DEFAULT_REGION"], endpoint_url=env["AWS_ENDPOINT_URL"])
        summary = load(landing, target, LoadOptions(BUCKET))
    assert summary.exit_code == 0, summary.report()


def athena_as_runner(env: dict[str, str]) -> Any:
    """Athena, as the exported environment names it: the runner's."""
    import boto3

    return boto3.client(
        "athena",
        endpoint_url=env["AWS_ENDPOINT_URL_ATHENA"],
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )


def athena_count(env: dict[str, str], sql: str) -> tuple[str, int]:
    """Run ``sql`` (a count) as the runner through the exported endpoint."""
    athena = athena_as_runner(env)
    query_id = athena.start_query_execution(
        QueryString=sql, WorkGroup=env["STEDI_ATHENA_WORK_GROUP"]
    )["QueryExecutionId"]
    return query_id, read_count(athena, query_id)


def read_count(athena: Any, query_id: str) -> int:
    deadline = time.monotonic() + 120
    while True:
        status = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]
        if status["State"] not in {"QUEUED", "RUNNING"}:
            break
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert status["State"] == "SUCCEEDED", status
    rows = athena.get_query_results(QueryExecutionId=query_id)["ResultSet"]["Rows"]
    return int(rows[1]["Data"][0]["VarCharValue"])


def test_a_restarted_local_athena_keeps_its_state_and_builds_incrementally(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state, log = tmp_path / "state", tmp_path / "serve.log"
    landing = tmp_path / "landing"
    shutil.copytree(FIXTURE_LANDING, landing)
    count = "select count(*) from stedi_trusted.accelerometer_trusted"
    with served(state, log) as env:
        load_as_administrator(landing, env, monkeypatch)
        dbt_build(env, tmp_path)
        before_id, before = athena_count(env, count)
        assert before > 0
    assert (state / "aws-state.pickle").stat().st_size > 0

    next_day_readings(landing)
    with served(state, log) as again:
        assert again == env  # the same endpoints and keys: an exported shell stays right
        athena = athena_as_runner(env)
        assert read_count(athena, before_id) == before  # the history and its result
        load_as_administrator(landing, env, monkeypatch)
        dbt_build(env, tmp_path)
        assert athena_count(env, count)[1] == before + 2  # Bob's next day, and nothing twice
    assert env["AWS_SECRET_ACCESS_KEY"] not in log.read_text()
