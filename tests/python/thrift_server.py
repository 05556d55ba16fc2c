"""A real Spark Thrift Server (HiveThriftServer2 from the installed pyspark)
on a free port of 127.0.0.1, with its own warehouse and Derby metastore."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from scripts.local_s3 import free_port


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def spark_thrift_server(work: Path, start_timeout: float = 300) -> Iterator[int]:
    """Start the server, yield its port once it accepts connections, stop it."""
    work.mkdir(parents=True, exist_ok=True)
    port = free_port()
    command = [
        str(Path(sys.executable).parent / "spark-submit"),
        "--class",
        "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2",
        "--master",
        "local[2]",
        "--name",
        "stedi-thrift-test",
        "--conf",
        f"spark.sql.warehouse.dir={work / 'warehouse'}",
        "--conf",
        "spark.hadoop.javax.jdo.option.ConnectionURL="
        f"jdbc:derby:;databaseName={work / 'metastore_db'};create=true",
        "--conf",
        "spark.driver.bindAddress=127.0.0.1",
        "--conf",
        "spark.driver.host=127.0.0.1",
        "--conf",
        "spark.ui.enabled=false",
        "--conf",
        "spark.sql.session.timeZone=UTC",
        "--conf",
        "spark.sql.shuffle.partitions=4",
        "--driver-java-options",
        f"-Dderby.stream.error.file={work / 'derby.log'}",
        "spark-internal",
        "--hiveconf",
        "hive.server2.thrift.bind.host=127.0.0.1",
        "--hiveconf",
        f"hive.server2.thrift.port={port}",
    ]
    import pyspark

    # spark-submit looks for Spark with whatever python3 is first on the PATH;
    # point it at this environment's pyspark.
    env = dict(os.environ, SPARK_HOME=str(Path(pyspark.__file__).parent))
    log = (work / "thrift-server.log").open("wb")
    process = subprocess.Popen(
        command, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
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
        yield port
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.close()
