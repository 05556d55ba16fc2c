"""Benchmark the landing loader against `aws s3 cp --recursive`.

Starts a local S3 API server (moto) on 127.0.0.1, generates synthetic landing
data, uploads it once with the scripts.load_landing command (validation
included) and once with awscli, both as commands (start-up included), each
into its own empty bucket of the same server, and
reports both throughputs and their ratio. Goal: the loader at least as fast
as awscli (ratio >= 1.0). A benchmark, not a test: it asserts nothing about
time, it measures.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from scripts.common.aws_session import AwsTarget
from scripts.common.cli_logging import configure_logging
from scripts.generate_landing import GeneratorConfig, generate
from scripts.load_landing import format_bytes
from scripts.services.local_s3 import fake_aws_environment, moto_server

LOG = logging.getLogger("benchmark_loader")


@dataclass(frozen=True)
class Timing:
    tool: str
    seconds: float
    size: int


def count_objects(target: AwsTarget, bucket: str) -> int:
    pages = target.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sum(len(page.get("Contents", [])) for page in pages)


def timed(tool: str, command: list[str], env: dict[str, str], size: int) -> Timing:
    """Run one upload command (start-up included) and time it."""
    started = time.perf_counter()
    subprocess.run(
        command, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return Timing(tool, time.perf_counter() - started, size)


def run(scale: float, concurrency: int, repeat: int, work: Path) -> list[tuple[Timing, Timing]]:
    """(loader, awscli) timings of ``repeat`` rounds, each into fresh buckets;
    the tool that goes first alternates, so neither always meets a warm server."""
    landing = work / "landing"
    LOG.info("generating scale %g into %s", scale, landing)
    generate(GeneratorConfig(out=landing, scale=scale, seed=42))
    files = list(landing.rglob("*.json"))
    size = sum(path.stat().st_size for path in files)
    LOG.info("%d files, %s", len(files), format_bytes(size))
    os.environ.update(fake_aws_environment())
    env = {**os.environ, "AWS_MAX_CONCURRENT_REQUESTS": str(concurrency)}
    aws = shutil.which("aws", path=str(Path(sys.executable).parent)) or "aws"
    rounds = []
    with moto_server(work) as endpoint:
        target = AwsTarget(region="eu-west-1", endpoint_url=endpoint)
        s3 = target.client("s3")
        for round_number in range(repeat):
            buckets = {
                "loader": f"bench-loader-{round_number}",
                "awscli": f"bench-awscli-{round_number}",
            }
            for bucket in buckets.values():
                s3.create_bucket(
                    Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
                )
            # Both tools run as the commands a user types, start-up included.
            commands = {
                "loader": [
                    sys.executable,
                    "-m",
                    "scripts.load_landing",
                    str(landing),
                    "--bucket",
                    buckets["loader"],
                    "--endpoint-url",
                    endpoint,
                    "--region",
                    "eu-west-1",
                    "--concurrency",
                    str(concurrency),
                ],
                "awscli": [
                    aws,
                    "s3",
                    "cp",
                    "--recursive",
                    "--quiet",
                    "--sse",
                    "AES256",
                    "--endpoint-url",
                    endpoint,
                    str(landing),
                    f"s3://{buckets['awscli']}/landing/",
                ],
            }
            order = ["loader", "awscli"] if round_number % 2 == 0 else ["awscli", "loader"]
            timings = {
                tool: timed(
                    "load_landing" if tool == "loader" else "aws s3 cp --recursive",
                    commands[tool],
                    env,
                    size,
                )
                for tool in order
            }
            for tool, bucket in buckets.items():
                objects = count_objects(target, bucket)
                if objects != len(files):
                    raise RuntimeError(f"{tool} uploaded {objects} of {len(files)} files")
            LOG.info(
                "round %d: loader %.2fs, awscli %.2fs",
                round_number + 1,
                timings["loader"].seconds,
                timings["awscli"].seconds,
            )
            rounds.append((timings["loader"], timings["awscli"]))
    return rounds


def markdown(rounds: list[tuple[Timing, Timing]], scale: float, files: int) -> str:
    loader_seconds = statistics.median(loader.seconds for loader, _ in rounds)
    awscli_seconds = statistics.median(awscli.seconds for _, awscli in rounds)
    ratios = sorted(awscli.seconds / loader.seconds for loader, awscli in rounds)
    size = rounds[0][0].size
    mib = size / (1024 * 1024)
    lines = [
        f"Loader benchmark, scale {scale:g} ({files} files, {format_bytes(size)}), "
        f"{len(rounds)} rounds, local moto S3 server on 127.0.0.1",
        "",
        "| tool | median seconds | MiB/s |",
        "|---|---:|---:|",
        f"| load_landing | {loader_seconds:.2f} | {mib / loader_seconds:.1f} |",
        f"| aws s3 cp --recursive | {awscli_seconds:.2f} | {mib / awscli_seconds:.1f} |",
        "",
        f"throughput ratio loader / awscli: median {statistics.median(ratios):.2f}, "
        f"range {ratios[0]:.2f}-{ratios[-1]:.2f} (goal: >= 1.00)",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.benchmarks.loader", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--scale", type=float, default=3.0, help="data scale factor (default 3)")
    parser.add_argument(
        "--concurrency", type=int, default=10, help="parallel transfers for both tools (default 10)"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="rounds; the median is reported (default 3)"
    )
    parser.add_argument("--output", type=Path, help="also write the Markdown table here")
    args = parser.parse_args(argv)
    configure_logging()
    with tempfile.TemporaryDirectory(prefix="stedi-bench-") as work:
        rounds = run(args.scale, args.concurrency, args.repeat, Path(work))
        files = len(list((Path(work) / "landing").rglob("*.json")))
        report = markdown(rounds, args.scale, files)
    print(report)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(report + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
