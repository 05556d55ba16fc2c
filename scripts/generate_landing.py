"""Generate deterministic synthetic STEDI landing data.

Writes the landing layout the dbt project reads (and the S3 landing zone
mirrors): ``OUT/customer/*.json``, ``OUT/accelerometer/*.json`` and
``OUT/step_trainer/*.json``, newline-delimited JSON.

The data reproduce the shape of the public STEDI data set: at scale 1 about
1,000 customers, 85,000 accelerometer and 30,000 step-trainer readings; about
half the customers consent to research, mostly at a moment inside their
reading window (so some readings predate consent); each step-trainer instant
has two to four accelerometer readings of the owner's phone; a few instants
are shared by two customers; consent keys are absent (never null) when not
given; each data set is split over several files.

Generation streams customer by customer, so memory stays flat at any scale.
The output is written to a temporary folder beside OUT and moved into place
only when complete: a failed run never leaves a half-written landing zone.

``--append NAME`` adds a batch to an existing landing zone instead: new
customers (e-mails tagged with NAME) whose sessions start at ``--start-ms``,
in new files ``<dataset>-NAME-NNNNN.json``, each moved in only when complete.
This is how new data "lands" for incremental runs and their benchmark.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import re
import shutil
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from scripts.common.cli_logging import configure_logging

LOG = logging.getLogger("generate_landing")

DATASETS = ("customer", "accelerometer", "step_trainer")
CUSTOMERS_PER_SCALE = 1000
STEP_INSTANTS_PER_CUSTOMER = 30
# Accelerometer readings per step-trainer instant and their weights
# (mean about 2.8, as in the public data).
READINGS_PER_INSTANT = (2, 3, 4)
READINGS_PER_INSTANT_WEIGHTS = (0.35, 0.5, 0.15)
RESEARCH_CONSENT_SHARE = 0.5
SHARED_INSTANT_SHARE = 0.05
# Epoch ms of the first registration: 2022-06-18, as in the public data.
EPOCH_START_MS = 1_655_500_000_000
# All sessions of scale 1 fall within about 45 minutes; the window grows with
# the scale so that the density of shared instants stays realistic.
WINDOW_MS_PER_SCALE = 2_700_000
SESSION_LENGTH_MS = 115_000
DAY_MS = 86_400_000

FIRST_NAMES = (
    "Santosh",
    "Ben",
    "Frank",
    "Sarah",
    "Jo",
    "Chris",
    "Lyn",
    "Ava",
    "Mei",
    "Omar",
    "Kala",
    "Rafael",
    "Anna",
    "Liam",
    "Grace",
    "Dao",
    "Eli",
    "Noor",
    "Ivan",
    "Hana",
    "Tomas",
    "Zoe",
    "Kwame",
    "Lucia",
)
LAST_NAMES = (
    "Clayton",
    "Khatib",
    "Hansen",
    "Lincoln",
    "Mitra",
    "Gonzales",
    "Habschied",
    "Stark",
    "Aaron",
    "Hansen",
    "Huang",
    "Kumar",
    "Okafor",
    "Silva",
    "Berg",
    "Novak",
    "Tanaka",
    "Moreau",
    "Olsen",
    "Rossi",
    "Singh",
    "Walker",
)


@dataclass(frozen=True)
class GeneratorConfig:
    """What to generate and where."""

    out: Path
    scale: float = 1.0
    seed: int = 42
    customer_rows_per_file: int = 500
    reading_rows_per_file: int = 10_000
    # None: write the base data set, replacing out. A name: add a batch of
    # new customers and readings to the existing out (see the module doc).
    append: str | None = None
    start_ms: int = EPOCH_START_MS
    # None: the sessions fall within a window that grows with the scale (a
    # day at about scale 30). A number: they spread evenly over that many
    # days, so that one build writes that many reading dates.
    days: float | None = None

    @property
    def customer_count(self) -> int:
        return max(1, round(CUSTOMERS_PER_SCALE * self.scale))

    @property
    def window_ms(self) -> int:
        if self.days is not None:
            return max(SESSION_LENGTH_MS, round(DAY_MS * self.days))
        return max(SESSION_LENGTH_MS, round(WINDOW_MS_PER_SCALE * self.scale))

    @property
    def file_prefix_suffix(self) -> str:
        return f"-{self.append}" if self.append else ""


_SENSOR_TIME = re.compile(r'"sensorReadingTime": *"?(\d+)')


def next_day_after_readings_ms(root: Path) -> int:
    """The first UTC midnight after every step-trainer reading under root:
    where an appended batch starts, so that it fills a new date (new data
    arrive after the old)."""
    latest = 0
    for path in sorted((root / "step_trainer").glob("*.json")):
        with path.open(encoding="utf-8", errors="replace") as handle:
            for line in handle:
                match = _SENSOR_TIME.search(line)
                if match:
                    latest = max(latest, int(match.group(1)))
    return (max(latest, EPOCH_START_MS) // DAY_MS + 1) * DAY_MS


@dataclass
class GenerationSummary:
    """Rows and files written per data set."""

    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DATASETS, 0))
    files: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DATASETS, 0))


class RollingJsonWriter:
    """Writes lines to ``<folder>/<prefix>-NNNNN.json``, starting a new file
    every ``rows_per_file`` lines."""

    def __init__(self, folder: Path, prefix: str, rows_per_file: int) -> None:
        self.folder = folder
        self.prefix = prefix
        self.rows_per_file = rows_per_file
        self.rows = 0
        self.files = 0
        self._handle: IO[str] | None = None
        self._rows_in_file = 0
        folder.mkdir(parents=True, exist_ok=True)

    def write(self, line: str) -> None:
        if self._handle is None or self._rows_in_file >= self.rows_per_file:
            self._roll()
        assert self._handle is not None
        self._handle.write(line)
        self._handle.write("\n")
        self._rows_in_file += 1
        self.rows += 1

    def _roll(self) -> None:
        self.close()
        path = self.folder / f"{self.prefix}-{self.files:05d}.json"
        self._handle = path.open("w", encoding="utf-8", buffering=1 << 20)
        self._rows_in_file = 0
        self.files += 1

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def _customer_line(record: dict[str, object]) -> str:
    # The app's export uses json.dumps' default separators; keep them.
    return json.dumps(record)


def _accelerometer_line(email: str, time_ms: int, x: float, y: float, z: float) -> str:
    return f'{{"user":{json.dumps(email)},"timestamp":{time_ms},"x":{x!r},"y":{y!r},"z":{z!r}}}'


def _step_trainer_line(time_ms: int, serial_number: str, distance: int) -> str:
    return (
        f'{{"sensorReadingTime":{time_ms},"serialNumber":"{serial_number}",'
        f'"distanceFromObject":{distance}}}'
    )


# The 27 distinct (x, y, z) vectors over {-1, 0, 1}: the public data's values.
# Readings at one instant draw distinct vectors, so no two are exact copies.
AXIS_VECTORS = tuple(
    (float(x), float(y), float(z)) for x in (-1, 0, 1) for y in (-1, 0, 1) for z in (-1, 0, 1)
)


def _session_instants(
    rng: random.Random, start_ms: int, previous_instants: Sequence[int]
) -> list[int]:
    """Distinct, sorted step-trainer instants of one session; a few borrowed
    from the previous customer's session so that devices share instants."""
    instants: set[int] = set()
    while len(instants) < STEP_INSTANTS_PER_CUSTOMER:
        if previous_instants and rng.random() < SHARED_INSTANT_SHARE:
            instants.add(rng.choice(previous_instants))
        else:
            instants.add(start_ms + rng.randrange(SESSION_LENGTH_MS))
    return sorted(instants)


