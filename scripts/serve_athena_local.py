"""Keep a local Athena running over a state folder, for dbt and any client.

`make run-athena-local` is a one-shot demo: everything starts empty and
stops with the command. This one starts the same servers (moto's S3, Glue
and IAM; Trino; the local Athena API) over a state folder and keeps them
up until Ctrl-C. Stopped, the local AWS server saves S3, Glue, IAM and the
work groups in the folder; started again over it, everything is as it
was: the tables, the landing files, the IAM users and their keys, the
query history, and the same endpoints. So `dbt build --target athena` runs
incrementally across commands and restarts, and awswrangler, pyathena or
awscli can query the lakehouse meanwhile.

It writes <state>/env.sh (and prints it): the endpoints, region and
credentials to export (the dbt runner's), and the athena target's
variables. Load landing files as the loader does on AWS, with the local
administrator's key, e.g.
  AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \\
  python -m scripts.load_landing data/landing --bucket stedi-local
"""

from __future__ import annotations

import argparse
import logging
import shlex
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from scripts.common.cli_logging import configure_logging
from scripts.common.project_paths import PROJECT_DIR
from scripts.run_athena_local import BUCKET, LocalAthena, local_athena
from scripts.services.trino_server import MEMORY_ENVIRONMENT, TrinoSetupError

LOG = logging.getLogger("serve_athena_local")
DEFAULT_STATE = PROJECT_DIR / ".athena-local"


def exports(local: LocalAthena) -> str:
    """The environment a shell needs for dbt's athena target, as the runner,
    and for any AWS client (``export NAME=value`` lines)."""
    env = local.environment()
    env.update({"AWS_DEFAULT_REGION": local.target().region})
    names = sorted(
        name
        for name in env
        if name.startswith(("AWS_", "STEDI_ATHENA_", "DBT_PROFILES_DIR", "PYTHONPATH"))
    )
    return "".join(f"export {name}={shlex.quote(env[name])}\n" for name in names)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.serve_athena_local",
        description=__doc__.split("\n\n")[0],
        epilog=(
            "Example: python -m scripts.serve_athena_local, then in another shell: "
            "source .athena-local/env.sh && dbt build --target athena "
            f"--vars '{{landing_root: \"s3://{BUCKET}/landing\"}}'"
        ),
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=DEFAULT_STATE,
        help="the state folder (default .athena-local, git-ignored); delete it to start empty",
    )
    parser.add_argument(
        "--trino-memory",
        metavar="SIZE",
        help=f"Trino's heap, e.g. 6G (default: ${MEMORY_ENVIRONMENT}, else 40%% of memory)",
    )
    return parser.parse_args(argv)


def serve(state: Path, memory: str | None, stop: threading.Event) -> int:
    state.mkdir(parents=True, exist_ok=True)
    with local_athena(state, heap=memory, keep_state=True) as local:
        text = exports(local)
        env_file = state / "env.sh"
        partial = state / "env.sh.partial"  # whole or not at all: a reader waits for it
        partial.touch(mode=0o600)
        partial.write_text(text, encoding="utf-8")
        partial.replace(env_file)
        sys.stdout.write(text)
        sys.stdout.flush()
        LOG.info(
            "the local Athena is up at %s: `source %s` in another shell; Ctrl-C stops it"
            " and saves its state",
            local.athena_url,
            env_file,
        )
        while not stop.wait(1):
            pass
        LOG.info("stopping: saving S3, Glue and IAM in %s", state)
    LOG.info("stopped; start it again over %s to carry on", state)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    configure_logging()
    args = parse_args(argv)
    stop = threading.Event()

    def on_signal(number: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        return serve(args.state_dir.resolve(), args.trino_memory, stop)
    except TrinoSetupError as error:
        LOG.error("%s", error)
        return 2


if __name__ == "__main__":
    sys.exit(main())
