"""Emptied spool files kept for reuse: on the hot path a renamed file is cheaper than a new one.

Creating a file allocates an inode, and on ext4 without a journal (a common virtual-machine
disk, the development machine's among them) the allocator skips every inode freed in the
last 30 seconds with one buffer-cache lookup each (``recently_deleted``). A spool that creates
one file per message and deletes it once the message is decided pays, on every create, for
every message decided in the last half minute: 70-600 µs of CPU a file measured there, the
largest single cost of accepting a message over SMTP (``docs/performance.md``).

So a decided entry is not deleted: `FreeFiles.give` renames it into ``free/`` and truncates
it to nothing (the raw mail is gone from the disk's namespace exactly as with an unlink), and
the next write takes it back with `FreeFiles.take`, a rename to a fresh name in ``tmp``, then
writes it afresh with ``O_TRUNC``. A rename is atomic, so two writers (threads or processes)
never take the same file. At most ``keep`` files wait in ``free/``; more are deleted.

`FreeFiles.stock` fills the pool: ``serve`` fills it before its listeners open and the spool
worker tops it up while it has nothing else to do, so even the first burst after a start, or
one longer than the worker can keep up with, finds files to write into instead of allocating
inodes while SMTP clients wait. It creates each file in ``staging`` and renames it in, so a
writer taking a file from the pool never waits behind a create.

A crash between the rename into ``free/`` and the truncation leaves a non-empty file there;
`FreeFiles.scrub` (run by the spool's recovery at start) empties it, and a file taken is
truncated by its next write anyway. ``free/`` is mode 0700 like the rest of the spool.
"""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Sequence
from pathlib import Path

DEFAULT_KEEP = 1024


class FreeFiles:
    """A folder of empty files to write spool entries into instead of creating new ones."""

    def __init__(
        self, folder: Path, *, keep: int = DEFAULT_KEEP, staging: Path | None = None
    ) -> None:
        if keep < 0:
            raise ValueError("keep must not be negative")
        self.folder = folder
        self.keep = keep
        # Where `stock` creates its files: a create holds its folder's lock for the whole
        # inode allocation, and a writer taking a file from the pool must not wait for it.
        self.staging = staging or folder
        self._names: list[str] = []  # listed but not yet taken by this process
        self._lock = threading.Lock()

    def take(self, target: Path) -> bool:
        """Move a free file to ``target`` (which must not exist); False when none is left.

        The file may still hold bytes (a crash before its truncation): open it with
        ``O_TRUNC``. The folder is listed again only when the names listed before are used up.
        """
        with self._lock:
            for _ in range(2):  # the remembered names, then one fresh listing
                if not self._names:
                    self._names = os.listdir(self.folder)
                while self._names:
                    name = self._names.pop()
                    try:
                        os.rename(self.folder / name, target)
                    except FileNotFoundError:
                        continue  # taken by another writer
                    return True
        return False

    def give(self, paths: Sequence[Path]) -> list[Path]:
        """Empty the files at ``paths`` into the pool, as many as it has room for.

        Returns the paths it had no room for, untouched, for the caller to delete. A file is
        renamed first and truncated second, so nothing readable stays under its old name.
        """
        if not paths or self.keep == 0:
            return list(paths)
        room = self.keep - len(os.listdir(self.folder))
        kept, rest = paths[: max(room, 0)], list(paths[max(room, 0) :])
        for path in kept:
            freed = self.folder / path.name
            os.rename(path, freed)  # entry names are unique: this replaces nothing
            try:
                os.truncate(freed, 0)
            except OSError:
                freed.unlink(missing_ok=True)
        return rest

    def stock(self, *, at_most: int) -> int:
        """Create empty files until the pool holds ``keep`` (at most ``at_most`` this call,
        so a caller checking for other work between calls is never held up long); returns
        how many it created."""
        room = min(self.keep - len(os.listdir(self.folder)), at_most)
        prefix = f"stock.{os.getpid()}.{secrets.token_hex(4)}."
        for number in range(max(room, 0)):
            created = self.staging / f"{prefix}{number}"
            os.close(os.open(created, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            os.rename(created, self.folder / created.name)
        return max(room, 0)

    def scrub(self) -> int:
        """Empty every file in the pool that still holds bytes (and take in the files a
        crash left in ``staging``); returns how many it emptied."""
        if self.staging != self.folder:
            for name in os.listdir(self.staging):
                os.rename(self.staging / name, self.folder / name)
        emptied = 0
        with os.scandir(self.folder) as entries:
            for entry in entries:
                try:
                    if entry.is_file(follow_symlinks=False) and entry.stat().st_size:
                        os.truncate(entry.path, 0)
                        emptied += 1
                except FileNotFoundError:
                    continue  # taken by a writer meanwhile
        return emptied
