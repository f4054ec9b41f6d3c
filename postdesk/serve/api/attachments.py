"""`GET /api/v1/tickets/{number}/attachments/{id}`: an attachment's (redacted) bytes.

Served so that a browser never runs them: `Content-Disposition: attachment` with a safe
file name, `X-Content-Type-Options: nosniff` and a sandboxing Content-Security-Policy.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from postdesk.serve.api.calls import Call, run
from postdesk.serve.api.problems import ApiProblem
from postdesk.serve.api.tickets import ticket_or_404
from store import attachments

__all__ = ["content_disposition", "get_attachment", "safe_content_type"]

log = logging.getLogger(__name__)
_MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]")


def safe_content_type(value: str) -> str:
    """The stored type when it is a plain `type/subtype`, else application/octet-stream."""
    media = value.split(";", maxsplit=1)[0].strip().lower()
    return media if _MEDIA_TYPE.match(media) else "application/octet-stream"


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII file name and the full one as RFC 8187 UTF-8."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].strip() or "attachment"
    ascii_name = _UNSAFE_NAME.sub("_", name).strip(" .") or "attachment"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def _download(call: Call) -> Response:
    ticket = ticket_or_404(call, call.path["number"])
    wanted = int(call.path["attachment_id"])
    found = next(
        (a for a in attachments.of_ticket(call.session, ticket.id) if a.id == wanted), None
    )
    if found is None:
        raise ApiProblem("not-found", "no such attachment")
    try:
        data = call.api.blobs.read(found.sha256)
    except FileNotFoundError as exc:
        log.error("api: attachment %d of %s: its file is missing", found.id, ticket.number)
        raise ApiProblem("server-error", "the attachment's file is missing") from exc
    headers = {
        "Content-Disposition": content_disposition(found.filename),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
    return Response(data, media_type=safe_content_type(found.content_type), headers=headers)


async def get_attachment(request: Request) -> Response:
    return await run(request, _download)
