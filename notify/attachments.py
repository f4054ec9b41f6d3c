"""The files a mail carries: attached while they fit, else signed download links.

A row's context lists attachment rows under `attachments` (id, filename, content_type, size,
sha256). At send time they are attached in order while the running total stays within
`attach_max_bytes`; the rest are listed with a signed link that expires after
`link_lifetime` (`store.attachment_links`, served by the HTTP listener). A file that can no
longer be read (erased meanwhile) is listed as no longer available. Each item of the context
handed to the templates says which: `attached` (bool), `link` and `link_expires` (or None).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from store.attachment_links import download_path, sign
from store.records import iso

__all__ = ["AttachmentOptions", "Attachments", "FilePart", "unresolved"]


@dataclass(frozen=True, slots=True)
class AttachmentOptions:
    """`[notify] attach_max_bytes`, the links' lifetime and base URL, and their signing key."""

    secret_key: str
    base_url: str
    attach_max_bytes: int = 10 * 1024 * 1024
    link_lifetime: timedelta = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class FilePart:
    """One file to attach to an outgoing mail."""

    filename: str
    content_type: str
    data: bytes


class Attachments:
    """Decides, per mail, what is attached and what is linked; reads the files by SHA-256."""

    def __init__(self, read: Callable[[str], bytes], options: AttachmentOptions) -> None:
        self.read = read
        self.options = options

    def resolve(
        self, context: Mapping[str, Any], now: datetime
    ) -> tuple[Mapping[str, Any], tuple[FilePart, ...]]:
        """The context the templates see (each item marked attached or linked) and the files."""
        items = context.get("attachments")
        if not isinstance(items, list) or not items:
            return context, ()
        room = self.options.attach_max_bytes
        parts: list[FilePart] = []
        shown: list[dict[str, Any]] = []
        expires = now + self.options.link_lifetime
        for item in items:
            size = int(item.get("size") or 0)
            data = self._read(item) if size <= room else None
            if data is not None:
                room -= len(data)
                parts.append(FilePart(str(item["filename"]), str(item["content_type"]), data))
                shown.append({**item, "attached": True, "link": None, "link_expires": None})
            elif size > room and item.get("id") is not None:
                signed = sign(self.options.secret_key, int(item["id"]), expires)
                link = self.options.base_url.rstrip("/") + download_path(signed)
                shown.append(
                    {**item, "attached": False, "link": link, "link_expires": iso(expires)}
                )
            else:
                shown.append({**item, "attached": False, "link": None, "link_expires": None})
        return {**context, "attachments": shown}, tuple(parts)

    def _read(self, item: Mapping[str, Any]) -> bytes | None:
        try:
            return self.read(str(item["sha256"]))
        except (OSError, KeyError):
            return None


def unresolved(context: Mapping[str, Any]) -> Mapping[str, Any]:
    """The context of a mail sent without an `Attachments` (no files at hand): every item
    listed as not available, so the templates still render."""
    items = context.get("attachments")
    if not isinstance(items, list) or not items:
        return context
    shown = [{**i, "attached": False, "link": None, "link_expires": None} for i in items]
    return {**context, "attachments": shown}
