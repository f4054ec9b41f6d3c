"""A webhook receiver on loopback: verifies Standard Webhooks signatures with the
`standardwebhooks` package, dedupes by `webhook-id`, and can fail on demand (answer 503,
or be down altogether) the way a real endpoint does during an outage."""

from __future__ import annotations

import base64
import json
import ssl
import threading
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError


def new_secret() -> str:
    return "whsec_" + base64.b64encode(bytes(range(7, 39))).decode()  # 32 bytes


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int  # what the receiver answered


class Receiver:
    """Records every POST; answers the statuses queued in `answers` first, then 200.

    With a `secret`, a request whose signature does not verify is answered 401 and noted in
    `rejected`. `accepted` counts, per webhook-id, the requests answered 2xx; `events` keeps
    the first payload of each id (what a deduping receiver would process)."""

    def __init__(self, secret: str | None = None, tls: ssl.SSLContext | None = None) -> None:
        self.secret = secret
        self.tls = tls  # a server context: HTTPS
        self.answers: list[int] = []
        self.requests: list[Received] = []
        self.rejected: list[str] = []
        self.accepted: Counter[str] = Counter()
        self.events: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()
        self.port = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}/hooks/postdesk?team=support"

    def start(self) -> Receiver:
        """Listen (again on the same port after `stop`)."""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                status = receiver.handle(self.path, dict(self.headers.items()), body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        if self.tls is not None:
            self._server.socket = self.tls.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening: connections are refused until `start`."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> int:
        with self.lock:
            status = self.answers.pop(0) if self.answers else 200
            event_id = headers.get("webhook-id", "")
            if status == 200 and self.secret is not None:
                try:
                    payload = Webhook(self.secret).verify(body, headers)
                except WebhookVerificationError as exc:
                    self.rejected.append(f"{event_id}: {exc}")
                    status = 401
                else:
                    self.accepted[event_id] += 1
                    self.events.setdefault(event_id, payload)
            elif status == 200:
                self.accepted[event_id] += 1
            self.requests.append(Received(path, headers, body, status))
            return status

    def types(self) -> list[str]:
        """The event types received, deduped by webhook-id, in arrival order."""
        return [str(p["type"]) for p in self.events.values()]

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.body) for r in self.requests]
