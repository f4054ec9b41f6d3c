"""Test helpers: settings from config.example.toml with overrides, an App, and mail builders."""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Mapping
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

from postdesk.app import App
from postdesk.config.load import settings_from_mapping
from postdesk.config.settings import Settings
from tests.conftest import REPO_ROOT

EXAMPLE = REPO_ROOT / "config.example.toml"


def example_config() -> dict[str, Any]:
    """config.example.toml as a dict (a fresh copy each call)."""
    return copy.deepcopy(tomllib.loads(EXAMPLE.read_text(encoding="utf-8")))


def merge_config(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Merge `overrides` into the configuration dict `base`, table by table."""
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            merge_config(base[key], value)
        else:
            base[key] = value
    return base


def make_settings(tmp_path: Path, db_url: str, **overrides: Any) -> Settings:
    """The example configuration, on `db_url`, with data under tmp_path, plus overrides."""
    data = example_config()
    data["database"]["url"] = db_url
    data["ingest"]["data_dir"] = str(tmp_path / "data")
    data["outbound"]["file_dir"] = str(tmp_path / "outbox")
    merge_config(data, overrides)
    return settings_from_mapping(data, base=tmp_path, env={})


def make_app(tmp_path: Path, db_url: str, *, clock: Any = None, **overrides: Any) -> App:
    settings = make_settings(tmp_path, db_url, **overrides)
    app = App.build(settings, clock=clock) if clock else App.build(settings)
    app.sync_directory()
    return app


def mail(
    *,
    sender: str = "Carol Customer <carol@acme.example>",
    to: str = "support@desk.example",
    subject: str = "Cannot export call history",
    body: str = "Hello,\n\nthe export button does nothing since this morning.\n\nCarol\n",
    message_id: str | None = None,
    cc: str | None = None,
    headers: Mapping[str, str] | None = None,
    html: str | None = None,
    attachments: list[tuple[str, str, bytes]] | None = None,
    date: datetime | None = None,
) -> bytes:
    """A realistic RFC 5322 message as bytes."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    if cc:
        msg["Cc"] = cc
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date or datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    msg["Message-ID"] = message_id or make_msgid(domain="acme.example")
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    for filename, content_type, payload in attachments or []:
        maintype, _, subtype = content_type.partition("/")
        msg.add_attachment(payload, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()
