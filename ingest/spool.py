"""Durable directory queue for raw inbound mail: the point where a message becomes safe.

Layout (Maildir-like, every directory mode 0700, every file 0600)::

    root/tmp/<id>/   being written; never read by anyone else
    root/new/<id>/   durable, waiting for a worker
    root/cur/<id>/   claimed by a worker

Each entry is a directory holding ``message`` (the raw bytes exactly as received) and
``meta.json`` (envelope and bookkeeping: mail_from, rcpts, source, received_at, attempts,
last_error). ``put`` writes both files into ``tmp``, fsyncs them and the entry directory,
renames the entry into ``new`` and fsyncs ``new``: when it returns, the message survives a
crash or power loss. ``claim`` renames ``new/<id>`` to ``cur/<id>``; rename is atomic, so
two workers (threads or processes) never claim the same entry. ``last_error`` holds an
exception class name only, never a message text (exception texts can quote mail content).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MESSAGE_FILE = "message"
META_FILE = "meta.json"
_DIR_MODE = 0o700
_FILE_MODE = 0o600


@dataclass(frozen=True, slots=True)
class SpoolEntry:
    """One spooled message: where it is and its envelope; the bytes are read with ``read``."""

    id: str
    path: Path
    mail_from: str
    rcpts: tuple[str, ...]
    source: str
    received_at: datetime
    attempts: int
    last_error: str | None = None


def fsync_directory(path: Path) -> None:
    """Flush a directory's entries (a rename or a new file in it) to stable storage."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_file_durably(path: Path, data: bytes) -> None:
    """Create ``path`` (mode 0600, must not exist), write ``data`` and fsync the file."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _FILE_MODE)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)


def ensure_private_dir(path: Path) -> None:
    """Create ``path`` (and parents) if missing and make it mode 0700."""
    path.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o777 != _DIR_MODE:
        path.chmod(_DIR_MODE)


def _new_id() -> str:
    # Sortable by arrival (nanoseconds first), unique across processes (pid, random part).
    return f"{time.time_ns():020d}.{os.getpid()}.{secrets.token_hex(6)}"


class Spool:
    """A durable queue of raw messages in a directory (see the module docstring).

    ``on_put`` is called after every successful ``put`` (from the putting thread); pass
    e.g. ``threading.Event().set`` or ``lambda: loop.call_soon_threadsafe(event.set)`` to
    wake a worker. An exception it raises is logged and swallowed: the message is safe.
    """

    def __init__(self, root: Path, *, on_put: Callable[[], None] | None = None) -> None:
        self.root = Path(root)
        self.tmp_dir = self.root / "tmp"
        self.new_dir = self.root / "new"
        self.cur_dir = self.root / "cur"
        self._on_put = on_put
        self._listing: list[str] = []  # waiting ids not yet tried, newest first
        self._listing_lock = threading.Lock()
        for directory in (self.root, self.tmp_dir, self.new_dir, self.cur_dir):
            ensure_private_dir(directory)

    def put(
        self,
        raw: bytes,
        *,
        mail_from: str,
        rcpts: Sequence[str],
        source: str,
        received_at: datetime | None = None,
    ) -> SpoolEntry:
        """Store one raw message durably and return its entry (waiting in ``new``).

        Raises ``OSError`` when the spool cannot be written (disk full, read-only, ...);
        nothing is left behind in ``new`` then, so the sender must be told to retry.
        """
        if received_at is None:
            received_at = datetime.now(UTC)
        elif received_at.tzinfo is None:
            raise ValueError("received_at must be timezone-aware (UTC)")
        entry_id = _new_id()
        staging = self.tmp_dir / entry_id
        meta = {
            "mail_from": mail_from,
            "rcpts": list(rcpts),
            "source": source,
            "received_at": received_at.astimezone(UTC).isoformat(),
            "attempts": 0,
            "last_error": None,
        }
        try:
            staging.mkdir(mode=_DIR_MODE)
            write_file_durably(staging / MESSAGE_FILE, bytes(raw))
            write_file_durably(staging / META_FILE, json.dumps(meta).encode())
            fsync_directory(staging)
            os.rename(staging, self.new_dir / entry_id)
            fsync_directory(self.new_dir)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        if self._on_put is not None:
            try:
                self._on_put()
            except Exception as exc:
                log.warning("spool: wakeup callback failed: %s", type(exc).__name__)
        return _entry_from_meta(entry_id, self.new_dir / entry_id, meta)

    def claim(self) -> SpoolEntry | None:
        """Take the oldest waiting entry (move ``new`` -> ``cur``); None when the queue is empty.

        Safe across threads and processes: the rename succeeds for exactly one claimer. The
        folder is listed once per run of claims (not once per claim), so draining a long
        queue after an outage stays linear.
        """
        with self._listing_lock:
            for _ in range(2):  # the remembered listing, then one fresh listing
                if not self._listing:
                    self._listing = sorted(os.listdir(self.new_dir), reverse=True)
                while self._listing:
                    entry_id = self._listing.pop()
                    target = self.cur_dir / entry_id
                    try:
                        os.rename(self.new_dir / entry_id, target)
                    except FileNotFoundError:
                        continue  # another worker was faster
                    if not (target / MESSAGE_FILE).is_file():
                        log.error("spool: entry %s has no message file; removed", entry_id)
                        shutil.rmtree(target, ignore_errors=True)
                        continue
                    return _entry_from_meta(entry_id, target, _read_meta(target))
        return None

    def read(self, entry: SpoolEntry) -> bytes:
        """The raw bytes of a claimed (or waiting) entry, exactly as they were put."""
        return (entry.path / MESSAGE_FILE).read_bytes()

    def done(self, entry: SpoolEntry) -> None:
        """Delete a claimed entry for good (call only after the database commit)."""
        shutil.rmtree(entry.path)
        fsync_directory(entry.path.parent)

    def release(self, entry: SpoolEntry, error: BaseException) -> int:
        """Put a claimed entry back into ``new`` with attempts + 1; returns the new count.

        Only the class name of ``error`` is recorded (its text may quote the mail).
        """
        attempts = self._bump_attempts(entry.path, type(error).__name__)
        os.rename(entry.path, self.new_dir / entry.id)
        fsync_directory(self.new_dir)
        return attempts

    def recover(self, *, stale_tmp_after: timedelta = timedelta(hours=1)) -> int:
        """Return every claimed entry to ``new`` (attempts + 1) and drop stale ``tmp`` leftovers.

        Call at start-up, before any worker of this spool runs: an entry in ``cur`` then
        belongs to a process that died mid-way. Returns the number of entries recovered.
        """
        recovered = 0
        for entry_id in sorted(os.listdir(self.cur_dir)):
            path = self.cur_dir / entry_id
            self._bump_attempts(path, "Interrupted")
            os.rename(path, self.new_dir / entry_id)
            recovered += 1
        if recovered:
            fsync_directory(self.new_dir)
            log.warning("spool: %d interrupted entries returned to the queue", recovered)
        cutoff = time.time() - stale_tmp_after.total_seconds()
        for name in os.listdir(self.tmp_dir):
            path = self.tmp_dir / name
            try:
                if path.lstat().st_mtime <= cutoff:
                    shutil.rmtree(path, ignore_errors=True)
            except FileNotFoundError:
                continue
        return recovered

    def depth(self) -> int:
        """Messages accepted but not yet done: waiting in ``new`` plus claimed in ``cur``."""
        return self.waiting() + self.claimed()

    def waiting(self) -> int:
        """Entries waiting in ``new``."""
        return len(os.listdir(self.new_dir))

    def claimed(self) -> int:
        """Entries claimed by a worker (in ``cur``)."""
        return len(os.listdir(self.cur_dir))

    def _bump_attempts(self, path: Path, error_class: str) -> int:
        meta = _read_meta(path)
        meta["attempts"] = int(meta.get("attempts", 0)) + 1
        meta["last_error"] = error_class
        replacement = path / (META_FILE + ".new")
        replacement.unlink(missing_ok=True)
        write_file_durably(replacement, json.dumps(meta).encode())
        os.replace(replacement, path / META_FILE)
        fsync_directory(path)
        return int(meta["attempts"])


def _read_meta(path: Path) -> dict[str, Any]:
    """The entry's metadata; a missing or damaged file yields neutral defaults (logged)."""
    try:
        meta = json.loads((path / META_FILE).read_bytes())
        _entry_from_meta(path.name, path, meta)  # validates every field
        return dict(meta)
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        log.error(
            "spool: metadata of %s unreadable (%s); using defaults", path.name, type(exc).__name__
        )
        mtime = datetime.fromtimestamp((path / MESSAGE_FILE).stat().st_mtime, UTC)
        return {
            "mail_from": "",
            "rcpts": [],
            "source": "unknown",
            "received_at": mtime.isoformat(),
            "attempts": 0,
            "last_error": None,
        }


def _entry_from_meta(entry_id: str, path: Path, meta: dict[str, Any]) -> SpoolEntry:
    received_at = datetime.fromisoformat(str(meta["received_at"]))
    if received_at.tzinfo is None:
        received_at = received_at.replace(tzinfo=UTC)
    last_error = meta.get("last_error")
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
        attempts=int(meta.get("attempts", 0)),
        last_error=str(last_error) if last_error is not None else None,
    )
