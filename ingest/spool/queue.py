"""Durable directory queue for raw inbound mail: the point where a message becomes safe.

Layout (Maildir-like, every directory mode 0700, every file 0600)::

    root/tmp/<id>     being written; never read by anyone else
    root/new/<name>   durable, waiting for a worker
    root/cur/<name>   claimed by a worker
    root/free/<name>  emptied files of decided entries, reused by the next writes
    root/stock/<name> empty files the idle worker is adding to free/

An entry's file format and name are ``ingest.spool.entry``'s; messages stored together share
one group file (``ingest.spool.group``). A file is written once and never changed: releasing
an entry renames it, so its bytes are never copied again (except a message of a group file,
which is copied out into an entry of its own).

``put`` writes one message into ``tmp``, fsyncs it, renames it into ``new`` and fsyncs ``new``:
when it returns, the message survives a crash or power loss. If the fsync of ``new`` fails,
the entry is removed again and ``put`` raises. ``put_many`` does the same for several messages
in one group file, two fsyncs for all of them (``ingest.spool.writer`` groups the messages
SMTP sessions hand in together). Concurrent calls need no coordination.

``claim`` renames ``new/<name>`` to ``cur/<name>``; rename is atomic, so two workers (threads
or processes) never claim the same file. The messages of a claimed group file are handed out
one by one by the claiming ``Spool`` (``holding`` says how many it still holds) and the file
goes once each of them is done or released. A group file that comes back after an
interrupted claim (``recover``) is split into one entry per message before anything is tried
again, so a message that keeps failing never takes the rest of its group with it.

``done`` empties an entry's file into ``free/``, and a later ``put`` writes into it again
instead of creating a file (``ingest.spool.free`` says why).

Entries of the previous layout (a directory holding ``message`` and ``meta.json``) are still
read, released, recovered and deleted, so an upgrade with mail in the queue loses nothing.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ingest.spool.entry import (
    ENTRY_HEADER_PREFIX,
    MESSAGE_FILE,
    META_FILE,
    PutRequest,
    SpoolEntry,
    ensure_private_dir,
    entry_from_meta,
    entry_header,
    entry_name,
    envelope,
    load_entry,
    new_id,
    parse_name,
    remove_entry,
    write_file_durably,
    write_parts_durably,
)
from ingest.spool.free import DEFAULT_KEEP, FreeFiles
from ingest.spool.group import group_header, group_id, member_id, messages_in, read_group
from store.clock import utcnow
from store.durable import fsync_directory

__all__ = [
    "ENTRY_HEADER_PREFIX",
    "MESSAGE_FILE",
    "META_FILE",
    "PutRequest",
    "Spool",
    "SpoolEntry",
    "ensure_private_dir",
    "write_file_durably",
]

log = logging.getLogger(__name__)


class Spool:
    """A durable queue of raw messages in a directory (see the module docstring).

    ``on_put`` is called after every successful ``put`` (from the putting thread); pass
    e.g. ``threading.Event().set`` or ``lambda: loop.call_soon_threadsafe(event.set)`` to
    wake a worker. An exception it raises is logged and swallowed: the message is safe.
    ``keep_free`` bounds the emptied files kept for reuse.
    """

    def __init__(
        self,
        root: Path,
        *,
        on_put: Callable[[], None] | None = None,
        keep_free: int = DEFAULT_KEEP,
    ) -> None:
        self.root = Path(root)
        self.tmp_dir = self.root / "tmp"
        self.new_dir = self.root / "new"
        self.cur_dir = self.root / "cur"
        self.free = FreeFiles(self.root / "free", keep=keep_free, staging=self.root / "stock")
        self._on_put = on_put
        self._listing: list[str] = []  # waiting names not yet tried, newest first
        self._held: deque[SpoolEntry] = deque()  # messages of claimed groups, not handed out
        self._unsettled: dict[Path, int] = {}  # claimed group file -> messages not yet settled
        self._lock = threading.Lock()
        for directory in (self.root, self.tmp_dir, self.new_dir, self.cur_dir):
            ensure_private_dir(directory)
        ensure_private_dir(self.free.folder)
        ensure_private_dir(self.free.staging)

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

        One message is an entry file of its own, several are one group file: written and
        fsynced once, renamed into ``new``, and ``new`` fsynced once. When that fails, every
        message gets the ``OSError`` and nothing is left behind. ``on_put`` runs once per call.
        """
        if not requests:
            return []
        try:
            entries = self._write(requests)
        except OSError as exc:
            return [exc] * len(requests)
        try:
            fsync_directory(self.new_dir)
        except BaseException as exc:
            # Not durable: take it back (unless a worker already claimed it, then the
            # senders' retries are duplicates that the pipeline's dedupe recognises).
            entries[0].path.unlink(missing_ok=True)
            if isinstance(exc, OSError):
                return [exc] * len(requests)
            raise
        if self._on_put is not None:
            try:
                self._on_put()
            except Exception as exc:
                log.warning("spool: wakeup callback failed: %s", type(exc).__name__)
        return list(entries)

    def _write(self, requests: Sequence[PutRequest]) -> list[SpoolEntry]:
        """Write the messages into one file in ``tmp``, fsync it and rename it into ``new``
        (not yet durable there: the caller fsyncs ``new``); their entries, in order."""
        now = utcnow()
        stamps = [_received_at(request, now) for request in requests]
        metas = [
            envelope(request.mail_from, request.rcpts, request.source, stamp)
            for request, stamp in zip(requests, stamps, strict=True)
        ]
        raws = [request.raw for request in requests]
        if len(requests) == 1:
            file_id = new_id()
            header = entry_header(metas[0])
        else:
            file_id = group_id(new_id(), len(requests))
            header = group_header(metas, raws)
        staging, waiting = self.tmp_dir / file_id, self.new_dir / file_id
        try:
            reuse = self.free.take(staging)
            write_parts_durably(staging, (header, *raws), reuse=reuse)
            os.rename(staging, waiting)
        except BaseException:
            staging.unlink(missing_ok=True)
            raise
        if len(requests) == 1:
            return [_written(file_id, waiting, requests[0], stamps[0], None)]
        entries, offset = [], len(header)
        for index, (request, stamp) in enumerate(zip(requests, stamps, strict=True)):
            part = (offset, len(request.raw))
            entries.append(_written(member_id(file_id, index), waiting, request, stamp, part))
            offset += len(request.raw)
        return entries

    def claim(self) -> SpoolEntry | None:
        """Take the oldest waiting message (its file moves ``new`` -> ``cur``); None when the
        queue is empty.

        Safe across threads and processes: the rename succeeds for exactly one claimer. The
        folder is listed once per run of claims (not once per claim), so draining a long
        queue after an outage stays linear.
        """
        with self._lock:
            if self._held:
                return self._held.popleft()
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
                    if messages_in(parse_name(name)[0]) is not None:
                        if (first := self._open_group(target)) is not None:
                            return first
                        continue  # split into entries of their own, listed next
                    if target.is_dir() and not (target / MESSAGE_FILE).is_file():
                        log.error("spool: entry %s has no message file; removed", name)
                        shutil.rmtree(target, ignore_errors=True)
                        continue
                    return load_entry(target)
        return None

    def holding(self) -> int:
        """Messages of claimed group files this spool has not handed out yet (claim them
        before stopping, or they wait for ``recover``)."""
        return len(self._held)

    def _open_group(self, path: Path) -> SpoolEntry | None:
        """Hold the messages of a claimed group file and hand out the first; or, for a group
        back from an interrupted claim, split it into entries of their own and return None."""
        file_id, attempts, last_error = parse_name(path.name)
        try:
            members = [
                entry_from_meta(
                    member_id(file_id, index),
                    path,
                    meta,
                    attempts=attempts or 0,
                    last_error=last_error,
                    part=(offset, size),
                )
                for index, (meta, offset, size) in enumerate(read_group(path))
            ]
        except (OSError, ValueError, TypeError, KeyError) as exc:
            reason = type(exc).__name__
            log.error("spool: group %s unreadable (%s); kept as one message", path.name, reason)
            return load_entry(path)
        if attempts:
            names = [self._copy_out(member, member.attempts, last_error) for member in members]
            fsync_directory(self.new_dir)
            path.unlink()
            fsync_directory(self.cur_dir)
            self._listing += reversed(names)  # claimed next, oldest first
            return None
        self._unsettled[path] = len(members)
        self._held.extend(members[1:])
        return members[0]

    def _copy_out(self, entry: SpoolEntry, attempts: int, last_error: str | None) -> str:
        """Write a message of a group as an entry of its own into ``new`` (the caller fsyncs
        ``new``); returns its name."""
        name = entry_name(entry.id, attempts, last_error or "Interrupted")
        meta = envelope(entry.mail_from, entry.rcpts, entry.source, entry.received_at)
        staging = self.tmp_dir / name
        try:
            write_parts_durably(staging, (entry_header(meta), self.read(entry)))
            os.rename(staging, self.new_dir / name)
        except BaseException:
            staging.unlink(missing_ok=True)
            raise
        return name

    def read(self, entry: SpoolEntry) -> bytes:
        """The raw bytes of a claimed (or waiting) entry, exactly as they were put."""
        try:
            with entry.path.open("rb") as file:
                if entry.part is not None:
                    offset, size = entry.part
                    file.seek(offset)
                    return file.read(size)
                file.readline()  # the header
                return file.read()
        except IsADirectoryError:
            return (entry.path / MESSAGE_FILE).read_bytes()

    def done(self, entry: SpoolEntry) -> None:
        """Delete a claimed entry for good (call only after the database commit)."""
        self.done_many((entry,))

    def done_many(self, entries: Sequence[SpoolEntry]) -> None:
        """Delete claimed entries for good (after the commit of their batch).

        A group file goes with the last of its messages. Each file is emptied into the free
        folder (or deleted when that is full), and each folder a file left is fsynced once.
        """
        files: list[Path] = []
        folders: list[Path] = []
        with self._lock:
            for entry in entries:
                if entry.part is not None and not self._settle(entry):
                    continue
                folders.append(entry.path.parent)
                if entry.path.is_dir():  # the previous layout
                    shutil.rmtree(entry.path)
                else:
                    files.append(entry.path)
        for path in self.free.give(files):
            path.unlink()
        for folder in dict.fromkeys(folders):
            fsync_directory(folder)

    def _settle(self, entry: SpoolEntry) -> bool:
        """Count a message of a claimed group as settled; True when it was the last one."""
        left = self._unsettled.get(entry.path)
        if left is None:
            raise ValueError(f"spool: {entry.id} is not a message of a group claimed here")
        if left > 1:
            self._unsettled[entry.path] = left - 1
            return False
        del self._unsettled[entry.path]
        return True

    def release(self, entry: SpoolEntry, error: BaseException, *, count: bool = True) -> int:
        """Put a claimed entry back into ``new`` with attempts + 1 (or, with ``count`` False,
        for a fault that is not the message's, as many as before); returns the new count.

        Only the class name of ``error`` is recorded (its text may quote the mail). A message
        of a group file is copied out into an entry of its own.
        """
        attempts = entry.attempts + (1 if count else 0)
        error_class = type(error).__name__
        if entry.part is None:
            os.rename(entry.path, self.new_dir / entry_name(entry.id, attempts, error_class))
            fsync_directory(self.new_dir)
            return attempts
        self._copy_out(entry, attempts, error_class)
        fsync_directory(self.new_dir)
        self.done_many((entry,))
        return attempts

    def recover(self, *, stale_tmp_after: timedelta = timedelta(hours=1)) -> int:
        """Return every claimed file to ``new`` (attempts + 1), drop stale ``tmp`` leftovers
        and empty any file in the free folder a crash left with bytes in it.

        Call at start-up, before any worker of this spool runs: a file in ``cur`` then
        belongs to a process that died mid-way. Returns the number of files recovered.
        """
        recovered = self.return_claimed()
        self.free.scrub()
        cutoff = time.time() - stale_tmp_after.total_seconds()
        for name in os.listdir(self.tmp_dir):
            path = self.tmp_dir / name
            try:
                if path.lstat().st_mtime <= cutoff:
                    remove_entry(path)
            except FileNotFoundError:
                continue
        return recovered

    def return_claimed(self) -> int:
        """Return every claimed file to ``new`` (attempts + 1); returns how many.

        For a worker starting again after its predecessor died (``recover`` without touching
        ``tmp`` and ``free``, which the listeners may be using): no other worker of this
        spool may run meanwhile.
        """
        recovered = 0
        for name in sorted(os.listdir(self.cur_dir)):
            path = self.cur_dir / name
            file_id, attempts, _ = parse_name(name)
            if path.is_dir():  # the previous layout may keep its attempts in meta.json
                attempts = load_entry(path).attempts
            os.rename(path, self.new_dir / entry_name(file_id, (attempts or 0) + 1, "Interrupted"))
            recovered += 1
        if recovered:
            fsync_directory(self.new_dir)
            log.warning("spool: %d interrupted entries returned to the queue", recovered)
        return recovered

    def depth(self) -> int:
        """Messages accepted but not yet done: waiting in ``new`` plus claimed in ``cur``."""
        return self.waiting() + self.claimed()

    def waiting(self) -> int:
        """Messages waiting in ``new``."""
        return _messages(self.new_dir)

    def claimed(self) -> int:
        """Messages claimed by a worker (in ``cur``; a group's count until its file goes)."""
        return _messages(self.cur_dir)


def _messages(folder: Path) -> int:
    """The messages the entries in ``folder`` hold, counted from their names."""
    return sum(messages_in(parse_name(name)[0]) or 1 for name in os.listdir(folder))


def _written(
    entry_id: str,
    path: Path,
    request: PutRequest,
    received_at: datetime,
    part: tuple[int, int] | None,
) -> SpoolEntry:
    """The entry of a message just written (its envelope as put, no header read back)."""
    return SpoolEntry(
        id=entry_id,
        path=path,
        mail_from=request.mail_from,
        rcpts=request.rcpts,
        source=request.source,
        received_at=received_at,
        attempts=0,
        part=part,
    )


def _received_at(request: PutRequest, now: datetime) -> datetime:
    if request.received_at is None:
        return now
    if request.received_at.tzinfo is None:
        raise ValueError("received_at must be timezone-aware (UTC)")
    return request.received_at.astimezone(UTC)
