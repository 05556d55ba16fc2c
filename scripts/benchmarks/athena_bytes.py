"""Benchmark Athena's bill: the bytes a build scans, on the local stand-in.

Athena charges by the bytes each query scans. This runs the athena target
on the local Athena stand-in (scripts/services/athena_local/: Trino over moto's S3
and Glue), where each query's DataScannedInBytes is Trino's physical input:
- a full build (`dbt build --full-refresh`, models, seed and data tests) of
  generated data at --scale (default 30);
- then an incremental build after 1% new data lands (new customers'
  sessions on a new day, as scripts/benchmarks/lakehouse.py adds them).
It reports the bytes of each, their ratio against the goal (the incremental
build scans at most 10% of the full build's bytes), and the nodes that scan
the most. Writes athena-bytes.md and athena-bytes.json to the results
folder. A benchmark, not a test: it measures and reports.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scripts.benchmarks.lakehouse import add_increment, landing_for, prepared_run_dir
from scripts.common.cli_logging import configure_logging
from scripts.common.project_paths import PROJECT_DIR
from scripts.load_landing import LoadOptions, load
from scripts.run_athena_local import LocalAthena, dbt, local_athena
from scripts.services.athena_local.service import Execution

LOG = logging.getLogger("benchmark_athena_bytes")
GOAL = 0.10  # the incremental build's bytes as a share of the full build's
_NODE_ID = re.compile(r'"node_id":\s*"([^"]+)"')


def node_of(execution: Execution) -> str:
    """The dbt node a query ran for, from dbt's query header comment."""
    match = _NODE_ID.search(execution.query[:2000])
    return match.group(1) if match else "(no node)"


def scanned(executions: list[Execution]) -> tuple[int, dict[str, int]]:
    """All bytes scanned, and per node."""
    by_node: dict[str, int] = {}
    for execution in executions:
        stats = execution.result.stats if execution.result else {}
        size = int(stats.get("physicalInputBytes", 0))
        node = node_of(execution)
        by_node[node] = by_node.get(node, 0) + size
    return sum(by_node.values()), by_node


def measured_build(local: LocalAthena, work: Path, *args: str) -> dict[str, Any]:
    """A dbt build on the stand-in: seconds, bytes scanned, bytes per node."""
    before = set(local.service.executions)
    started = time.monotonic()
    completed = dbt(
        local,
        "build",
        "--exclude-resource-type",
        "unit_test",
        *args,
        work=work,
        variables={"landing_root": f"s3://{local.bucket}/landing"},
    )
    seconds = time.monotonic() - started
    if completed.returncode != 0:
        raise RuntimeError(f"dbt build {' '.join(args)} failed; see {work / 'logs' / 'dbt.log'}")
    executions = [item for key, item in local.service.executions.items() if key not in before]
    total, by_node = scanned(executions)
    return {
        "seconds": round(seconds, 1),
        "queries": len(executions),
        "bytes": total,
        "by_node": by_node,
    }


def mib(size: int) -> str:
    return f"{size / 1024**2:,.1f} MiB"


def markdown(scale: float, full: dict[str, Any], incremental: dict[str, Any]) -> str:
    ratio = incremental["bytes"] / full["bytes"] if full["bytes"] else 0.0
    verdict = "met" if ratio <= GOAL else "missed"
    lines = [
        f"# Athena's bill on the local stand-in (scale {scale:g})",
        "",
        "Bytes scanned = Trino's physical input bytes, summed over every query of the build",
        "(`python -m scripts.benchmarks.athena_bytes`).",
        "",
        "| build | queries | seconds | bytes scanned |",
        "|---|---:|---:|---:|",
        f"| full (`--full-refresh`) | {full['queries']} | {full['seconds']}"
        f" | {mib(full['bytes'])} |",
        f"| incremental, after 1% new data | {incremental['queries']} | {incremental['seconds']}"
        f" | {mib(incremental['bytes'])} |",
        "",
        f"Incremental / full: **{ratio:.1%}** (goal: at most {GOAL:.0%}: {verdict}).",
        "",
        "Nodes that scan the most in the incremental build:",
        "",
        "| node | bytes scanned | share |",
        "|---|---:|---:|",
    ]
    top = sorted(incremental["by_node"].items(), key=lambda item: -item[1])[:8]
    for node, size in top:
        share = size / incremental["bytes"] if incremental["bytes"] else 0.0
        lines.append(f"| `{node}` | {mib(size)} | {share:.0%} |")
    return "\n".join(lines) + "\n"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.benchmarks.athena_bytes",
        description=__doc__.split("\n\n")[0],
        epilog="Example: python -m scripts.benchmarks.athena_bytes --scale 30",
    )
    parser.add_argument(
        "--scale", type=float, default=30.0, help="generated data scale (default 30)"
    )
    parser.add_argument(
        "--trino-heap",
        default="6G",
        help="Trino's heap, half of it a query's memory (default 6G: scale 30 needs more than 1G)",
    )
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=PROJECT_DIR / ".benchmark",
        help="generated data and run folders (default .benchmark, git-ignored)",
    )
    parser.add_argument(
        "--results",
        type=Path,
        default=PROJECT_DIR / "benchmark-results",
        help="folder for athena-bytes.md and .json (default benchmark-results)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    configure_logging()
    args = parse_args(argv)
    try:
        return measure(args)
    except (RuntimeError, OSError) as error:  # a failed build, a server that did not start
        LOG.error("%s", error)
        return 1


def measure(args: argparse.Namespace) -> int:
    landing = landing_for(args.scale, args.work_dir.resolve())
    with tempfile.TemporaryDirectory(prefix="stedi-athena-bytes-") as temporary:
        work = Path(temporary)
        run_landing = prepared_run_dir(landing, work / "run")
        with local_athena(work, heap=args.trino_heap) as local:
            load(run_landing, local.target(), LoadOptions(bucket=local.bucket))
            LOG.info("full build, scale %g", args.scale)
            full = measured_build(local, work, "--full-refresh")
            add_increment(run_landing, args.scale, 1)
            load(run_landing, local.target(), LoadOptions(bucket=local.bucket))
            LOG.info("incremental build after 1 percent new data")
            incremental = measured_build(local, work)
    report = markdown(args.scale, full, incremental)
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "athena-bytes.md").write_text(report, encoding="utf-8")
    (args.results / "athena-bytes.json").write_text(
        json.dumps({"scale": args.scale, "full": full, "incremental": incremental}, indent=2)
        + "\n",
        encoding="utf-8",
    )
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
