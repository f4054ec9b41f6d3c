"""Faults the tests inject on purpose, written once: a disk that fails to fsync a folder, a
disk that is full (ENOSPC from every write of attachments, quarantine or spool copies), and a
small real filesystem (tmpfs) to fill for the end-to-end disk-full runs."""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from ingest.spool import queue as spool_queue
from ingest.spool.quarantine import Quarantine
from store.blobs import BlobStore


def failing_fsync(path: Path) -> None:
    """An fsync of a folder that fails as a dying disk does (EIO)."""
    raise OSError(errno.EIO, "Input/output error")


def break_spool_directory_fsync(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every directory fsync of the spool fails with EIO until `monkeypatch.undo()`."""
    monkeypatch.setattr(spool_queue, "fsync_directory", failing_fsync)


def disk_full() -> OSError:
    """The error a write meets on a full filesystem."""
    return OSError(errno.ENOSPC, "No space left on device")


class FullDisk:
    """While `full`, every attachment write, quarantine write and spool copy-out (a message
    of a group given back) fails with ENOSPC, as on a full data directory; `writes_refused`
    counts them. Install with `FullDisk.install(monkeypatch)`; set `full = False` to free it."""

    def __init__(self) -> None:
        self.full = True
        self.writes_refused = 0

    @classmethod
    def install(cls, monkeypatch: pytest.MonkeyPatch) -> FullDisk:
        disk = cls()
        for owner, name in (
            (BlobStore, "_write"),
            (Quarantine, "_write"),
            (spool_queue.Spool, "_copy_out"),
        ):
            monkeypatch.setattr(owner, name, disk._guard(getattr(owner, name)))
        return disk

    def _guard(self, write: Any) -> Any:
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if self.full:
                self.writes_refused += 1
                raise disk_full()
            return write(*args, **kwargs)

        return guarded


@contextmanager
def small_tmpfs(mount_point: Path, size: str = "2m") -> Iterator[Path]:
    """A real tmpfs of `size` mounted at `mount_point` (created), unmounted afterwards.

    Skips the test when mounting is not permitted (not root, or a container without the
    capability); under POSTDESK_REQUIRE_SERVICES=1 a root that cannot mount fails instead.
    """
    mount_point.mkdir(parents=True, exist_ok=True)
    command = ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(mount_point)]
    try:
        done = subprocess.run(command, capture_output=True, timeout=10, check=False)
        failure = done.stderr.decode(errors="replace").strip() if done.returncode else None
    except OSError as exc:  # no mount(8)
        failure = str(exc)
    if failure is not None:
        message = f"cannot mount a tmpfs for the disk-full run ({failure})"
        if os.environ.get("POSTDESK_REQUIRE_SERVICES") == "1" and os.geteuid() == 0:
            pytest.fail(message + "; as root this should work")
        pytest.skip(message + "; run as root to include it")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], capture_output=True, check=False)


def fill(directory: Path) -> Path:
    """Write one file into `directory` until its filesystem is full; returns the file (delete
    it to free the space)."""
    ballast = directory / "ballast"
    fd = os.open(ballast, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for size in (1 << 20, 1 << 12, 1):
            while True:
                try:
                    os.write(fd, b"\0" * size)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break
    finally:
        os.close(fd)
    return ballast
