"""`GET /attachments/{signed}`: the bytes of one attachment, for a signed, unexpired link.

Staff notices and relayed replies link the attachments too large to attach
(`notify.attachments`); this route serves them. The link is checked first
(`store.attachment_links.verify`, constant time); a malformed, forged or expired link and an
attachment that no longer exists all answer the same 404. The file always downloads
(`Content-Disposition: attachment`, the name made safe, RFC 6266 `filename*` for the rest);
types a browser would run (HTML, SVG, XML, scripts) go as application/octet-stream, never
sniffed, in a sandbox. `attachment_routes` returns Starlette routes to mount on the HTTP
listener.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from store import attachments
from store.attachment_links import verify
from store.blobs import BlobStore
from store.clock import utcnow
from store.db import Database

__all__ = ["attachment_routes", "content_disposition", "served_type"]

log = logging.getLogger(__name__)

_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$")
_ACTIVE = re.compile(r"html|xml|svg|javascript|ecmascript|x-sh\b|x-shellscript|x-python|x-php")
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._ ()+-]")
NOT_FOUND = "not found\n"
_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, no-store",
    "Referrer-Policy": "no-referrer",
}


def served_type(content_type: str) -> str:
    """The Content-Type to serve: the stored one when it is well formed and inert."""
    value = content_type.split(";", 1)[0].strip().lower()
    if not _TYPE.match(value) or _ACTIVE.search(value):
        return "application/octet-stream"
    return value


def content_disposition(filename: str) -> str:
    """`attachment; filename="ascii"; filename*=UTF-8''...`: no quote, backslash, control
    character or path survives in the plain name."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].strip().lstrip(".") or "attachment"
    plain = _UNSAFE_NAME.sub("_", name)[:150] or "attachment"
    header = f'attachment; filename="{plain}"'
    if plain != name:
        header += f"; filename*=UTF-8''{quote(name[:150], safe='')}"
    return header


def attachment_routes(
    db: Database,
    blobs: BlobStore,
    secret_key: str,
    *,
    clock: Callable[[], datetime] = utcnow,
    previous_keys: Sequence[str] = (),
) -> list[Route]:
    """The download route, reading attachment rows from `db` and files from `blobs`."""

    def load(attachment_id: int) -> tuple[bytes, str, str] | None:
        with db.transaction() as session:
            found = attachments.get_attachment(session, attachment_id)
        if found is None:
            return None
        try:
            data = blobs.read(found.sha256)
        except OSError:
            return None
        return data, found.filename, found.content_type

    async def download(request: Request) -> Response:
        signed = str(request.path_params["signed"])
        attachment_id = verify(secret_key, signed, clock(), previous_keys)
        found = None if attachment_id is None else await run_in_threadpool(load, attachment_id)
        if found is None:
            log.info("attachment download refused (bad, expired or unknown link)")
            return PlainTextResponse(NOT_FOUND, status_code=404, headers=_HEADERS)
        data, filename, content_type = found
        log.info("attachment download id=%d bytes=%d", attachment_id, len(data))
        headers = {**_HEADERS, "Content-Disposition": content_disposition(filename)}
        return Response(data, media_type=served_type(content_type), headers=headers)

    return [Route("/attachments/{signed}", download, methods=["GET"])]
