"""Attachment files, content-addressed: `<root>/ab/cd/abcdef...` named by SHA-256.

The same file attached twice is stored once. A file is written to a temporary name, fsynced
and renamed, so a crash never leaves a half file under a real name. Only redacted bytes
reach this store.

Writing (and above all fsyncing) happens on background threads, so that the pipeline goes
on deciding the next message meanwhile: `put` returns the digest at once, and `sync` waits
until every file put so far is durable. Whoever commits rows that name these files calls
`sync` first (`postdesk.app.App` does, inside the transaction), so a committed attachment
row always finds its file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from store.durable import fsync_directory

WRITER_THREADS = 2  # fsyncs of different files overlap; more threads gain nothing here


class BlobStore:
    """Files named by the SHA-256 of their content."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._writers = ThreadPoolExecutor(WRITER_THREADS, thread_name_prefix="blob-writer")
        self._lock = threading.Lock()
        self._pending: dict[str, Future[None]] = {}

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes) -> str:
        """Store `data` (if not already stored) in the background; returns its SHA-256."""
        digest = hashlib.sha256(data).hexdigest()
        with self._lock:
            if digest in self._pending or self.path_for(digest).exists():
                return digest
            self._pending[digest] = self._writers.submit(self._write, digest, data)
        return digest

    def sync(self) -> None:
        """Wait until every file put so far is on disk; raises the first write's error."""
        with self._lock:
            pending, self._pending = self._pending, {}
        errors = [error for future in pending.values() if (error := future.exception())]
        if errors:
            raise errors[0]

    def _write(self, digest: str, data: bytes) -> None:
        target = self.path_for(digest)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
            fsync_directory(target.parent)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def read(self, sha256: str) -> bytes:
        return self.path_for(sha256).read_bytes()

    def remove(self, sha256: str) -> bool:
        """Delete the file of `sha256` (erasure: no row names it any more); whether it was
        there."""
        path = self.path_for(sha256)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        fsync_directory(path.parent)
        return True

    def close(self) -> None:
        """Finish the writes under way and stop the writer threads."""
        self._writers.shutdown(wait=True)
