"""Benchmark the lakehouse build against two references on the same data.

For each scale factor: generate synthetic landing data (seeded; kept in the
work folder for reruns), then time, each as its own process tree, with wall
time and the peak memory of the whole tree (Spark's JVM included):
- the full `dbt build` on the local target, as the lakehouse job runs it
  (every model, seed and data test; unit tests run in CI, not in a
  production build), with the rows per second of each model;
- then, on that warehouse, the incremental runs after 1% new data lands (a
  batch of new customers' sessions on a new day, scripts/generate_landing.py
  --append): `dbt build` (models and data tests), and after a second 1%
  batch `dbt run` (models only);
- the fixed cost of a run on that warehouse: `dbt run` with nothing new, and
  `dbt run` of one small table model (dbt and Spark start-up);
- (a) the hand-written PySpark DataFrame implementation of the same rules
  (scripts/benchmarks/reference_pyspark.py), in one Spark session;
- (b) DuckDB running the project's models compiled for Athena and transpiled
  to DuckDB SQL, in process (scripts/benchmarks/reference_duckdb.py);
- with `--engines ... dbt-thrift`, the same project on a long-lived engine:
  the spark target against a local Spark Thrift server with the local
  target's settings (scripts/services/spark_thrift_server.py), started once per
  scale. A first build warms it up (as a cluster's engine would be); then
  the full build (--full-refresh), an incremental run after 1% new data, a
  run with nothing new and a one-model run, each against that full build.
- with `--engines ... athena-local`, the athena target on the local Athena
  (moto's S3 and Glue, Trino, the Athena API; scripts/run_athena_local.py)
  with its defaults (Trino sized to the machine, spilling to disk), started
  once per scale: the landing files loaded to its S3 (not timed), the full
  build, then the loader's upload of 1% new data and the incremental build.
  Its peak memory is that of every process of the stand-in with dbt.
The row counts of the five trusted and curated tables must be equal across
the engines run, or the benchmark fails (exit 1). With `--add`, the
measurements of engines and scales not run now are kept from the last
results, and the counts are compared with theirs too. Writes benchmark.md, a table of
the results, and benchmark.svg/.png, time against scale, to the results
folder. A benchmark, not a test: it measures and reports.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from scripts.benchmarks.reference_duckdb import BUILT_TABLES, compile_for_athena
from scripts.benchmarks.reference_pyspark import BENCHMARK_PSEUDONYM_KEY
from scripts.common import dbt_invoke, spark_jvm_options
from scripts.common.cli_logging import configure_logging
from scripts.devtools import spark_class_archive
from scripts.generate_landing import GeneratorConfig, generate, next_day_after_readings_ms
from scripts.load_landing import LoadOptions, load
from scripts.run_athena_local import local_athena
from scripts.services.spark_thrift_server import spark_thrift_server
from scripts.services.trino_server import query

LOG = logging.getLogger("benchmark_lakehouse")
TABLES = tuple(table for _, table in BUILT_TABLES)
INCREMENTAL_BUILD = "dbt build, incremental (+1%)"
INCREMENTAL_RUN = "dbt run, incremental (+1%)"
# The fixed cost of a run, in the table only: an incremental dbt run with no
# new files, and a dbt run of one small table model (dbt and Spark start-up).
NOTHING_NEW_RUN = "dbt run, nothing new"
ONE_MODEL_RUN = "dbt run, one small model"
# The same commands on a long-lived engine (--engines dbt-thrift); their
# shares are of the full build on that engine.
ON_THRIFT = ", Thrift server"
THRIFT_BUILD = "dbt build" + ON_THRIFT
THRIFT_INCREMENTAL_RUN = INCREMENTAL_RUN + ON_THRIFT
THRIFT_NOTHING_NEW_RUN = NOTHING_NEW_RUN + ON_THRIFT
THRIFT_ONE_MODEL_RUN = ONE_MODEL_RUN + ON_THRIFT
# The athena target on the local Athena (--engines athena-local); its
# incremental build's share is of its own full build.
ON_ATHENA = ", local Athena"
ATHENA_BUILD = "dbt build" + ON_ATHENA
ATHENA_INCREMENTAL_BUILD = INCREMENTAL_BUILD + ON_ATHENA
PLOTTED = (
    "dbt build",
    "PySpark (hand-written)",
    "DuckDB",
    INCREMENTAL_BUILD,
    INCREMENTAL_RUN,
    THRIFT_BUILD,
    THRIFT_INCREMENTAL_RUN,
    ATHENA_BUILD,
    ATHENA_INCREMENTAL_BUILD,
)
ENGINES = (
    *PLOTTED[:5],
    NOTHING_NEW_RUN,
    ONE_MODEL_RUN,
    THRIFT_BUILD,
    THRIFT_INCREMENTAL_RUN,
    THRIFT_NOTHING_NEW_RUN,
    THRIFT_ONE_MODEL_RUN,
    ATHENA_BUILD,
    ATHENA_INCREMENTAL_BUILD,
)
FULL_BUILDS = ("dbt build", THRIFT_BUILD, ATHENA_BUILD)
COLOURS = {
    "dbt build": "#d1495b",
    "PySpark (hand-written)": "#00798c",
    "DuckDB": "#edae49",
    INCREMENTAL_BUILD: "#8d6a9f",
    INCREMENTAL_RUN: "#66a182",
    THRIFT_BUILD: "#2e4057",
    THRIFT_INCREMENTAL_RUN: "#a0a0a0",
    ATHENA_BUILD: "#f26419",
    ATHENA_INCREMENTAL_BUILD: "#33658a",
}
INCREMENT_SHARE = 0.01
PLOT_WIDTH, PLOT_HEIGHT = 880, 440


@dataclass
class Measurement:
    engine: str
    scale: float
    seconds: float
    peak_rss: int
    counts: dict[str, int] = field(default_factory=dict)
    model_seconds: dict[str, float] = field(default_factory=dict)
    # dbt only: summed execution time per resource type (threads overlap)
    phase_seconds: dict[str, float] = field(default_factory=dict)


def tree_rss(root: int) -> int:
    """Resident memory of a process and all its descendants, in bytes."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    total, pending = 0, [root]
    while pending:
        pid = pending.pop()
        pending.extend(children.get(pid, []))
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def measured(
    command: list[str],
    env: dict[str, str],
    log: Path,
    also: Sequence[int] = (),
    tree: int | None = None,
) -> tuple[float, int, str]:
    """Run a command; its wall seconds, the peak memory of its process tree
    and of the trees of the processes ``also`` (e.g. a server it talks to),
    or of the tree of ``tree`` alone (a process the command runs under),
    sampled every 0.2 s, and its standard output. Fails on a non-zero exit."""
    peak = 0
    started = time.perf_counter()
    with log.open("w", encoding="utf-8") as stderr:
        process = subprocess.Popen(
            command,
            cwd=dbt_invoke.PROJECT_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
        output: list[str] = []
        reader = threading.Thread(target=lambda: output.append(process.stdout.read()))  # type: ignore[union-attr]
        reader.start()
        while process.poll() is None:
            roots = [tree] if tree is not None else [process.pid, *also]
            peak = max(peak, sum(tree_rss(pid) for pid in roots))
            time.sleep(0.2)
        reader.join()
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"{command[:3]} failed; see {log}\n{''.join(output)[-3000:]}")
    return seconds, peak, "".join(output)


