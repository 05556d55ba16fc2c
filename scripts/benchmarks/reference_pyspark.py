"""A hand-written PySpark DataFrame implementation of the lakehouse's rules,
the way the original STEDI design did it with Glue jobs: one Spark session,
no dbt. The benchmark (scripts/benchmarks/lakehouse.py) times it against the
dbt build on the same data and requires the same row counts.

It applies the same rules as the screening views (enforce_consent_date
true): the landing rulebook (raw lines, parsed once; aliases; an object or
array for a value is invalid); e-mails trimmed and A-Z lower-cased; the
latest record per e-mail, and only with research consent; erasure requests; complete, parseable and
plausible readings of consenting customers at or after their consent, one
copy each; step-trainer readings of devices held by exactly one curated
customer; readings paired with their owner's device at the same instant.
It writes Parquet tables and prints the row count of each as JSON.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scripts.benchmarks.reference_inputs import (
    BENCHMARK_PSEUDONYM_KEY,
    landing_keys,
    landing_tables,
)
from scripts.common import dbt_invoke, spark_jvm_options
from scripts.common.cli_logging import configure_logging
from scripts.erasure_request import listed_requests

LOG = logging.getLogger("reference_pyspark")
# Not a secret: the references only need a key of the same size.
BIGINT_PATTERN = r"^-?[0-9]{1,18}$"
DOUBLE_PATTERN = r"^-?[0-9]+([.][0-9]+)?([eE][-+]?[0-9]+)?$"


def build(spark: Any, landing: Path, out: Path, pseudonym_key: str) -> dict[str, int]:
    """Run every rule; write the five tables under ``out``; return row counts."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType, StructField, StructType

    settings = dbt_invoke.project_vars()
    started_ms = int(time.time() * 1000)
    launch_ms, latest_ms = int(settings["product_launch_ms"]), started_ms + 24 * 3600 * 1000
    max_acceleration = float(settings["max_abs_acceleration"])
    max_distance = float(settings["max_distance_from_object"])
    salt = str(settings["erasure_hash_salt"])

    strict = {"allowSingleQuotes": "false", "allowNonNumericNumbers": "false"}

    def trimmed(column: Any) -> Any:
        return F.btrim(column, F.lit(" \t\r\n"))

    def is_container(text: Any) -> Any:
        wrapped = F.from_json(F.concat(F.lit("["), text, F.lit(",0]")), "array<string>", strict)
        return F.coalesce(
            F.substring(text, 1, 1).isin("{", "[") & (F.size(wrapped) == 2), F.lit(False)
        )

    def read(dataset: str) -> Any:
        """The records of a data set by the landing rulebook: the declared
        columns as text (canonical key, then aliases), is_malformed and
        has_non_scalar_value."""
        declared = keys[dataset]
        json_keys = list(
            dict.fromkeys(k for name, aliases in declared.items() for k in [name, *aliases])
        )
        lines = spark.read.text(str(landing / dataset)).select(
            F.col("value"), F.col("_metadata.file_path").alias("landing_file")
        )
        lines = lines.where(
            F.col("landing_file").endswith(".json") | F.col("landing_file").endswith(".json.gz")
        )
        line = F.when(F.substring("value", 1, 1) == "\ufeff", F.expr("substr(value, 2)")).otherwise(
            F.col("value")
        )
        lines = lines.select("landing_file", trimmed(line).alias("text")).where(F.col("text") != "")
        lines = lines.select(
            "landing_file",
            F.when(
                F.col("text").endswith(","), trimmed(F.expr("substr(text, 1, length(text) - 1)"))
            )
            .otherwise(F.col("text"))
            .alias("text"),
        )
        exact = StructType([StructField(key, StringType()) for key in json_keys])
        positional = ", ".join(f"k{index}: string" for index in range(len(json_keys)))
        parsed = F.from_json(
            F.concat(F.lit("["), F.col("text"), F.lit(",{}]")),
            f"array<{exact.simpleString()}>",
            strict,
        ).cast(f"array<struct<{positional}>>")
        records = lines.select("landing_file", parsed.alias("parsed"))
        valid = F.coalesce((F.size("parsed") == 2) & F.col("parsed")[0].isNotNull(), F.lit(False))
        values = {key: F.col("parsed")[0][f"k{index}"] for index, key in enumerate(json_keys)}
        columns, non_scalar = [], F.lit(False)
        for name, aliases in declared.items():
            chosen = F.coalesce(*[values[key] for key in [name, *aliases]])
            columns.append(F.when(valid & ~is_container(chosen), chosen).alias(name))
            non_scalar = non_scalar | (valid & is_container(chosen))
        return records.select(
            "landing_file",
            *columns,
            (~valid).alias("is_malformed"),
            non_scalar.alias("has_non_scalar"),
        )

    def bigint(column: str) -> Any:
        text = trimmed(F.col(column))
        return F.when(text.rlike(BIGINT_PATTERN), text.cast("bigint"))

    def double(column: str) -> Any:
        text = trimmed(F.col(column))
        return F.when(text.rlike(DOUBLE_PATTERN), text.cast("double"))

    def normalized(column: str) -> Any:
        upper, lower = "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"
        return F.translate(trimmed(F.col(column)), upper, lower)

    keys = {
        table["meta"]["landing_folder"]: landing_keys()[table["name"]] for table in landing_tables()
    }
    schemas = {dataset: list(declared) for dataset, declared in keys.items()}
    erased = spark.createDataFrame(
        sorted({(digest,) for digest, _ in listed_requests()}), "email_sha256 string"
    )

    # customer_trusted: the current record of each e-mail, with consent
    dates = [
        "registrationDate",
        "lastUpdateDate",
        "shareWithResearchAsOfDate",
        "shareWithPublicAsOfDate",
        "shareWithFriendsAsOfDate",
    ]
    customers = read("customer").where(~F.col("is_malformed"))
    customers = customers.select(
        *[F.col(name) for name in schemas["customer"]],
        "landing_file",
        "has_non_scalar",
        normalized("email").alias("norm_email"),
        trimmed(F.col("serialNumber")).alias("serial_number"),
        *[bigint(name).alias(f"{name}_ms") for name in dates],
    )
    customers = customers.where(F.col("norm_email").isNotNull() & (F.col("norm_email") != ""))
    customers = customers.withColumn(
        "email_sha256", F.sha2(F.concat(F.lit(salt + ":"), F.col("norm_email")), 256)
    )
    erased_emails = (
        customers.join(F.broadcast(erased), "email_sha256", "left_semi")
        .select("norm_email")
        .distinct()
    )
    ranking = Window.partitionBy("norm_email").orderBy(
        F.col("lastUpdateDate_ms").desc_nulls_last(),
        F.when(F.col("shareWithResearchAsOfDate_ms").isNull(), 0).otherwise(1),
        F.col("shareWithResearchAsOfDate_ms").asc_nulls_first(),
        F.col("serial_number").asc_nulls_first(),
        F.col("customerName").asc_nulls_first(),
        F.col("registrationDate_ms").asc_nulls_first(),
        *[
            F.col(name).asc_nulls_first()
            for name in ["email", "phone", "birthDay", *dates, "landing_file"]
        ],
    )
    # the current record of every e-mail, erased customers included (they
    # still hold their devices)
    all_current = (
        customers.withColumn("record_rank", F.row_number().over(ranking))
        .where(F.col("record_rank") == 1)
        .cache()
    )
    current = all_current.join(erased_emails, "norm_email", "left_anti")
    invalid = F.col("has_non_scalar")
    for name in dates:
        bad = F.col(name).isNotNull() & F.col(f"{name}_ms").isNull()
        invalid = invalid | bad
    customer_trusted = current.where(
        ~invalid & F.col("shareWithResearchAsOfDate_ms").isNotNull()
    ).select(
        F.col("norm_email").alias("email"),
        "serial_number",
        F.col("shareWithResearchAsOfDate_ms").alias("research_consent_ms"),
    )
    customer_trusted = customer_trusted.cache()

    # accelerometer_trusted: complete, plausible readings after consent, once
    readings = read("accelerometer").where(~F.col("is_malformed") & ~F.col("has_non_scalar"))
    readings = readings.select(
        normalized("user").alias("user_email"),
        bigint("timestamp").alias("reading_time_ms"),
        *[double(axis).alias(axis) for axis in ("x", "y", "z")],
    )
    readings = readings.where(
        F.col("user_email").isNotNull()
        & (F.col("user_email") != "")
        & F.col("reading_time_ms").between(launch_ms, latest_ms)
        & F.col("x").isNotNull()
        & F.col("y").isNotNull()
        & F.col("z").isNotNull()
        & (F.abs("x") <= max_acceleration)
        & (F.abs("y") <= max_acceleration)
        & (F.abs("z") <= max_acceleration)
    )
    accelerometer_trusted = (
        readings.join(
            customer_trusted.select(F.col("email").alias("user_email"), "research_consent_ms"),
            "user_email",
        )
        .where(F.col("reading_time_ms") >= F.col("research_consent_ms"))
        .select("user_email", "reading_time_ms", "x", "y", "z")
        .dropDuplicates()
    )
    accelerometer_trusted.write.mode("overwrite").parquet(str(out / "accelerometer_trusted"))
    accelerometer_trusted = spark.read.parquet(str(out / "accelerometer_trusted"))

    # customers_curated: trusted customers with a trusted reading
    with_readings = accelerometer_trusted.select(F.col("user_email").alias("email")).distinct()
    curated = customer_trusted.join(with_readings, "email", "left_semi")

    def hmac(domain: str, column: str) -> Any:
        # a keyed hash of the same cost class as the dbt macro's HMAC
        return F.sha2(F.concat(F.lit(f"{pseudonym_key}{domain}:"), F.col(column)), 256)

    curated.select(
        hmac("customer", "email").alias("customer_key"),
        hmac("device", "serial_number").alias("device_key"),
        "research_consent_ms",
    ).write.mode("overwrite").parquet(str(out / "customers_curated"))

    # step_trainer_trusted: readings of devices with one curated holder
    # every device on any record of an erased customer, current or older
    erased_devices = (
        customers.join(erased_emails, "norm_email", "left_semi")
        .where(F.col("serial_number").isNotNull())
        .select("serial_number")
        .distinct()
    )
    owners = (
        all_current.groupBy("serial_number")
        .agg(F.countDistinct("norm_email").alias("owner_count"))
        .where(F.col("owner_count") == 1)
        .join(erased_devices, "serial_number", "left_anti")
    )
    curated_devices = curated.groupBy("serial_number").agg(
        F.max("research_consent_ms").alias("research_consent_ms")
    )
    step_trainer = read("step_trainer").where(~F.col("is_malformed") & ~F.col("has_non_scalar"))
    step_trainer = step_trainer.select(
        trimmed(F.col("serialNumber")).alias("serial_number"),
        bigint("sensorReadingTime").alias("sensor_reading_time_ms"),
        double("distanceFromObject").alias("distance_from_object"),
    )
    step_trainer_trusted = (
        step_trainer.where(
            F.col("serial_number").isNotNull()
            & (F.col("serial_number") != "")
            & F.col("sensor_reading_time_ms").between(launch_ms, latest_ms)
            & F.col("distance_from_object").between(0, max_distance)
        )
        .join(owners.select("serial_number"), "serial_number", "left_semi")
        .join(curated_devices, "serial_number")
        .where(F.col("sensor_reading_time_ms") >= F.col("research_consent_ms"))
        .select("serial_number", "sensor_reading_time_ms", "distance_from_object")
        .dropDuplicates()
    )
    step_trainer_trusted.write.mode("overwrite").parquet(str(out / "step_trainer_trusted"))
    step_trainer_trusted = spark.read.parquet(str(out / "step_trainer_trusted"))

    # machine_learning_curated: each reading with its owner's device reading
    training = (
        accelerometer_trusted.join(
            customer_trusted.select(F.col("email").alias("user_email"), "serial_number"),
            "user_email",
        )
        .join(
            step_trainer_trusted.withColumnRenamed("sensor_reading_time_ms", "reading_time_ms"),
            ["serial_number", "reading_time_ms"],
        )
        .select(
            hmac("device", "serial_number").alias("device_key"),
            "reading_time_ms",
            "x",
            "y",
            "z",
            "distance_from_object",
        )
    )
    training.write.mode("overwrite").parquet(str(out / "machine_learning_curated"))
    customer_trusted.write.mode("overwrite").parquet(str(out / "customer_trusted"))

    return {
        name: spark.read.parquet(str(out / name)).count()
        for name in (
            "customer_trusted",
            "accelerometer_trusted",
            "step_trainer_trusted",
            "customers_curated",
            "machine_learning_curated",
        )
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.benchmarks.reference_pyspark", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--landing-root", type=Path, required=True, help="landing folder")
    parser.add_argument("--out", type=Path, required=True, help="folder for the Parquet tables")
    parser.add_argument("--driver-memory", default="2g", help="Spark driver memory (default 2g)")
    args = parser.parse_args(argv)
    configure_logging()
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[*]")
        .appName("stedi-reference-pyspark")
        .config("spark.driver.memory", args.driver_memory)
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.adaptive.enabled", "true")
        # the class archive and the collector the dbt build gets
        # (profiles/profiles.yml): the same JVM for both
        .config(
            "spark.driver.extraJavaOptions",
            f"-XX:+UseParallelGC {spark_jvm_options.java_options()}",
        )
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    counts = build(spark, args.landing_root.resolve(), args.out.resolve(), BENCHMARK_PSEUDONYM_KEY)
    spark.stop()
    print(json.dumps(counts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
