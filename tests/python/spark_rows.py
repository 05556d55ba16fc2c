"""The local target's build over a landing root, and its models' rows, in a
process of its own: `python -m tests.python.spark_rows LANDING_ROOT OUT
SPARK_DIR`. The test session's Spark started without the S3 jars, and a
JVM takes its jars when it starts; this one starts with those the
environment names (scripts/devtools/spark_s3.py). OUT gets every model's rows as
JSON, values in the comparable form of `normalized`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from scripts.common import dbt_invoke
from tests.python.lakehouse import MODELS, normalized


def main(landing_root: str, out: Path, spark_dir: Path) -> None:
    from pyspark.sql import SparkSession

    dbt_invoke.configure_environment(spark_dir)
    variables = dbt_invoke.dbt_vars({"landing_root": landing_root})
    # the models and the seed; their data tests run in the test session
    build = ["build", "--full-refresh", "--exclude-resource-type", "test", "unit_test"]
    dbt_invoke.invoke([*build, *variables], spark_dir / "target")
    spark = SparkSession.builder.getOrCreate()
    rows = {}
    for relation in MODELS:
        frame = spark.table(relation)
        columns = [column for column in frame.columns if column != "screened_at"]
        rows[relation] = {
            "columns": columns,
            "rows": [[normalized(v) for v in row] for row in frame.select(*columns).collect()],
        }
    out.write_text(json.dumps(rows), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))