def landing_for(scale: float, work: Path) -> Path:
    landing = work / f"scale-{scale:g}" / "landing"
    if not (landing.parent / "generated").exists():
        LOG.info("generating scale %g into %s", scale, landing)
        generate(GeneratorConfig(out=landing, scale=scale, seed=42))
        (landing.parent / "generated").touch()
    return landing


def node_seconds(target: Path) -> tuple[dict[str, float], dict[str, float]]:
    """Execution time per model and summed per resource type, from a dbt
    command's run_results.json."""
    results = json.loads((target / "run_results.json").read_text())
    model_seconds = {
        item["unique_id"].split(".")[-1]: float(item["execution_time"])
        for item in results["results"]
        if item["unique_id"].startswith("model.")
    }
    phase_seconds: dict[str, float] = {}
    for item in results["results"]:
        kind = item["unique_id"].split(".")[0]
        phase_seconds[kind] = phase_seconds.get(kind, 0.0) + float(item["execution_time"])
    return model_seconds, phase_seconds


def prepared_run_dir(landing: Path, run_dir: Path) -> Path:
    """Empties run_dir (a full build: an empty warehouse) and gives it a
    landing folder of hard links to the generated files (no copying, same
    modification times), to which the incremental runs add theirs."""
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    shutil.copytree(landing, run_dir / "landing", copy_function=os.link)
    return run_dir / "landing"


