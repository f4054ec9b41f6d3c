"""The files inside an archive (zip, tar, gzip, bzip2, xz), read within a budget.

Office documents (docx, xlsx, pptx, odt, ...) are zip files too. Every read is bounded so
that a hostile archive costs little: the number of members, the bytes decompressed in all
and per member, the ratio of decompressed to compressed bytes (a zip bomb), the depth of
archives inside archives, and a deadline. `Budget` keeps the count; `members` yields
(name, bytes) pairs and raises `TooCompressed` when an archive decompresses beyond the
ratio, the one case in which the attachment is withheld unread. Other limits end the
reading quietly (what was read is still checked).
"""

from __future__ import annotations

import bz2
import io
import lzma
import tarfile
import time
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["Budget", "TooCompressed", "archive_kind", "members"]

_ZIP = b"PK\x03\x04"
_GZIP = b"\x1f\x8b"
_BZIP2 = b"BZh"
_XZ = b"\xfd7zXZ\x00"
_CHUNK = 1 << 16


class TooCompressed(Exception):
    """An archive decompresses to far more than its size: a zip bomb, not read."""


@dataclass(slots=True)
class Budget:
    """What reading one attachment may still cost."""

    max_members: int = 2000
    max_bytes: int = 64 << 20  # decompressed, over all members
    max_member_bytes: int = 16 << 20
    max_ratio: int = 500  # decompressed / compressed, per member (beyond 1 MB)
    max_depth: int = 3
    seconds: float = 10.0
    members_read: int = 0
    bytes_read: int = 0
    started: float = field(default_factory=time.monotonic)
    exhausted: bool = False  # a limit ended a reading early

    def out_of_time(self) -> bool:
        if time.monotonic() - self.started > self.seconds:
            self.exhausted = True
        return self.exhausted

    def take_member(self) -> bool:
        """Count one more member; False (and exhausted) when past the limits."""
        if self.out_of_time() or self.members_read >= self.max_members:
            self.exhausted = True
            return False
        self.members_read += 1
        return True

    def allowance(self) -> int:
        """How many bytes the next member may decompress to."""
        return max(0, min(self.max_member_bytes, self.max_bytes - self.bytes_read))

    def check_ratio(self, size: int, compressed: int) -> None:
        """Raise `TooCompressed` when `size` bytes came from `compressed` bytes past the ratio."""
        if size > (1 << 20) and size > self.max_ratio * max(compressed, 1):
            raise TooCompressed

    def spend(self, size: int) -> None:
        self.bytes_read += size


def archive_kind(data: bytes) -> str | None:
    """'zip', 'tar', 'gzip', 'bzip2' or 'xz' when `data` is such an archive, else None."""
    if data.startswith(_ZIP):
        return "zip"
    if data.startswith(_GZIP):
        return "gzip"
    if data.startswith(_BZIP2):
        return "bzip2"
    if data.startswith(_XZ):
        return "xz"
    if len(data) > 262 and data[257:262] == b"ustar":
        return "tar"
    return None


def members(data: bytes, budget: Budget) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of each file in the archive `data`; nothing for a broken archive."""
    kind = archive_kind(data)
    try:
        if kind == "zip":
            yield from _zip_members(data, budget)
        elif kind == "tar":
            yield from _tar_members(data, budget)
        elif kind is not None:
            inner = _decompressed(kind, data, budget)
            if inner is not None:
                yield ("", inner)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError, ValueError,
            zlib.error, lzma.LZMAError, NotImplementedError, RuntimeError):  # fmt: skip
        return  # broken or encrypted: what could not be read is kept as it is


def _zip_members(data: bytes, budget: Budget) -> Iterator[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            if info.is_dir() or info.flag_bits & 0x1:  # encrypted members cannot be read
                continue
            if not budget.take_member():
                return
            budget.check_ratio(info.file_size, info.compress_size)  # as the archive declares
            limit = budget.allowance()
            with archive.open(info) as stream:
                content = stream.read(limit + 1)
            if len(content) > limit:
                budget.exhausted = True
                content = content[:limit]
            budget.check_ratio(len(content), info.compress_size)
            budget.spend(len(content))
            yield info.filename, content


def _tar_members(data: bytes, budget: Budget) -> Iterator[tuple[str, bytes]]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
        for info in archive:
            if not info.isfile():
                continue
            if not budget.take_member():
                return
            stream = archive.extractfile(info)
            if stream is None:
                continue
            limit = budget.allowance()
            content = stream.read(limit)
            budget.exhausted |= info.size > limit
            budget.spend(len(content))
            yield info.name, content


class _Decompressor(Protocol):
    def decompress(self, data: bytes, max_length: int = -1, /) -> bytes: ...


def _decompressor(kind: str) -> _Decompressor:
    if kind == "gzip":
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if kind == "bzip2":
        return bz2.BZ2Decompressor()
    return lzma.LZMADecompressor()


def _decompressed(kind: str, data: bytes, budget: Budget) -> bytes | None:
    """A gzip, bzip2 or xz stream decompressed (its first member), within the budget."""
    if not budget.take_member():
        return None
    decompressor = _decompressor(kind)
    limit = budget.allowance()
    out = bytearray()
    for start in range(0, len(data), _CHUNK):
        if len(out) > limit or budget.out_of_time():
            break
        chunk = data[start : start + _CHUNK]
        out += decompressor.decompress(chunk, limit + 1 - len(out))
        tail = len(getattr(decompressor, "unconsumed_tail", b""))  # zlib: input not yet used
        budget.check_ratio(len(out), start + len(chunk) - tail)
        if tail or getattr(decompressor, "eof", False):
            break  # the allowance is reached, or the (first) stream ended
    if len(out) > limit:
        budget.exhausted = True
        del out[limit:]
    budget.spend(len(out))
    return bytes(out)
