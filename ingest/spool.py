"""Durable directory queue for raw inbound mail: the point where a message becomes safe.

Layout (Maildir-like, every directory mode 0700, every file 0600)::

    root/tmp/<id>     being written; never read by anyone else
    root/new/<name>   durable, waiting for a worker
    root/cur/<name>   claimed by a worker

Each entry is one file: a header line (``postdesk-spool-1 `` and a JSON object: mail_from,
rcpts, source, received_at) followed by the raw bytes exactly as received. The file is
written once and never changed. Its name is the entry id, and after a failed attempt
``<id>,<attempts>,<last_error>``: releasing an entry renames it, so the message bytes are
never copied again. ``last_error`` holds an exception class name only, never a message text
(exception texts can quote mail content).

``put`` writes the file into ``tmp``, fsyncs it, renames it into ``new`` and fsyncs ``new``
(two fsyncs per message): when it returns, the message survives a crash or power loss. If
the fsync of ``new`` fails, ``put`` removes the entry again and raises. ``put_many`` does the
same for a group of messages with one fsync of ``new`` for all (``ingest.spool_writer``
groups the messages SMTP sessions hand in together). Concurrent calls need no coordination.
``claim`` renames ``new/<name>`` to ``cur/<name>``; rename is atomic, so two workers (threads
or processes) never claim the same entry.

Entries of the previous layout (a directory holding ``message`` and ``meta.json``) are still
read, released, recovered and deleted, so an upgrade with mail in the queue loses nothing.
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

from store.durable import fsync_directory

log = logging.getLogger(__name__)

ENTRY_HEADER_PREFIX = b"postdesk-spool-1 "
MESSAGE_FILE = "message"  # previous layout: the raw bytes inside an entry directory
META_FILE = "meta.json"  # previous layout: the envelope inside an entry directory
_NAME_SEPARATOR = ","
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
    _write_parts_durably(path, (data,))


def _write_parts_durably(path: Path, parts: Sequence[bytes]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _FILE_MODE)
    try:
        _write_all(fd, parts)
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
        self._listing: list[str] = []  # waiting names not yet tried, newest first
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
        Safe to call from many threads at once.
        """
        request = PutRequest(raw, mail_from, tuple(rcpts), source, received_at)
        (outcome,) = self.put_many((request,))
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def put_many(self, requests: Sequence[PutRequest]) -> list[SpoolEntry | OSError]:
        """Store several messages durably at once: one outcome per request, in order.

        Each message is written and fsynced on its own, then all are renamed into ``new`` and
        ``new`` is fsynced once for the group (a message arriving with others costs one
        directory fsync and one wake-up less). A message that cannot be written gets its
        ``OSError`` and leaves nothing behind; when the fsync of ``new`` fails, every message
        of the group is taken back and gets that error. ``on_put`` runs once per group.
        """
        outcomes: list[SpoolEntry | OSError] = []
        for request in requests:
            try:
                outcomes.append(self._stage(request))
            except OSError as exc:
                outcomes.append(exc)
        staged = [entry for entry in outcomes if isinstance(entry, SpoolEntry)]
        if not staged:
            return outcomes
        try:
            fsync_directory(self.new_dir)
        except BaseException as exc:
            # Not durable: take them back (unless a worker already claimed one, then the
            # sender's retry is a duplicate that the pipeline's dedupe recognises).
            for entry in staged:
                entry.path.unlink(missing_ok=True)
            if isinstance(exc, OSError):
                return [exc] * len(outcomes)
            raise
        if self._on_put is not None:
            try:
                self._on_put()
            except Exception as exc:
                log.warning("spool: wakeup callback failed: %s", type(exc).__name__)
        return outcomes

    def _stage(self, request: PutRequest) -> SpoolEntry:
        """Write one message into ``tmp``, fsync it and rename it into ``new`` (not yet
        durable there: the caller fsyncs ``new``)."""
        received_at = request.received_at
        if received_at is None:
            received_at = datetime.now(UTC)
        elif received_at.tzinfo is None:
            raise ValueError("received_at must be timezone-aware (UTC)")
        entry_id = _new_id()
        received_at = received_at.astimezone(UTC)
        meta = {
            "mail_from": request.mail_from,
            "rcpts": list(request.rcpts),
            "source": request.source,
            "received_at": received_at.isoformat(),
        }
        header = ENTRY_HEADER_PREFIX + json.dumps(meta).encode() + b"\n"
        staging = self.tmp_dir / entry_id
        waiting = self.new_dir / entry_id
        try:
            _write_parts_durably(staging, (header, request.raw))
            os.rename(staging, waiting)
        except BaseException:
            staging.unlink(missing_ok=True)
            raise
        return SpoolEntry(
            id=entry_id,
            path=waiting,
            mail_from=request.mail_from,
            rcpts=request.rcpts,
            source=request.source,
            received_at=received_at,
            attempts=0,
        )

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
                    name = self._listing.pop()
                    target = self.cur_dir / name
                    try:
                        os.rename(self.new_dir / name, target)
                    except FileNotFoundError:
                        continue  # another worker was faster
                    if target.is_dir() and not (target / MESSAGE_FILE).is_file():
                        log.error("spool: entry %s has no message file; removed", name)
                        shutil.rmtree(target, ignore_errors=True)
                        continue
                    return _load_entry(target)
        return None

    def read(self, entry: SpoolEntry) -> bytes:
        """The raw bytes of a claimed (or waiting) entry, exactly as they were put."""
        try:
            with entry.path.open("rb") as file:
                file.readline()  # the header
                return file.read()
        except IsADirectoryError:
            return (entry.path / MESSAGE_FILE).read_bytes()

    def done(self, entry: SpoolEntry) -> None:
        """Delete a claimed entry for good (call only after the database commit)."""
        self.done_many((entry,))

    def done_many(self, entries: Sequence[SpoolEntry]) -> None:
        """Delete claimed entries for good (after the commit of their batch): each folder
        they were in is fsynced once, not once per entry."""
        for entry in entries:
            _remove_entry(entry.path)
        for folder in dict.fromkeys(entry.path.parent for entry in entries):
            fsync_directory(folder)

    def release(self, entry: SpoolEntry, error: BaseException) -> int:
        """Put a claimed entry back into ``new`` with attempts + 1; returns the new count.

        Only the class name of ``error`` is recorded (its text may quote the mail).
        """
        attempts = entry.attempts + 1
        name = _entry_name(entry.id, attempts, type(error).__name__)
        os.rename(entry.path, self.new_dir / name)
        fsync_directory(self.new_dir)
        return attempts

    def recover(self, *, stale_tmp_after: timedelta = timedelta(hours=1)) -> int:
        """Return every claimed entry to ``new`` (attempts + 1) and drop stale ``tmp`` leftovers.

        Call at start-up, before any worker of this spool runs: an entry in ``cur`` then
        belongs to a process that died mid-way. Returns the number of entries recovered.
        """
        recovered = 0
        for name in sorted(os.listdir(self.cur_dir)):
            entry = _load_entry(self.cur_dir / name)
            waiting = self.new_dir / _entry_name(entry.id, entry.attempts + 1, "Interrupted")
            os.rename(entry.path, waiting)
            recovered += 1
        if recovered:
            fsync_directory(self.new_dir)
            log.warning("spool: %d interrupted entries returned to the queue", recovered)
        cutoff = time.time() - stale_tmp_after.total_seconds()
        for name in os.listdir(self.tmp_dir):
            path = self.tmp_dir / name
            try:
                if path.lstat().st_mtime <= cutoff:
                    _remove_entry(path)
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


