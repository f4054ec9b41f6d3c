"""`GET /api/v1/messages?message_id=`: where did this mail go, for every outcome (created,
commented, duplicate, ignored, rejected, held, quarantined): the decision records with that
Message-ID.

An organisation token sees only the records of tickets it may see."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ingest.prepare import stored_message_id
from postdesk.serve.api.calls import Call, json_response, run
from postdesk.serve.api.problems import ApiProblem
from store import inbound, ticket_pages
from store.records import iso

__all__ = ["find_messages"]


def _find(call: Call) -> Response:
    given = (call.query.get("message_id") or "").strip()
    if not given:
        raise ApiProblem("bad-request", "message_id: the Message-ID to look up, like <id@host>")
    bracketed = given if given.startswith("<") else f"<{given}>"
    stored = stored_message_id(bracketed, call.api.options.secret_key) or bracketed
    records = inbound.messages_with_id(call.session, stored)
    numbers = ticket_pages.visible_numbers(
        call.session, [r.ticket_id for r in records if r.ticket_id], call.scope
    )
    if call.scope.organisations is not None:
        records = [r for r in records if r.ticket_id in numbers]
    return json_response(
        {
            "messages": [
                {
                    "message_id": r.message_id,
                    "sender": r.sender,
                    "outcome": r.outcome,
                    "reason": r.reason,
                    "received_at": iso(r.received_at),
                    "ticket": numbers.get(r.ticket_id) if r.ticket_id else None,
                }
                for r in records
            ]
        }
    )


async def find_messages(request: Request) -> Response:
    return await run(request, _find)
