"""The `[[inbound]]` provider webhooks as Starlette routes for the daemon's HTTP application.

`inbound_routes_for(settings, spool, ...)` is what the daemon mounts; it refuses (ConfigError,
naming the key and the variable) a webhook whose secret is not in the environment, so `serve`
never runs a webhook that cannot verify its requests.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor

from starlette.routing import Route

from ingest.listen.providers import InboundEndpoint, inbound_routes
from ingest.spool.queue import Spool
from postdesk.config.intake import missing_inbound_secrets
from postdesk.config.reader import ConfigError
from postdesk.config.settings import InboundWebhook, Settings

__all__ = ["endpoint_of", "inbound_routes_for"]


def endpoint_of(webhook: InboundWebhook) -> InboundEndpoint:
    """The listener's value object for one configured webhook."""
    return InboundEndpoint(
        provider=webhook.provider,
        path=webhook.path,
        signing_key=webhook.signing_key,
        username=webhook.username,
        password=webhook.password,
        allowed_recipients=webhook.allowed_recipients,
        replay_window_seconds=webhook.replay_window_seconds,
    )


def inbound_routes_for(
    settings: Settings,
    spool: Spool,
    *,
    on_spooled: Callable[[], None] | None = None,
    executor: Executor | None = None,
) -> list[Route]:
    """One POST route per `[[inbound]]`, spooling into `spool` with `[smtp] max_message_bytes`
    as the size limit; an empty list when none is configured."""
    problems = missing_inbound_secrets(settings)
    if problems:
        raise ConfigError(problems[0])
    return inbound_routes(
        [endpoint_of(w) for w in settings.inbound],
        spool,
        max_message_bytes=settings.smtp.max_message_bytes,
        on_spooled=on_spooled,
        executor=executor,
    )
