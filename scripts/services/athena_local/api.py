"""The Athena API over HTTP: the query calls answered by the service,
every other Athena call passed on to the local AWS server.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from scripts.services.athena_local.executions import AthenaRequestError
from scripts.services.athena_local.limits import ATHENAS_LIMITS, AthenaLimits
from scripts.services.athena_local.metadata import (
    CATALOG_CALLS,
    MetadataError,
    check_catalog,
    data_catalog,
    list_data_catalogs,
)
from scripts.services.athena_local.service import AthenaLocal
from scripts.services.iam_enforcement import caller_access_key

LOG = logging.getLogger("athena_local")


def _handler(service: AthenaLocal) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            LOG.debug(format, *args)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            target = self.headers.get("X-Amz-Target", "")
            operation = target.rpartition(".")[2]
            if not target.startswith("AmazonAthena.") or operation not in OPERATIONS:
                self._forward(body)
                return
            try:
                request = json.loads(body or b"{}")
                if not isinstance(request, dict):
                    raise ValueError("not a JSON object")
            except ValueError:
                self._reply(400, {"__type": "SerializationException", "Message": "bad JSON"})
                return
            try:
                caller = caller_access_key(self.headers)
                for scope in service.scopes_of(operation, request):
                    service.authorize(caller, operation, scope)
                self._reply(200, OPERATIONS[operation](service, request, caller))
            except AthenaRequestError as error:
                self._reply(400, {"__type": error.code, "Message": str(error)})
            except MetadataError as error:
                self._reply(400, {"__type": "MetadataException", "Message": str(error)})
            except ClientError as error:  # Glue refused the caller, say
                code = error.response["Error"].get("Code", "InvalidRequestException")
                message = error.response["Error"].get("Message", str(error))
                self._reply(400, {"__type": code, "Message": message})
            except KeyError as error:  # a required parameter missing
                message = f"missing parameter {error}"
                self._reply(400, {"__type": "InvalidRequestException", "Message": message})
            except Exception as error:  # reported to the caller, detail to the log
                LOG.exception("%s failed", operation)
                message = f"{type(error).__name__}: {error}"
                self._reply(500, {"__type": "InternalServerException", "Message": message})

        def _reply(self, status: int, answer: dict[str, Any]) -> None:
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _forward(self, body: bytes) -> None:
            """Any other call: to the local AWS server, as it came."""
            headers = {
                name: value
                for name, value in self.headers.items()
                if name.lower() not in {"host", "content-length", "connection"}
            }
            request = urllib.request.Request(
                service.aws_url + self.path, data=body, headers=headers, method="POST"
            )
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    status, data, kind = response.status, response.read(), response.headers
            except urllib.error.HTTPError as error:
                status, data, kind = error.code, error.read(), error.headers
            self.send_response(status)
            self.send_header("Content-Type", kind.get("Content-Type", "application/x-amz-json-1.1"))
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


def _catalog_call(
    call: Callable[[Any, dict[str, Any]], dict[str, Any]],
) -> Callable[[AthenaLocal, dict[str, Any], str | None], dict[str, Any]]:
    return lambda service, request, caller: call(service.client_for("glue", caller), request)


# operation -> (service, request, the caller's access key) -> answer
OPERATIONS: dict[str, Callable[[AthenaLocal, dict[str, Any], str | None], dict[str, Any]]] = {
    "StartQueryExecution": lambda service, request, caller: service.start(request, caller),
    "GetQueryExecution": lambda service, request, _: service.describe(request["QueryExecutionId"]),
    "BatchGetQueryExecution": lambda service, request, _: service.batch_get(
        request["QueryExecutionIds"]
    ),
    "GetQueryResults": lambda service, request, _: service.results(
        request["QueryExecutionId"], request.get("NextToken"), int(request.get("MaxResults", 1000))
    ),
    "StopQueryExecution": lambda service, request, _: service.stop(request["QueryExecutionId"]),
    "ListQueryExecutions": lambda service, request, _: service.list(request),
    "ListDataCatalogs": lambda service, request, _: list_data_catalogs(),
    "GetDataCatalog": lambda service, request, _: (
        check_catalog(request["Name"]) or {"DataCatalog": data_catalog()}
    ),
    **{name: _catalog_call(call) for name, call in CATALOG_CALLS.items()},
}


@contextmanager
def athena_local(
    trino_url: str,
    aws_url: str,
    glue: Any,
    limits: AthenaLimits = ATHENAS_LIMITS,
    port: int = 0,
    history: Path | None = None,
) -> Iterator[tuple[str, AthenaLocal]]:
    """Serve the Athena API on a free port of 127.0.0.1 (or ``port``);
    yield its URL and the service (its executions, for tests and
    benchmarks). ``history``: a file that keeps the query history across
    restarts."""
    service = AthenaLocal(trino_url, glue, aws_url, limits=limits, history=history)
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(service))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="athena-local", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", service
    finally:
        server.shutdown()
        server.server_close()
        service.pool.shutdown(wait=False, cancel_futures=True)
