"""`[[webhooks]]`: outbound webhooks, read and checked (`check-config` runs this too).

Keys: `url` (http or https; or `url_env`, the environment variable that holds it, for a URL
that is itself a secret such as Slack's), `events` (a list of event types, or `["*"]` for
all), `format` (`"standard"`, signed per Standard Webhooks, or `"slack"`), `secret`
(`whsec_` + base64 of 24 to 64 random bytes; or `secret_env`, the variable that holds it;
required for the standard format) and `name` (default: the URL's host; unique; shown in
`outbox list` as `webhook:NAME`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from notify.webhooks import SECRET_PREFIX, secret_bytes
from postdesk.config.reader import ConfigError, Table
from postdesk.config.settings import WebhookSettings
from store.webhooks import EVENT_TYPES

__all__ = ["read_webhooks"]

FORMATS = ("standard", "slack")
MIN_SECRET_BYTES, MAX_SECRET_BYTES = 24, 64
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
GENERATE = (
    "generate one with: python3 -c 'import base64, secrets; "
    'print("whsec_" + base64.b64encode(secrets.token_bytes(32)).decode())\''
)


def read_webhooks(tables: list[Table], env: Mapping[str, str]) -> tuple[WebhookSettings, ...]:
    """Every `[[webhooks]]` table, validated; names are unique."""
    hooks = tuple(_webhook(t, env) for t in tables)
    seen: set[str] = set()
    for index, hook in enumerate(hooks):
        if hook.name in seen:
            raise ConfigError(
                f"webhooks[{index}].name: {hook.name!r} is used by another webhook; "
                "give each webhook its own name"
            )
        seen.add(hook.name)
    return hooks


def _from_env(t: Table, key: str, env: Mapping[str, str]) -> str:
    """The value of `key`, or of the environment variable named by `key`_env."""
    variable = t.text(f"{key}_env", "")
    if variable:
        if t.has(key):
            raise ConfigError(f"{t.key(key)}: give either {key} or {key}_env, not both")
        value = env.get(variable, "")
        if not value:
            raise ConfigError(
                f"{t.key(key + '_env')}: the environment variable {variable} is not set"
            )
        return value
    return t.text(key, "")


def _url(t: Table, env: Mapping[str, str]) -> str:
    url = _from_env(t, "url", env).strip()
    if not url:
        raise ConfigError(f"{t.key('url')}: required (or name an environment variable in url_env)")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in url):
        shown = f"{parts.scheme}://{parts.hostname}/..." if parts.hostname else "(not a URL)"
        raise ConfigError(f"{t.key('url')}: expected an http:// or https:// URL, got {shown}")
    try:
        parts.port  # noqa: B018 (a bad port raises here)
    except ValueError as exc:
        raise ConfigError(f"{t.key('url')}: the port is not a number from 1 to 65535") from exc
    return url


def _secret(t: Table, env: Mapping[str, str], form: str) -> str:
    secret = _from_env(t, "secret", env).strip()
    if form == "slack":
        if secret:
            raise ConfigError(
                f"{t.key('secret')}: Slack incoming webhooks are not signed; remove the secret "
                "(the URL itself is the secret: url_env keeps it out of the file)"
            )
        return ""
    if not secret:
        raise ConfigError(
            f'{t.key("secret")}: required for format = "standard" (or name an environment '
            f"variable in secret_env); {GENERATE}"
        )
    try:
        key = secret_bytes(secret)
    except ValueError:
        key = b""
    if not secret.startswith(SECRET_PREFIX) or not (
        MIN_SECRET_BYTES <= len(key) <= MAX_SECRET_BYTES
    ):
        raise ConfigError(
            f"{t.key('secret')}: expected whsec_ followed by base64 of "
            f"{MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes; {GENERATE}"
        )
    return secret


def _events(t: Table) -> tuple[str, ...]:
    events = t.str_list("events")
    if not events:
        raise t.fail("events", 'a non-empty list of event types (or ["*"] for all)', events)
    if "*" in events:
        return EVENT_TYPES
    for event in events:
        if event not in EVENT_TYPES:
            raise t.fail("events", "event types among " + ", ".join(EVENT_TYPES), event)
    return tuple(dict.fromkeys(events))


def _webhook(t: Table, env: Mapping[str, str]) -> WebhookSettings:
    url = _url(t, env)
    form = t.choice("format", FORMATS, "standard")
    name = t.text("name", "").strip().lower() or (urlsplit(url).hostname or "").lower()
    if not _NAME.match(name):
        raise t.fail("name", "letters, digits, '.', '_' or '-' (at most 63)", name)
    hook = WebhookSettings(
        name=name, url=url, events=_events(t), format=form, secret=_secret(t, env, form)
    )
    t.finish()
    return hook
