"""Several spooled messages in one file: what the SMTP group commit makes durable at once.

A group file is written, fsynced and renamed like a one-message entry, so a group of N
messages costs one file, one fsync and one directory fsync instead of N of each. Layout::

    postdesk-spool-group-1 {"entries": [{"mail_from": ..., "rcpts": [...], "source": ...,
                                         "received_at": ..., "size": 1234}, ...]}\\n
    <the raw bytes of the first message><the raw bytes of the second> ...

Its name is ``<id>+<count>`` (then ``,<attempts>,<last_error>`` like any entry), so the
messages waiting in a folder are counted from the names alone. Its messages are entries of
their own, with the ids ``<id>+<count>.<index>``; the spool hands them out one by one and
removes the file once each of them is done or given back (``ingest.spool.queue``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

GROUP_HEADER_PREFIX = b"postdesk-spool-group-1 "
_GROUP_ID = re.compile(r"\+(\d+)\Z")


def group_id(base_id: str, count: int) -> str:
    """The id (and file name) of a group of ``count`` messages."""
    return f"{base_id}+{count}"


def member_id(group: str, index: int) -> str:
    """The entry id of the group's message at ``index``."""
    return f"{group}.{index}"


def messages_in(entry_id: str) -> int | None:
    """How many messages the entry with this id holds: the count of a group, else None."""
    found = _GROUP_ID.search(entry_id)
    return int(found.group(1)) if found else None


def group_header(metas: Sequence[dict[str, Any]], raws: Sequence[bytes]) -> bytes:
    """The header line of a group file holding ``raws`` with these envelopes, in order."""
    entries = [{**meta, "size": len(raw)} for meta, raw in zip(metas, raws, strict=True)]
    return GROUP_HEADER_PREFIX + json.dumps({"entries": entries}).encode() + b"\n"


def read_group(path: Path) -> list[tuple[dict[str, Any], int, int]]:
    """Each message of the group file at ``path``: (envelope, offset, size), in order.

    Raises ``ValueError`` when the header is damaged or the sizes do not match the file.
    """
    with path.open("rb") as file:
        header = file.readline()
        if not header.startswith(GROUP_HEADER_PREFIX):
            raise ValueError("no group header")
        entries = json.loads(header[len(GROUP_HEADER_PREFIX) :])["entries"]
        file.seek(0, 2)
        end = file.tell()
    members, offset = [], len(header)
    for entry in entries:
        meta = dict(entry)
        size = int(meta.pop("size"))
        if size < 0:
            raise ValueError("negative message size")
        members.append((meta, offset, size))
        offset += size
    if offset != end:
        raise ValueError("message sizes do not add up to the file")
    return members
