"""Every command and file of scripts/ that the README, the guides, the
Makefile and the configuration name exists, and every `make` target they
name is one the Makefile has: moving a module cannot leave a stale command
behind."""

from __future__ import annotations

import re
import subprocess

from scripts.common import dbt_invoke

PROJECT = dbt_invoke.PROJECT_DIR
MODULE = re.compile(r"python\s+-m\s+(scripts(?:\.\w+)+)|from\s+(scripts(?:\.\w+)+)\s+import")
FILE = re.compile(r"\b((?:scripts|macros|models|deploy)/[\w/]+\.(?:py|sh|mjs|sql|yml|json))\b")
MAKE = re.compile(r"`make ([a-z][a-z0-9-]*)")
TARGET = re.compile(r"^([a-z][a-z0-9-]*):", re.MULTILINE)


def documents() -> dict[str, str]:
    """Each tracked text that shows commands to a user or a tool, by path."""
    listed = subprocess.run(
        [
            "git",
            "ls-files",
            "README.md",
            "docs",
            "Makefile",
            ".github",
            ".pre-commit-config.yaml",
            "models",
            "macros",
            "profiles",
            "dbt_project.yml",
            "tests/fixtures/README.md",
            "requirements.in",
            "pyproject.toml",
        ],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return {
        path: (PROJECT / path).read_text(encoding="utf-8")
        for path in listed
        if path.endswith((".md", ".yml", ".yaml", ".sql", ".in", ".toml", "Makefile"))
    }


def modules(text: str) -> list[str]:
    """The project modules a text runs (python -m) or imports (python -c)."""
    return [match.group(1) or match.group(2) for match in MODULE.finditer(text)]


def test_every_documented_python_command_and_file_exists() -> None:
    missing = []
    for path, text in documents().items():
        for module in modules(text):
            location = PROJECT / module.replace(".", "/")
            if not (location.with_suffix(".py").is_file() or (location / "__init__.py").is_file()):
                missing.append(f"{path}: {module}")
        for file in FILE.findall(text):
            if not (PROJECT / file).is_file():
                missing.append(f"{path}: {file}")
    assert missing == []


def test_every_documented_make_target_exists() -> None:
    targets = set(TARGET.findall((PROJECT / "Makefile").read_text(encoding="utf-8")))
    named = {
        f"{path}: make {target}"
        for path, text in documents().items()
        for target in MAKE.findall(text)
        if target not in targets
    }
    assert named == set()


def test_the_check_sees_a_stale_command() -> None:
    assert modules("run `python -m\nscripts.benchmark_lakehouse`") == [
        "scripts.benchmark_lakehouse"
    ]
    assert modules("python -c 'from scripts.common.spark_jvm_options import x'") == [
        "scripts.common.spark_jvm_options"
    ]
    assert not (PROJECT / "scripts" / "benchmark_lakehouse.py").exists()
