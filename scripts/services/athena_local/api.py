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
from typing import Any

from scripts.services.athena_local.limits import ATHENAS_LIMITS, AthenaLimits
from scripts.services.athena_local.service import AthenaLocal, AthenaRequestError
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
                service.authorize(caller, operation, service.work_group_of(operation, request))
                if operation == "StartQueryExecution":
                    answer = service.start(request, caller)
                else:
                    answer = OPERATIONS[operation](service, request)
                self._reply(200, answer)
            except AthenaRequestError as error:
                self._reply(400, {"__type": error.code, "Message": str(error)})
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


OPERATIONS: dict[str, Callable[[AthenaLocal, dict[str, Any]], dict[str, Any]]] = {
    "StartQueryExecution": lambda service, request: service.start(request),
    "GetQueryExecution": lambda service, request: service.describe(request["QueryExecutionId"]),
    "GetQueryResults": lambda service, request: service.results(
        request["QueryExecutionId"], request.get("NextToken"), int(request.get("MaxResults", 1000))
    ),
    "StopQueryExecution": lambda service, request: service.stop(request["QueryExecutionId"]),
    "ListQueryExecutions": lambda service, request: service.list(request.get("WorkGroup")),
}


@contextmanager
def athena_local(
    trino_url: str, aws_url: str, glue: Any, limits: AthenaLimits = ATHENAS_LIMITS
) -> Iterator[tuple[str, AthenaLocal]]:
    """Serve the Athena API on a free port of 127.0.0.1; yield its URL and
    the service (its executions, for tests and benchmarks)."""
    service = AthenaLocal(trino_url, glue, aws_url, limits=limits)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(service))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="athena-local", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", service
    finally:
        server.shutdown()
        server.server_close()
        service.pool.shutdown(wait=False, cancel_futures=True)
