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
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from scripts.aws_session import AwsTarget
from scripts.generate_landing import GeneratorConfig, generate
from scripts.load_landing import format_bytes
from scripts.local_s3 import fake_aws_environment, moto_server

LOG = logging.getLogger("benchmark_loader")


@dataclass(frozen=True)
class Timing:
    tool: str
    seconds: float
    size: int
    objects: int

    @property
    def mib_per_second(self) -> float:
        return self.size / (1024 * 1024) / self.seconds


def count_objects(target: AwsTarget, bucket: str) -> int:
    pages = target.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sum(len(page.get("Contents", [])) for page in pages)


def run(scale: float, concurrency: int, work: Path) -> list[Timing]:
    landing = work / "landing"
    LOG.info("generating scale %g into %s", scale, landing)
    generate(GeneratorConfig(out=landing, scale=scale, seed=42))
    files = list(landing.rglob("*.json"))
    size = sum(path.stat().st_size for path in files)
    LOG.info("%d files, %s", len(files), format_bytes(size))
    os.environ.update(fake_aws_environment())
    with moto_server(work) as endpoint:
        target = AwsTarget(region="eu-west-1", endpoint_url=endpoint)
        s3 = target.client("s3")
        for bucket in ("bench-loader", "bench-awscli"):
            s3.create_bucket(
                Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
            )

        # Both tools run as the commands a user types, start-up included.
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "scripts.load_landing",
                str(landing),
                "--bucket",
                "bench-loader",
                "--endpoint-url",
                endpoint,
                "--region",
                "eu-west-1",
                "--concurrency",
                str(concurrency),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        loader = Timing(
            "load_landing",
            time.perf_counter() - started,
            size,
            count_objects(target, "bench-loader"),
        )

        aws = shutil.which("aws", path=str(Path(sys.executable).parent)) or "aws"
        env = {**os.environ, "AWS_MAX_CONCURRENT_REQUESTS": str(concurrency)}
        started = time.perf_counter()
        subprocess.run(
            [
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
                "s3://bench-awscli/landing/",
            ],
            check=True,
            env=env,
        )
        awscli = Timing(
            "aws s3 cp --recursive",
            time.perf_counter() - started,
            size,
            count_objects(target, "bench-awscli"),
        )
    if loader.objects != awscli.objects or loader.objects != len(files):
        raise RuntimeError(
            f"object counts differ: {loader.objects}, {awscli.objects}, {len(files)}"
        )
    return [loader, awscli]


def markdown(timings: list[Timing], scale: float) -> str:
    loader, awscli = timings
    lines = [
        f"Loader benchmark, scale {scale:g} ({loader.objects} files, "
        f"{format_bytes(loader.size)}), local moto S3 server on 127.0.0.1",
        "",
        "| tool | seconds | MiB/s |",
        "|---|---:|---:|",
        *(f"| {t.tool} | {t.seconds:.2f} | {t.mib_per_second:.1f} |" for t in timings),
        "",
        f"throughput ratio loader / awscli: {loader.mib_per_second / awscli.mib_per_second:.2f}"
        " (goal: >= 1.00)",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.benchmark_loader", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--scale", type=float, default=3.0, help="data scale factor (default 3)")
    parser.add_argument(
        "--concurrency", type=int, default=10, help="parallel transfers for both tools (default 10)"
    )
    parser.add_argument("--output", type=Path, help="also write the Markdown table here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    for noisy in ("botocore", "s3transfer", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="stedi-bench-") as work:
        report = markdown(run(args.scale, args.concurrency, Path(work)), args.scale)
    print(report)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(report + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
