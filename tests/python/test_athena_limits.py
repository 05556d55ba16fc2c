"""Athena's limits reached by the athena target's builds, on a stand-in
stricter than Athena, beside local Spark.

Athena refuses a query text longer than 262,144 bytes, and a CTAS or INSERT
that writes more than 100 partitions (test_athena_target checks that the
stand-in enforces both). The builds must stay within them: dbt-athena
writes more reading dates in batches, and a run names its new landing
files in queries of a few hundred. Reaching the limits themselves takes
4,000 files and 101 dates, so this module's stand-in is stricter: a tenth
of the partitions and a quarter of the query text. dbt-athena's batches are
then as many dates as its stand-in allows (`athena_partitions_limit`, which
the project keeps at Athena's 100). The builds and their failures are the
same, over 1,000 files and 11 dates. The module's landing zone is
generated data (scale 0.25: at scale 1 each later build took a third
longer), and its first build runs every data test on Trino.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Iterator

import pytest

from scripts.generate_landing import GeneratorConfig, generate
from scripts.load_landing import SOURCE_HASH_KEY
from scripts.run_athena_local import BUCKET, local_athena
from scripts.services.athena_local.limits import MAX_QUERY_BYTES, AthenaLimits
from scripts.services.athena_local.translation import strip_leading_comments
from tests.python.athena_engines import MODELS_ONLY, Engines, landing_prefix
from tests.python.lakehouse import Lakehouse
from tests.python.test_incremental import IVY, NEXT_DAY, next_day_readings

pytestmark = [pytest.mark.spark, pytest.mark.trino, pytest.mark.aws]

STRICTER = AthenaLimits(query_bytes=MAX_QUERY_BYTES // 4, partitions_per_write=10)


@pytest.fixture(scope="module")
def engines(lakehouse: Lakehouse, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engines]:
    """The stand-in with the stricter limits, empty: the tests go on from
    the landing zone of ``many_dates``."""
    work = tmp_path_factory.mktemp("athena-limits")
    lakehouse.invalidate()
    with local_athena(work, limits=STRICTER) as local:
        yield Engines(local, work, lakehouse, work / "landing", limits=STRICTER)
    lakehouse.invalidate()


def build_on_athena(engines: Engines) -> None:
    completed = engines.athena("build", *MODELS_ONLY)
    assert completed.returncode == 0, completed.stdout[-6000:]


def reading_dates_on_trino(engines: Engines, relation: str) -> int:
    [[count]] = engines.trino(
        f"select count(distinct reading_date) from awsdatacatalog.{relation}"
    ).rows
    return int(count)


def unlisted_dates_with_files(engines: Engines, database: str, table: str) -> set[str]:
    """The reading dates with objects under the table's location that Glue
    lists no partition for."""
    glue, s3 = engines.local.target().client("glue"), engines.local.target().client("s3")
    location = glue.get_table(DatabaseName=database, Name=table)["Table"]["StorageDescriptor"][
        "Location"
    ]
    prefix = location.removeprefix(f"s3://{BUCKET}/").rstrip("/") + "/"
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    with_files = {
        match.group(1)
        for page in pages
        for item in page.get("Contents", [])
        if (match := re.search(r"/reading_date=([^/]+)/", item["Key"]))
    }
    pages = glue.get_paginator("get_partitions").paginate(DatabaseName=database, TableName=table)
    listed = {item["Values"][0] for page in pages for item in page["Partitions"]}
    return with_files - listed


@pytest.fixture(scope="module")
def many_dates(engines: Engines) -> int:
    """Generated data (scale 0.25) over one more reading date than a write may
    hold, loaded and built from scratch on both engines, every data test
    run on Trino: the engines agree, and a full build writes its dates in
    batches. Every test here goes on from this landing zone (none from
    another's: each of its builds would read every file of both). The
    number of reading dates."""
    many = engines.work / "many-dates"
    generate(GeneratorConfig(out=many, scale=0.25, days=STRICTER.partitions_per_write + 1))
    engines.landing, engines.prefix = many, landing_prefix("many_dates")
    engines.load()
    engines.build_both("--full-refresh", "--exclude-resource-type", "unit_test")
    assert engines.assert_equal() > 3_000
    dates = reading_dates_on_trino(engines, "stedi_landing.accelerometer_screened")
    assert dates > STRICTER.partitions_per_write
    return dates


def test_more_reading_dates_than_one_write_may_hold_build_and_a_failed_batch_is_repaired(
    engines: Engines, many_dates: int
) -> None:
    """Athena writes at most 100 partitions a query (here 10): dbt-athena
    then writes in batches of that many dates, on a full build (the
    fixture's) and on an incremental run. The incremental run's second
    batch fails after the first landed (after writing its files, which stay
    in S3 as on Athena); the next plain run sees that the write never
    completed, rebuilds every date, and then equals Spark: no date stays
    missing. The new batch of readings falls on the same 11 dates as the
    first: every write passes the limit with the fewest partitions."""
    many, limit = engines.landing, STRICTER.partitions_per_write
    # new readings on every one of those dates, in one incremental run
    # whose second batch fails
    generate(GeneratorConfig(out=many, scale=0.25, append="later", days=limit + 1))
    engines.load()
    inserts: list[str] = []

    def second_batch(sql: str) -> bool:
        statement = strip_leading_comments(sql)
        if re.match(r"insert\s+into\s+\S*accelerometer_screened\b", statement, re.IGNORECASE):
            inserts.append(statement)
        # the first insert names every date and fails on the limit; then
        # one per batch of `limit` dates
        return len(inserts) == 3 and inserts[-1] is statement

    engines.local.service.fail_query = second_batch
    try:
        failed = engines.athena("build", *MODELS_ONLY)
    finally:
        engines.local.service.fail_query = None
    assert failed.returncode != 0
    assert "failed on purpose by a test, after writing" in failed.stdout, failed.stdout[-3000:]
    assert len(inserts) == 3
    # as on Athena, the failed batch's files stay in S3, in dates Glue lacks
    assert unlisted_dates_with_files(engines, "stedi_landing", "accelerometer_screened")
    repaired = engines.build_both(*MODELS_ONLY)
    assert "accelerometer_screened: its last write did not complete" in repaired
    assert engines.assert_equal() > 6_000
    assert reading_dates_on_trino(engines, "stedi_landing.accelerometer_screened") == many_dates
    # the repair completed its write: the next run is incremental again
    glue = engines.local.target().client("glue")
    table = glue.get_table(DatabaseName="stedi_landing", Name="accelerometer_screened")["Table"]
    assert table["Parameters"]["stedi.incremental_write"] == "completed"


def test_a_multipart_file_dated_below_the_watermark_is_screened_once(
    engines: Engines, many_dates: int
) -> None:
    """S3 dates a multipart object by when its upload started: a large
    file whose upload began before a run and ended after it arrives dated
    below that run's newest file. The next run still screens it, once."""
    s3 = engines.local.target().client("s3")
    late = engines.landing / "accelerometer" / "readings-8-late.json"
    late.write_text(
        "".join(
            json.dumps({"user": IVY, "timestamp": NEXT_DAY + ms, "x": 0, "y": 0, "z": 1}) + "\n"
            for ms in (11, 12)
        )
    )
    key = f"{engines.prefix}/accelerometer/{late.name}"
    # with the loader's record of its source, so that the next test's load
    # keeps the object (and its date) as it is
    source = {SOURCE_HASH_KEY: hashlib.sha256(late.read_bytes()).hexdigest()}
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key=key, Metadata=source)["UploadId"]
    time.sleep(1.1)  # S3's dates have whole seconds
    next_day_readings(engines.landing)  # delivered, and screened, meanwhile
    late_bytes = late.read_bytes()
    late.unlink()
    engines.load()
    # the athena target's runs alone, until the last: Spark gives the rows
    # to compare once, and its own late files are test_incremental's
    build_on_athena(engines)
    part = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload, PartNumber=1, Body=late_bytes)
    s3.complete_multipart_upload(
        Bucket=BUCKET,
        Key=key,
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )
    late.write_bytes(late_bytes)
    engines.align_delivery_times()
    [[watermark]] = engines.trino(
        "select max(landing_file_modified_ms)"
        " from awsdatacatalog.stedi_landing.accelerometer_screened"
    ).rows
    assert late.stat().st_mtime * 1000 < int(watermark)  # dated below it
    for last in (False, True):
        if last:
            engines.build_both(*MODELS_ONLY)
        else:
            build_on_athena(engines)
        [[count]] = engines.trino(
            "select count(*) from awsdatacatalog.stedi_landing.accelerometer_screened"
            f" where landing_file like '%/{late.name}'"
        ).rows
        assert count == 2
    engines.assert_equal()


