"""One spool entry on disk: its envelope header, its name, and how it is written and read.

A one-message entry is one file: a header line (``postdesk-spool-1 `` and a JSON object:
mail_from, rcpts, source, received_at) followed by the raw bytes exactly as received. Its
name is the entry id, and after a failed attempt ``<id>,<attempts>,<last_error>``;
``last_error`` holds an exception class name only, never a message text (exception texts
can quote mail content). Several messages written together share one file
(``ingest.spool.group``). Entries of the previous layout (a directory holding ``message`` and
``meta.json``) are still read.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

ENTRY_HEADER_PREFIX = b"postdesk-spool-1 "
MESSAGE_FILE = "message"  # previous layout: the raw bytes inside an entry directory
META_FILE = "meta.json"  # previous layout: the envelope inside an entry directory
NAME_SEPARATOR = ","
DIR_MODE = 0o700
FILE_MODE = 0o600


@dataclass(frozen=True, slots=True)
class SpoolEntry:
    """One spooled message: where it is and its envelope; the bytes are read with ``read``.

    ``part`` is (offset, size) of the message's bytes in a group file, None for an entry
    that is a file (or directory) of its own.
    """

    id: str
    path: Path
    mail_from: str
    rcpts: tuple[str, ...]
    source: str
    received_at: datetime
    attempts: int
    last_error: str | None = None
    part: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class PutRequest:
    """One message to store: its raw bytes and envelope (``received_at`` None: now)."""

    raw: bytes
    mail_from: str
    rcpts: tuple[str, ...]
    source: str
    received_at: datetime | None = None


def _write_all(fd: int, parts: Sequence[bytes]) -> None:
    """Write every byte of ``parts`` in order, without joining them into one copy."""
    views = [memoryview(part) for part in parts if part]
    while views:
        written = os.writev(fd, views)
        while views and written >= len(views[0]):
            written -= len(views[0])
            views.pop(0)
        if views and written:
            views[0] = views[0][written:]


def write_file_durably(path: Path, data: bytes) -> None:
    """Create ``path`` (mode 0600, must not exist), write ``data`` and fsync the file."""
    write_parts_durably(path, (data,))


def write_parts_durably(path: Path, parts: Sequence[bytes], *, reuse: bool = False) -> None:
    """Write ``parts`` into a new file at ``path`` (or, with ``reuse``, into the existing file
    there, replacing its content) and fsync it."""
    flags = os.O_WRONLY | (os.O_TRUNC if reuse else os.O_CREAT | os.O_EXCL)
    fd = os.open(path, flags, FILE_MODE)
    try:
        _write_all(fd, parts)
        os.fsync(fd)
    finally:
        os.close(fd)


def ensure_private_dir(path: Path) -> None:
    """Create ``path`` (and parents) if missing and make it mode 0700."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o777 != DIR_MODE:
        path.chmod(DIR_MODE)


def new_id() -> str:
    """A new entry id: sortable by arrival (nanoseconds first), unique across processes (pid,
    random part)."""
    return f"{time.time_ns():020d}.{os.getpid()}.{secrets.token_hex(6)}"


def entry_name(entry_id: str, attempts: int, last_error: str) -> str:
    """The file name of an entry after ``attempts`` failed attempts, the last one ``last_error``."""
    error_class = "".join(c for c in last_error if c.isalnum() or c == "_")[:100] or "Error"
    return NAME_SEPARATOR.join((entry_id, str(attempts), error_class))


def remove_entry(path: Path) -> None:
    """Delete an entry file (or a previous-layout entry directory)."""
    try:
        path.unlink()
    except IsADirectoryError:
        shutil.rmtree(path)


def parse_name(name: str) -> tuple[str, int | None, str | None]:
    """(id, attempts, last error) from an entry's file name; None where the name has none."""
    entry_id, _, counters = name.partition(NAME_SEPARATOR)
    if not counters:
        return entry_id, None, None
    attempts_text, _, last_error = counters.partition(NAME_SEPARATOR)
    return entry_id, int(attempts_text) if attempts_text.isdigit() else 1, last_error


def envelope(
    mail_from: str, rcpts: Sequence[str], source: str, received_at: datetime
) -> dict[str, Any]:
    """The JSON-ready envelope a header records."""
    return {
        "mail_from": mail_from,
        "rcpts": list(rcpts),
        "source": source,
        "received_at": received_at.isoformat(),
    }


def entry_header(meta: dict[str, Any]) -> bytes:
    """The header line of a one-message entry with the envelope ``meta``."""
    return ENTRY_HEADER_PREFIX + json.dumps(meta).encode() + b"\n"


def load_entry(path: Path) -> SpoolEntry:
    """The entry at ``path``: envelope from its header, attempts and last error from its name."""
    entry_id, attempts, last_error = parse_name(path.name)
    meta = _read_meta(path)
    if attempts is None:  # only the previous layout records them in its meta.json
        attempts, last_error = int(meta.get("attempts", 0)), meta.get("last_error")
    return entry_from_meta(entry_id, path, meta, attempts=attempts, last_error=last_error)


def _read_meta(path: Path) -> dict[str, Any]:
    """The entry's envelope; a missing or damaged header yields neutral defaults (logged)."""
    try:
        try:
            with path.open("rb") as file:
                header = file.readline()
            if not header.startswith(ENTRY_HEADER_PREFIX):
                raise ValueError("no spool header")
            meta = json.loads(header[len(ENTRY_HEADER_PREFIX) :])
        except IsADirectoryError:
            meta = json.loads((path / META_FILE).read_bytes())
        attempts = int(meta.get("attempts", 0))  # only the previous layout records it here
        entry_from_meta(path.name, path, meta, attempts=attempts, last_error=None)  # validates
        return dict(meta)
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        log.error(
            "spool: metadata of %s unreadable (%s); using defaults", path.name, type(exc).__name__
        )
        mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        return {"mail_from": "", "rcpts": [], "source": "unknown", "received_at": mtime.isoformat()}


def entry_from_meta(
    entry_id: str,
    path: Path,
    meta: dict[str, Any],
    *,
    attempts: int,
    last_error: object,
    part: tuple[int, int] | None = None,
) -> SpoolEntry:
    """The entry described by an envelope ``meta``; raises on a malformed one."""
    received_at = datetime.fromisoformat(str(meta["received_at"]))
    if received_at.tzinfo is None:
        received_at = received_at.replace(tzinfo=UTC)
    rcpts = meta.get("rcpts", [])
    if not isinstance(rcpts, list):
        raise TypeError("rcpts is not a list")
    return SpoolEntry(
        id=entry_id,
        path=path,
        mail_from=str(meta.get("mail_from", "")),
        rcpts=tuple(str(r) for r in rcpts),
        source=str(meta.get("source", "unknown")),
        received_at=received_at,
        attempts=attempts,
        last_error=str(last_error) if last_error is not None else None,
        part=part,
    )
