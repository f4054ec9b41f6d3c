"""Realistic contexts for every mail kind, shaped as docs/architecture.md ("Outbox contract") says."""

from __future__ import annotations

from typing import Any

TICKET: dict[str, Any] = {
    "number": "SUP-1042",
    "subject": "Call recordings missing since Monday <urgent>",
    "status": "open",
    "priority": "high",
    "category": "technical",
    "organisation": "Müller & Söhne GmbH",
    "requester": "jürgen@customer.example",
    "assignee": "Alice Agent",
    "created_at": "2024-06-03T09:00:00Z",
    "first_response_due": "2024-06-03T13:00:00Z",
    "resolution_due": "2024-06-05T09:00:00Z",
    "support_address": "support@desk.example",
    "fields": {"affected_users": "12", "frequency": "always"},
    "call_reference": "CALL-88231",
}
IN_REPLY_TO = "<CAF=abc123@mail.customer.example>"
TICKET_LINE = {
    "number": "SUP-1042",
    "subject": "Call recordings missing",
    "status": "escalated",
    "priority": "urgent",
    "assignee": None,
    "requester": "alice@customer.example",
    "target": "first_response",
    "due": "2024-06-03T10:00:00Z",
}
DIGEST: dict[str, Any] = {
    "period": "2024-06-03T10:00:00Z",
    "generated_at": "2024-06-03T10:00:05Z",
    "escalated": [TICKET_LINE],
    "breached": [TICKET_LINE],
    "near_breach": [{**TICKET_LINE, "number": "SUP-1043", "status": "open"}],
    "dead_outbox": [
        {
            "id": 7,
            "kind": "confirmation",
            "ticket": "SUP-1040",
            "to": "x@gone.example",
            "last_error": "550 5.1.1 no such user",
        }
    ],
    "dead_outbox_count": 3,
}

ATTACHMENTS: list[dict[str, Any]] = [
    {
        "id": 31,
        "filename": "screenshot.png",
        "content_type": "image/png",
        "size": 48213,
        "sha256": "ab" * 32,
        "attached": True,
        "link": None,
        "link_expires": None,
    },
    {
        "id": 32,
        "filename": "Aufnahme <1>.wav",
        "content_type": "audio/wav",
        "size": 31457280,
        "sha256": "cd" * 32,
        "attached": False,
        "link": "https://desk.example/attachments/32.1717750000.abc",
        "link_expires": "2024-06-10T09:00:00Z",
    },
]
BLOCKED = [{"filename": "setup.exe", "reason": "blocked file type"}]

