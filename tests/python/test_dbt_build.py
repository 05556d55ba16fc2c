"""`dbt build` on the hand-written fixture landing zone (tests/fixtures):
every model holds exactly the expected rows, under both consent rules, and
the data tests catch the violations they exist for."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from scripts.benchmarks.reference_duckdb import landing_files, landing_lines
from scripts.common import dbt_invoke
from scripts.erasure_request import email_hash, erasure_salt
from tests.python.lakehouse import CONTRACT_BREAKS, Lakehouse, pseudonymous_key, tampered_project

pytestmark = [pytest.mark.spark]

ANN, BOB, EVE = "ann.alpha@example.com", "bob.beta@example.com", "eve.epsilon@example.com"
HAL, IVY = "hal.eta@example.com", "ivy.theta@example.com"
LEE = "lee.lambda@example.com"
# a Greek name in capitals, delivered as "\t<name>@Example.COM ": whitespace
# trimmed and only A-Z lowered
GREEK_NAME = "\u03a3\u038a\u03a3\u03a5\u03a6\u039f\u03a3"
SIS = GREEK_NAME + "@example.com"
FAY = "fay.forgotten@example.com"  # listed in seeds/erasure_requests.csv


def device(serial_number: str) -> str:
    return pseudonymous_key("device", serial_number)


def customer(email: str) -> str:
    return pseudonymous_key("customer", email)


# The fixture's epoch-millisecond times are BASE plus a small offset.
BASE = 1_655_560_000_000


def t(offset: int) -> int:
    return BASE + offset


def delivered_records(folder: Path) -> int:
    """The records of a landing folder counted in Python: the non-blank
    lines (space, tab, CR and LF are blank) of its *.json and *.json.gz
    files."""
    count = 0
    for path in landing_files(folder):
        if path.name.endswith((".json", ".json.gz")):
            lines = landing_lines(path)
            count += sum(1 for line in lines if line.lstrip("\ufeff").strip(" \t\r\n"))
    return count


def failed_nodes(result: Any) -> set[str]:
    """Names of the dbt nodes that failed or errored in a dbt result."""
    return {item.node.name for item in result.result if str(item.status) in {"fail", "error"}}


class TestConsentDateEnforced:
    @pytest.fixture(autouse=True)
    def built(self, lakehouse: Lakehouse) -> None:
        lakehouse.build(enforce_consent_date=True)

    def test_every_unit_test_passes(self, lakehouse: Lakehouse) -> None:
        """Once, here: the builds leave the unit tests out (they read their
        own fixtures, never the landing folder or the built tables)."""
        declared = [
            test["name"]
            for path in sorted((dbt_invoke.PROJECT_DIR / "models").glob("*/_*__unit_tests.yml"))
            for test in yaml.safe_load(path.read_text(encoding="utf-8"))["unit_tests"]
        ]
        result = lakehouse.dbt("test", "--select", "test_type:unit")
        assert result.success, result.exception
        ran = {
            item.node.name: str(item.status)
            for item in result.result.results
            if item.node.resource_type == "unit_test"  # not the on-run-start hooks
        }
        assert ran == dict.fromkeys(declared, "pass")

    def test_customer_trusted_is_the_current_record_of_consenting_customers(
        self, lakehouse: Lakehouse
    ) -> None:
        assert lakehouse.rows(
            "select email, phone, research_consent_ms from stedi_trusted.customer_trusted"
        ) == [
            (ANN, "222", t(5000)),
            (BOB, "333", t(5000)),
            (EVE, "666", t(9000)),
            (HAL, "777", t(5000)),
            (IVY, "888", t(5000)),  # consent delivered as a string
            # two records tied on every date, one without a phone: the order
            # is total, nulls first, so every engine keeps the same one
            (LEE, None, t(5000)),
            (SIS, None, t(5000)),  # consent delivered tab-padded
        ]

    def test_accelerometer_trusted_starts_exactly_at_consent(self, lakehouse: Lakehouse) -> None:
        assert lakehouse.rows(
            "select user_email, reading_time_ms, x, y, z from stedi_trusted.accelerometer_trusted"
        ) == [
            (ANN, t(5000), 0.0, 1.0, 0.0),
            (ANN, t(5000), 1.0, 0.0, 0.0),
            (ANN, t(6000), 0.0, 0.0, 1.0),
            (ANN, t(7000), 1.0, 0.0, 1.0),  # time and x delivered as strings
            # e-mail and x tab-padded; timestamp wins over timeStamp
            (ANN, t(8000), 0.5, 0.0, 0.0),
            (BOB, t(5000), -1.0, 0.0, 0.0),
            (BOB, t(6000), 0.0, -1.0, 0.0),
            (BOB, t(7000), 1.0, 0.0, 0.0),  # the older spelling timeStamp
            (HAL, t(5000), 1.0, 0.0, 1.0),  # line ending in a trailing comma
            (IVY, t(5000), 0.0, 1.0, 1.0),  # CRLF line ending
            (SIS, t(6000), 0.1, 0.2, 0.3),  # a non-ASCII e-mail
        ]

    def test_customers_curated_are_trusted_customers_with_readings(
        self, lakehouse: Lakehouse
    ) -> None:
        # Python's HMAC with the development key gives the same keys as Spark.
        assert lakehouse.rows(
            "select customer_key, device_key, accelerometer_reading_count"
            " from stedi_curated.customers_curated"
        ) == sorted(
            [
                (customer(ANN), device("dev-ann"), 5),
                (customer(BOB), device("dev-bob"), 3),
                (customer(HAL), device("dev-shared"), 1),
                (customer(IVY), device("dev-shared"), 1),
                (customer(SIS), device("dev-sis"), 1),
            ]
        )

    def test_step_trainer_trusted_keeps_curated_devices_after_consent(
        self, lakehouse: Lakehouse
    ) -> None:
        assert lakehouse.rows(
            "select serial_number, sensor_reading_time_ms, distance_from_object"
            " from stedi_trusted.step_trainer_trusted"
        ) == [
            ("dev-ann", t(5000), 201.0),
            ("dev-ann", t(6000), 202.0),
            ("dev-ann", t(8000), 203.0),  # serial and distance tab-padded
            ("dev-bob", t(5000), 251.0),
            ("dev-bob", t(6000), 252.0),
            ("dev-bob", t(9000), 253.0),  # distance delivered as a string
            ("dev-sis", t(6000), 230.0),
        ]

    def test_machine_learning_curated_pairs_each_reading_with_its_owners_device(
        self, lakehouse: Lakehouse
    ) -> None:
        # Ann and Bob both have readings at t(5000) and t(6000): each pairs with
        # their own device's distance only.
        assert lakehouse.rows(
            "select device_key, reading_time_ms, x, y, z, distance_from_object"
            " from stedi_curated.machine_learning_curated"
        ) == sorted(
            [
                (device("dev-ann"), t(5000), 0.0, 1.0, 0.0, 201.0),
                (device("dev-ann"), t(5000), 1.0, 0.0, 0.0, 201.0),
                (device("dev-ann"), t(6000), 0.0, 0.0, 1.0, 202.0),
                (device("dev-ann"), t(8000), 0.5, 0.0, 0.0, 203.0),
                (device("dev-bob"), t(5000), -1.0, 0.0, 0.0, 251.0),
                (device("dev-bob"), t(6000), 0.0, -1.0, 0.0, 252.0),
                (device("dev-sis"), t(6000), 0.1, 0.2, 0.3, 230.0),
            ]
        )

    def test_curated_models_carry_no_identifier(self, lakehouse: Lakehouse) -> None:
        def columns(model: str) -> set[str]:
            from pyspark.sql import SparkSession

            return set(SparkSession.builder.getOrCreate().table(f"stedi_curated.{model}").columns)

        assert columns("machine_learning_curated") == {
            "device_key",
            "reading_time_ms",
            "x",
            "y",
            "z",
            "distance_from_object",
            "reading_at",
            "screened_at",
            "reading_date",
        }
        assert {"customer_key", "device_key"} <= columns("customers_curated")
        assert columns("customers_curated").isdisjoint(
            {"email", "customer_name", "phone", "birth_day", "serial_number"}
        )

    def test_erased_customer_is_in_no_trusted_or_curated_model(self, lakehouse: Lakehouse) -> None:
        # Fay consented and has paired readings: only her erasure request
        # keeps her out.
        assert (
            lakehouse.rows(
                "select count(*) from stedi_trusted.customer_trusted where email = "
                f"'{FAY}' union all select count(*) from stedi_trusted.accelerometer_trusted"
                f" where user_email = '{FAY}' union all select count(*)"
                " from stedi_trusted.step_trainer_trusted where serial_number = 'dev-fay'"
                " union all select count(*) from stedi_curated.customers_curated"
                f" where customer_key = '{customer(FAY)}' or device_key = '{device('dev-fay')}'"
                " union all select count(*) from stedi_curated.machine_learning_curated"
                f" where device_key = '{device('dev-fay')}'"
            )
            == [(0,)] * 5
        )
        # her rejected rows (and Gil's reading, of no customer record) are
        # counted, and their data withheld: all but the file
        for data_set, rows in (("customer", 4), ("accelerometer", 4), ("step_trainer", 3)):
            rejected = lakehouse.rows(
                f"select * from stedi_landing.{data_set}_rejected where exclusion_reason = 'erased'"
            )
            assert len(rejected) == rows, data_set
            assert {value for row in rejected for value in row[1:-1]} == {None}, data_set
            assert all(row[-1].endswith("-erased.json") for row in rejected), data_set

    def test_erased_customers_leave_no_value_in_any_table_or_view(
        self, lakehouse: Lakehouse
    ) -> None:
        # Fay's records, current and old, her readings, her old device's
        # reading, a truncated line of each with her e-mail, and Gil's
        # reading of no customer record: no table keeps a value of theirs,
        # nor a flag telling who, and no rejected view shows one
        traces = ("fay", "forgotten", "dev-fay", "1984-02-29", "gil.gone")
        found = {}
        for schema in ("stedi_landing", "stedi_trusted", "stedi_curated"):
            for _, name, is_temporary in lakehouse.rows(f"show tables in {schema}"):
                # a temporary view is the session's, not the warehouse's
                if is_temporary:
                    continue
                # the landing tables and the intermediate views over them
                # show the files as delivered, until the forget step
                # rewrites them
                if name in ("customer", "accelerometer", "step_trainer") or name.startswith("int_"):
                    continue
                columns = [row[0] for row in lakehouse.rows(f"show columns in {schema}.{name}")]
                text = (
                    "concat_ws('|', "
                    + ", ".join(f"cast(`{column}` as string)" for column in columns)
                    + ")"
                )
                [(count,)] = lakehouse.rows(
                    f"select count(*) from {schema}.{name} where "
                    + " or ".join(f"lower({text}) like '%{trace}%'" for trace in traces)
                )
                found[f"{schema}.{name}"] = count
        assert found and set(found.values()) == {0}, {k: v for k, v in found.items() if v}

    def test_erasure_requests_name_customers_by_salted_hash_only(
        self, lakehouse: Lakehouse
    ) -> None:
        hashes = [
            row[0]
            for row in lakehouse.rows("select email_sha256 from stedi_landing.erasure_requests")
        ]
        assert hashes and all(
            len(value) == 64 and set(value) <= set("0123456789abcdef") for value in hashes
        )
        # the Python scheme (scripts/erasure_request.py) and the macro agree,
        # also for an e-mail delivered in mixed case with spaces
        assert email_hash(" Fay.Forgotten@Example.COM ", erasure_salt()) in hashes

    def test_every_landing_row_is_admitted_or_has_a_reason(self, lakehouse: Lakehouse) -> None:
        def reasons(model: str) -> list[tuple[Any, ...]]:
            return lakehouse.rows(
                f"select coalesce(exclusion_reason, 'admitted'), count(*)"
                f" from stedi_landing.{model} group by exclusion_reason"
            )

        # 25 customer records, 48 accelerometer records, 32 step-trainer
        # records: the non-blank lines of the data files
        assert reasons("customer_screened") == [
            ("admitted", 7),
            ("erased", 4),
            ("invalid_value", 2),
            ("malformed", 6),
            ("no_research_consent", 3),
            ("superseded_record", 3),
        ]
        assert reasons("accelerometer_screened") == [
            ("admitted", 11),
            ("before_research_consent", 3),
            ("duplicate", 1),
            ("erased", 4),
            ("implausible_time", 3),
            ("invalid_value", 5),
            ("malformed", 11),
            ("missing_field", 1),
            ("no_research_consent", 2),
            ("out_of_range", 1),
            ("unknown_customer", 6),
        ]
        assert reasons("step_trainer_screened") == [
            ("admitted", 7),
            ("ambiguous_device", 1),
            ("before_research_consent", 2),
            ("device_not_curated", 4),
            ("duplicate", 6),
            ("erased", 3),
            ("invalid_value", 1),
            ("malformed", 2),
            ("missing_field", 2),
            ("out_of_range", 2),
            ("unknown_device", 2),
        ]

    def test_landing_rows_equal_trusted_plus_rejected(self, lakehouse: Lakehouse) -> None:
        for data_set in ("customer", "accelerometer", "step_trainer"):
            # counted here from the files: every non-blank line of a data file
            landing = delivered_records(lakehouse.landing_root / data_set)
            [(trusted,)] = lakehouse.rows(f"select count(*) from stedi_trusted.{data_set}_trusted")
            [(rejected,)] = lakehouse.rows(
                f"select count(*) from stedi_landing.{data_set}_rejected"
            )
            assert landing == trusted + rejected > trusted > 0, data_set

    def test_dirty_rows_are_rejected_as_delivered_with_their_reason(
        self, lakehouse: Lakehouse
    ) -> None:
        accelerometer = lakehouse.rows(
            "select exclusion_reason, user_as_delivered, timestamp_as_delivered,"
            " x_as_delivered from stedi_landing.accelerometer_rejected"
            " where exclusion_reason in"
            " ('missing_field', 'invalid_value', 'implausible_time', 'out_of_range',"
            " 'malformed') and landing_file not like '%hostile%'"
        )
        assert accelerometer == [
            ("implausible_time", BOB, "1000000000000", "1.0"),  # before the product
            ("implausible_time", BOB, "4102444800000", "1.0"),  # in the future
            ("invalid_value", BOB, str(t(7000)), "abc"),
            ("malformed", None, None, None),  # a truncated line
            ("out_of_range", BOB, str(t(8000)), "500.0"),
        ]
        assert lakehouse.rows(
            "select exclusion_reason, email, last_update_date"
            " from stedi_landing.customer_rejected"
            " where exclusion_reason in ('invalid_value', 'malformed')"
            " and landing_file not like '%hostile%'"
        ) == [
            ("invalid_value", "jo.iota@example.com", "yesterday"),
            ("malformed", None, None),
        ]
        assert lakehouse.rows(
            "select exclusion_reason, serial_number_as_delivered,"
            " distance_from_object_as_delivered from stedi_landing.step_trainer_rejected"
            " where exclusion_reason in ('ambiguous_device', 'out_of_range')"
        ) == [
            ("ambiguous_device", "dev-shared", "210"),  # Hal's and Ivy's device
            ("out_of_range", "dev-bob", "-5"),
            ("out_of_range", "dev-bob", "1.0E9"),
        ]

    def test_a_file_delivered_twice_adds_nothing(self, lakehouse: Lakehouse) -> None:
        # devices-1-delivered-again.json repeats devices-1.json line for line
        assert lakehouse.rows(
            "select count(*), count(distinct serial_number, sensor_reading_time_ms)"
            " from stedi_trusted.step_trainer_trusted"
        ) == [(7, 7)]

    def test_timestamps_are_derived_exactly_from_epoch_ms(self, lakehouse: Lakehouse) -> None:
        assert lakehouse.rows(
            "select distinct cast(reading_at as string)"
            f" from stedi_curated.machine_learning_curated where reading_time_ms = {t(5000)}"
        ) == [("2022-06-18 13:46:45",)]


class TestDataTestsCatchViolations:
    """Tamper with built tables; the matching data test must fail."""

    @pytest.fixture(autouse=True)
    def tampered(self, lakehouse: Lakehouse) -> Iterator[list[str]]:
        """The models a test tampers with: rebuilt from their inputs after
        it (a few seconds; a whole build took 40), the rest kept."""
        lakehouse.build(enforce_consent_date=True)
        models: list[str] = []
        yield models
        if models and not lakehouse.dbt("run", "--full-refresh", "--select", *models).success:
            lakehouse.invalidate()

    def test_reading_before_consent_fails_the_build(
        self, lakehouse: Lakehouse, tampered: list[str]
    ) -> None:
        tampered.append("accelerometer_trusted")
        lakehouse.rows(
            "insert into stedi_trusted.accelerometer_trusted"
            f" values ('{ANN}', {t(4000)}, 9.0, 9.0, 9.0, timestamp_millis({t(4000)}),"
            f" current_timestamp(), date '2022-06-18')"
        )
        result = lakehouse.dbt("test", "--select", "accelerometer_trusted")
        assert not result.success
        assert "assert_no_reading_before_research_consent" in failed_nodes(result)

    def test_a_row_appearing_from_nowhere_fails_the_accounting(
        self, lakehouse: Lakehouse, tampered: list[str]
    ) -> None:
        tampered.append("step_trainer_trusted")
        lakehouse.rows(
            "insert into stedi_trusted.step_trainer_trusted"
            f" values ('dev-ann', {t(5500)}, 205.0, timestamp_millis({t(5500)}),"
            f" current_timestamp(), date '2022-06-18')"
        )
        result = lakehouse.dbt("test", "--select", "assert_landing_rows_are_all_accounted_for")
        assert not result.success
        assert "assert_landing_rows_are_all_accounted_for" in failed_nodes(result)

    def test_customer_without_consent_fails_the_build(
        self, lakehouse: Lakehouse, tampered: list[str]
    ) -> None:
        tampered.append("customer_trusted")
        lakehouse.rows(
            "insert into stedi_trusted.customer_trusted (email, research_consent_ms)"
            " values ('dee.delta@example.com', 1000)"
        )
        result = lakehouse.dbt("test", "--select", "customer_trusted")
        assert not result.success
        assert any(
            name.startswith("trusted_customers_have_current_research_consent")
            for name in failed_nodes(result)
        )

    def test_reading_paired_with_another_customers_device_fails_the_build(
        self, lakehouse: Lakehouse, tampered: list[str]
    ) -> None:
        tampered.append("machine_learning_curated")
        # Ann's reading at t(5000) paired with Bob's device: the time-only join bug.
        lakehouse.rows(
            "insert into stedi_curated.machine_learning_curated values"
            f" ('{device('dev-bob')}', {t(5000)}, 1.0, 0.0, 0.0, 251.0,"
            f" timestamp_millis({t(5000)}), current_timestamp(), date '2022-06-18')"
        )
        result = lakehouse.dbt("test", "--select", "machine_learning_curated")
        assert "assert_machine_learning_rows_are_owner_matched" in failed_nodes(result)

    def test_identifier_column_in_machine_learning_curated_fails_the_build(
        self, lakehouse: Lakehouse, tampered: list[str]
    ) -> None:
        tampered.append("machine_learning_curated")
        lakehouse.rows("drop table stedi_curated.machine_learning_curated")
        lakehouse.rows(
            "create table stedi_curated.machine_learning_curated using parquet as"
            " select 'dev-ann' as serial_number, 5000L as reading_time_ms,"
            f" '{ANN}' as user_email"
        )
        result = lakehouse.dbt("test", "--select", "machine_learning_curated")
        assert any(name.startswith("no_direct_identifier_columns") for name in failed_nodes(result))
        assert any(name.startswith("no_pii_columns") for name in failed_nodes(result))

    def test_keys_that_are_identifiers_or_plain_hashes_fail_the_build(
        self, lakehouse: Lakehouse, tampered: list[str]
    ) -> None:
        tampered.append("customers_curated")
        # a customer key that is the unkeyed SHA-256 of the e-mail (anyone
        # can recompute it), a device key that fell back to the raw serial
        lakehouse.rows(
            "insert into stedi_curated.customers_curated"
            " (customer_key, device_key, research_consent_ms, accelerometer_reading_count)"
            f" values (sha2('{ANN}', 256), 'dev-ann', 1000, 1)"
        )
        result = lakehouse.dbt("test", "--select", "customers_curated")
        failed = failed_nodes(result)
        assert any(
            name.startswith("is_pseudonymous_key_customers_curated_customer") for name in failed
        )
        assert any(
            name.startswith("is_pseudonymous_key_customers_curated_device") for name in failed
        )
        assert not any(name.startswith("no_contact_details_in_text") for name in failed)

    def test_an_email_or_phone_number_in_a_curated_text_column_fails_the_build(
        self, lakehouse: Lakehouse, tampered: list[str]
    ) -> None:
        tampered.extend(["customers_curated", "machine_learning_curated"])
        lakehouse.rows(
            "insert into stedi_curated.customers_curated"
            " (customer_key, device_key, research_consent_ms, accelerometer_reading_count)"
            f" values ('{'0' * 64}', '801-555-1212', 1000, 1)"
        )
        # a text column the ML table should not have, holding an e-mail
        lakehouse.rows("drop table stedi_curated.machine_learning_curated")
        lakehouse.rows(
            "create table stedi_curated.machine_learning_curated using parquet as"
            f" select '{device('dev-ann')}' as device_key, ' Ann@Example.com' as comment"
        )
        result = lakehouse.dbt("test", "--select", "customers_curated", "machine_learning_curated")
        failed = {name for name in failed_nodes(result) if "no_contact_details" in name}
        assert failed == {
            "no_contact_details_in_text_customers_curated_",
            "no_contact_details_in_text_machine_learning_curated_device_key",
        }
        # the test reports the column and how many values, never a value
        messages = " ".join(str(item.message) for item in result.result)
        assert "801-555-1212" not in messages and "Example.com" not in messages

    @pytest.mark.parametrize("change", sorted(CONTRACT_BREAKS))
    def test_a_column_change_the_contract_does_not_declare_fails_the_build(
        self, lakehouse: Lakehouse, change: str, tmp_path: Path
    ) -> None:
        project = tampered_project(tmp_path, *CONTRACT_BREAKS[change])
        variables = dbt_invoke.dbt_vars(lakehouse.variables(enforce_consent_date=True))
        result = dbt_invoke.run(
            ["run", "--select", "customers_curated", *variables],
            tmp_path / "target",
            project_dir=project,
        )
        assert not result.success
        messages = " ".join(str(item.message) for item in result.result)
        assert "contract" in messages.lower(), messages
        assert "accelerometer_reading_count" in messages
        # the table the training job reads is the last good build's
        assert lakehouse.rows(
            "select count(accelerometer_reading_count) > 0 from stedi_curated.customers_curated"
        ) == [(True,)]

    def test_unclassified_column_in_customers_curated_fails_the_build(
        self, lakehouse: Lakehouse, tampered: list[str]
    ) -> None:
        tampered.append("customers_curated")
        # A serial number slips into curated under a name no pattern knows:
        # only the pii classification catches it.
        lakehouse.rows("alter table stedi_curated.customers_curated add columns (device string)")
        result = lakehouse.dbt("test", "--select", "customers_curated")
        failed = failed_nodes(result)
        assert any(name.startswith("no_pii_columns") for name in failed)
        assert not any(name.startswith("no_direct_identifier_columns") for name in failed)


class TestConsentAtAnyTime:
    """enforce_consent_date false: the classic rule."""

    @pytest.fixture(autouse=True)
    def built(self, lakehouse: Lakehouse) -> None:
        lakehouse.build(enforce_consent_date=False)

    def test_readings_before_consent_are_admitted(self, lakehouse: Lakehouse) -> None:
        assert lakehouse.rows(
            "select user_email, reading_time_ms from stedi_trusted.accelerometer_trusted"
        ) == [
            (ANN, t(4999)),
            (ANN, t(5000)),
            (ANN, t(5000)),
            (ANN, t(6000)),
            (ANN, t(7000)),
            (ANN, t(8000)),
            (BOB, t(5000)),
            (BOB, t(6000)),
            (BOB, t(7000)),
            (EVE, t(5000)),
            (EVE, t(6000)),
            (HAL, t(5000)),
            (IVY, t(5000)),
            (SIS, t(6000)),
        ]

    def test_late_consenting_customer_is_curated(self, lakehouse: Lakehouse) -> None:
        assert lakehouse.rows("select customer_key from stedi_curated.customers_curated") == sorted(
            (customer(email),) for email in (ANN, BOB, EVE, HAL, IVY, SIS)
        )

    def test_machine_learning_curated_includes_pre_consent_pairs(
        self, lakehouse: Lakehouse
    ) -> None:
        assert lakehouse.rows(
            "select device_key, reading_time_ms, distance_from_object"
            " from stedi_curated.machine_learning_curated"
        ) == sorted(
            [
                (device("dev-ann"), t(4999), 200.0),
                (device("dev-ann"), t(5000), 201.0),
                (device("dev-ann"), t(5000), 201.0),
                (device("dev-ann"), t(6000), 202.0),
                (device("dev-ann"), t(8000), 203.0),
                (device("dev-bob"), t(5000), 251.0),
                (device("dev-bob"), t(6000), 252.0),
                (device("dev-eve"), t(5000), 270.0),
                (device("dev-sis"), t(6000), 230.0),
            ]
        )

    def test_customers_without_consent_stay_out(self, lakehouse: Lakehouse) -> None:
        emails = {
            row[0]
            for row in lakehouse.rows("select user_email from stedi_trusted.accelerometer_trusted")
        }
        assert emails.isdisjoint(
            {
                "cy.gamma@example.com",
                "dee.delta@example.com",
                "zed.unknown@example.com",
                "jo.iota@example.com",
                FAY,  # erased, whatever the consent rule
            }
        )
