"""The OpenAPI 3.1 document of the REST API, served at `/api/v1/openapi.json`.

Written out by hand: the endpoints are few, and the document is the contract integrators
read. A test checks that every route and parameter is in it.
"""

from __future__ import annotations

from typing import Any

from ingest.model import Outcome
from postdesk.serve.api.edits import VISIBILITIES
from postdesk.serve.api.problems import PROBLEM_TYPES
from postdesk.serve.api.tickets import MAX_PAGE, PRIORITIES
from store.schema import TICKET_STATUSES

__all__ = ["document"]

_JSON = "application/json"
_PROBLEM = "application/problem+json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or {"type": "string"},
    }


def _problems(*statuses: int) -> dict[str, Any]:
    return {
        str(status): {
            "description": next(t for s, t in PROBLEM_TYPES.values() if s == status),
            "content": {_PROBLEM: {"schema": _ref("Problem")}},
        }
        for status in statuses
    }


def _ok(schema: dict[str, Any], description: str, status: int = 200) -> dict[str, Any]:
    return {str(status): {"description": description, "content": {_JSON: {"schema": schema}}}}


_NUMBER = {
    "name": "number",
    "in": "path",
    "required": True,
    "description": "The ticket number, like SUP-1042",
    "schema": {"type": "string"},
}
_STRINGS = {"type": "array", "items": {"type": "string"}}
_TIME = {"type": ["string", "null"], "format": "date-time"}
_SUMMARY: dict[str, Any] = {
    "type": "object",
    "properties": {
        "number": {"type": "string"},
        "subject": {"type": "string"},
        "status": {"enum": list(TICKET_STATUSES)},
        "priority": {"enum": list(PRIORITIES)},
        "category": {"type": "string"},
        "organisation": {"type": ["string", "null"]},
        "requester": {"type": "string"},
        "watchers": _STRINGS,
        "assignee": {"type": ["string", "null"]},
        "visibility": {"enum": list(VISIBILITIES)},
        "flags": _STRINGS,
        "related": _STRINGS,
        "call_reference": {"type": ["string", "null"]},
        "fields": {"type": "object"},
        "created_at": _TIME,
        "updated_at": _TIME,
        "first_response_due": _TIME,
        "resolution_due": _TIME,
    },
}
_COMMENT = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "author": {"type": "string"},
        "role": {"enum": ["customer", "staff", "system"]},
        "public": {"type": "boolean"},
        "body": {"type": "string", "description": "Redacted text"},
        "created_at": _TIME,
        "redactions": {"type": "object", "additionalProperties": {"type": "integer"}},
        "notes": {"type": "object"},
    },
}
_RECORD = {
    "type": "object",
    "properties": {
        "message_id": {"type": ["string", "null"]},
        "sender": {"type": "string"},
        "outcome": {"enum": [outcome.value for outcome in Outcome]},
        "reason": {"type": "string"},
        "received_at": _TIME,
        "ticket": {"type": ["string", "null"]},
    },
}
_SCHEMAS: dict[str, Any] = {
    "Problem": {
        "type": "object",
        "description": "RFC 9457 problem details",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"enum": [f"urn:postdesk:problem:{slug}" for slug in PROBLEM_TYPES]},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "field": {"type": "string", "description": "invalid-value: the field"},
            "valid": {**_STRINGS, "description": "invalid-value: the valid values"},
        },
    },
    "TicketSummary": _SUMMARY,
    "TicketPage": {
        "type": "object",
        "properties": {
            "tickets": {"type": "array", "items": _ref("TicketSummary")},
            "next": {
                "type": ["string", "null"],
                "description": "Pass as `cursor` for the next page; null on the last page",
            },
        },
    },
    "Comment": _COMMENT,
    "Attachment": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "filename": {"type": "string"},
            "content_type": {"type": "string"},
            "size": {"type": "integer"},
            "url": {"type": "string"},
        },
    },
    "DecisionRecord": _RECORD,
    "TicketDetail": {
        "allOf": [
            _ref("TicketSummary"),
            {
                "type": "object",
                "properties": {
                    "comments": {"type": "array", "items": _ref("Comment")},
                    "attachments": {"type": "array", "items": _ref("Attachment")},
                    "messages": {"type": "array", "items": _ref("DecisionRecord")},
                },
            },
        ]
    },
    "TicketPatch": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "status": {"enum": list(TICKET_STATUSES)},
            "priority": {"enum": list(PRIORITIES)},
            "category": {"type": "string", "description": "One of [desk] categories"},
            "visibility": {"enum": list(VISIBILITIES)},
            "assignee": {
                "type": ["string", "null"],
                "description": "A staff member's name or email; null unassigns",
            },
        },
    },
    "NewComment": {
        "type": "object",
        "required": ["body", "public"],
        "properties": {
            "body": {"type": "string", "description": "Redacted before it is stored"},
            "public": {
                "type": "boolean",
                "description": "true: relayed to the requester and watchers like a staff reply",
            },
            "author": {
                "type": ["string", "null"],
                "description": "A staff member's name or email (default: the token)",
            },
        },
    },
}

