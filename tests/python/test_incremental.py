"""Incremental runs on the fixture landing zone: a run takes in only new
landing files and rebuilds only the reading dates they touch; a customer who
withdraws consent or is erased disappears from every trusted and curated
table on the next run; and the incremental path ends with exactly the rows of
a --full-refresh. A landing file changed after screening, or other screening
settings, stop the run with a clear error before anything is written."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from scripts.common import dbt_invoke
from scripts.erasure_request import email_hash, erasure_salt
from tests.python.lakehouse import FIXTURE_LANDING, MODELS, Lakehouse, pseudonymous_key

pytestmark = [pytest.mark.spark]

BOB, IVY = "bob.beta@example.com", "ivy.theta@example.com"
BASE = 1_655_560_000_000  # the fixture's times: 2022-06-18
NEXT_DAY = BASE + 86_400_000  # 2022-06-19
FIRST_DATE, SECOND_DATE = date(2022, 6, 18), date(2022, 6, 19)


def write_lines(path: Path, records: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")


def next_day_readings(landing: Path) -> None:
    """Bob's session of the next day, the only one that day: two instants,
    each with an accelerometer reading and his device's step-trainer
    reading."""
    instants = [NEXT_DAY + 1000, NEXT_DAY + 2000]
    write_lines(
        landing / "accelerometer" / "readings-5-next-day.json",
        [{"user": BOB, "timestamp": ms, "x": 0.5, "y": 0.5, "z": 0.0} for ms in instants],
    )
    write_lines(
        landing / "step_trainer" / "devices-4-next-day.json",
        [
            {"sensorReadingTime": ms, "serialNumber": "dev-bob", "distanceFromObject": 240}
            for ms in instants
        ],
    )


def bob_withdraws_consent(landing: Path) -> None:
    """A later record of Bob without the research consent key."""
    write_lines(
        landing / "customer" / "customers-5-bob-withdraws.json",
        [
            {
                "customerName": "Bob Beta",
                "email": BOB,
                "phone": "333",
                "birthDay": "1981-01-01",
                "serialNumber": "dev-bob",
                "registrationDate": BASE + 900,
                "lastUpdateDate": NEXT_DAY + 5000,
            }
        ],
    )


class Run:
    def __init__(self, lakehouse: Lakehouse, landing: Path) -> None:
        self.lakehouse = lakehouse
        self.landing = landing

    def dbt(self, *args: str, enforce_consent_date: bool = True) -> Any:
        # the seed is loaded once: a test adds an erasure request to its
        # table; the unit tests read their own fixtures, never these tables
        # (they run in the session's builds: test_dbt_build)
        variables = {
            "landing_root": str(self.landing),
            "enforce_consent_date": enforce_consent_date,
        }
        return dbt_invoke.run(
            [
                *args,
                "--exclude-resource-type",
                "seed",
                "unit_test",
                *dbt_invoke.dbt_vars(variables),
            ],
            self.lakehouse.target_path,
        )

    def build(self, *args: str) -> None:
        result = self.dbt("build", *args)
        assert result.success, result.exception

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return self.lakehouse.rows(sql)

    def model_rows(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every model's rows, without screened_at (when a verdict was made
        differs between the two paths; the verdicts may not)."""
        from pyspark.sql import SparkSession

        spark = SparkSession.builder.getOrCreate()
        rows = {}
        for relation in MODELS:
            columns = [c for c in spark.table(relation).columns if c != "screened_at"]
            rows[relation] = sorted(
                (tuple(row) for row in spark.table(relation).select(*columns).collect()), key=str
            )
        return rows


