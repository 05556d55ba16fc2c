"""Add an erasure request (a customer who asked to be forgotten) to
seeds/erasure_requests.csv, naming the customer by the salted SHA-256 of the
normalized e-mail, never by the e-mail itself.

The e-mail is read from the terminal without echo (or from standard input
when it is not a terminal), so it stays out of shell history and logs. The
hash is sha256("<erasure_hash_salt>:" + normalized e-mail) in hex, the
scheme of the dbt macro erasure_hash (normalized: whitespace trimmed, ASCII
letters lower-cased, as the macro normalize_email); the salt is the dbt var
erasure_hash_salt in dbt_project.yml. The next `dbt build` removes the
customer from every trusted and curated model.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import getpass
import hashlib
import logging
import string
import sys
from collections.abc import Sequence
from pathlib import Path

from scripts.common import dbt_invoke
from scripts.common.cli_logging import configure_logging

LOG = logging.getLogger("erasure_request")
SEED_PATH = dbt_invoke.PROJECT_DIR / "seeds" / "erasure_requests.csv"
SEED_COLUMNS = ("email_sha256", "requested_on")


def erasure_salt() -> str:
    """The salt the dbt project hashes with (var erasure_hash_salt)."""
    return str(dbt_invoke.project_vars()["erasure_hash_salt"])


def listed_requests(seed: Path = SEED_PATH) -> list[tuple[str, str]]:
    """(email_sha256, requested_on) of every request in the seed."""
    with seed.open(newline="", encoding="utf-8") as handle:
        return [(row["email_sha256"], row["requested_on"]) for row in csv.DictReader(handle)]


# The landing rulebook's whitespace, and its ASCII-only lower-casing: the
# engines' own lower() disagree on non-ASCII letters, and so does Python's.
WHITESPACE = " \t\r\n"
ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def normalize_email(email: str) -> str:
    """As the dbt macro normalize_email: whitespace (space, tab, CR, LF)
    trimmed and A-Z lower-cased; every other character kept."""
    return email.strip(WHITESPACE).translate(ASCII_LOWER)


def email_hash(email: str, salt: str) -> str:
    """sha256("<salt>:<normalized e-mail>") as 64 lower-case hex digits."""
    return hashlib.sha256(f"{salt}:{normalize_email(email)}".encode()).hexdigest()


def append_request(seed: Path, digest: str, requested_on: dt.date) -> bool:
    """Add the request to the seed; False when that hash is already listed."""
    if digest in {listed for listed, _ in listed_requests(seed)}:
        return False
    with seed.open("a", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerow([digest, requested_on.isoformat()])
    return True


def read_email() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("E-mail of the customer to forget (not echoed): ")
    return sys.stdin.readline().rstrip("\r\n")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.erasure_request",
        description=__doc__.split("\n\n")[0],
        epilog="Example: python -m scripts.erasure_request --append  (then type the e-mail)",
    )
    parser.add_argument(
        "--append",
        action="store_true",
        help=f"add the request to {SEED_PATH.relative_to(dbt_invoke.PROJECT_DIR)} "
        "(default: only print the hash)",
    )
    parser.add_argument(
        "--requested-on",
        type=dt.date.fromisoformat,
        default=dt.date.today(),
        help="day of the request, YYYY-MM-DD (default: today)",
    )
    parser.add_argument("--seed", type=Path, default=SEED_PATH, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    configure_logging()
    email = read_email()
    if "@" not in email:
        LOG.error("that is not an e-mail address; nothing written")
        return 2
    digest = email_hash(email, erasure_salt())
    print(digest)
    if args.append:
        if append_request(args.seed, digest, args.requested_on):
            LOG.info("added the request to %s; the next dbt build applies it", args.seed)
        else:
            LOG.info("already listed in %s; nothing written", args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
