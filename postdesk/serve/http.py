"""The daemon's HTTP listener: Starlette under uvicorn, in a thread with its own event loop.

`/healthz` answers 200 with status "ok" when the health check passes, else 503 with status
"unhealthy", or the status the check's body names itself (e.g. "degraded") and its reasons;
`/metrics` is Prometheus text. Other parts add their own routes (`extra_routes`: the REST
API under /api/v1, inbound webhooks, download links); any other path answers 404.

The socket is bound here, before uvicorn starts, so a port in use is one clear error at
start (not a log line from a thread), and `port` is known at once (port 0 in tests).
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
from collections.abc import Callable, Sequence
from typing import Any

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

log = logging.getLogger(__name__)

HealthCheck = Callable[[], tuple[bool, dict[str, Any]]]
STOP_TIMEOUT_SECONDS = 10.0
NOT_FOUND = b"not found: try /healthz or /metrics\n"


def build_app(
    health: HealthCheck, registry: CollectorRegistry, extra_routes: Sequence[BaseRoute] = ()
) -> Starlette:
    """The ASGI application: /healthz, /metrics and the routes other parts provide."""

    def healthz(_request: Request) -> Response:
        healthy, body = health()
        content = json.dumps({"status": "ok" if healthy else "unhealthy", **body}, default=str)
        return Response(content.encode(), 200 if healthy else 503, media_type="application/json")

    def metrics(_request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    async def not_found(_request: Request, _exc: Exception) -> Response:
        return Response(NOT_FOUND, 404, media_type="text/plain")

    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        *extra_routes,
    ]
    return Starlette(routes=routes, exception_handlers={404: not_found})


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named: asyncio then sets TCP_NODELAY on each accepted connection (it looks
    # at the protocol number), so a small response is not held back 40 ms by Nagle's algorithm.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise OSError(
            exc.errno,
            f"cannot listen for HTTP on {host}:{port}: {exc.strerror}; check [http] listen",
        ) from exc
    sock.set_inheritable(True)
    return sock


class HttpEndpoint:
    """uvicorn serving `build_app(...)`; `start()` serves in a thread, `stop()` shuts it down
    (in-flight requests finish, up to STOP_TIMEOUT_SECONDS)."""

    def __init__(
        self,
        host: str,
        port: int,
        health: HealthCheck,
        registry: CollectorRegistry,
        extra_routes: Sequence[BaseRoute] = (),
    ) -> None:
        self.socket = _bind(host, port)
        config = uvicorn.Config(
            build_app(health, registry, extra_routes),
            log_config=None,
            log_level="warning",
            access_log=False,  # paths carry search words and Message-IDs: not for the log
            lifespan="off",
            server_header=False,
            timeout_graceful_shutdown=int(STOP_TIMEOUT_SECONDS),
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._run, name="http", daemon=True)

    @property
    def port(self) -> int:
        return int(self.socket.getsockname()[1])

    def _run(self) -> None:
        asyncio.run(self.server.serve(sockets=[self.socket]))

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.should_exit = True
        if self.thread.is_alive():
            self.thread.join(STOP_TIMEOUT_SECONDS + 1)
        self.socket.close()
