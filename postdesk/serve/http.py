"""The daemon's HTTP endpoint: `/healthz` (JSON, 200 or 503) and Prometheus `/metrics`.

`/healthz` answers 200 with status "ok" when the health check passes, else 503 with status
"unhealthy", or the status the check's body names itself (e.g. "degraded") and its reasons.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

log = logging.getLogger(__name__)

HealthCheck = Callable[[], tuple[bool, dict[str, Any]]]


def _handler(health: HealthCheck, registry: CollectorRegistry) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "postdesk"

        def do_GET(self) -> None:
            if self.path.split("?")[0] == "/healthz":
                healthy, body = health()
                self._send(
                    200 if healthy else 503,
                    "application/json",
                    json.dumps(
                        {"status": "ok" if healthy else "unhealthy", **body}, default=str
                    ).encode(),
                )
            elif self.path.split("?")[0] == "/metrics":
                self._send(200, CONTENT_TYPE_LATEST, generate_latest(registry))
            else:
                self._send(404, "text/plain", b"not found: try /healthz or /metrics\n")

        def _send(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("http: " + format, *args)

    return Handler


class HttpEndpoint:
    """A small threaded HTTP server; `start()` binds, `stop()` shuts it down."""

    def __init__(
        self, host: str, port: int, health: HealthCheck, registry: CollectorRegistry
    ) -> None:
        try:
            self.server = ThreadingHTTPServer((host, port), _handler(health, registry))
        except OSError as exc:
            raise OSError(
                exc.errno,
                f"cannot listen for HTTP on {host}:{port}: {exc.strerror}; check [http] listen",
            ) from exc
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="http", daemon=True)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