def spark_environment(spark_dir: Path) -> dict[str, str]:
    """The environment make run gives the local target's Spark."""
    return {
        **os.environ,
        "DBT_PROFILES_DIR": str(dbt_invoke.PROFILES_DIR),
        "STEDI_SPARK_DIR": str(spark_dir),
        "STEDI_SPARK_DRIVER_MEMORY": os.environ.get(
            "STEDI_SPARK_DRIVER_MEMORY", dbt_invoke.driver_memory()
        ),
        # the class archive, as make run hands it to Spark
        "STEDI_SPARK_JAVA_OPTIONS": os.environ.get(
            "STEDI_SPARK_JAVA_OPTIONS", spark_jvm_options.java_options()
        ),
    }


def dbt_runner(
    run_dir: Path,
    env: dict[str, str],
    target_args: Sequence[str] = (),
    server_pid: int | None = None,
    landing_root: str | None = None,
    tree: int | None = None,
) -> Callable[..., tuple[float, int]]:
    """A function that runs one timed dbt command in run_dir (its log in
    run_dir/<name>.log) and returns its seconds and peak memory (with a
    server's, or of ``tree``: see measured). ``landing_root``: default
    run_dir/landing."""
    dbt = str(Path(sys.executable).parent / "dbt")

    def dbt_command(name: str, *args: str) -> tuple[float, int]:
        # one target folder, as a user's: later commands parse partially
        seconds, peak, _ = measured(
            [
                dbt,
                *args,
                *target_args,
                "--target-path",
                str(run_dir / "target"),
                "--log-path",
                str(run_dir / "logs"),
                *dbt_invoke.dbt_vars({"landing_root": landing_root or str(run_dir / "landing")}),
            ],
            env,
            run_dir / f"{name}.log",
            also=() if server_pid is None else (server_pid,),
            tree=tree,
        )
        return seconds, peak

    return dbt_command


def add_increment(run_landing: Path, scale: float, batch: int) -> None:
    """1% new data: new customers' sessions on the day after the last."""
    generate(
        GeneratorConfig(
            out=run_landing,
            scale=scale * INCREMENT_SHARE,
            seed=42,
            append=f"increment{batch}",
            start_ms=next_day_after_readings_ms(run_landing),
        )
    )


def measurement(engine: str, scale: float, run_dir: Path, timed: tuple[float, int]) -> Measurement:
    """A dbt command's measurement, with its node times."""
    model_seconds, phase_seconds = node_seconds(run_dir / "target")
    return Measurement(engine, scale, timed[0], timed[1], {}, model_seconds, phase_seconds)


def run_dbt(scale: float, landing: Path, work: Path) -> list[Measurement]:
    """The full build, then the two incremental runs on its warehouse."""
    run_dir = work / f"scale-{scale:g}" / "dbt"
    run_landing = prepared_run_dir(landing, run_dir)
    env = spark_environment(run_dir / "spark")
    dbt_command = dbt_runner(run_dir, env)
    # a build is the lakehouse job's (no unit tests: they run in CI)
    build = measurement(
        "dbt build", scale, run_dir, dbt_command("build", *dbt_invoke.PRODUCTION_BUILD)
    )
    build.counts = dbt_table_counts(str(Path(sys.executable).parent / "dbt"), env, run_dir)
    measurements = [build]
    for batch, (engine, command) in enumerate(
        [(INCREMENTAL_BUILD, dbt_invoke.PRODUCTION_BUILD), (INCREMENTAL_RUN, ("run",))], start=1
    ):
        add_increment(run_landing, scale, batch)
        measurements.append(
            measurement(engine, scale, run_dir, dbt_command(f"increment{batch}", *command))
        )
    for engine, args in [
        (NOTHING_NEW_RUN, ()),
        (ONE_MODEL_RUN, ("--select", "customer_trusted")),
    ]:
        name = engine.replace(" ", "-").replace(",", "")
        measurements.append(measurement(engine, scale, run_dir, dbt_command(name, "run", *args)))
    return measurements


