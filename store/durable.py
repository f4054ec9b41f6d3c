"""Durability helpers shared by every writer of files (spool, quarantine, blobs, file outbox)."""

from __future__ import annotations

import os


def fsync_directory(path: str | os.PathLike[str]) -> None:
    """Flush a directory's entries (a rename or a new file in it) to stable storage."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
