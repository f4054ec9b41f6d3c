"""Outlook's TNEF container (`winmail.dat`, application/ms-tnef) unpacked into its files.

Outlook and Exchange send a mail's attachments (and often its formatted body) inside one
`winmail.dat` part that no other mail client can open. `unpack_tnef` reads it with the
tnefparse library and returns the files and the plain or HTML body it holds; the caller
keeps the files as ordinary attachments and uses the body only when the mail has none.

A container that cannot be read (truncated, wrong signature, garbage) gives None: the
caller then keeps `winmail.dat` as it is, with a note. An RTF-only body is not converted
(it would need an RTF reader); the container's files are still unpacked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from tnefparse.tnef import TNEF

TNEF_TYPES = ("application/ms-tnef", "application/vnd.ms-tnef")
_SIGNATURE = b"\x78\x9f\x3e\x22"
_MAX_FILES = 500
_MIN_OBJECT = 12  # level, id, type, length, checksum and at least one byte of data
logging.getLogger("tnefparse").setLevel(logging.ERROR)  # it logs every odd object it meets


@dataclass(frozen=True, slots=True)
class TnefFile:
    """One file found inside the container."""

    filename: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class TnefContent:
    """What a readable container holds: its files and its body (plain and/or HTML)."""

    files: tuple[TnefFile, ...]
    text: str
    html: str


def is_tnef(content_type: str, filename: str, payload: bytes) -> bool:
    """True for a TNEF part: by its type, or a `winmail.dat` starting with the signature."""
    if content_type in TNEF_TYPES:
        return True
    return filename.lower() == "winmail.dat" and payload.startswith(_SIGNATURE)


def unpack_tnef(payload: bytes) -> TnefContent | None:
    """The files and body inside a TNEF container, or None when it cannot be read."""
    if not payload.startswith(_SIGNATURE) or not _complete(payload):
        return None
    try:
        container = TNEF(payload, do_checksum=False)
        files = tuple(
            TnefFile(_name(attachment, index), bytes(attachment.data))
            for index, attachment in enumerate(container.attachments[:_MAX_FILES], 1)
            if isinstance(attachment.data, bytes) and attachment.data
        )
        text = _text(container.body)
        html = _text(container.htmlbody)
    except Exception:  # third-party parser on hostile input: a broken container stays as is
        return None
    if not files and not text.strip() and not html.strip():
        return None
    return TnefContent(files, text, html)


def _complete(payload: bytes) -> bool:
    """True when every object's declared length fits: tnefparse silently reads a truncated
    container, which would give truncated files."""
    offset, size = 6, len(payload)
    while offset + _MIN_OBJECT <= size:
        offset += _MIN_OBJECT - 1 + int.from_bytes(payload[offset + 5 : offset + 9], "little")
    return offset <= size and size - offset < _MIN_OBJECT


def _name(attachment: object, index: int) -> str:
    try:
        name = attachment.long_filename()  # type: ignore[attr-defined]
    except Exception:  # undecodable name bytes
        name = ""
    if isinstance(name, bytes):
        name = name.decode("latin-1")
    name = str(name).strip("\x00").strip() if name else ""
    return name or f"winmail-{index}.bin"


def _text(value: object) -> str:
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8").strip("\x00")
        except UnicodeDecodeError:
            return value.decode("cp1252", "replace").strip("\x00")
    return value.strip("\x00") if isinstance(value, str) else ""