def _consent_time(rng: random.Random, first_ms: int, last_ms: int) -> int:
    """A research consent time: mostly inside the reading window, sometimes
    before it (all readings count) or after it (none do)."""
    draw = rng.random()
    if draw < 0.2:
        return first_ms - rng.randrange(1, 60_000)
    if draw < 0.96:
        return rng.randrange(first_ms, last_ms + 1)
    return last_ms + rng.randrange(1, 60_000)


def generate(config: GeneratorConfig, progress_every: int = 10_000) -> GenerationSummary:
    """Write the landing data set described by ``config`` into ``config.out``.

    Replaces ``config.out`` atomically; returns what was written.
    """
    # A batch draws its own devices and people: the base seed's sequence
    # would give its customers the base customers' serial numbers.
    rng = random.Random(f"{config.seed}:{config.append}" if config.append else config.seed)
    out = config.out.resolve()
    if config.append is not None and not has_landing_data(out):
        raise FileNotFoundError(f"--append needs an existing landing zone at {out}")
    staging = out.parent / f".{out.name}.partial-{config.seed}{config.file_prefix_suffix}"
    if staging.exists():
        shutil.rmtree(staging)
    suffix = config.file_prefix_suffix
    writers = {
        "customer": RollingJsonWriter(
            staging / "customer", f"customer{suffix}", config.customer_rows_per_file
        ),
        "accelerometer": RollingJsonWriter(
            staging / "accelerometer", f"accelerometer{suffix}", config.reading_rows_per_file
        ),
        "step_trainer": RollingJsonWriter(
            staging / "step_trainer", f"step_trainer{suffix}", config.reading_rows_per_file
        ),
    }
    tag = f".{config.append}-" if config.append else ""
    count = config.customer_count
    started = time.monotonic()
    previous_instants: list[int] = []
    try:
        for index in range(count):
            first = rng.choice(FIRST_NAMES)
            last = rng.choice(LAST_NAMES)
            email = f"{first}.{last}{tag}{index}@example.com"
            serial_number = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            session_start = config.start_ms + round(config.window_ms * index / count)
            instants = _session_instants(rng, session_start, previous_instants)
            registration_ms = instants[0] - rng.randrange(60_000, 3_600_000)
            record: dict[str, object] = {
                "customerName": f"{first} {last}",
                "email": email,
                "phone": "8015551212",
                "birthDay": f"{rng.randrange(1930, 2006)}-01-01",
                "serialNumber": serial_number,
                "registrationDate": registration_ms,
                "lastUpdateDate": registration_ms
                if rng.random() < 0.95
                else registration_ms + rng.randrange(1, 600_000),
            }
            # Absent keys, not nulls, mean no consent.
            if rng.random() < RESEARCH_CONSENT_SHARE:
                record["shareWithResearchAsOfDate"] = _consent_time(rng, instants[0], instants[-1])
            if rng.random() < 0.5:
                record["shareWithPublicAsOfDate"] = registration_ms
            if rng.random() < 0.5:
                record["shareWithFriendsAsOfDate"] = registration_ms
            writers["customer"].write(_customer_line(record))

            for instant in instants:
                writers["step_trainer"].write(
                    _step_trainer_line(instant, serial_number, rng.randrange(200, 301))
                )
                readings = rng.choices(READINGS_PER_INSTANT, READINGS_PER_INSTANT_WEIGHTS)[0]
                for x, y, z in rng.sample(AXIS_VECTORS, readings):
                    writers["accelerometer"].write(_accelerometer_line(email, instant, x, y, z))
            previous_instants = instants
            if progress_every and (index + 1) % progress_every == 0:
                LOG.info(
                    "%d/%d customers (%.0f%%), %.1fs",
                    index + 1,
                    count,
                    100 * (index + 1) / count,
                    time.monotonic() - started,
                )
    except BaseException:
        for writer in writers.values():
            writer.close()
        shutil.rmtree(staging, ignore_errors=True)
        raise
    summary = GenerationSummary()
    for name, writer in writers.items():
        writer.close()
        summary.rows[name] = writer.rows
        summary.files[name] = writer.files
    if config.append is not None:
        # one rename per complete file: a reader sees each file whole or not
        for name in DATASETS:
            for path in sorted((staging / name).glob("*.json")):
                target = out / name / path.name
                if target.exists():
                    shutil.rmtree(staging)
                    raise FileExistsError(
                        f"{target} exists: batch {config.append} was added before"
                    )
            for path in sorted((staging / name).glob("*.json")):
                path.rename(out / name / path.name)
        shutil.rmtree(staging)
        return summary
    if out.exists():
        shutil.rmtree(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging.rename(out)
    return summary


def has_landing_data(root: Path) -> bool:
    """True when every data set folder under ``root`` holds a *.json file."""
    return all(any((root / name).glob("*.json")) for name in DATASETS)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.generate_landing",
        description=__doc__.split("\n\n")[0],
        epilog="Example: python -m scripts.generate_landing --scale 10 --out data/landing",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("data/landing"),
        help="landing folder to write (replaced if it exists; default: data/landing)",
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="scale factor: 1 is about the public data set (1,000 customers); default 1",
    )
    parser.add_argument(
        "--seed", type=int, default=42, help="random seed; same seed, same bytes (default 42)"
    )
    parser.add_argument(
        "--customer-rows-per-file",
        type=int,
        default=500,
        help="customer records per file (default 500)",
    )
    parser.add_argument(
        "--reading-rows-per-file",
        type=int,
        default=10_000,
        help="accelerometer / step-trainer readings per file (default 10000)",
    )
    parser.add_argument(
        "--append",
        metavar="NAME",
        help="add a batch named NAME to the existing landing folder instead of replacing it",
    )
    parser.add_argument(
        "--start-ms",
        type=int,
        help="epoch ms of the first session (default: the base data set's start; with"
        " --append, the first UTC midnight after the folder's latest step-trainer reading)",
    )
    parser.add_argument(
        "--days",
        type=float,
        help="spread the sessions evenly over this many days (e.g. 150: a build then writes"
        " about 150 reading dates); default: a window that grows with the scale",
    )
    args = parser.parse_args(argv)
    if args.days is not None and args.days <= 0:
        parser.error("--days must be positive")
    if args.append is not None and not args.append.replace("_", "").isalnum():
        parser.error("--append NAME must be letters, digits and underscores")
    if args.scale <= 0:
        parser.error("--scale must be positive")
    if args.customer_rows_per_file < 1 or args.reading_rows_per_file < 1:
        parser.error("rows per file must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    configure_logging()
    args = parse_args(argv)
    config = GeneratorConfig(
        out=args.out,
        scale=args.scale,
        seed=args.seed,
        customer_rows_per_file=args.customer_rows_per_file,
        reading_rows_per_file=args.reading_rows_per_file,
        append=args.append,
        days=args.days,
        start_ms=args.start_ms
        if args.start_ms is not None
        else (next_day_after_readings_ms(args.out) if args.append else EPOCH_START_MS),
    )
    LOG.info(
        "generating scale %g (%d customers, seed %d) into %s",
        config.scale,
        config.customer_count,
        config.seed,
        config.out,
    )
    summary = generate(config)
    for name in DATASETS:
        LOG.info("%-13s %10d rows in %d files", name, summary.rows[name], summary.files[name])
    return 0


if __name__ == "__main__":
    sys.exit(main())
