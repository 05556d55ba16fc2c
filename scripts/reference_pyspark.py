"""A hand-written PySpark DataFrame implementation of the lakehouse's rules,
the way the original STEDI design did it with Glue jobs: one Spark session,
no dbt. The benchmark (scripts/benchmark_lakehouse.py) times it against the
dbt build on the same data and requires the same row counts.

It applies the same rules as the screening views (enforce_consent_date
true): e-mails trimmed and lower-cased; the latest record per e-mail, and
only with research consent; erasure requests; complete, parseable and
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

from scripts import dbt_invoke, spark_class_archive
from scripts.erasure_request import listed_requests
from scripts.reference_duckdb import landing_tables

LOG = logging.getLogger("reference_pyspark")
# Not a secret: the references only need a key of the same size.
BENCHMARK_PSEUDONYM_KEY = "benchmark-pseudonym-key-not-for-production"
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

    def read(dataset: str, columns: list[str]) -> Any:
        schema = StructType([StructField(name, StringType()) for name in columns])
        return spark.read.schema(schema).json(str(landing / dataset / "*.json"))

    def bigint(column: str) -> Any:
        text = F.trim(F.col(column))
        return F.when(text.rlike(BIGINT_PATTERN), text.cast("bigint"))

    def double(column: str) -> Any:
        text = F.trim(F.col(column))
        return F.when(text.rlike(DOUBLE_PATTERN), text.cast("double"))

    def normalized(column: str) -> Any:
        return F.lower(F.trim(F.col(column)))

    schemas = {
        table["meta"]["landing_folder"]: [column["name"] for column in table["columns"]]
        for table in landing_tables()
    }
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
    customers = read("customer", schemas["customer"])
    customers = customers.select(
        *[F.col(name) for name in schemas["customer"]],
        normalized("email").alias("norm_email"),
        *[bigint(name).alias(f"{name}_ms") for name in dates],
    ).where(F.coalesce(*[F.col(name) for name in schemas["customer"]]).isNotNull())
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
        F.col("shareWithResearchAsOfDate_ms").asc(),
        F.col("serialNumber").asc(),
        F.col("customerName").asc(),
        F.col("registrationDate_ms").asc(),
    )
    # the current record of every e-mail, erased customers included (they
    # still hold their devices)
    all_current = (
        customers.withColumn("record_rank", F.row_number().over(ranking))
        .where(F.col("record_rank") == 1)
        .cache()
    )
    current = all_current.join(erased_emails, "norm_email", "left_anti")
    invalid = None
    for name in dates:
        bad = F.col(name).isNotNull() & F.col(f"{name}_ms").isNull()
        invalid = bad if invalid is None else invalid | bad
    customer_trusted = current.where(
        ~invalid & F.col("shareWithResearchAsOfDate_ms").isNotNull()
    ).select(
        F.col("norm_email").alias("email"),
        F.col("serialNumber").alias("serial_number"),
        F.col("shareWithResearchAsOfDate_ms").alias("research_consent_ms"),
    )
    customer_trusted = customer_trusted.cache()

    # accelerometer_trusted: complete, plausible readings after consent, once
    readings = read("accelerometer", schemas["accelerometer"]).select(
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
    erased_devices = (
        all_current.join(erased_emails, "norm_email", "left_semi")
        .select(F.col("serialNumber").alias("serial_number"))
        .distinct()
    )
    owners = (
        all_current.groupBy(F.col("serialNumber").alias("serial_number"))
        .agg(F.countDistinct("norm_email").alias("owner_count"))
        .where(F.col("owner_count") == 1)
        .join(erased_devices, "serial_number", "left_anti")
    )
    curated_devices = curated.groupBy("serial_number").agg(
        F.max("research_consent_ms").alias("research_consent_ms")
    )
    step_trainer = read("step_trainer", schemas["step_trainer"]).select(
        F.col("serialNumber").alias("serial_number"),
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
        prog="python -m scripts.reference_pyspark", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--landing-root", type=Path, required=True, help="landing folder")
    parser.add_argument("--out", type=Path, required=True, help="folder for the Parquet tables")
    parser.add_argument("--driver-memory", default="2g", help="Spark driver memory (default 2g)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
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
            f"-XX:+UseParallelGC {spark_class_archive.java_options()}",
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