CONTEXTS: dict[str, dict[str, Any]] = {
    "confirmation": {
        "ticket": TICKET,
        "in_reply_to": IN_REPLY_TO,
        "summary": "Hello, since Monday no call recordings appear in the portal.\nPlease help.",
        "sla": {"first_response": "4 hours", "resolution": "2 days"},
        "notes": {
            "redactions": {"password": 1, "api_key": 2},
            "credential_exposed": True,
            "dropped_attachments": [{"filename": "setup.exe", "reason": "blocked file type"}],
            "ignored_fields": [{"line": "Priority: asap", "reason": "unknown value"}],
            "fields": {"affected_users": "12"},
        },
        "recipient_role": "requester",
    },
    "comment_notice": {
        "ticket": TICKET,
        "in_reply_to": IN_REPLY_TO,
        "comment": {
            "author": "jürgen@customer.example",
            "body": "Still broken <b>today</b>.",
            "created_at": "2024-06-04T08:00:00Z",
        },
        "reopened": True,
        "previous_status": "resolved",
        "attachments": ATTACHMENTS,
        "blocked_attachments": BLOCKED,
        "flags": ["credential_exposed"],
    },
    "new_ticket_notice": {
        "ticket": TICKET,
        "in_reply_to": IN_REPLY_TO,
        "summary": "Since Monday no call recordings.",
        "requester_name": "Jürgen Müller",
        "attachments": ATTACHMENTS,
        "blocked_attachments": BLOCKED,
        "flags": ["credential_exposed"],
    },
    "staff_reply": {
        "ticket": TICKET,
        "in_reply_to": "<staff-reply@desk.example>",
        "comment": {
            "author": "Alice Agent",
            "body": "We restarted the exporter; please check.",
            "signature": "Alice Agent\nSecond-level support",
        },
        "status": "waiting_on_customer",
        "from_name": "Alice Agent (Acme Support)",
        "attachments": ATTACHMENTS,
    },
    "staff_reply_copy": {
        "ticket": TICKET,
        "in_reply_to": "<staff-reply@desk.example>",
        "comment": {
            "author": "Alice Agent",
            "email": "alice@desk.example",
            "body": "We restarted the exporter; please check.",
        },
        "relayed_to": ["jürgen@customer.example"],
        "attachments": ATTACHMENTS,
        "blocked_attachments": BLOCKED,
        "changes": {"status": "waiting_on_customer"},
    },
    "assignment_notice": {
        "ticket": TICKET,
        "in_reply_to": "<staff-reply@desk.example>",
        "assigned_by": "Alice Agent",
        "flags": ["credential_exposed"],
    },
    "command_problems": {
        "ticket": TICKET,
        "in_reply_to": "<staff-reply@desk.example>",
        "invalid": [{"line": "#status done", "problem": "no such status"}],
        "valid_forms": ["#status resolved", "#close"],
    },
    "unverified_staff_reply": {
        "ticket": TICKET,
        "in_reply_to": "<staff-reply@desk.example>",
        "why": "not sent to the staff member's reply token",
        "commands": ["#close"],
        "relayed": True,
        "attachments": ["fix.pdf"],
        "reply_address": "support+sup-1042.abcdefghij@desk.example",
    },
    "redaction_notice": {
        "ticket": TICKET,
        "in_reply_to": IN_REPLY_TO,
        "redactions": {"card": 1},
        "credential_exposed": False,
    },
    "mute_notice": {"ticket": TICKET, "in_reply_to": IN_REPLY_TO, "muted": True},
    "escalation_requested": {
        "ticket": TICKET,
        "in_reply_to": IN_REPLY_TO,
        "reason": "production outage for 40 agents",
        "requester": "jürgen@customer.example",
    },
    "unverified_staff": {
        "ticket": TICKET,
        "in_reply_to": IN_REPLY_TO,
        "sender": "alice@desk.example",
        "why": "no reply token and DMARC not verified",
    },
    "flood_held": {
        "in_reply_to": None,
        "sender": "spam.example",
        "scope": "domain",
        "count": 301,
        "window": "10 minutes",
    },
    "unknown_sender": {
        "in_reply_to": "<stranger@else.example>",
        "desk_name": "Acme Support",
        "support_address": "support@desk.example",
        "subject": "Ärger mit der Rechnung",
    },
    "not_found": {
        "in_reply_to": "<staff@desk.example>",
        "number_named": "SUP-9999",
        "subject": "Re: [SUP-9999] old thing",
    },
    "sla_reminder": {
        "ticket": TICKET,
        "in_reply_to": None,
        "target": "first_response",
        "due": "2024-06-03T13:00:00Z",
        "percent": 75,
    },
    "escalation_notice": {
        "ticket": {**TICKET, "status": "escalated"},
        "in_reply_to": None,
        "target": "resolution",
        "due": "2024-06-05T09:00:00Z",
    },
    "escalation_customer": {
        "ticket": {**TICKET, "status": "escalated"},
        "in_reply_to": None,
        "target": "first_response",
        "due": "2024-06-03T13:00:00Z",
    },
    "waiting_reminder": {
        "ticket": {**TICKET, "status": "waiting_on_customer"},
        "in_reply_to": None,
        "waiting_since": "2024-06-03T12:00:00Z",
        "close_at": "2024-06-13T12:00:00Z",
    },
    "auto_close_notice": {
        "ticket": {**TICKET, "status": "closed"},
        "in_reply_to": None,
        "previous_status": "waiting_on_customer",
        "closed_after_days": 10,
    },
    "digest": DIGEST,
    "daily_digest": {
        **DIGEST,
        "status_counts": {"open": 4, "escalated": 1},
        "quarantined": 2,
        "held_senders": [{"sender": "bot@flood.example", "count": 31}],
        "credential_exposures": [
            {
                "number": "SUP-1041",
                "subject": "Login broken",
                "status": "open",
                "requester": "bob@customer.example",
            }
        ],
    },
}
