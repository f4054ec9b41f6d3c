"""uuencoded files inside a text body (Lotus Notes, old mailers): found, decoded, cut out.

`extract_uuencoded` returns the text without the `begin 644 name` ... `end` blocks and
the files they held, in the order they appear. A file sent without a name is named by
its magic bytes (`uuencoded.gif`). Lines with trailing garbage are read as the stdlib's
former `uu` module read them.
"""

from __future__ import annotations

import binascii
import re

_UU_BEGIN = re.compile(r"^begin [0-7]{3,4}(?: ([^\n]*))?\n", re.M)
_UU_END = re.compile(r"^`?\n?end[ \t]*$", re.M)
_MAGIC_EXTENSIONS = ((b"GIF8", ".gif"), (b"\x89PNG", ".png"), (b"\xff\xd8\xff", ".jpg"),
                     (b"%PDF", ".pdf"), (b"PK\x03\x04", ".zip"))  # fmt: skip


def extract_uuencoded(text: str) -> tuple[str, list[tuple[str, bytes]]]:
    """(text without the uuencoded blocks, [(name as sent, data)]) for a text body."""
    if "begin " not in text:
        return text, []
    found: list[tuple[str, bytes]] = []
    for match in reversed(list(_UU_BEGIN.finditer(text))):
        end = _UU_END.search(text, match.end())
        if end is None:
            continue
        data = bytearray()
        for line in text[match.end() : end.start()].splitlines():
            data += _uu_line(line)
        found.append(((match.group(1) or "").strip(), bytes(data)))
        text = text[: match.start()] + text[end.end() :]
    found.reverse()  # found from the end: give them in order
    return (re.sub(r"\n{3,}", "\n\n", text) if found else text), found


def unnamed(data: bytes) -> str:
    """A name for a uuencoded file sent without one, its extension from its magic bytes."""
    extension = next((ext for magic, ext in _MAGIC_EXTENSIONS if data.startswith(magic)), ".bin")
    return f"uuencoded{extension}"


def _uu_line(line: str) -> bytes:
    raw = line.encode("latin-1", "replace")
    if not raw.strip():
        return b""
    try:
        return binascii.a2b_uu(raw)
    except binascii.Error:  # trailing garbage, as the stdlib uu module tolerates
        size = (((raw[0] - 32) & 63) * 4 + 5) // 3
        try:
            return binascii.a2b_uu(raw[:size])
        except binascii.Error:
            return b""
