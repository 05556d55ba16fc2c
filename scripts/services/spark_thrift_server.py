"""A local Spark Thrift Server (HiveThriftServer2 from the installed pyspark)
on a free port of 127.0.0.1, for the `spark` target: the long-lived engine
a cluster would be, on this machine.

It runs with the Spark settings of the local target (profiles/profiles.yml,
rendered with STEDI_SPARK_DIR set to the server's own folder, which then
holds its warehouse, Derby metastore and logs), so that a comparison of the
two targets compares the engines' lifetimes, not their settings. The test
suite and the benchmark (`--engines dbt-thrift`) start it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import jinja2
import yaml

from scripts.common.dbt_invoke import PROFILES_DIR, PROJECT_DIR
from scripts.services.local_s3 import free_port

THRIFT_SERVER_CLASS = "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"


@dataclass(frozen=True)
class ThriftServer:
    port: int
    pid: int  # spark-submit's JVM: the server's whole process tree hangs here


def local_target_settings(spark_dir: Path, environ: Mapping[str, str]) -> dict[str, str]:
    """The local target's Spark settings, rendered as dbt would render them
    with STEDI_SPARK_DIR = spark_dir and the rest of ``environ``."""
    profiles = yaml.safe_load((PROFILES_DIR / "profiles.yml").read_text(encoding="utf-8"))
    parameters = profiles["stedi"]["outputs"]["local"]["server_side_parameters"]
    values = {**environ, "STEDI_SPARK_DIR": str(spark_dir)}

    def env_var(name: str, default: str | None = None) -> str:
        if name in values:
            return values[name]
        if default is None:
            raise KeyError(f"{name} is not set and the profile gives no default")
        return default

    jinja = jinja2.Environment(undefined=jinja2.StrictUndefined)
    settings = {
        name: " ".join(jinja.from_string(str(value)).render(env_var=env_var).split())
        for name, value in parameters.items()
    }
    # The server holds no pseudonym key of its own, as a cluster's would not:
    # each dbt session brings its key (the spark target's set:hiveconf:).
    settings.pop("spark.stedi.pseudonym_key", None)
    settings["spark.app.name"] = "stedi-thrift"
    return settings


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def spark_thrift_server(
    work: Path, environ: Mapping[str, str] | None = None, start_timeout: float = 300
) -> Iterator[ThriftServer]:
    """Start the server with its own folder ``work``; yield it once it accepts
    connections; stop it (its whole process group) on the way out."""
    work = work.resolve()
    (work / "logs").mkdir(parents=True, exist_ok=True)
    port = free_port()
    settings = local_target_settings(work, os.environ if environ is None else environ)
    command = [str(Path(sys.executable).parent / "spark-submit"), "--class", THRIFT_SERVER_CLASS]
    for name, value in settings.items():
        command += ["--conf", f"{name}={value}"]
    command += [
        "spark-internal",
        "--hiveconf",
        "hive.server2.thrift.bind.host=127.0.0.1",
        "--hiveconf",
        f"hive.server2.thrift.port={port}",
    ]
    import pyspark

    # spark-submit looks for Spark with whatever python3 is first on the PATH;
    # point it at this environment's pyspark.
    env = dict(os.environ if environ is None else environ)
    env["SPARK_HOME"] = str(Path(pyspark.__file__).parent)
    log = (work / "thrift-server.log").open("wb")
    # the project folder: the profile's log4j2 file is relative to it
    process = subprocess.Popen(
        command,
        cwd=PROJECT_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + start_timeout
        while not _listening(port):
            if process.poll() is not None:
                raise RuntimeError(
                    f"thrift server exited with {process.returncode}; see {log.name}"
                )
            if time.monotonic() > deadline:
                raise TimeoutError(f"thrift server not listening after {start_timeout} s")
            time.sleep(0.5)
        yield ThriftServer(port=port, pid=process.pid)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.close()
