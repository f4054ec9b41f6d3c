"""Faults the tests inject on purpose, written once: a disk that fails to fsync a folder."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from ingest.spool import queue as spool_queue


def failing_fsync(path: Path) -> None:
    """An fsync of a folder that fails as a dying disk does (EIO)."""
    raise OSError(errno.EIO, "Input/output error")


def break_spool_directory_fsync(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every directory fsync of the spool fails with EIO until `monkeypatch.undo()`."""
    monkeypatch.setattr(spool_queue, "fsync_directory", failing_fsync)
