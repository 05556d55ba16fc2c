"""The landing rulebook's records of a local landing folder on embedded
Spark, as JSON: `python -m tests.python.landing_records_on_spark LANDING OUT
SPARK_DIR`. A process of its own, as every embedded Spark needs (one
Derby metastore per process); the Trino test compares them with Trino's."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from scripts import dbt_invoke
from scripts.landing_files import DATASETS


def main(landing: Path, out: Path, spark_dir: Path) -> None:
    dbt_invoke.configure_environment(spark_dir)
    variables = dbt_invoke.dbt_vars({"landing_root": str(landing.resolve())})
    target = spark_dir / "target"
    dbt_invoke.invoke(["run-operation", "create_landing_tables", *variables], target)
    records = {}
    for dataset in DATASETS:
        sql = f"with {{{{ landing_record_ctes('{dataset}') }}}} select * from landing_records"
        table = dbt_invoke.show(sql, variables, target)
        records[dataset] = {
            "columns": list(table.column_names),
            "rows": [
                [v if v is None or isinstance(v, bool | str) else str(v) for v in row]
                for row in table.rows
            ],
        }
    out.write_text(json.dumps(records), encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