def run_dbt_thrift(scale: float, landing: Path, work: Path) -> list[Measurement]:
    """The spark target on a local Spark Thrift server started once: a first
    build warms the server up, then the timed full build and runs."""
    run_dir = work / f"scale-{scale:g}" / "dbt-thrift"
    run_landing = prepared_run_dir(landing, run_dir)
    server_dir = run_dir / "server"
    with spark_thrift_server(server_dir, spark_environment(server_dir)) as server:
        env = {
            **os.environ,
            "DBT_PROFILES_DIR": str(dbt_invoke.PROFILES_DIR),
            "STEDI_SPARK_HOST": "127.0.0.1",
            "STEDI_SPARK_PORT": str(server.port),
            "DBT_ENV_SECRET_STEDI_PSEUDONYM_KEY": BENCHMARK_PSEUDONYM_KEY,
        }
        dbt_command = dbt_runner(run_dir, env, ("--target", "spark"), server.pid)
        LOG.info("scale %g: warming the Thrift server up with a first build", scale)
        dbt_command("warm-up-build", *dbt_invoke.PRODUCTION_BUILD)
        build = measurement(
            THRIFT_BUILD,
            scale,
            run_dir,
            dbt_command("build", *dbt_invoke.PRODUCTION_BUILD, "--full-refresh"),
        )
        build.counts = thrift_table_counts(server.port)
        add_increment(run_landing, scale, 1)
        measurements = [
            build,
            measurement(THRIFT_INCREMENTAL_RUN, scale, run_dir, dbt_command("increment", "run")),
            measurement(THRIFT_NOTHING_NEW_RUN, scale, run_dir, dbt_command("nothing-new", "run")),
            measurement(
                THRIFT_ONE_MODEL_RUN,
                scale,
                run_dir,
                dbt_command("one-model", "run", "--select", "customer_trusted"),
            ),
        ]
    return measurements


def thrift_table_counts(port: int) -> dict[str, int]:
    """Row counts of the built tables, asked of the Thrift server."""
    from pyhive import hive

    connection = hive.connect(host="127.0.0.1", port=port, username="stedi")
    try:
        cursor = connection.cursor()
        counts = {}
        for schema, table in BUILT_TABLES:
            cursor.execute(f"select count(*) from {schema}.{table}")
            counts[table] = int(cursor.fetchone()[0])
        return counts
    finally:
        connection.close()


def run_athena_local(scale: float, landing: Path, work: Path) -> list[Measurement]:
    """The athena target on the local Athena, started once with its
    defaults: the full build, then the incremental build after 1% new data
    (each upload to its S3 is not timed)."""
    run_dir = work / f"scale-{scale:g}" / "athena-local"
    run_landing = prepared_run_dir(landing, run_dir)
    servers = run_dir / "servers"
    servers.mkdir()
    with local_athena(servers) as local:
        options = LoadOptions(bucket=local.bucket)

        def upload() -> None:
            started = time.monotonic()
            summary = load(run_landing, local.target(), options)
            if summary.exit_code != 0:
                raise RuntimeError(f"loading {run_landing} failed: {summary.report()}")
            LOG.info("scale %g: %s (%.0f s)", scale, summary.report(), time.monotonic() - started)

        upload()
        # the benchmark's process runs the Athena API and is the parent of
        # moto, Trino and dbt: its tree is the stand-in with dbt
        dbt_command = dbt_runner(
            run_dir,
            local.environment(),
            ("--target", "athena"),
            landing_root=f"s3://{local.bucket}/landing",
            tree=os.getpid(),
        )
        build = measurement(
            ATHENA_BUILD, scale, run_dir, dbt_command("build", *dbt_invoke.PRODUCTION_BUILD)
        )
        build.counts = {
            table: int(query(local.trino_url, f"select count(*) from {schema}.{table}").rows[0][0])
            for schema, table in BUILT_TABLES
        }
        add_increment(run_landing, scale, 1)
        upload()
        incremental = measurement(
            ATHENA_INCREMENTAL_BUILD,
            scale,
            run_dir,
            dbt_command("increment1", *dbt_invoke.PRODUCTION_BUILD),
        )
    return [build, incremental]


