"""Run the pull-request workflow's own steps on this machine, as GitHub would.

The steps come from .github/workflows/ci.yml, so that what is tested cannot
drift from what runs. Its `run:` steps run as GitHub runs them (`bash -e`,
or with pipefail too under `shell: bash`; in the workspace; with the
workflow's and the step's env; $GITHUB_OUTPUT read back into
`steps.<id>.outputs`), their `if:` conditions evaluated, for an event the
workflow is triggered by. A key or an expression the runner does not know
fails the run rather than being ignored. What only GitHub has is stood in
for, and each run says which steps were:

- actions/checkout: the workspace is a fresh clone of the branch, made
  before the steps run, at the same path every run (as on a runner, whose
  workspace path does not change: main's warehouse names its tables' files
  by absolute path);
- actions/setup-python, setup-java, setup-node: this machine's python3, Java
  and Node, checked to be the versions the workflow asks for;
- actions/cache: this machine's own uv cache, used in place;
- actions/upload-artifact: a copy into a local artifact store, by run;
- `gh run list` and `gh run download`: a `gh` on the PATH that answers from
  the same store and the runs recorded in it;
- the steps that run `make lint` and `make pytest`: not run, because the
  workflow test is itself part of `make pytest` (it would run itself), and
  `make test` runs both on the same commit.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from scripts.common.java_check import java_executable

REPOSITORY = "stedi/lakehouse"
# Steps not run here, by their command, and why.
NOT_RUN = {
    "make lint": "make test runs it on the same commit",
    "make pytest": "the workflow test is part of make pytest",
}
# What each action the workflow uses is stood in by (the version it needs
# is checked in ``_stand_in``).
STOOD_IN = {
    "actions/checkout": "a fresh clone of the branch into the workspace",
    "actions/setup-python": "this machine's python3",
    "actions/setup-java": "this machine's Java",
    "actions/setup-node": "this machine's Node.js",
    "actions/cache": "this machine's uv cache, in place",
    "actions/upload-artifact": "a copy into the local artifact store",
}
STEP_TIMEOUT_SECONDS = 1800
# What the runner understands; anything else in the workflow is an error.
WORKFLOW_KEYS = {"name", "on", "permissions", "concurrency", "env", "jobs"}
JOB_KEYS = {"runs-on", "timeout-minutes", "steps"}
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
class WorkflowRun:
    run_id: int
    event: str
    branch: str
    steps: list[StepResult] = field(default_factory=list)
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def success(self) -> bool:
        return all(step.outcome != "failure" for step in self.steps)

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
    """Runs the workflow's job on this machine; ``store`` keeps artifacts and
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

    def run(self, origin: Path, branch: str, event: str) -> WorkflowRun:
        """Run the workflow's job for ``event`` (push or pull_request) on
        ``branch`` of the git repository ``origin``."""
        trigger = self.triggers.get(event, False) if isinstance(self.triggers, dict) else False
        if trigger is False:
            raise WorkflowError(f"the workflow does not run on {event}")
        if event == "push" and branch not in (trigger or {}).get("branches", [branch]):
            raise WorkflowError(f"the workflow does not run on a push to {branch}")
        run = WorkflowRun(run_id=len(self._runs()) + 1, event=event, branch=branch)
        ref = f"refs/heads/{branch}" if event == "push" else f"refs/pull/{run.run_id}/merge"
        context = {
            "github.event_name": event,
            "github.ref": ref,
            "github.workspace": str(self.workspace),
            "github.token": "local-stand-in-token",
            "github.repository": REPOSITORY,
        }
        outputs = run.outputs
        shutil.rmtree(self.workspace, ignore_errors=True)
        subprocess.run(
            ["git", "clone", "--quiet", "--branch", branch, str(origin), str(self.workspace)],
            check=True,
            capture_output=True,
            timeout=300,
        )
        (job,) = self.workflow["jobs"].values()
        workflow_env = {
            name: self._expand(str(value), context, outputs)
            for name, value in self.workflow.get("env", {}).items()
        }
        for number, step in enumerate(job["steps"]):
            name = step.get("name") or step.get("uses") or step["run"].splitlines()[0]
            failed = any(result.outcome == "failure" for result in run.steps)
            if not self._condition(step.get("if", "success()"), context, outputs, failed):
                run.steps.append(StepResult(name, "skipped"))
                continue
            if "uses" in step:
                run.steps.append(self._stand_in(step, name, run, context, outputs))
                continue
            command = step["run"].strip()
            if command in NOT_RUN:
                run.steps.append(StepResult(name, "skipped", stood_in=NOT_RUN[command]))
                continue
            output_file = self.store / f"output-{run.run_id}-{number}"
            output_file.write_text("", encoding="utf-8")
            env = self._environment(context, output_file)
            env.update(workflow_env)
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
            result = StepResult(name, outcome, completed.stdout + completed.stderr)
            if run_results.exists() and run_results.stat().st_mtime_ns != before:
                result.run_results = json.loads(run_results.read_text(encoding="utf-8"))
            run.steps.append(result)
            if "id" in step:
                outputs[step["id"]] = dict(
                    line.split("=", 1)
                    for line in output_file.read_text(encoding="utf-8").splitlines()
                    if "=" in line
                )
        target = self.workspace / "target"
        for artifact, attribute in (
            ("run_results.json", "run_results"),
            ("manifest.json", "manifest"),
        ):
            if (target / artifact).is_file():
                setattr(run, attribute, json.loads((target / artifact).read_text("utf-8")))
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
            "actions/setup-java": ("java-version", [java_executable() or "java", "-version"]),
            "actions/setup-node": ("node-version", ["node", "--version"]),
        }
        if action in wanted:
            key, command = wanted[action]
            completed = subprocess.run(command, capture_output=True, text=True, check=True)
            found = re.search(r"(\d+(?:\.\d+)*)", completed.stdout + completed.stderr)
            version = found.group(1) if found else ""
            if not (version + ".").startswith(settings[key] + "."):
                raise WorkflowError(f"{action} wants {settings[key]}; this machine has {version}")
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


def describe(run: WorkflowRun) -> str:
    """A run's steps, one line each, and the output of any that failed."""
    lines = [f"run {run.run_id} ({run.event} on {run.branch}):"]
    for step in run.steps:
        note = f" (stood in: {step.stood_in})" if step.stood_in else ""
        lines.append(f"  {step.outcome:<8} {step.name}{note}")
        if step.outcome == "failure":
            lines.append(textwrap.indent(step.output[-4000:], "    | "))
    return "\n".join(lines)
