"""Logging set-up: one line per message or delivery, plain or JSON, never a body or a secret.

Every record is one line: control characters (C0 but tab, DEL, C1, the Unicode line and
paragraph separators) are written as escapes (``\\x1b``, ``\\n``, ``\\u2028``), in the
message, its arguments and, in the plain format, the traceback; so text a client chose (an
SMTP command aiosmtpd logs verbatim, say) can neither fake a line nor drive a terminal. The
log file is created 0600 in a 0700 folder.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from postdesk.config.settings import LoggingSettings

HANDLER_NAME = "postdesk"
PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_NAMED = {"\n": "\\n", "\r": "\\r"}
_CONTROLS = [*range(0x00, 0x09), *range(0x0A, 0x20), 0x7F, *range(0x80, 0xA0), 0x2028, 0x2029]
_ESCAPES = str.maketrans(
    {
        code: _NAMED.get(chr(code)) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        for code in _CONTROLS
    }
)


def escape_controls(text: str) -> str:
    """`text` with every control character but tab written as an escape (one line)."""
    return text.translate(_ESCAPES)


class PlainFormatter(logging.Formatter):
    """`time LEVEL logger: message`, the whole record (traceback included) on one line."""

    def __init__(self) -> None:
        super().__init__(PLAIN_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        return escape_controls(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message (control characters escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat().replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": escape_controls(record.name),
            "message": escape_controls(record.getMessage()),
        }
        if record.exc_info and record.exc_info[0] is not None:
            entry["error"] = record.exc_info[0].__name__
        return json.dumps(entry, ensure_ascii=False)


def _private_file(path: Path) -> None:
    """Create the log file (and its folder) private to the daemon's user when missing."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.close(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600))


def configure_logging(settings: LoggingSettings | None, *, verbose: bool = False) -> None:
    """Send postdesk's log lines to the configured file or standard error; called again
    (SIGHUP), it opens the file again, so a file renamed by log rotation is left alone."""
    handler: logging.Handler
    if settings is not None and settings.file is not None:
        _private_file(settings.file)
        handler = logging.FileHandler(settings.file, encoding="utf-8")
    else:
        handler = logging.StreamHandler(sys.stderr)
    if settings is not None and settings.json:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(PlainFormatter())
    handler.set_name(HANDLER_NAME)
    root = logging.getLogger()
    for old in root.handlers:  # configured before (a reload): closed, so a rotated file goes
        if old.get_name() == HANDLER_NAME:
            old.close()
    root.handlers[:] = [handler]
    level = settings.level if settings is not None else "WARNING"
    root.setLevel("DEBUG" if verbose else level)
    # mail-parser logs header values, which may hold secrets: only its criticals pass.
    logging.getLogger("mailparser").setLevel(logging.CRITICAL)
    for noisy in ("mail.log", "aiosmtpd", "apscheduler", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