def dbt_table_counts(dbt: str, env: dict[str, str], run_dir: Path) -> dict[str, int]:
    """Row counts of the built tables, through `dbt show` on the warehouse."""
    query = " union all ".join(
        f"select '{table}', count(*) from {schema}.{table}" for schema, table in BUILT_TABLES
    )
    _, _, shown = measured(
        [
            dbt,
            "show",
            "--inline",
            query,
            "--limit",
            "10",
            "--output",
            "json",
            "--log-format",
            "json",
            "--target-path",
            str(run_dir / "target-show"),
            "--log-path",
            str(run_dir / "logs"),
        ],
        env,
        run_dir / "show.log",
    )
    counts: dict[str, int] = {}
    for line in shown.splitlines():
        event = json.loads(line) if line.startswith("{") else {}
        preview = event.get("data", {}).get("preview")
        if preview:
            for row in json.loads(preview):
                name, count = list(row.values())
                counts[str(name)] = int(count)
    return counts


def run_pyspark(scale: float, landing: Path, work: Path) -> Measurement:
    out = work / f"scale-{scale:g}" / "pyspark"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    seconds, peak, printed = measured(
        [
            sys.executable,
            "-m",
            "scripts.benchmarks.reference_pyspark",
            "--landing-root",
            str(landing),
            "--out",
            str(out / "tables"),
        ],
        dict(os.environ),
        out / "run.log",
    )
    counts = json.loads(printed.strip().splitlines()[-1])
    return Measurement("PySpark (hand-written)", scale, seconds, peak, counts)


def run_duckdb(scale: float, landing: Path, compiled: Path, work: Path) -> Measurement:
    log = work / f"scale-{scale:g}" / "duckdb.log"
    seconds, peak, printed = measured(
        [
            sys.executable,
            "-m",
            "scripts.benchmarks.reference_duckdb",
            "--landing-root",
            str(landing),
            "--compiled",
            str(compiled),
        ],
        dict(os.environ),
        log,
    )
    counts = json.loads(printed.strip().splitlines()[-1])
    return Measurement("DuckDB", scale, seconds, peak, counts)


def earlier_measurements(path: Path) -> list[Measurement]:
    """The measurements of the last results (none if there are none)."""
    if not path.exists():
        return []
    return [Measurement(**item) for item in json.loads(path.read_text(encoding="utf-8"))]


def gib(size: int) -> str:
    return f"{size / 1024**3:.2f}"


def full_build_of(engine: str) -> str:
    """The full build a command's time is a share of: a Thrift server's and
    the local Athena's runs are of their own."""
    if ON_THRIFT in engine:
        return THRIFT_BUILD
    return ATHENA_BUILD if ON_ATHENA in engine else "dbt build"


