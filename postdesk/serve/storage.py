"""Whether the daemon can write its files: free space and writability of the spool and data
directories, for `/healthz` (degraded below `[ingest] min_free_bytes`) and `/metrics`."""

from __future__ import annotations

import contextlib
import errno
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROBE_PREFIX = ".postdesk-probe-"


@dataclass(frozen=True, slots=True)
class DirectoryState:
    """One directory: bytes free to this process and whether a byte can be written in it."""

    free_bytes: int
    writable: bool
    error: str | None = None  # the errno name when a probe failed (ENOSPC, EROFS, ...)


def probe(directory: Path) -> DirectoryState:
    """Free bytes (statvfs, as an unprivileged writer sees them) and a real one-byte write:
    create, write, unlink a probe file (a full disk, quota, read-only mount or lost
    permission all fail it)."""
    try:
        stats = os.statvfs(directory)
        free = stats.f_bavail * stats.f_frsize
    except OSError as exc:
        return DirectoryState(0, False, _errno_name(exc))
    path = directory / f"{PROBE_PREFIX}{os.getpid()}-{threading.get_ident()}"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, b"\0")
        finally:
            os.close(fd)
    except OSError as exc:
        return DirectoryState(free, False, _errno_name(exc))
    finally:
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
    return DirectoryState(free, True)


def _errno_name(exc: OSError) -> str:
    return errno.errorcode.get(exc.errno or 0, type(exc).__name__)


class StorageCheck:
    """The directories the daemon writes (name -> path) and the free space each must keep."""

    def __init__(self, directories: dict[str, Path], min_free_bytes: int) -> None:
        self.directories = directories
        self.min_free_bytes = min_free_bytes

    def states(self) -> dict[str, DirectoryState]:
        return {name: probe(path) for name, path in self.directories.items()}

    def report(self) -> tuple[list[str], dict[str, Any]]:
        """(reasons it is degraded, none when healthy; the details for /healthz)."""
        reasons: list[str] = []
        details: dict[str, Any] = {}
        for name, state in self.states().items():
            details[name] = {"free_bytes": state.free_bytes, "writable": state.writable}
            path = self.directories[name]
            if not state.writable:
                reasons.append(f"{name} directory {path} cannot be written ({state.error})")
            elif state.free_bytes < self.min_free_bytes:
                reasons.append(
                    f"{name} directory {path} has {state.free_bytes} bytes free, "
                    f"below [ingest] min_free_bytes ({self.min_free_bytes})"
                )
        return reasons, details