_READ_ERRORS = (400, 401, 503)


def document() -> dict[str, Any]:
    """The OpenAPI document."""
    statuses = ", ".join(TICKET_STATUSES)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "postdesk REST API",
            "version": "1",
            "description": (
                "Tickets, comments, attachments and decision records of a postdesk desk. "
                "Send `Authorization: Bearer TOKEN` (`postdesk tokens create`). An "
                "organisation token sees its organisation's (and its partner clients') "
                "organisation-visible tickets; any other ticket answers 404 like one that "
                "does not exist. Errors are application/problem+json."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": _SCHEMAS,
        },
        "paths": {
            "/tickets": {
                "get": {
                    "summary": "Tickets, newest change first, a page at a time",
                    "parameters": [
                        _query("status", f"One of {statuses}", {"enum": list(TICKET_STATUSES)}),
                        _query("priority", "urgent, high, medium or low", {"enum": PRIORITIES}),
                        _query("organisation", "Organisation name (case-insensitive)"),
                        _query("requester", "Requester email"),
                        _query("assignee", "Staff name or email"),
                        _query(
                            "updated_since",
                            "ISO-8601 time: tickets changed at or after it",
                            {"type": "string", "format": "date-time"},
                        ),
                        _query("q", "Words in the subject or a comment"),
                        _query("cursor", "The `next` of the previous page"),
                        _query(
                            "limit",
                            f"Page size, 1 to {MAX_PAGE} (default 50)",
                            {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
                        ),
                    ],
                    "responses": {
                        **_ok(_ref("TicketPage"), "A page of tickets"),
                        **_problems(*_READ_ERRORS, 422),
                    },
                }
            },
            "/tickets/{number}": {
                "parameters": [_NUMBER],
                "get": {
                    "summary": "A ticket with its comments, attachments and decision records",
                    "responses": {
                        **_ok(_ref("TicketDetail"), "The ticket"),
                        **_problems(*_READ_ERRORS, 404),
                    },
                },
                "patch": {
                    "summary": "Change status, priority, assignee, category or visibility",
                    "requestBody": {
                        "required": True,
                        "content": {_JSON: {"schema": _ref("TicketPatch")}},
                    },
                    "responses": {
                        **_ok(_ref("TicketSummary"), "The ticket as it now is"),
                        **_problems(*_READ_ERRORS, 403, 404, 422),
                    },
                },
            },
            "/tickets/{number}/comments": {
                "parameters": [_NUMBER],
                "post": {
                    "summary": "Add a comment; a public one is relayed to the customer",
                    "requestBody": {
                        "required": True,
                        "content": {_JSON: {"schema": _ref("NewComment")}},
                    },
                    "responses": {
                        **_ok(_ref("Comment"), "The comment as stored (redacted)", 201),
                        **_problems(*_READ_ERRORS, 403, 404, 422),
                    },
                },
            },
            "/tickets/{number}/attachments/{attachment_id}": {
                "parameters": [
                    _NUMBER,
                    {
                        "name": "attachment_id",
                        "in": "path",
                        "required": True,
                        "description": "The id from the ticket's `attachments`",
                        "schema": {"type": "integer"},
                    },
                ],
                "get": {
                    "summary": "An attachment's bytes (redacted), as a download",
                    "responses": {
                        "200": {
                            "description": "The file, with Content-Disposition: attachment",
                            "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
                        },
                        **_problems(*_READ_ERRORS, 404, 500),
                    },
                },
            },
            "/messages": {
                "get": {
                    "summary": "Where did the mail with this Message-ID go (every outcome)",
                    "parameters": [
                        {
                            **_query("message_id", "The Message-ID, with or without <>"),
                            "required": True,
                        },
                    ],
                    "responses": {
                        **_ok(
                            {
                                "type": "object",
                                "properties": {
                                    "messages": {
                                        "type": "array",
                                        "items": _ref("DecisionRecord"),
                                    }
                                },
                            },
                            "The decision records (none: never received)",
                        ),
                        **_problems(*_READ_ERRORS),
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "security": [],
                    "responses": _ok({"type": "object"}, "The OpenAPI document"),
                }
            },
        },
    }
