"""Logging set-up: one line per message or delivery, plain or JSON, never a body or a secret."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from postdesk.config.settings import LoggingSettings


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat().replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and record.exc_info[0] is not None:
            entry["error"] = record.exc_info[0].__name__
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(settings: LoggingSettings | None, *, verbose: bool = False) -> None:
    """Send postdesk's log lines to the configured file or standard error."""
    handler: logging.Handler
    if settings is not None and settings.file is not None:
        settings.file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(settings.file, encoding="utf-8")
    else:
        handler = logging.StreamHandler(sys.stderr)
    if settings is not None and settings.json:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    level = settings.level if settings is not None else "WARNING"
    root.setLevel("DEBUG" if verbose else level)
    # mail-parser logs header values, which may hold secrets: only its criticals pass.
    logging.getLogger("mailparser").setLevel(logging.CRITICAL)
    for noisy in ("mail.log", "aiosmtpd", "apscheduler", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
