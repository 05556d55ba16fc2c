"""A local S3 API server (moto's server mode) in its own process on 127.0.0.1,
for the tests and the loader benchmark."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# a file: the state the local AWS server (scripts/services/local_aws_server.py)
# restores as it starts and saves as it stops; unset, it starts empty
AWS_STATE_ENVIRONMENT = "STEDI_AWS_STATE"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def moto_server(
    log_dir: Path,
    module: str = "moto.server",
    port: int | None = None,
    stop_timeout: float = 10,
) -> Iterator[str]:
    """Start moto's server (or a launcher ``module`` wrapping it) on a free
    loopback port, or ``port``; yield its endpoint URL. On exit it has
    ``stop_timeout`` seconds to end before it is killed (a server that
    saves its state as it stops needs more)."""
    port = port or free_port()
    endpoint = f"http://127.0.0.1:{port}"
    log = (log_dir / f"moto-{port}.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", module, "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"moto server exited with {process.returncode}")
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError("moto server did not start within 60 s") from None
                time.sleep(0.1)
        yield endpoint
    finally:
        stop(process, timeout=stop_timeout)
        log.close()


def stop(process: subprocess.Popen[bytes], timeout: float) -> None:
    """Terminate a server process; kill it if it has not ended in ``timeout`` s."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def fake_aws_environment(monkeypatch_env: dict[str, str] | None = None) -> dict[str, str]:
    """Environment with dummy credentials for the local server only."""
    env = dict(os.environ if monkeypatch_env is None else monkeypatch_env)
    env.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "eu-west-1",
        }
    )
    env.pop("AWS_PROFILE", None)
    return env
