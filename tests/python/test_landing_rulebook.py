"""The landing rulebook (README, "The landing rulebook") on local Spark, one
rule a test, over the hostile lines of the fixture landing zone
(tests/fixtures/landing/*/*-hostile.json, *.json.gz, *.txt). The Athena SQL
gives the same rows line by line (tests/python/test_athena_target.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.erasure_request import normalize_email
from tests.python.lakehouse import FIXTURE_LANDING, Lakehouse
from tests.python.test_dbt_build import ANN, BOB, GREEK_NAME, LEE, SIS, device, t

pytestmark = [pytest.mark.spark]

BOM = "\ufeff"


@pytest.fixture(autouse=True)
def built(lakehouse: Lakehouse) -> None:
    lakehouse.build(enforce_consent_date=True)


def hostile(lakehouse: Lakehouse, data_set: str, reason: str, column: str) -> list[tuple]:
    return lakehouse.rows(
        f"select {column} from stedi_landing.{data_set}_rejected"
        f" where exclusion_reason = '{reason}' and landing_file like '%hostile%'"
    )


def test_a_malformed_line_is_rejected_with_the_line_as_delivered(lakehouse: Lakehouse) -> None:
    assert hostile(lakehouse, "accelerometer", "malformed", "line_as_delivered") == sorted(
        [
            ("[1,2,3]",),  # an array
            ("42",),  # a scalar
            ("null",),
            ("\\N",),  # Hive's null marker is text like any other
            ('{"user":"ann.alpha@example.com","timestamp":1655560009000,"x":NaN,"y":0.0,"z":0.0}',),
            ("{'user':'ann.alpha@example.com','timestamp':1655560009000}",),
            # two objects on one line: not one record, nor the first of two
            (
                '{"user":"ann.alpha@example.com","timestamp":1655560009000,"x":0.0,"y":0.0,'
                '"z":0.0}{"user":"ann.alpha@example.com"}',
            ),
            # one trailing comma is tolerated, not two
            (
                '{"user":"ann.alpha@example.com","timestamp":1655560009000,"x":0.0,"y":0.0,"z":0.0},,',
            ),
            # a raw tab inside a string is not JSON
            ('{"user":"ann\t@example.com","timestamp":1655560009000,"x":0.0,"y":0.0,"z":0.0}',),
            # a control character stays in the line
            (
                '{"user":"zed.unknown@example.com\x01","timestamp":1655560009000,"x":0.0,"y":0.0,"z":0.0}',
            ),
        ]
    )
    assert hostile(lakehouse, "customer", "malformed", "line_as_delivered") == sorted(
        [
            ('[{"email":"kim.kappa@example.com"}]',),
            ("null",),
            ('"kim.kappa@example.com"',),
            ('{"email":"kim.kappa@example.com"} and more',),
            ("\\N",),
        ]
    )
    assert hostile(lakehouse, "step_trainer", "malformed", "line_as_delivered") == sorted(
        [
            ("[]",),
            (
                '{"sensorReadingTime":1655560005000,"serialNumber":"dev-ann","distanceFromObject":201}}',
            ),
        ]
    )


def test_an_object_or_array_for_a_value_is_invalid_and_keeps_its_line(
    lakehouse: Lakehouse,
) -> None:
    rows = dict(
        hostile(lakehouse, "accelerometer", "invalid_value", "line_as_delivered, user_as_delivered")
    )
    # the object itself is no value: read as null, the line keeps it
    assert rows == {
        (
            '{"user":{"email":"ann.alpha@example.com"},'
            '"timestamp":1655560005000,"x":0.0,"y":0.0,"z":0.0}'
        ): None,
        '{"user":"ann.alpha@example.com","timestamp":[1655560005000],"x":0.0,"y":0.0,"z":0.0}': ANN,
        # a string holding JSON text counts as what it holds
        (
            '{"user":"ann.alpha@example.com","timestamp":1655560005000,"x":"[0.5]","y":0.0,"z":0.0}'
        ): ANN,
        # a boolean is a value, only not a number: its text is kept
        None: ANN,
    }
    assert hostile(lakehouse, "accelerometer", "invalid_value", "x_as_delivered") == [
        (None,),  # "[0.5]"
        ("0.0",),
        ("0.0",),
        ("true",),
    ]
    [(phone, line)] = hostile(lakehouse, "customer", "invalid_value", "phone, line_as_delivered")
    assert phone is None and '"phone":{"home":"1"}' in line


def test_blank_lines_are_no_records(lakehouse: Lakehouse) -> None:
    # every blank line of the hostile files is counted nowhere: the data
    # sets' records (trusted + rejected) equal the non-blank lines
    [(lines,)] = lakehouse.rows(
        "select count(*) from stedi_landing.accelerometer"
        " where _metadata.file_path like '%readings-5-hostile.json'"
    )
    [(records,)] = lakehouse.rows(
        "select count(*) from stedi_landing.accelerometer_screened"
        " where landing_file like '%readings-5-hostile.json'"
    )
    assert (lines, records) == (24, 22)


def test_a_byte_order_mark_and_whitespace_around_the_object_are_dropped(
    lakehouse: Lakehouse,
) -> None:
    # the byte order mark of a line inside the file (the readers drop the
    # file's first), then spaces and one comma after the object
    line = (
        BOM
        + '{"user":"zed.unknown@example.com","timestamp":1655560009000,"x":0.0,"y":0.0,"z":0.0} , '
    )
    [(hostile_file,)] = lakehouse.rows(
        "select distinct landing_file from stedi_landing.accelerometer_screened"
        " where landing_file like '%readings-5-hostile.json'"
    )
    assert Path(hostile_file.removeprefix("file:")).read_text(encoding="utf-8").count(line) == 1
    assert (
        lakehouse.rows(
            "select exclusion_reason, user_email, reading_time_ms"
            " from stedi_landing.accelerometer_screened"
            " where landing_file like '%hostile%' and user_email = 'zed.unknown@example.com'"
            f" and reading_time_ms = {t(9000)} and x = 0.0"
        )
        == [("unknown_customer", "zed.unknown@example.com", t(9000))] * 2
    )  # and the duplicate key


def test_the_canonical_key_wins_over_its_alias(lakehouse: Lakehouse) -> None:
    # timestamp 8000 and timeStamp 9000 on one line; e-mail and x tab-padded
    assert lakehouse.rows(
        "select user_email, reading_time_ms, x, exclusion_reason"
        " from stedi_landing.accelerometer_screened"
        " where landing_file like '%hostile%' and x = 0.5"
    ) == [(ANN, t(8000), 0.5, None)]
    # the alias alone is read (Bob's timeStamp line)
    assert lakehouse.rows(
        "select reading_time_ms, exclusion_reason from stedi_landing.accelerometer_screened"
        " where landing_file like '%readings-3-dirty.json' and raw_user = '"
        + BOB
        + f"' and x = 1.0 and reading_time_ms = {t(7000)}"
    ) == [(t(7000), None)]


def test_a_key_given_twice_keeps_its_last_value(lakehouse: Lakehouse) -> None:
    # {"user": Ann, "user": zed, ...}: zed's, so no reading of Ann's
    assert lakehouse.rows(
        "select raw_user from stedi_landing.accelerometer_screened"
        f" where landing_file like '%hostile%' and reading_time_ms = {t(9000)}"
        " and exclusion_reason = 'unknown_customer' and raw_z = '0.0'"
    ) == [("zed.unknown@example.com",), ("zed.unknown@example.com",)]
    assert lakehouse.rows(
        "select email, exclusion_reason from stedi_landing.customer_screened"
        " where raw_email like 'mo.mu%'"
    ) == [("mo.mu@example.com", "no_research_consent")]


def test_numbers_are_read_whatever_their_json_spelling(lakehouse: Lakehouse) -> None:
    assert lakehouse.rows(
        "select raw_x, raw_y, raw_z, x, y, z from stedi_landing.accelerometer_screened"
        " where landing_file like '%hostile%' and raw_z = '2.5'"
    ) == [("1.0", "-0.0", "2.5", 1.0, -0.0, 2.5)]


def test_a_time_beyond_any_calendar_fails_no_query(lakehouse: Lakehouse) -> None:
    assert lakehouse.rows(
        "select exclusion_reason, reading_at, reading_date"
        " from stedi_landing.accelerometer_screened"
        " where raw_timestamp = '999999999999999999'"
    ) == [("implausible_time", None, None)]


def test_a_non_ascii_email_is_normalized_alike_in_sql_and_python(lakehouse: Lakehouse) -> None:
    delivered = f"\t{GREEK_NAME}@Example.COM "
    assert normalize_email(delivered) == SIS
    assert lakehouse.rows(
        "select email from stedi_landing.customer_screened where customer_name = 'Sísyphos'"
    ) == [(SIS,)]
    # the reading delivered as <name>@EXAMPLE.com is the same customer's
    assert lakehouse.rows(
        "select device_key from stedi_curated.machine_learning_curated"
        f" where reading_time_ms = {t(6000)} and x = 0.1"
    ) == [(device("dev-sis"),)]


def test_records_tied_on_every_date_rank_the_same_way_everywhere(lakehouse: Lakehouse) -> None:
    # Lee's two records differ only in phone, absent from one: nulls first
    assert lakehouse.rows(
        "select phone, email_record_rank, exclusion_reason from stedi_landing.customer_screened"
        f" where email = '{LEE}'"
    ) == [(None, 1, None), ("999", 2, "superseded_record")]


def test_gzipped_files_are_read_and_other_files_are_not(lakehouse: Lakehouse) -> None:
    assert lakehouse.rows(
        "select exclusion_reason, reading_time_ms from stedi_landing.accelerometer_screened"
        " where landing_file like '%.json.gz'"
    ) == [("unknown_customer", t(10000))]
    assert lakehouse.rows(
        "select count(*) from stedi_landing.accelerometer_screened"
        " where landing_file not like '%.json' and landing_file not like '%.json.gz'"
    ) == [(0,)]


def test_an_export_in_the_older_spelling_yields_trusted_and_ml_rows(
    tmp_path: Path, lakehouse: Lakehouse
) -> None:
    """Every accelerometer key spelled timeStamp, as older STEDI exports do:
    the same trusted readings and ML rows as the public spelling."""
    landing = tmp_path / "landing"
    for data_set in ("customer", "accelerometer", "step_trainer"):
        (landing / data_set).mkdir(parents=True)
        for path in sorted((FIXTURE_LANDING / data_set).glob("*.json")):
            if "hostile" in path.name:
                continue
            text = path.read_text(encoding="utf-8")
            if data_set == "accelerometer":
                text = text.replace('"timestamp":', '"timeStamp":')
            (landing / data_set / path.name).write_text(text, encoding="utf-8")
    assert '"timestamp"' not in "".join(
        p.read_text() for p in (landing / "accelerometer").glob("*.json")
    )
    older = Lakehouse(target_path=tmp_path / "target", landing_root=landing)
    older.build(enforce_consent_date=True)
    lakehouse.invalidate()
    assert older.rows(
        "select user_email, reading_time_ms from stedi_trusted.accelerometer_trusted"
    ) == sorted(
        [
            (ANN, t(5000)),
            (ANN, t(5000)),
            (ANN, t(6000)),
            (ANN, t(7000)),
            (BOB, t(5000)),
            (BOB, t(6000)),
            (BOB, t(7000)),
            ("hal.eta@example.com", t(5000)),
            ("ivy.theta@example.com", t(5000)),
        ]
    )
    assert older.rows(
        "select device_key, reading_time_ms from stedi_curated.machine_learning_curated"
    ) == sorted(
        [
            (device("dev-ann"), t(5000)),
            (device("dev-ann"), t(5000)),
            (device("dev-ann"), t(6000)),
            (device("dev-bob"), t(5000)),
            (device("dev-bob"), t(6000)),
        ]
    )