def _entry_name(entry_id: str, attempts: int, last_error: str) -> str:
    """The file name of an entry after ``attempts`` failed attempts, the last one ``last_error``."""
    error_class = "".join(c for c in last_error if c.isalnum() or c == "_")[:100] or "Error"
    return _NAME_SEPARATOR.join((entry_id, str(attempts), error_class))


def _remove_entry(path: Path) -> None:
    """Delete an entry file (or a previous-layout entry directory)."""
    try:
        path.unlink()
    except IsADirectoryError:
        shutil.rmtree(path)


def _load_entry(path: Path) -> SpoolEntry:
    """The entry at ``path``: envelope from its header, attempts and last error from its name."""
    entry_id, _, counters = path.name.partition(_NAME_SEPARATOR)
    meta = _read_meta(path)
    attempts = int(meta.get("attempts", 0))
    last_error = meta.get("last_error")
    if counters:
        attempts_text, _, last_error = counters.partition(_NAME_SEPARATOR)
        attempts = int(attempts_text) if attempts_text.isdigit() else 1
    return _entry_from_meta(entry_id, path, meta, attempts=attempts, last_error=last_error)


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
        _entry_from_meta(path.name, path, meta, attempts=attempts, last_error=None)  # validates
        return dict(meta)
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        log.error(
            "spool: metadata of %s unreadable (%s); using defaults", path.name, type(exc).__name__
        )
        mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        return {"mail_from": "", "rcpts": [], "source": "unknown", "received_at": mtime.isoformat()}


def _entry_from_meta(
    entry_id: str, path: Path, meta: dict[str, Any], *, attempts: int, last_error: object
) -> SpoolEntry:
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
    )
