"""Run the STEDI lakehouse end to end on embedded Spark.

Checks Java, generates synthetic landing data when the landing folder is
empty, runs `dbt build` (landing tables, every model and every test; the
reading tables incremental, so a rerun takes in only new landing files), prints
the per-zone row summary and generates the dbt docs (`make docs` serves
them). Everything runs in one process and one Spark session; the first run
records the JVM class archive that later runs start Spark with.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scripts import generate_landing
from scripts.common import dbt_invoke, spark_jvm_options
from scripts.common.cli_logging import configure_logging
from scripts.common.java_check import JavaNotFoundError, require_java

LOG = logging.getLogger("run_lakehouse")
DEFAULT_LANDING_ROOT = dbt_invoke.PROJECT_DIR / "data" / "landing"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.run_lakehouse",
        description=__doc__.split("\n\n")[0],
        epilog=(
            "Example: python -m scripts.run_lakehouse "
            "--landing-root ../shared/stedi-udacity/landing --full-refresh"
        ),
    )
    parser.add_argument(
        "--landing-root",
        type=Path,
        default=DEFAULT_LANDING_ROOT,
        help="folder with customer/, accelerometer/, step_trainer/ JSON "
        "(default: data/landing, generated when empty)",
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="scale factor for generated data when the landing folder is empty (default 1)",
    )
    parser.add_argument(
        "--regenerate",
        action="store_true",
        help="regenerate the synthetic landing data even if present (implies --full-refresh)",
    )
    parser.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild every table from all landing files (needed after changing the"
        " landing folder, a screening setting or an already landed file)",
    )
    parser.add_argument(
        "--no-enforce-consent-date",
        action="store_true",
        help="admit all readings of consenting customers, even those before consent",
    )
    parser.add_argument(
        "--spark-dir",
        type=Path,
        default=dbt_invoke.DEFAULT_SPARK_DIR,
        help="folder for the Spark warehouse, metastore and logs (default .spark/local)",
    )
    return parser.parse_args(argv)


def ensure_landing_data(root: Path, scale: float, regenerate: bool) -> None:
    """Generate synthetic data into ``root`` when asked to or when it is empty."""
    if not regenerate and generate_landing.has_landing_data(root):
        LOG.info("landing data: %s", root)
        return
    LOG.info("generating synthetic landing data (scale %g) into %s", scale, root)
    summary = generate_landing.generate(generate_landing.GeneratorConfig(out=root, scale=scale))
    LOG.info("generated %s rows", summary.rows)


def print_freshness(result: Any) -> None:
    """The landing sources' freshness after the zone summary: a stale folder
    is reported, not fatal (the build used what was there)."""
    print("\nLanding freshness: age of each folder's newest data file")
    for item in getattr(result, "result", None) or []:
        if str(item.node.resource_type) != "source":
            continue  # the on-run-start hooks
        age = getattr(item, "age", None)
        shown = f"{age / 3600:,.1f} h" if isinstance(age, int | float) else "-"
        status = str(item.status).replace("FreshnessStatus.", "").lower()
        print(f"  {item.node.name:<14} {status:<6} {shown:>10}")
    print("  (thresholds: models/landing/_landing__sources.yml)")


def main(argv: Sequence[str] | None = None) -> int:
    configure_logging()
    args = parse_args(argv)
    try:
        java_major = require_java()
    except JavaNotFoundError as error:
        LOG.error("%s", error)
        return 2
    landing_root = args.landing_root.resolve()
    if landing_root == DEFAULT_LANDING_ROOT.resolve() or args.regenerate:
        ensure_landing_data(landing_root, args.scale, args.regenerate)
    elif not generate_landing.has_landing_data(landing_root):
        LOG.error(
            "%s has no customer/, accelerometer/ and step_trainer/ folders of *.json",
            landing_root,
        )
        return 2
    # The first run records the JVM class archive as its Spark driver exits,
    # after the summary: no separate training build before the first result.
    archive = spark_jvm_options.ArchiveRecording()
    archive.start(java_major)
    dbt_invoke.configure_environment(args.spark_dir)
    variables = {
        "landing_root": str(landing_root),
        "enforce_consent_date": not args.no_enforce_consent_date,
    }
    full_refresh = ["--full-refresh"] if args.full_refresh or args.regenerate else []
    started = time.monotonic()
    try:
        dbt_invoke.invoke(
            [*dbt_invoke.PRODUCTION_BUILD, *full_refresh, *dbt_invoke.dbt_vars(variables)]
        )
        dbt_invoke.invoke(["run-operation", "print_zone_summary", *dbt_invoke.dbt_vars(variables)])
        print_freshness(dbt_invoke.run(["source", "freshness", *dbt_invoke.dbt_vars(variables)]))
        dbt_invoke.invoke(["docs", "generate", *dbt_invoke.dbt_vars(variables)])
    except dbt_invoke.DbtCommandError as error:
        LOG.error("%s (details above and in logs/dbt.log)", error)
        return 1
    finally:
        archive.finish()
    LOG.info(
        "done in %.0f s; `make docs` serves the docs and lineage on http://127.0.0.1:8080",
        time.monotonic() - started,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
