"""`dbt build` on the hand-written fixture landing zone (tests/fixtures):
every model holds exactly the expected rows, under both consent rules, and
the data tests catch the violations they exist for."""

from __future__ import annotations

from typing import Any

import pytest

from tests.python.lakehouse import Lakehouse

ANN, BOB, EVE = "ann.alpha@example.com", "bob.beta@example.com", "eve.epsilon@example.com"


def failed_nodes(result: Any) -> set[str]:
    """Names of the dbt nodes that failed or errored in a dbt result."""
    return {item.node.name for item in result.result if str(item.status) in {"fail", "error"}}


class TestConsentDateEnforced:
    @pytest.fixture(autouse=True)
    def built(self, lakehouse: Lakehouse) -> None:
        lakehouse.build(enforce_consent_date=True)

    def test_customer_trusted_is_the_current_record_of_consenting_customers(
        self, lakehouse: Lakehouse
    ) -> None:
        assert lakehouse.rows(
            "select email, phone, research_consent_ms from stedi_trusted.customer_trusted"
        ) == [(ANN, "222", 5000), (BOB, "333", 5000), (EVE, "666", 9000)]

    def test_accelerometer_trusted_starts_exactly_at_consent(self, lakehouse: Lakehouse) -> None:
        assert lakehouse.rows(
            "select user_email, reading_time_ms, x, y, z from stedi_trusted.accelerometer_trusted"
        ) == [
            (ANN, 5000, 0.0, 1.0, 0.0),
            (ANN, 5000, 1.0, 0.0, 0.0),
            (ANN, 6000, 0.0, 0.0, 1.0),
            (BOB, 5000, -1.0, 0.0, 0.0),
            (BOB, 6000, 0.0, -1.0, 0.0),
        ]

    def test_customers_curated_are_trusted_customers_with_readings(
        self, lakehouse: Lakehouse
    ) -> None:
        assert lakehouse.rows(
            "select email, serial_number, accelerometer_reading_count"
            " from stedi_curated.customers_curated"
        ) == [(ANN, "dev-ann", 3), (BOB, "dev-bob", 2)]

    def test_step_trainer_trusted_keeps_curated_devices_after_consent(
        self, lakehouse: Lakehouse
    ) -> None:
        assert lakehouse.rows(
            "select serial_number, sensor_reading_time_ms, distance_from_object"
            " from stedi_trusted.step_trainer_trusted"
        ) == [
            ("dev-ann", 5000, 201.0),
            ("dev-ann", 6000, 202.0),
            ("dev-bob", 5000, 251.0),
            ("dev-bob", 6000, 252.0),
        ]

    def test_machine_learning_curated_pairs_each_reading_with_its_owners_device(
        self, lakehouse: Lakehouse
    ) -> None:
        # Ann and Bob both have readings at 5000 and 6000: each pairs with
        # their own device's distance only.
        assert lakehouse.rows(
            "select serial_number, reading_time_ms, x, y, z, distance_from_object"
            " from stedi_curated.machine_learning_curated"
        ) == [
            ("dev-ann", 5000, 0.0, 1.0, 0.0, 201.0),
            ("dev-ann", 5000, 1.0, 0.0, 0.0, 201.0),
            ("dev-ann", 6000, 0.0, 0.0, 1.0, 202.0),
            ("dev-bob", 5000, -1.0, 0.0, 0.0, 251.0),
            ("dev-bob", 6000, 0.0, -1.0, 0.0, 252.0),
        ]

    def test_machine_learning_curated_has_no_direct_identifier(self, lakehouse: Lakehouse) -> None:
        columns = lakehouse.rows("describe stedi_curated.machine_learning_curated")
        names = {row[0] for row in columns}
        assert names == {
            "serial_number",
            "reading_time_ms",
            "x",
            "y",
            "z",
            "distance_from_object",
            "reading_at",
        }

    def test_every_landing_row_is_admitted_or_has_a_reason(self, lakehouse: Lakehouse) -> None:
        def reasons(model: str) -> list[tuple[Any, ...]]:
            return lakehouse.rows(
                f"select coalesce(exclusion_reason, 'admitted'), count(*)"
                f" from stedi_landing.{model} group by exclusion_reason"
            )

        # 8 customer lines, 13 accelerometer lines, 10 step-trainer lines.
        assert reasons("customer_screened") == [
            ("admitted", 3),
            ("missing_email", 1),
            ("no_research_consent", 2),
            ("superseded_record", 2),
        ]
        assert reasons("accelerometer_screened") == [
            ("admitted", 5),
            ("before_research_consent", 3),
            ("duplicate", 1),
            ("incomplete", 1),
            ("no_research_consent", 2),
            ("unknown_customer", 1),
        ]
        assert reasons("step_trainer_screened") == [
            ("admitted", 4),
            ("before_research_consent", 1),
            ("device_not_curated", 2),
            ("duplicate", 1),
            ("incomplete", 1),
            ("unknown_device", 1),
        ]

    def test_timestamps_are_derived_exactly_from_epoch_ms(self, lakehouse: Lakehouse) -> None:
        assert lakehouse.rows(
            "select distinct cast(reading_at as string)"
            " from stedi_curated.machine_learning_curated where reading_time_ms = 5000"
        ) == [("1970-01-01 00:00:05",)]


