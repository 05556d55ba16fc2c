"""Run the STEDI lakehouse's athena target on a local Athena stand-in.

No AWS account: moto serves S3 and Glue on 127.0.0.1, Trino (the engine
Athena v3 is built on) runs the queries over them, and a small local
service answers dbt-athena's Athena API calls with Trino
(scripts/services/athena_local/). The command bootstraps the bucket, Glue
databases and work group (scripts/bootstrap_aws.py), loads the landing
folder with the loader (scripts/load_landing.py), runs `dbt build --target
athena`, and prints the same zone summary and row accounting as `make run`.

Everything starts empty and stops at the end of the command: each run is a
full build. It uses the local target's public development pseudonym key,
so its pseudonymous keys equal the local Spark build's.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from scripts.bootstrap_aws import BootstrapOptions, bootstrap
from scripts.common.aws_session import AwsTarget
from scripts.common.cli_logging import configure_logging
from scripts.common.project_paths import PROFILES_DIR, PROJECT_DIR
from scripts.generate_landing import has_landing_data
from scripts.load_landing import LoadOptions, load
from scripts.services.athena_local.api import athena_local
from scripts.services.athena_local.limits import ATHENAS_LIMITS, AthenaLimits
from scripts.services.athena_local.service import AthenaLocal
from scripts.services.iam_enforcement import DECISIONS_ENVIRONMENT, ENFORCE_ENVIRONMENT
from scripts.services.local_iam import (
    CONSUMER_POLICY,
    CONSUMER_USER,
    RUNNER_POLICY,
    RUNNER_USER,
    Principal,
    create_principal,
    local_policy_values,
    render_policy,
)
from scripts.services.local_s3 import (
    AWS_STATE_ENVIRONMENT,
    fake_aws_environment,
    free_port,
    moto_server,
)
from scripts.services.trino_server import (
    MEMORY_ENVIRONMENT,
    TRINO_VERSION,
    AwsEndpoint,
    TrinoSetupError,
    trino_memory,
    trino_server,
)

LOG = logging.getLogger("run_athena_local")
BUCKET = "stedi-local"
DECISIONS_FILE = "iam-decisions.jsonl"
CONSUMER_CATALOG = "consumer_catalog"  # the consumer's queries run here, as the consumer
# imported by every dbt process the stand-in runs: botocore's service
# models parsed once per process, not once per boto3 session (see there)
SHARED_AWS_MODELS = PROJECT_DIR / "scripts" / "services" / "shared_aws_models"


def endpoint_of(aws_url: str, principal: Principal) -> AwsEndpoint:
    """The local AWS server, with a principal's key (a Trino catalog's)."""
    return AwsEndpoint(aws_url, REGION, principal.access_key, principal.secret_key)


REGION = "eu-west-1"


def development_pseudonym_key() -> str:
    """The local target's public development key (profiles/profiles.yml)."""
    import yaml

    profiles = yaml.safe_load((PROFILES_DIR / "profiles.yml").read_text(encoding="utf-8"))
    local = profiles["stedi"]["outputs"]["local"]
    return str(local["server_side_parameters"]["spark.stedi.pseudonym_key"])


def athena_environment(
    endpoint: str, bucket: str, athena_endpoint: str | None = None
) -> dict[str, str]:
    """The athena target's environment against a local AWS API server at
    ``endpoint`` (and, if given, the Athena stand-in at ``athena_endpoint``),
    with its results and tables in ``bucket``."""
    env = fake_aws_environment()
    env.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "DBT_PROFILES_DIR": str(PROFILES_DIR),
            "STEDI_ATHENA_REGION": REGION,
            "STEDI_ATHENA_S3_STAGING_DIR": f"s3://{bucket}/athena-results/",
            "STEDI_ATHENA_S3_DATA_DIR": f"s3://{bucket}/warehouse/",
            "STEDI_ATHENA_WORK_GROUP": "stedi",
        }
    )
    if athena_endpoint:
        env["AWS_ENDPOINT_URL_ATHENA"] = athena_endpoint
        # a local query finishes in well under a second: poll often
        env["STEDI_ATHENA_POLL_INTERVAL"] = "0.1"
    return env


@dataclass(frozen=True)
class LocalAthena:
    """The running stand-in: the AWS server, Trino, the Athena service."""

    aws_url: str
    trino_url: str
    athena_url: str
    service: AthenaLocal
    bucket: str
    runner: Principal  # dbt's IAM user, with deploy/'s runner policy
    consumer: Principal  # the ML team's, with deploy/'s consumer policy
    work: Path

    def environment(self) -> dict[str, str]:
        """dbt's environment: the athena target, as the runner."""
        env = athena_environment(self.aws_url, self.bucket, self.athena_url)
        env.update(self.runner.environment())
        paths = [str(SHARED_AWS_MODELS), env.get("PYTHONPATH", "")]
        env["PYTHONPATH"] = os.pathsep.join(path for path in paths if path)
        return env

    def iam_decisions(self) -> list[dict[str, str]]:
        """What IAM allowed (each grant's first use) and refused so far."""
        path = self.work / DECISIONS_FILE
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        return [json.loads(line) for line in lines]

    def target(self) -> AwsTarget:
        return AwsTarget(region=REGION, endpoint_url=self.aws_url)


