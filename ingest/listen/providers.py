"""Provider inbound webhooks (Mailgun, Postmark, SendGrid) as Starlette routes that spool.

`inbound_routes` gives one ``POST`` route per configured endpoint, to mount in the daemon's
HTTP application. A request is verified by its provider (``ingest.listen.mailgun``,
``postmark``, ``sendgrid``), then the raw message goes into the same spool as SMTP's (same
dedupe downstream), and only once ``Spool.put`` returned (fsynced) is it answered ``200``.
A bad signature or credentials gets ``401`` (a replayed Mailgun token ``403``); a payload that
can never be taken (no raw message, too big, a recipient outside the allow-list) gets the
status that stops the provider's retries; a storage fault gets ``503`` so the provider
retries later. The log line per request names the provider, the outcome and the spool entry,
never a secret or the message.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Executor

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ingest.listen.basic_auth import CHALLENGE
from ingest.listen.mailgun import MailgunProvider
from ingest.listen.postmark import PostmarkProvider
from ingest.listen.sendgrid import SendGridProvider
from ingest.listen.smtp import support_address_matcher
from ingest.listen.webhook import Delivery, InboundEndpoint, Provider, Refusal
from ingest.spool.queue import Spool

__all__ = ["InboundEndpoint", "inbound_routes", "provider_for"]

log = logging.getLogger(__name__)

STORAGE_FAULT = 503
RETRY_AFTER_SECONDS = "60"
# Form and JSON encodings grow a message (percent-escapes, JSON escapes): the body may be this
# many times the message limit before it is refused unread.
ENCODING_ALLOWANCE = 3
BODY_OVERHEAD_BYTES = 64 * 1024


def provider_for(endpoint: InboundEndpoint) -> Provider:
    """The verifier of the endpoint's provider; ValueError when its secret is missing."""
    if endpoint.provider == "mailgun":
        return MailgunProvider(endpoint.signing_key, endpoint.replay_window_seconds)
    if endpoint.provider == "postmark":
        return PostmarkProvider(endpoint.username, endpoint.password)
    if endpoint.provider == "sendgrid":
        return SendGridProvider(endpoint.username, endpoint.password)
    raise ValueError(f"unknown inbound provider {endpoint.provider!r}")


def inbound_routes(
    endpoints: Sequence[InboundEndpoint],
    spool: Spool,
    *,
    max_message_bytes: int,
    on_spooled: Callable[[], None] | None = None,
    executor: Executor | None = None,
) -> list[Route]:
    """One ``POST`` route per endpoint, spooling into ``spool``.

    ``on_spooled`` (wake the spool worker) runs in the event loop after each stored message
    and must not block; the fsyncing write runs in ``executor`` (default: the loop's).
    """
    return [
        Route(
            endpoint.path,
            _Endpoint(
                endpoint,
                provider_for(endpoint),
                spool,
                max_message_bytes=max_message_bytes,
                on_spooled=on_spooled,
                executor=executor,
            ).handle,
            methods=["POST"],
            name=f"inbound-{endpoint.provider}-{index}",
        )
        for index, endpoint in enumerate(endpoints)
    ]


class _Endpoint:
    """The request handler of one webhook (`handle`)."""

    def __init__(
        self,
        endpoint: InboundEndpoint,
        provider: Provider,
        spool: Spool,
        *,
        max_message_bytes: int,
        on_spooled: Callable[[], None] | None,
        executor: Executor | None,
    ) -> None:
        self.endpoint = endpoint
        self.provider = provider
        self.spool = spool
        self.max_message_bytes = max_message_bytes
        self.max_body_bytes = max_message_bytes * ENCODING_ALLOWANCE + BODY_OVERHEAD_BYTES
        self.on_spooled = on_spooled
        self.executor = executor
        self.source = provider.name  # the intake path the spool entry and the record name
        self.allowed = (
            support_address_matcher(endpoint.allowed_recipients)
            if endpoint.allowed_recipients
            else None
        )

    async def handle(self, request: Request) -> Response:
        """Verify, spool, answer (see the module docstring for the statuses)."""
        body = await self._body(request)
        if body is None:
            return self._refuse(
                Refusal(self.provider.permanent_status, "request body over the size limit")
            )
        opened = self.provider.open(request.headers, body)
        if isinstance(opened, Refusal):
            return self._refuse(opened)
        problem = self._problem(opened)
        if problem is not None:
            self.provider.settle(opened, stored=False)
            return self._refuse(problem)
        loop = asyncio.get_running_loop()
        put = functools.partial(
            self.spool.put,
            opened.raw,
            mail_from=opened.mail_from,
            rcpts=opened.rcpts,
            source=self.source,
        )
        try:
            entry = await loop.run_in_executor(self.executor, put)
        except Exception as exc:
            self.provider.settle(opened, stored=False)
            log.error(
                "%s webhook: could not store a message (%s); answered %d so it is retried",
                self.source,
                type(exc).__name__,
                STORAGE_FAULT,
            )
            return JSONResponse(
                {"status": "retry", "reason": "temporary local problem storing the message"},
                status_code=STORAGE_FAULT,
                headers={"Retry-After": RETRY_AFTER_SECONDS},
            )
        self.provider.settle(opened, stored=True)
        log.info(
            "%s webhook: accepted %s (%d bytes, %d recipients)",
            self.source,
            entry.id,
            len(opened.raw),
            len(opened.rcpts),
        )
        if self.on_spooled is not None:
            try:
                self.on_spooled()
            except Exception as exc:
                log.warning("spool: wake-up callback failed: %s", type(exc).__name__)
        return JSONResponse({"status": "accepted", "id": entry.id})

    async def _body(self, request: Request) -> bytes | None:
        """The request body, or None once it grows past the limit (the rest is not read)."""
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            return None
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    def _problem(self, delivery: Delivery) -> Refusal | None:
        """Why a verified delivery cannot be taken, if it cannot: size, allow-list."""
        permanent = self.provider.permanent_status
        if len(delivery.raw) > self.max_message_bytes:
            return Refusal(permanent, "message over the size limit")
        if self.allowed is not None and not any(self.allowed(r) for r in delivery.rcpts):
            return Refusal(permanent, "no recipient is in this webhook's allowed_recipients")
        return None

    def _refuse(self, refusal: Refusal) -> Response:
        log.warning(
            "%s webhook: refused a request (%d: %s)", self.source, refusal.status, refusal.reason
        )
        headers = {"WWW-Authenticate": CHALLENGE} if refusal.challenge else None
        return JSONResponse(
            {"status": "refused", "reason": refusal.reason},
            status_code=refusal.status,
            headers=headers,
        )