@pytest.fixture(scope="module")
def run(lakehouse: Lakehouse, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    landing = tmp_path_factory.mktemp("incremental") / "landing"
    shutil.copytree(FIXTURE_LANDING, landing)
    lakehouse.invalidate()
    state = Run(lakehouse, landing)
    result = dbt_invoke.run(
        [
            "build",
            "--full-refresh",
            "--exclude-resource-type",
            "unit_test",
            *dbt_invoke.dbt_vars({"landing_root": str(landing), "enforce_consent_date": True}),
        ],
        lakehouse.target_path,
    )
    assert result.success, result.exception
    yield state
    lakehouse.invalidate()


def screened_at_by_date(run: Run, relation: str) -> dict[Any, set[Any]]:
    found: dict[Any, set[Any]] = {}
    for reading_date, screened_at in run.rows(
        f"select distinct reading_date, screened_at from {relation} where reading_date is not null"
    ):
        found.setdefault(reading_date, set()).add(screened_at)
    return found


def test_a_run_takes_in_new_files_and_rebuilds_only_their_dates(run: Run) -> None:
    before = {
        relation: screened_at_by_date(run, relation)
        for relation in (
            "stedi_landing.accelerometer_screened",
            "stedi_trusted.accelerometer_trusted",
            "stedi_curated.machine_learning_curated",
        )
    }
    next_day_readings(run.landing)
    run.build()
    for relation, dates in before.items():
        after = screened_at_by_date(run, relation)
        # the first date was not touched: its verdicts are the first build's
        assert after[FIRST_DATE] == dates[FIRST_DATE], relation
        assert len(after[SECOND_DATE]) == 1, relation
        assert after[SECOND_DATE] != dates[FIRST_DATE], relation
    assert run.rows(
        "select user_email, reading_time_ms from stedi_trusted.accelerometer_trusted"
        f" where reading_date = date '{SECOND_DATE}'"
    ) == [(BOB, NEXT_DAY + 1000), (BOB, NEXT_DAY + 2000)]
    assert run.rows(
        "select device_key, reading_time_ms, distance_from_object"
        " from stedi_curated.machine_learning_curated"
        f" where reading_date = date '{SECOND_DATE}'"
    ) == [
        (pseudonymous_key("device", "dev-bob"), NEXT_DAY + 1000, 240.0),
        (pseudonymous_key("device", "dev-bob"), NEXT_DAY + 2000, 240.0),
    ]
    # a rerun without new files changes nothing
    rows = run.model_rows()
    run.build()
    assert run.model_rows() == rows


def test_withdrawn_consent_and_erasure_empty_every_trusted_and_curated_table(run: Run) -> None:
    present = run.rows(
        "select distinct user_email from stedi_trusted.accelerometer_trusted"
        f" where user_email in ('{BOB}', '{IVY}')"
    )
    assert present == [(BOB,), (IVY,)]  # both are there before
    bob_withdraws_consent(run.landing)
    run.rows(
        "insert into stedi_landing.erasure_requests"
        f" values ('{email_hash(IVY, erasure_salt())}', date '2026-11-28')"
    )
    run.build()
    for email, serial in ((BOB, "dev-bob"), (IVY, "dev-shared")):
        for relation in ("customer_trusted", "accelerometer_trusted"):
            column = "email" if relation == "customer_trusted" else "user_email"
            assert (
                run.rows(f"select * from stedi_trusted.{relation} where {column} = '{email}'") == []
            ), (relation, email)
        assert (
            run.rows(
                f"select * from stedi_trusted.step_trainer_trusted where serial_number = '{serial}'"
            )
            == []
        ), serial
        assert (
            run.rows(
                "select * from stedi_curated.customers_curated"
                f" where customer_key = '{pseudonymous_key('customer', email)}'"
            )
            == []
        ), email
        assert (
            run.rows(
                "select * from stedi_curated.machine_learning_curated"
                f" where device_key = '{pseudonymous_key('device', serial)}'"
            )
            == []
        ), serial
    # her screened rows keep no e-mail: none is hers by name any more
    assert (
        run.rows(f"select * from stedi_landing.accelerometer_screened where user_email = '{IVY}'")
        == []
    )
    # Bob's date held no one else's readings: it is emptied, not left as it was
    for relation in (
        "stedi_trusted.accelerometer_trusted",
        "stedi_trusted.step_trainer_trusted",
        "stedi_curated.machine_learning_curated",
    ):
        assert (
            run.rows(f"select * from {relation} where reading_date = date '{SECOND_DATE}'") == []
        ), relation
    bob_reasons = run.rows(
        "select distinct coalesce(exclusion_reason, 'admitted')"
        f" from stedi_landing.accelerometer_screened where user_email = '{BOB}'"
    )
    assert ("no_research_consent",) in bob_reasons
    assert ("admitted",) not in bob_reasons


def test_an_erasure_request_reaches_readings_no_holder_state_names(run: Run) -> None:
    # Hugo has no customer record: his reading is of an unknown customer, and
    # his truncated line is malformed; a request for him erases both on the
    # next run, though no customer's state changed
    hugo = "hugo.hidden@example.com"
    reading = {"user": hugo, "timestamp": BASE + 9000, "x": 0.1, "y": 0.1, "z": 0.1}
    (run.landing / "accelerometer" / "readings-8-hugo.json").write_text(
        json.dumps(reading) + "\n" + json.dumps(reading)[:40] + "\n", encoding="utf-8"
    )
    run.build()

    def hugo_rows() -> list[tuple[Any, ...]]:
        return run.rows(
            "select exclusion_reason, user_email, raw_user, line_as_delivered, reading_date"
            " from stedi_landing.accelerometer_screened"
            " where landing_file like '%/readings-8-hugo.json'"
        )

    assert hugo_rows() == [
        ("malformed", None, None, json.dumps(reading)[:40], None),
        ("unknown_customer", hugo, hugo, None, FIRST_DATE),
    ]
    run.rows(
        "insert into stedi_landing.erasure_requests"
        f" values ('{email_hash(hugo, erasure_salt())}', date '2026-12-01')"
    )
    run.build()
    assert hugo_rows() == [
        ("erased", None, None, None, None),
        ("erased", None, None, None, FIRST_DATE),
    ]


def screened_rows_of(run: Run, file_name: str) -> int:
    [(count,)] = run.rows(
        "select count(*) from stedi_landing.accelerometer_screened"
        f" where landing_file like '%/{file_name}'"
    )
    return count


def test_a_file_dated_below_the_watermark_is_screened_once(run: Run) -> None:
    """S3 dates a multipart object by when its upload started: a large file
    whose upload straddled a run arrives dated below that run's newest file.
    Within the late-delivery window (a day) it is still screened, once."""
    [(watermark_ms,)] = run.rows(
        "select max(landing_file_modified_ms) from stedi_landing.accelerometer_screened"
    )
    late = run.landing / "accelerometer" / "readings-8-late.json"
    write_lines(
        late,
        [{"user": BOB, "timestamp": NEXT_DAY + ms, "x": 0.1, "y": 0.2, "z": 0.3} for ms in (7, 8)],
    )
    dated = (watermark_ms - 3_600_000) / 1000  # an hour below the watermark
    os.utime(late, (dated, dated))
    run.build()
    assert screened_rows_of(run, late.name) == 2
    run.build()
    assert screened_rows_of(run, late.name) == 2  # not twice
    # (a later test compares these rows with a full refresh)


def test_more_new_files_than_one_query_may_name_are_screened_once(run: Run) -> None:
    """A backlog of more files than a query names (Athena's 262,144 bytes of
    query text) is found by time and by what the table has not screened."""
    folder = run.landing / "accelerometer"
    files = 250
    assert files > 200  # landing_files_per_query
    for number in range(files):
        write_lines(
            folder / f"backlog-{number:04d}.json",
            [{"user": BOB, "timestamp": NEXT_DAY + 10_000 + number, "x": 0, "y": 0, "z": 1}],
        )
    run.build()
    [(count, distinct_files)] = run.rows(
        "select count(*), count(distinct landing_file)"
        " from stedi_landing.accelerometer_screened where landing_file like '%/backlog-%'"
    )
    assert (count, distinct_files) == (files, files)
    # (a later test compares these rows with a full refresh)


def test_a_write_that_did_not_complete_is_repaired_by_the_next_run(run: Run) -> None:
    """A run killed mid-write leaves its mark (started, never completed) and
    dates emptied but not written again. The next run rebuilds every date of
    each such table, and no date stays missing."""
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.getOrCreate()
    before = run.model_rows()
    for table in ("stedi_landing.accelerometer_screened", "stedi_curated.machine_learning_curated"):
        spark.sql(
            f"alter table {table} set tblproperties"
            " ('stedi.incremental_write' = 'started:a-run-that-was-killed')"
        )
        spark.sql(f"alter table {table} drop partition (reading_date = date '{FIRST_DATE}')")
    result = run.dbt("build")
    assert result.success, result.exception
    assert run.model_rows() == before
    for table in ("stedi_landing.accelerometer_screened", "stedi_curated.machine_learning_curated"):
        properties = dict(spark.sql(f"show tblproperties {table}").collect())
        assert properties["stedi.incremental_write"] == "completed"


def test_the_incremental_path_gives_the_rows_of_a_full_refresh(run: Run) -> None:
    incremental = run.model_rows()
    assert all(incremental.values())
    run.build("--full-refresh")
    assert run.model_rows() == incremental


def test_a_landing_file_changed_after_screening_stops_the_run(run: Run) -> None:
    before = run.model_rows()
    changed = run.landing / "accelerometer" / "readings-5-next-day.json"
    with changed.open("a", encoding="utf-8") as handle:
        handle.write(
            json.dumps({"user": BOB, "timestamp": NEXT_DAY + 3000, "x": 1, "y": 0, "z": 0})
        )
        handle.write("\n")
    try:
        result = run.dbt("build")
        assert not result.success
        messages = " ".join(
            str(item.message) for item in result.result if str(item.status) == "error"
        )
        assert "changed after they were screened" in messages
        assert "readings-5-next-day.json" in messages
        assert "--full-refresh" in messages
        assert run.model_rows() == before  # nothing written
    finally:
        changed.unlink()
        run.build("--full-refresh")


def test_other_screening_settings_stop_the_run(run: Run) -> None:
    before = run.model_rows()
    result = run.dbt("build", enforce_consent_date=False)
    assert not result.success
    messages = " ".join(str(item.message) for item in result.result if str(item.status) == "error")
    assert "other screening settings" in messages
    assert "enforce_consent_date=false" in messages
    assert run.model_rows() == before


def test_a_table_built_before_the_model_became_incremental_stops_the_run(run: Run) -> None:
    """A warehouse from an older version of the project: its screening table
    has none of the file and settings columns the incremental run reads."""
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.getOrCreate()
    table = "stedi_landing.accelerometer_screened"
    spark.sql(f"alter table {table} rename to {table}_kept")
    try:
        old_columns = [
            column
            for column in spark.table(f"{table}_kept").columns
            if column not in {"landing_file", "landing_file_modified_ms", "screening_rules"}
        ]
        spark.table(f"{table}_kept").select(*old_columns).write.format("parquet").saveAsTable(table)
        result = dbt_invoke.run(
            [
                "run",
                "--select",
                "accelerometer_screened",
                *dbt_invoke.dbt_vars(
                    {"landing_root": str(run.landing), "enforce_consent_date": True}
                ),
            ],
            run.lakehouse.target_path,
        )
        assert not result.success
        assert result.result is not None, result.exception
        messages = " ".join(
            str(item.message) for item in result.result if str(item.status) == "error"
        )
        assert "accelerometer_screened: the table has no landing_file" in messages
        assert "older version of this project" in messages
        assert "--full-refresh" in messages
        assert spark.table(table).columns == old_columns  # nothing written
    finally:
        spark.sql(f"drop table if exists {table}")
        spark.sql(f"alter table {table}_kept rename to {table}")


def test_readings_whose_time_has_come_move_to_their_date(run: Run) -> None:
    """A reading screened while its time lay in the future sits in the null
    date as implausible_time; once its time has come, the next run moves it
    to its date and judges it there, and its date keeps every other row.
    (The test cannot wait for time to pass: it puts one admitted reading of
    each data set back in the state such a screening left.)"""
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.getOrCreate()
    assert spark.conf.get("spark.sql.sources.partitionOverwriteMode") == "dynamic"
    before = run.model_rows()
    moved = {}
    for table, time_column in [
        ("stedi_landing.accelerometer_screened", "reading_time_ms"),
        ("stedi_landing.step_trainer_screened", "sensor_reading_time_ms"),
    ]:
        frame = spark.table(table).where(
            f"reading_date = date '{FIRST_DATE}' or reading_date is null"
        )
        rows = [row.asDict() for row in frame.orderBy(time_column).collect()]
        reading = next(row for row in rows if row["exclusion_reason"] is None)
        reading.update(exclusion_reason="implausible_time", reading_date=None)
        # the reading as delivered: its raw columns and its file
        moved[table] = " and ".join(
            f"{column} <=> '{reading[column]}'"
            for column in frame.columns
            if column.startswith("raw_") or column == "landing_file"
        )
        spark.createDataFrame(
            [tuple(row[column] for column in frame.columns) for row in rows], frame.schema
        ).write.insertInto(table, overwrite=True)
        assert spark.table(table).where(f"reading_date is null and {moved[table]}").count() == 1

    run.build()

    assert run.model_rows() == before
    for table, reading in moved.items():
        assert run.rows(f"select reading_date, exclusion_reason from {table} where {reading}") == [
            (FIRST_DATE, None)
        ]
