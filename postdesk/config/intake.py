"""The `[lmtp]` table and the `[[inbound]]` provider webhooks of the configuration file.

Webhook secrets never sit in the file: each `[[inbound]]` names the environment variables
that hold them (`signing_key_env` for Mailgun, `username_env` and `password_env` for Postmark's
and SendGrid's basic auth). A variable that is not set is no error here (`postdesk ingest`,
run by the MTA, has no use for it): `serve` refuses to start without it and `check-config`
warns (`missing_inbound_secrets`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from postdesk.config.reader import ConfigError, Table
from postdesk.config.settings import INBOUND_PROVIDERS, InboundWebhook, LmtpSettings, Settings

__all__ = ["inbound_webhooks", "lmtp_settings", "missing_inbound_secrets"]

_UNIX = re.compile(r"^unix:/\S+$")
_HOST_PORT = re.compile(r"^\[?[^\s\[\]]+\]?:\d{1,5}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PATH = re.compile(r"^/[A-Za-z0-9._~/-]*$")
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_SECRET_KEYS = {"mailgun": ("signing_key_env",), "basic": ("username_env", "password_env")}


def lmtp_settings(t: Table) -> LmtpSettings:
    listen = t.text("listen", "").strip()
    if listen and not (
        _UNIX.match(listen) or (_HOST_PORT.match(listen) and 0 < int(listen.rsplit(":")[1]) < 65536)
    ):
        raise t.fail("listen", '"unix:/absolute/path.sock" or "host:port"', listen)
    mode = t.text("socket_mode", "0660")
    if not re.match(r"^0?[0-7]{3}$", mode):
        raise t.fail("socket_mode", 'an octal file mode like "0660"', mode)
    settings = LmtpSettings(listen=listen, socket_mode=int(mode, 8))
    t.finish()
    return settings


def inbound_webhooks(tables: list[Table], env: Mapping[str, str]) -> tuple[InboundWebhook, ...]:
    webhooks = tuple(_inbound(t, env) for t in tables)
    paths = [w.path for w in webhooks]
    for index, path in enumerate(paths):
        if path in paths[:index]:
            raise ConfigError(f"inbound[{index}].path: {path!r} is used by another [[inbound]]")
    return webhooks


def _inbound(t: Table, env: Mapping[str, str]) -> InboundWebhook:
    provider = t.text("provider", required=True)
    if provider not in INBOUND_PROVIDERS:
        raise t.fail("provider", "one of " + ", ".join(INBOUND_PROVIDERS), provider)
    path = t.text(
        "path", "/inbound/mailgun-mime" if provider == "mailgun" else f"/inbound/{provider}"
    )
    if not _PATH.match(path) or path.startswith(("/healthz", "/metrics", "/api/")):
        raise t.fail(
            "path", 'a URL path like "/inbound/postmark" (not /healthz, /metrics, /api/)', path
        )
    if provider == "mailgun" and not path.endswith("mime"):
        # Mailgun posts the raw message (body-mime) only to a URL ending in "mime".
        raise t.fail(
            "path", 'a path ending in "mime" for mailgun, like "/inbound/mailgun-mime"', path
        )
    wanted = _SECRET_KEYS["mailgun" if provider == "mailgun" else "basic"]
    names: dict[str, str] = {}
    for key in ("signing_key_env", "username_env", "password_env"):
        name = t.text(key, "")
        if name and key not in wanted:
            raise ConfigError(
                f"{t.key(key)}: not used by {provider} (it takes {' and '.join(wanted)})"
            )
        if key in wanted and not name:
            raise ConfigError(
                f"{t.key(key)}: required for {provider}: the name of the environment variable "
                "that holds the secret (the secret itself never goes in the file)"
            )
        if name and not _ENV_NAME.match(name):
            raise t.fail(key, "an environment variable name like POSTDESK_MAILGUN_KEY", name)
        names[key] = name
    allowed = t.str_list("allowed_recipients")
    for address in allowed:
        if not _EMAIL.match(address):
            raise t.fail("allowed_recipients", "a list of email addresses", address)
    window = t.duration("replay_window", "5m") if provider == "mailgun" else None
    webhook = InboundWebhook(
        provider=provider,
        path=path,
        signing_key_env=names["signing_key_env"],
        username_env=names["username_env"],
        password_env=names["password_env"],
        allowed_recipients=tuple(a.lower() for a in allowed),
        replay_window_seconds=window.total_seconds() if window is not None else 300.0,
        signing_key=env.get(names["signing_key_env"], "") if names["signing_key_env"] else "",
        username=env.get(names["username_env"], "") if names["username_env"] else "",
        password=env.get(names["password_env"], "") if names["password_env"] else "",
    )
    t.finish()
    return webhook


def missing_inbound_secrets(settings: Settings) -> list[str]:
    """One line per `[[inbound]]` whose secret variables are unset, naming them."""
    problems = []
    for index, webhook in enumerate(settings.inbound):
        missing = webhook.missing_secrets()
        if missing:
            problems.append(
                f"inbound[{index}] ({webhook.provider} at {webhook.path}): environment "
                f"variable {', '.join(missing)} not set; serve cannot verify its requests"
            )
    return problems