class TestDataTestsCatchViolations:
    """Tamper with built tables; the matching data test must fail."""

    @pytest.fixture(autouse=True)
    def built(self, lakehouse: Lakehouse) -> Any:
        lakehouse.build(enforce_consent_date=True)
        yield
        lakehouse.invalidate()

    def test_reading_before_consent_fails_the_build(self, lakehouse: Lakehouse) -> None:
        lakehouse.rows(
            "insert into stedi_trusted.accelerometer_trusted"
            f" values ('{ANN}', 4000, 9.0, 9.0, 9.0, timestamp_millis(4000))"
        )
        result = lakehouse.dbt("test", "--select", "accelerometer_trusted")
        assert not result.success
        assert "assert_no_reading_before_research_consent" in failed_nodes(result)

    def test_customer_without_consent_fails_the_build(self, lakehouse: Lakehouse) -> None:
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
        self, lakehouse: Lakehouse
    ) -> None:
        # Ann's reading at 5000 paired with Bob's device: the time-only join bug.
        lakehouse.rows(
            "insert into stedi_curated.machine_learning_curated"
            " values ('dev-bob', 5000, 1.0, 0.0, 0.0, 251.0, timestamp_millis(5000))"
        )
        result = lakehouse.dbt("test", "--select", "machine_learning_curated")
        assert "assert_machine_learning_rows_are_owner_matched" in failed_nodes(result)

    def test_identifier_column_in_machine_learning_curated_fails_the_build(
        self, lakehouse: Lakehouse
    ) -> None:
        lakehouse.rows("drop table stedi_curated.machine_learning_curated")
        lakehouse.rows(
            "create table stedi_curated.machine_learning_curated using parquet as"
            " select 'dev-ann' as serial_number, 5000L as reading_time_ms,"
            f" '{ANN}' as user_email"
        )
        result = lakehouse.dbt("test", "--select", "machine_learning_curated")
        assert any(name.startswith("no_direct_identifier_columns") for name in failed_nodes(result))


class TestConsentAtAnyTime:
    """enforce_consent_date false: the classic rule."""

    @pytest.fixture(autouse=True)
    def built(self, lakehouse: Lakehouse) -> None:
        lakehouse.build(enforce_consent_date=False)

    def test_readings_before_consent_are_admitted(self, lakehouse: Lakehouse) -> None:
        assert lakehouse.rows(
            "select user_email, reading_time_ms from stedi_trusted.accelerometer_trusted"
        ) == [
            (ANN, 4999),
            (ANN, 5000),
            (ANN, 5000),
            (ANN, 6000),
            (BOB, 5000),
            (BOB, 6000),
            (EVE, 5000),
            (EVE, 6000),
        ]

    def test_late_consenting_customer_is_curated(self, lakehouse: Lakehouse) -> None:
        assert lakehouse.rows("select email from stedi_curated.customers_curated") == [
            (ANN,),
            (BOB,),
            (EVE,),
        ]

    def test_machine_learning_curated_includes_pre_consent_pairs(
        self, lakehouse: Lakehouse
    ) -> None:
        assert lakehouse.rows(
            "select serial_number, reading_time_ms, distance_from_object"
            " from stedi_curated.machine_learning_curated"
        ) == [
            ("dev-ann", 4999, 200.0),
            ("dev-ann", 5000, 201.0),
            ("dev-ann", 5000, 201.0),
            ("dev-ann", 6000, 202.0),
            ("dev-bob", 5000, 251.0),
            ("dev-bob", 6000, 252.0),
            ("dev-eve", 5000, 270.0),
        ]

    def test_customers_without_consent_stay_out(self, lakehouse: Lakehouse) -> None:
        emails = {
            row[0]
            for row in lakehouse.rows("select user_email from stedi_trusted.accelerometer_trusted")
        }
        assert emails.isdisjoint(
            {"cy.gamma@example.com", "dee.delta@example.com", "zed.unknown@example.com"}
        )
