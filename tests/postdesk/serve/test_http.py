"""The HTTP listener (uvicorn in a thread): one clear error for a taken port, routes other
parts add, 404 for the rest, and a stop that ends the thread."""

from __future__ import annotations

import socket
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from postdesk.serve.http import NOT_FOUND, HttpEndpoint


def _healthy() -> tuple[bool, dict[str, Any]]:
    return True, {"spool_depth": 0}


def test_a_taken_port_is_one_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(
            OSError,
            match=rf"cannot listen for HTTP on 127.0.0.1:{port}: .*"
            r"; check \[http\] listen",
        ):
            HttpEndpoint("127.0.0.1", port, _healthy, CollectorRegistry())


def test_extra_routes_are_served_beside_healthz_and_the_rest_is_404() -> None:
    async def hello(_request: Request) -> PlainTextResponse:
        return PlainTextResponse("hello")

    endpoint = HttpEndpoint(
        "127.0.0.1", 0, _healthy, CollectorRegistry(), [Route("/hooks/x", hello)]
    )
    endpoint.start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{endpoint.port}") as client:
            health = client.get("/healthz?verbose=1")
            assert health.status_code == 200
            assert health.json() == {"status": "ok", "spool_depth": 0}
            assert health.headers["content-type"] == "application/json"
            assert client.get("/hooks/x").text == "hello"
            missing = client.get("/nothing")
            assert (missing.status_code, missing.content) == (404, NOT_FOUND)
    finally:
        endpoint.stop()
    assert not endpoint.thread.is_alive()
