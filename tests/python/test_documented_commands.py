"""Every command and file of scripts/ that the README, the guides, the
Makefile and the configuration name exists, and every `make` target they
name is one the Makefile has: moving a module cannot leave a stale command
behind."""

from __future__ import annotations

import re
import subprocess

from scripts.common import dbt_invoke

PROJECT = dbt_invoke.PROJECT_DIR
MODULE = re.compile(r"python -m (scripts(?:\.\w+)+)")
FILE = re.compile(r"\b(scripts/[\w/]+\.(?:py|sh|mjs))\b")
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
        ],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return {
        path: (PROJECT / path).read_text(encoding="utf-8")
        for path in listed
        if path.endswith((".md", ".yml", ".yaml", ".sql", "Makefile"))
    }


def test_every_documented_python_command_and_file_exists() -> None:
    missing = []
    for path, text in documents().items():
        for module in MODULE.findall(text):
            if not (PROJECT / (module.replace(".", "/") + ".py")).is_file():
                missing.append(f"{path}: python -m {module}")
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
    assert MODULE.findall("run `python -m scripts.benchmark_lakehouse`") == [
        "scripts.benchmark_lakehouse"
    ]
    assert not (PROJECT / "scripts" / "benchmark_lakehouse.py").exists()
