"""`GET /api/v1/tickets` (filtered pages, a cursor to the next), `GET /api/v1/tickets/{number}`."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response

from postdesk.cli import views
from postdesk.serve.api.calls import Call, json_response, run
from postdesk.serve.api.problems import ApiProblem
from store import attachments, ticket_pages
from store.records import TicketRecord, iso
from store.schema import TICKET_STATUSES
from store.ticket_pages import Filters

__all__ = ["PRIORITIES", "get_ticket", "list_tickets", "ticket_or_404"]

PRIORITIES = ("urgent", "high", "medium", "low")
DEFAULT_PAGE, MAX_PAGE = 50, 200
LIST_PARAMETERS = (
    "status",
    "priority",
    "organisation",
    "requester",
    "assignee",
    "updated_since",
    "q",
    "cursor",
    "limit",
)


def ticket_or_404(call: Call, number: str) -> TicketRecord:
    """The ticket if the token's scope sees it; else the one answer for a missing ticket."""
    ticket = ticket_pages.visible_ticket(call.session, number, call.scope)
    if ticket is None:
        raise ApiProblem("not-found", "no such ticket")
    return ticket


def parse_time(name: str, value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ApiProblem(
            "bad-request", f"{name}: expected an ISO-8601 time like 2026-01-31T09:00:00Z"
        ) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _cursor(after: tuple[datetime, int]) -> str:
    raw = json.dumps([iso(after[0]), after[1]]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _after(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        when, ticket_id = json.loads(raw)
        if not isinstance(when, str) or not isinstance(ticket_id, int):
            raise ValueError(cursor)
        return parse_time("cursor", when), ticket_id
    except (ValueError, TypeError, binascii.Error, ApiProblem) as exc:
        raise ApiProblem("bad-request", "cursor: not a cursor this API gave out") from exc


def _choice(call: Call, name: str, valid: tuple[str, ...]) -> str | None:
    value = call.query.get(name) or None
    if value is not None and value not in valid:
        raise ApiProblem(
            "invalid-value", f"{name}: {value!r} is not valid", field=name, valid=list(valid)
        )
    return value


def _limit(call: Call) -> int:
    value = call.query.get("limit") or str(DEFAULT_PAGE)
    if not value.isdigit() or not 1 <= int(value) <= MAX_PAGE:
        raise ApiProblem("bad-request", f"limit: a whole number from 1 to {MAX_PAGE}")
    return int(value)


def _list(call: Call) -> Response:
    since = call.query.get("updated_since")
    filters = Filters(
        status=_choice(call, "status", TICKET_STATUSES),
        priority=_choice(call, "priority", PRIORITIES),
        organisation=call.query.get("organisation") or None,
        requester=call.query.get("requester") or None,
        assignee=call.query.get("assignee") or None,
        updated_since=parse_time("updated_since", since) if since else None,
        search=call.query.get("q") or None,
    )
    cursor = call.query.get("cursor")
    listed, after = ticket_pages.page(
        call.session,
        call.scope,
        filters,
        after=_after(cursor) if cursor else None,
        size=_limit(call),
    )
    return json_response(
        {
            "tickets": [views.summary_of(i.ticket, i.watchers, i.related) for i in listed],
            "next": _cursor(after) if after else None,
        }
    )


def _detail(call: Call) -> Response:
    ticket = ticket_or_404(call, call.path["number"])
    detail = views.ticket_detail(call.session, ticket)
    detail["attachments"] = [
        {
            "id": a.id,
            "filename": a.filename,
            "content_type": a.content_type,
            "size": a.size,
            "url": f"/api/v1/tickets/{ticket.number}/attachments/{a.id}",
        }
        for a in attachments.of_ticket(call.session, ticket.id)
    ]
    return json_response(detail)


async def list_tickets(request: Request) -> Response:
    return await run(request, _list)


async def get_ticket(request: Request) -> Response:
    return await run(request, _detail)
