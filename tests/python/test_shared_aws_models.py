"""The stand-in's dbt processes parse botocore's service models once, not
once per boto3 session (scripts/services/shared_aws_models)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from scripts.run_athena_local import SHARED_AWS_MODELS

# Two sessions, as dbt-athena makes them: a client of each, and whether the
# second session's loader found the models the first one parsed.
PROBE = """
import json, boto3
first = boto3.session.Session(region_name="eu-west-1")
glue = first.client("glue")
second = boto3.session.Session(region_name="eu-west-1")
glue_again = second.client("glue")
loader = lambda session: session._session.get_component("data_loader")
print(json.dumps({
    "shared": loader(first)._cache is loader(second)._cache,
    "service": glue_again.meta.service_model.service_name,
    "operations": len(glue_again.meta.service_model.operation_names),
}))
"""


def probe(pythonpath: str | None) -> dict[str, object]:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    completed = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(completed.stdout)


def test_sessions_share_the_parsed_models_only_with_the_folder_on_the_path() -> None:
    shared, alone = probe(str(SHARED_AWS_MODELS)), probe(None)
    assert shared["shared"] is True and alone["shared"] is False
    assert shared["service"] == alone["service"] == "glue"
    # the shared model is the whole of Glue's, as a session alone parses it
    assert shared["operations"] == alone["operations"] > 100


def test_a_sitecustomize_further_along_the_path_still_runs(tmp_path: Path) -> None:
    """The folder's sitecustomize would hide the user's own: it runs it."""
    users = tmp_path / "users"
    users.mkdir()
    (users / "sitecustomize.py").write_text("import builtins\nbuiltins.USERS_SITE = 'ran'\n")
    pythonpath = os.pathsep.join([str(SHARED_AWS_MODELS), str(users)])
    shown = "\nimport builtins\nprint(json.dumps({'users': getattr(builtins, 'USERS_SITE', None)}))"
    completed = subprocess.run(
        [sys.executable, "-c", PROBE + shown],
        env={**os.environ, "PYTHONPATH": pythonpath},
        capture_output=True,
        text=True,
        check=True,
    )
    first, second = (json.loads(line) for line in completed.stdout.splitlines())
    assert first["shared"] is True and second == {"users": "ran"}