class StateFolder:
    """What a local Athena that stays up keeps between its runs."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.aws_state = root / "aws-state.pickle"  # the local AWS server's
        self.history = root / "query-history.jsonl"
        # the local IAM users' keys (local dummies, never AWS's), like
        # ~/.aws/credentials: the owner's alone
        self.principals_file = root / "principals.json"
        self.ports_file = root / "ports.json"

    def port(self, name: str) -> int:
        """The port ``name`` listens on: a free one the first time, the
        same ever after (an exported endpoint stays right)."""
        ports = json.loads(self.ports_file.read_text()) if self.ports_file.exists() else {}
        if name not in ports:
            ports[name] = free_port()
            self.ports_file.write_text(json.dumps(ports), encoding="utf-8")
        return int(ports[name])

    def principals(self) -> tuple[Principal, Principal] | None:
        if not (self.principals_file.exists() and self.aws_state.exists()):
            return None  # no IAM saved with them: they would not exist
        saved = json.loads(self.principals_file.read_text(encoding="utf-8"))
        return Principal(**saved["runner"]), Principal(**saved["consumer"])

    def keep_principals(self, principals: tuple[Principal, Principal]) -> None:
        runner, consumer = principals
        text = json.dumps({"runner": asdict(runner), "consumer": asdict(consumer)})
        self.principals_file.touch(mode=0o600)
        self.principals_file.write_text(text, encoding="utf-8")


@contextmanager
def local_athena(
    work: Path,
    bucket: str = BUCKET,
    pseudonym_key: str | None = None,
    heap: str | None = None,
    trino_properties: Mapping[str, str] | None = None,
    limits: AthenaLimits = ATHENAS_LIMITS,
    keep_state: bool = False,
    runner_policy: dict[str, Any] | None = None,
) -> Iterator[LocalAthena]:
    """moto, Trino and the Athena service on 127.0.0.1, with the bucket,
    databases, work group and pseudonym key bootstrapped; all stopped on
    exit. IAM is enforced: dbt runs as the runner (its policy is
    deploy/dbt-athena-runner-policy.json), and so do Trino's catalog and any
    caller the stand-in does not know; the consumer (the ML team,
    deploy/ml-consumer-policy.json) queries in a catalog of its own; the
    administrator's key (``testing``) is the test harness's and the
    loader's. Every IAM decision is kept in ``work``/iam-decisions.jsonl.
    ``heap``: Trino's (default ``trino_memory()``: $STEDI_TRINO_MEMORY,
    else a share of the machine's memory); ``trino_properties``: more lines
    of Trino's config.properties; ``limits``: Athena's (default), or a
    test's stricter ones. ``keep_state``: ``work`` is a state folder that
    outlives the command: S3, Glue, IAM and the work groups are saved
    there as the servers stop and restored as they start, with the IAM
    users' keys, the query history and the ports (the same endpoints
    after a restart). ``runner_policy``: the runner's, instead of
    deploy/'s (the policy document; dbt-athena's own tests make schemas of
    their own)."""
    heap = trino_memory(heap)
    saved = dict(os.environ)
    os.environ.update(fake_aws_environment())
    os.environ[ENFORCE_ENVIRONMENT] = "1"
    os.environ[DECISIONS_ENVIRONMENT] = str(work / DECISIONS_FILE)
    state = StateFolder(work) if keep_state else None
    if state is not None:
        os.environ[AWS_STATE_ENVIRONMENT] = str(state.aws_state)
    try:
        with moto_server(
            work,
            "scripts.services.local_aws_server",
            port=state.port("aws") if state else None,
            stop_timeout=600 if state else 10,
        ) as aws_url:
            target = AwsTarget(region=REGION, endpoint_url=aws_url)
            principals = state.principals() if state else None
            if principals is None:
                iam, values = target.client("iam"), local_policy_values(bucket, REGION)
                runs_as = runner_policy or render_policy(RUNNER_POLICY, values)
                principals = (
                    create_principal(iam, RUNNER_USER, runs_as),
                    create_principal(iam, CONSUMER_USER, render_policy(CONSUMER_POLICY, values)),
                )
                if state:
                    state.keep_principals(principals)
            runner, consumer = principals
            catalogs = {CONSUMER_CATALOG: endpoint_of(aws_url, consumer)}
            with (
                trino_server(
                    endpoint_of(aws_url, runner),
                    work,
                    heap,
                    trino_properties,
                    catalogs,
                    limits.partitions_per_write,
                ) as trino_url,
                athena_local(
                    trino_url,
                    aws_url,
                    target.client("glue"),
                    limits,
                    port=state.port("athena") if state else 0,
                    history=state.history if state else None,
                ) as (athena_url, service),
            ):
                os.environ["AWS_ENDPOINT_URL_ATHENA"] = athena_url
                for principal in (runner, consumer):
                    service.credentials[principal.access_key] = principal.secret_key
                service.catalogs[runner.access_key] = "awsdatacatalog"
                service.catalogs[consumer.access_key] = CONSUMER_CATALOG
                key = pseudonym_key or development_pseudonym_key()
                options = BootstrapOptions(bucket=bucket, pseudonym_key=key, tls_only=False)
                bootstrap(target, options)
                yield LocalAthena(
                    aws_url, trino_url, athena_url, service, bucket, runner, consumer, work
                )
    finally:
        os.environ.clear()
        os.environ.update(saved)


def dbt(
    local: LocalAthena, *args: str, work: Path, variables: dict[str, Any]
) -> subprocess.CompletedProcess[str]:
    """A dbt command on the athena target against the stand-in, its output
    passed through."""
    command = [
        str(Path(sys.executable).parent / "dbt"),
        *args,
        "--target",
        "athena",
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
        "--vars",
        json.dumps(variables),
    ]
    return subprocess.run(command, cwd=PROJECT_DIR, env=local.environment(), check=False)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.run_athena_local",
        description=__doc__.split("\n\n")[0],
        epilog="Example: python -m scripts.run_athena_local --landing-root data/landing",
    )
    parser.add_argument(
        "--landing-root",
        type=Path,
        default=PROJECT_DIR / "data" / "landing",
        help="folder with customer/, accelerometer/, step_trainer/ files (default data/landing)",
    )
    parser.add_argument(
        "--full-refresh",
        action="store_true",
        help="accepted for symmetry with make run; every run here starts empty",
    )
    parser.add_argument(
        "--no-enforce-consent-date",
        action="store_true",
        help="admit all readings of consenting customers, even those before consent",
    )
    parser.add_argument(
        "--trino-memory",
        metavar="SIZE",
        help=(
            f"Trino's heap, e.g. 6G or 1536M; half of it is a query's memory, and what "
            f"outgrows that spills to disk in the work folder (default: ${MEMORY_ENVIRONMENT} "
            "if set, else 40%% of this machine's memory, at least 1G and at most 16G)"
        ),
    )
    parser.add_argument(
        "--work-dir",
        type=Path,
        help="keep the servers' logs and dbt's target/ here (default: a temporary folder)",
    )
    return parser.parse_args(argv)


def run(
    landing_root: Path, work: Path, enforce_consent_date: bool, memory: str | None = None
) -> int:
    started = time.monotonic()
    heap = trino_memory(memory)
    LOG.info("Trino's heap: %s (a query: half of it, then it spills to disk)", heap)
    with local_athena(work, heap=heap) as local:
        summary = load(landing_root, local.target(), LoadOptions(bucket=local.bucket))
        LOG.info("%s", summary.report())
        if summary.exit_code != 0:
            return 1
        variables = {
            "landing_root": f"s3://{local.bucket}/landing",
            "enforce_consent_date": enforce_consent_date,
        }
        LOG.info(
            "dbt build --target athena on Trino %s (stand-in at %s)",
            TRINO_VERSION,
            local.athena_url,
        )
        if dbt(
            local, "build", "--exclude-resource-type", "unit_test", work=work, variables=variables
        ).returncode:
            LOG.error("dbt build failed (details above and in %s)", work / "logs" / "dbt.log")
            return 1
        engine = json.dumps({"engine": f"Trino {TRINO_VERSION}"})
        if dbt(
            local,
            "run-operation",
            "print_zone_summary",
            "--args",
            engine,
            work=work,
            variables=variables,
        ).returncode:
            return 1
    LOG.info("done in %.0f s", time.monotonic() - started)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    configure_logging()
    args = parse_args(argv)
    landing_root = args.landing_root.resolve()
    if not has_landing_data(landing_root):
        LOG.error(
            "%s has no customer/, accelerometer/ and step_trainer/ folders of *.json", landing_root
        )
        return 2
    return in_work_folder(
        args.work_dir,
        "stedi-athena-",
        lambda work: run(landing_root, work, not args.no_enforce_consent_date, args.trino_memory),
    )


def in_work_folder(
    work_dir: Path | None,
    prefix: str,
    job: Callable[[Path], int],
    setup_errors: tuple[type[Exception], ...] = (),
) -> int:
    """``job``'s exit code, run in ``work_dir`` (made if needed) or else in a
    temporary folder; a set-up error (Trino's, or ``setup_errors``) or
    Ctrl-C ends it with one line."""
    try:
        if work_dir:
            work_dir.mkdir(parents=True, exist_ok=True)
            return job(work_dir.resolve())
        with tempfile.TemporaryDirectory(prefix=prefix) as work:
            return job(Path(work))
    except (TrinoSetupError, *setup_errors) as error:
        LOG.error("%s", error)
        return 2
    except KeyboardInterrupt:
        LOG.error("interrupted; the local servers are stopped")
        return 130


if __name__ == "__main__":
    sys.exit(main())
