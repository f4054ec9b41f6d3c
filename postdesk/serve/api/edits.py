"""`PATCH /api/v1/tickets/{number}` and `POST /api/v1/tickets/{number}/comments` (write scope):
the request read and checked here, the change made by `changes`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from postdesk.cli import views
from postdesk.serve.api import changes
from postdesk.serve.api.calls import Call, json_response, run
from postdesk.serve.api.problems import ApiProblem
from postdesk.serve.api.tickets import PRIORITIES, ticket_or_404
from store import directory
from store.directory import StaffRecord
from store.records import iso
from store.schema import TICKET_STATUSES

__all__ = ["VISIBILITIES", "add_comment", "patch_ticket"]

VISIBILITIES = ("organisation", "private")
PATCHABLE = ("status", "priority", "assignee", "category", "visibility")
MAX_COMMENT_CHARS = 100_000


def _invalid(name: str, value: Any, valid: list[str]) -> ApiProblem:
    return ApiProblem("invalid-value", f"{name}: {value!r} is not valid", field=name, valid=valid)


def _text(body: Mapping[str, Any], name: str, valid: tuple[str, ...]) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or value not in valid:
        raise _invalid(name, value, list(valid))
    return value


def _staff(call: Call, name: str, value: Any) -> StaffRecord:
    found = directory.staff_by_name(call.session, value) if isinstance(value, str) else None
    if found is None:
        raise _invalid(name, value, ["the name or email of an active staff member", "null"])
    return found


def _the_token_may_write(call: Call) -> None:
    if call.token.organisation_id is not None:
        raise ApiProblem("forbidden", "organisation tokens are read-only")


def _patch(call: Call) -> Response:
    _the_token_may_write(call)
    ticket = ticket_or_404(call, call.path["number"])
    unknown = sorted(set(call.body) - set(PATCHABLE))
    if unknown:
        raise ApiProblem(
            "bad-request", f"cannot change {', '.join(unknown)}; only {', '.join(PATCHABLE)}"
        )
    assignee = call.body.get("assignee")
    wanted = changes.TicketChanges(
        status=_text(call.body, "status", TICKET_STATUSES),
        priority=_text(call.body, "priority", PRIORITIES),
        category=_text(call.body, "category", call.api.options.categories),
        visibility=_text(call.body, "visibility", VISIBILITIES),
        assignee=_staff(call, "assignee", assignee) if assignee is not None else None,
        unassign="assignee" in call.body and assignee is None,
    )
    updated = changes.update_ticket(
        call.session,
        ticket,
        wanted,
        actor=f"api:{call.token.name}",
        now=call.now,
        options=call.api.options,
    )
    return json_response(views.ticket_summary(call.session, updated))


def _comment(call: Call) -> Response:
    _the_token_may_write(call)
    ticket = ticket_or_404(call, call.path["number"])
    body, public, author = (call.body.get(k) for k in ("body", "public", "author"))
    if not isinstance(body, str) or not body.strip() or len(body) > MAX_COMMENT_CHARS:
        raise ApiProblem("bad-request", f"body: text of 1 to {MAX_COMMENT_CHARS} characters")
    if not isinstance(public, bool):
        raise ApiProblem("bad-request", "public: true (relayed to the customer) or false")
    comment = changes.add_comment(
        call.session,
        ticket,
        changes.ApiComment(
            body=body,
            public=public,
            author=_staff(call, "author", author) if author is not None else None,
        ),
        actor=f"api:{call.token.name}",
        now=call.now,
        options=call.api.options,
    )
    return json_response(
        {
            "id": comment.id,
            "author": comment.author,
            "role": comment.author_role,
            "public": comment.public,
            "body": comment.body,
            "created_at": iso(comment.created_at),
            "redactions": comment.redactions,
        },
        status=201,
    )


async def patch_ticket(request: Request) -> Response:
    return await run(request, _patch, write=True)


async def add_comment(request: Request) -> Response:
    return await run(request, _comment, write=True)