def markdown(measurements: list[Measurement], machine: str) -> str:
    scales = sorted({item.scale for item in measurements})
    by_key = {(item.engine, item.scale): item for item in measurements}
    lines = [
        f"Lakehouse benchmark on {machine}",
        "",
        "| scale | engine | seconds | peak memory (GiB) | x dbt build |",
        "|---:|---|---:|---:|---:|",
    ]
    for scale in scales:
        for engine in ENGINES:
            item = by_key.get((engine, scale))
            base = by_key.get((full_build_of(engine), scale))
            if item:
                ratio = f"{item.seconds / base.seconds:.2f}" if base else "-"
                lines.append(
                    f"| {scale:g} | {engine} | {item.seconds:.1f} | {gib(item.peak_rss)}"
                    f" | {ratio} |"
                )
    if any(ON_THRIFT in item.engine for item in measurements):
        lines += [
            "",
            "Thrift server rows: the spark target against a local Spark Thrift server"
            " started once per scale and warmed up by a first build; x its own full"
            " build; peak memory of dbt and the server together.",
        ]
    if any(ON_ATHENA in item.engine for item in measurements):
        lines += [
            "",
            "Local Athena rows: the athena target on the local Athena (moto's S3 and Glue,"
            " Trino on one node, the Athena API) with its defaults, started once per scale;"
            " the incremental build x its own full build; peak memory of every process of"
            " the stand-in with dbt.",
        ]
    lines += [
        "",
        "Where the dbt build's time goes (summed node execution; threads overlap):",
        "",
        "| scale | command | models | data tests | unit tests | seed and hooks |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for scale in scales:
        for engine in (
            "dbt build",
            INCREMENTAL_BUILD,
            INCREMENTAL_RUN,
            NOTHING_NEW_RUN,
            THRIFT_BUILD,
            THRIFT_INCREMENTAL_RUN,
            THRIFT_NOTHING_NEW_RUN,
            ATHENA_BUILD,
            ATHENA_INCREMENTAL_BUILD,
        ):
            if (engine, scale) not in by_key:
                continue
            phases = by_key[(engine, scale)].phase_seconds
            lines.append(
                f"| {scale:g} | {engine} | {phases.get('model', 0):.1f}"
                f" | {phases.get('test', 0):.1f} | {phases.get('unit_test', 0):.1f}"
                f" | {phases.get('seed', 0) + phases.get('operation', 0):.1f} |"
            )
    lines += ["", "dbt model time (the model's own execution) and rows:", ""]
    lines += [
        "| scale | build | model | rows | seconds | rows/s |",
        "|---:|---|---|---:|---:|---:|",
    ]
    for scale in scales:
        for engine in FULL_BUILDS:
            dbt_run = by_key.get((engine, scale))
            if dbt_run is None:
                continue
            for model, seconds in sorted(dbt_run.model_seconds.items(), key=lambda item: -item[1]):
                rows = dbt_run.counts.get(model)
                rate = f"{rows / seconds:,.0f}" if rows is not None and seconds else "-"
                shown = f"{rows:,}" if rows is not None else "-"
                lines.append(
                    f"| {scale:g} | {engine} | {model} | {shown} | {seconds:.1f} | {rate} |"
                )
    return "\n".join(lines)


def svg_plot(measurements: list[Measurement]) -> str:
    """Seconds against scale, one line per engine, as SVG."""
    width, height, left, bottom, top, right = PLOT_WIDTH, PLOT_HEIGHT, 70, 60, 40, 340
    scales = sorted({item.scale for item in measurements})
    top_seconds = max(item.seconds for item in measurements) * 1.1

    def x(scale: float) -> float:
        span = (scales[-1] - scales[0]) or 1
        return left + (scale - scales[0]) / span * (width - left - right)

    def y(seconds: float) -> float:
        return height - bottom - seconds / top_seconds * (height - bottom - top)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"'
        ' font-family="sans-serif" font-size="13">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{left}" y="24" font-size="15">STEDI lakehouse: build time against scale</text>',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}"'
        ' stroke="black"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="black"/>',
        f'<text x="{(width - right + left) / 2}" y="{height - 20}" text-anchor="middle">'
        "scale factor</text>",
        f'<text x="18" y="{(height - bottom + top) / 2}" text-anchor="middle"'
        f' transform="rotate(-90 18 {(height - bottom + top) / 2})">seconds</text>',
    ]
    for scale in scales:
        parts.append(
            f'<text x="{x(scale)}" y="{height - bottom + 18}" text-anchor="middle">{scale:g}</text>'
        )
    for step in range(6):
        seconds = top_seconds * step / 5
        parts.append(
            f'<text x="{left - 8}" y="{y(seconds) + 4}" text-anchor="end">{seconds:.0f}</text>'
            f'<line x1="{left}" y1="{y(seconds)}" x2="{width - right}" y2="{y(seconds)}"'
            ' stroke="#ddd"/>'
        )
    drawn = [engine for engine in PLOTTED if any(item.engine == engine for item in measurements)]
    for index, engine in enumerate(drawn):
        points = sorted(
            (item.scale, item.seconds) for item in measurements if item.engine == engine
        )
        colour = COLOURS[engine]
        path = " ".join(f"{x(scale):.1f},{y(seconds):.1f}" for scale, seconds in points)
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5"/>'
        )
        for scale, seconds in points:
            parts.append(
                f'<circle cx="{x(scale):.1f}" cy="{y(seconds):.1f}" r="4" fill="{colour}"/>'
            )
        legend_y = top + 20 + index * 22
        parts.append(
            f'<rect x="{width - right + 20}" y="{legend_y - 10}" width="14" height="4"'
            f' fill="{colour}"/><text x="{width - right + 40}" y="{legend_y - 4}">{engine}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


def render_png(svg: Path, png: Path) -> bool:
    """The SVG as PNG through headless Chromium (scripts/devtools/ensure_browser.sh
    installs it); False when there is no Chromium."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        return False
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--screenshot={png}",
            f"--window-size={PLOT_WIDTH},{PLOT_HEIGHT}",
            svg.resolve().as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return png.exists()


def machine_description() -> str:
    memory_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory_kib = int(line.split()[1])
    return (
        f"{os.cpu_count()} cores, {memory_kib / 1024**2:.0f} GiB, {platform.system()}"
        f" {platform.machine()}, Python {platform.python_version()}"
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.benchmarks.lakehouse",
        description=__doc__.split("\n\n")[0],
        epilog="Example: python -m scripts.benchmarks.lakehouse --scales 1 10 30",
    )
    parser.add_argument(
        "--scales",
        type=float,
        nargs="+",
        default=[1.0, 10.0, 30.0],
        help="scale factors (default 1 10 30; 100 and more by naming them)",
    )
    parser.add_argument(
        "--work",
        type=Path,
        default=dbt_invoke.PROJECT_DIR / ".benchmark",
        help="generated data and run folders (default .benchmark, git-ignored)",
    )
    parser.add_argument(
        "--results",
        type=Path,
        default=dbt_invoke.PROJECT_DIR / "benchmark-results",
        help="where benchmark.md, .svg and .png go (default benchmark-results)",
    )
    parser.add_argument(
        "--engines",
        nargs="+",
        choices=["dbt", "pyspark", "duckdb", "dbt-thrift", "athena-local"],
        default=["dbt", "pyspark", "duckdb"],
        help="what to run (default dbt, pyspark and duckdb; dbt-thrift adds the same"
        " project on a local Spark Thrift server, athena-local the athena target on the"
        " local Athena; counts are compared across those run)",
    )
    parser.add_argument(
        "--add",
        action="store_true",
        help="keep the last results' measurements of the engines and scales not run now"
        " (and compare their counts too)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    configure_logging()
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    compiled = work / "athena-compiled"
    if {"dbt", "pyspark", "dbt-thrift"} & set(args.engines):
        spark_class_archive.create()  # as a second make run has it, before any timing
    if "duckdb" in args.engines:
        LOG.info("compiling the models for Athena (offline)")
        compile_for_athena(compiled)
    measurements: list[Measurement] = []
    failures: list[str] = []
    kept = earlier_measurements(args.results / "benchmark.json") if args.add else []
    for scale in args.scales:
        landing = landing_for(scale, work)
        for engine in args.engines:
            if engine == "dbt":
                items = run_dbt(scale, landing, work)
            elif engine == "dbt-thrift":
                items = run_dbt_thrift(scale, landing, work)
            elif engine == "athena-local":
                items = run_athena_local(scale, landing, work)
            elif engine == "pyspark":
                items = [run_pyspark(scale, landing, work)]
            else:
                items = [run_duckdb(scale, landing, compiled, work)]
            for item in items:
                LOG.info(
                    "scale %g, %s: %.1f s, peak %s GiB, rows %s",
                    scale,
                    item.engine,
                    item.seconds,
                    gib(item.peak_rss),
                    item.counts or "-",
                )
            measurements.extend(items)
        # the full builds over the same landing data (the incremental runs
        # see more data and are checked by tests/python/test_incremental.py)
        counts = {
            item.engine: item.counts
            for item in [*kept, *measurements]
            if item.scale == scale and item.counts
        }
        if len({json.dumps(value, sort_keys=True) for value in counts.values()}) > 1:
            failures.append(f"scale {scale:g}: row counts differ: {counts}")
    measured_now = {(item.engine, item.scale) for item in measurements}
    measurements = [
        *(item for item in kept if (item.engine, item.scale) not in measured_now),
        *measurements,
    ]
    measurements.sort(key=lambda item: item.scale)
    args.results.mkdir(parents=True, exist_ok=True)
    dbt_engines = {"dbt", "dbt-thrift", "athena-local"} & set(args.engines)
    report = markdown(measurements, machine_description()) if dbt_engines else ""
    (args.results / "benchmark.md").write_text(report + "\n", encoding="utf-8")
    (args.results / "benchmark.json").write_text(
        json.dumps([item.__dict__ for item in measurements], indent=2) + "\n", encoding="utf-8"
    )
    svg = args.results / "benchmark.svg"
    svg.write_text(svg_plot(measurements), encoding="utf-8")
    if not render_png(svg, args.results / "benchmark.png"):
        LOG.warning(
            "no Chromium: wrote %s only (scripts/devtools/ensure_browser.sh installs it)", svg
        )
    print(report)
    for failure in failures:
        LOG.error(failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
