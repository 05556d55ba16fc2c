"""Every link between the project's documents leads somewhere: the file
exists, and a #section names a heading of it (GitHub's anchors). A README
section that moved to docs/ leaves no dead pointer behind."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scripts.common import dbt_invoke

ROOT = dbt_invoke.PROJECT_DIR
DOCUMENTS = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
# [text](target) in Markdown, outside code spans; external links are not ours
LINK = re.compile(r"(?<!`)\[[^\]]+\]\((?P<target>[^)\s]+)\)")
# where a model, macro or config says "see the README section ..."
# ('the README section "X"', or '"X" in the README')
README_SECTION = re.compile(
    r'README section\s+"(?P<section>[^"\n]+)"|"(?P<quoted>[^"\n]+)"\s+in the[\s#-]+README'
)


def anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped,
    spaces as hyphens."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(document: Path) -> set[str]:
    found, in_code = set(), False
    for line in document.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and (match := re.match(r"#{1,6} (.+)", line)):
            found.add(anchor(match.group(1)))
    return found


def links(document: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", document.read_text(encoding="utf-8"), flags=re.DOTALL)
    return [match.group("target") for match in LINK.finditer(text)]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_link_leads_to_a_file_and_a_heading(document: Path) -> None:
    dead = []
    for target in links(document):
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        path, _, section = target.partition("#")
        linked = (document.parent / path).resolve() if path else document
        if not linked.exists():
            dead.append(f"{target}: no such file")
        elif section and linked.suffix == ".md" and section not in anchors(linked):
            dead.append(f"{target}: no heading #{section} in {linked.name}")
    assert dead == [], f"{document.name}: {dead}"


def test_no_code_points_to_a_readme_section_that_does_not_exist() -> None:
    headings = {line.lstrip("#").strip() for line in (ROOT / "README.md").read_text().splitlines()}
    dead = []
    for path in [ROOT / "dbt_project.yml", *ROOT.glob("macros/**/*"), *ROOT.glob("models/**/*")]:
        if path.is_file():
            for match in README_SECTION.finditer(path.read_text(encoding="utf-8")):
                if (match.group("section") or match.group("quoted")) not in headings:
                    dead.append(f"{path.relative_to(ROOT)}: {match.group(0)}")
    assert dead == []


def test_the_pointer_rule_finds_both_wordings() -> None:
    stale = 'see the README section\n    "Incremental runs"; see "Incremental runs" in the\n README'
    assert [m.group("section") or m.group("quoted") for m in README_SECTION.finditer(stale)] == [
        "Incremental runs",
        "Incremental runs",
    ]


def test_the_anchor_rule_is_githubs() -> None:
    assert anchor("What the tests prove, and what only a real Athena can") == (
        "what-the-tests-prove-and-what-only-a-real-athena-can"
    )
    assert anchor("Deploy to AWS (Athena)") == "deploy-to-aws-athena"
    assert anchor("The local target on `s3://`") == "the-local-target-on-s3"