def test_more_new_files_than_one_query_may_name_build_on_both_engines(
    engines: Engines, many_dates: int
) -> None:
    """More new files than one query may name within the query text limit
    (Athena's 262,144 bytes: 4,000 files; here a quarter: 1,000)."""
    folder = engines.landing / "accelerometer"
    files = 1000
    for number in range(files):
        line = {"user": IVY, "timestamp": NEXT_DAY + number, "x": 0.25, "y": 0.5, "z": 1}
        (folder / f"backlog-{number:05d}.json").write_text(json.dumps(line) + "\n")
    path = f"s3://{BUCKET}/{engines.prefix}/accelerometer/backlog-00000.json"
    assert files * len(path) > STRICTER.query_bytes  # their paths alone pass the limit
    engines.load()
    output = engines.build_both(*MODELS_ONLY)
    assert f"accelerometer_screened: {files} new landing file(s)" in output
    engines.assert_equal()
    [[count, distinct_files]] = engines.trino(
        "select count(*), count(distinct landing_file)"
        " from awsdatacatalog.stedi_landing.accelerometer_screened"
        " where landing_file like '%/backlog-%'"
    ).rows
    assert (count, distinct_files) == (files, files)
    longest = max(len(item.query.encode()) for item in engines.local.service.executions.values())
    assert longest <= STRICTER.query_bytes
