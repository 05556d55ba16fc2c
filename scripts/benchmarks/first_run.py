"""Time a new user's first result: a fresh clone, then `make run`, until
the zone summary prints.

Clones the committed HEAD of this repository into a temporary folder (what a
user gets from `git clone`), runs `make run` there and records, from the
moment the command starts, when the row summary's first line appears and
when the command ends. Repeats it and reports the median. The machine's
package caches (uv's, npm's) are used as a user's would be, unless
--cold-cache gives each round an empty uv cache of its own.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from scripts.common.cli_logging import configure_logging
from scripts.common.project_paths import PROJECT_DIR

LOG = logging.getLogger("first_run")
# The first line print_zone_summary (macros/operations/print_zone_summary.sql) prints.
SUMMARY_LINE = "STEDI lakehouse: rows per zone"
GOAL_SECONDS = 240.0


class FirstRunError(RuntimeError):
    """A round did not reach the summary."""


@dataclass(frozen=True)
class Round:
    summary_seconds: float
    total_seconds: float


def clone(into: Path) -> None:
    """A fresh clone of the committed HEAD, as `git clone` gives a user."""
    subprocess.run(
        ["git", "clone", "--quiet", "--no-hardlinks", str(PROJECT_DIR), str(into)],
        check=True,
        capture_output=True,
        timeout=300,
    )


def timed_make_run(clone_dir: Path, environment: dict[str, str], log: Path) -> Round:
    """Run `make run` in ``clone_dir``; its output goes to ``log``."""
    started = time.monotonic()
    summary_at: float | None = None
    with log.open("w", encoding="utf-8") as output:
        process = subprocess.Popen(
            ["make", "run"],
            cwd=clone_dir,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert process.stdout is not None
        for line in process.stdout:
            output.write(line)
            if summary_at is None and SUMMARY_LINE in line:
                summary_at = time.monotonic() - started
                LOG.info("first zone summary after %.1f s", summary_at)
        returncode = process.wait()
    total = time.monotonic() - started
    if returncode != 0 or summary_at is None:
        raise FirstRunError(f"make run failed (exit {returncode}) after {total:.0f} s; see {log}")
    return Round(summary_seconds=summary_at, total_seconds=total)


def measure(rounds: int, cold_cache: bool, keep_logs: Path | None) -> list[Round]:
    results: list[Round] = []
    for number in range(1, rounds + 1):
        with tempfile.TemporaryDirectory(prefix="stedi-first-run-") as scratch:
            work = Path(scratch)
            environment = {
                name: value
                for name, value in os.environ.items()
                if not name.startswith(("STEDI_", "DBT_", "VIRTUAL_ENV"))
            }
            if cold_cache:
                environment["UV_CACHE_DIR"] = str(work / "uv-cache")
            LOG.info("round %d of %d: clone and make run", number, rounds)
            clone(work / "stedi")
            log = (keep_logs or work) / f"first-run-{number}.log"
            log.parent.mkdir(parents=True, exist_ok=True)
            results.append(timed_make_run(work / "stedi", environment, log))
    return results


def report(results: list[Round], cold_cache: bool) -> dict[str, object]:
    summaries = [result.summary_seconds for result in results]
    return {
        "rounds": [asdict(result) for result in results],
        "median_summary_seconds": statistics.median(summaries),
        "median_total_seconds": statistics.median(r.total_seconds for r in results),
        "goal_seconds": GOAL_SECONDS,
        "cold_uv_cache": cold_cache,
    }


def positive(text: str) -> int:
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"at least 1, not {text}")
    return number


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.benchmarks.first_run", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--rounds", type=positive, default=3, help="clones to time (default 3)")
    parser.add_argument(
        "--cold-cache", action="store_true", help="give each round an empty uv cache"
    )
    parser.add_argument("--logs", type=Path, help="keep each round's make run output here")
    parser.add_argument("--output", type=Path, help="also write the results here as JSON")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    configure_logging()
    try:
        results = measure(args.rounds, args.cold_cache, args.logs)
    except (FirstRunError, subprocess.CalledProcessError) as error:
        LOG.error("%s", error)
        return 1
    summary = report(results, args.cold_cache)
    text = json.dumps(summary, indent=2)
    print(text)
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")
    median = summary["median_summary_seconds"]
    verdict = "met" if median < GOAL_SECONDS else "missed"
    LOG.info("median first summary %.1f s: goal of %.0f s %s", median, GOAL_SECONDS, verdict)
    return 0


if __name__ == "__main__":
    sys.exit(main())
