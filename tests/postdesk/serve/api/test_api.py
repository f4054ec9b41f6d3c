"""The REST API over a real socket (uvicorn on a loopback port, httpx), on SQLite and
PostgreSQL: read, write and organisation tokens; pages and filters; an outsider's 404 the same
bytes as a missing ticket's; PATCH then GET; a public comment relayed with its reply token."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from email import message_from_bytes, policy
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import httpx
import pytest

from postdesk.notify_build import outbox_worker
from postdesk.serve.api.calls import ApiContext
from postdesk.serve.api.routes import api_context, api_routes
from postdesk.serve.http import HttpEndpoint
from postdesk.serve.metrics import Metrics
from store import api_tokens, directory
from store.reply_tokens import reply_address
from store.webhooks import WebhookTarget
from tests.ingest.desk import Desk

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@dataclass
class Served:
    desk: Desk
    http: httpx.Client
    tokens: dict[str, str]

    def get(self, path: str, who: str = "read", **params: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return self.http.get(path, params=params, headers=headers)

    def send(self, method: str, path: str, token: str, body: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[token]}"}
        return self.http.request(method, path, json=body, headers=headers)

    def numbers(self, who: str = "read", **params: Any) -> list[str]:
        answer = self.get("/api/v1/tickets", who, **params)
        assert answer.status_code == 200, answer.text
        return [t["number"] for t in answer.json()["tickets"]]


def _token(desk: Desk, name: str, scope: str, org: str | None = None) -> str:
    with desk.app.db.transaction() as session:
        org_id = directory.organisation_id_by_name(session, org) if org else None
        return api_tokens.create_token(session, name, scope, org_id, desk.clock())[1]


@pytest.fixture
def served(tmp_path: Path, db_url: str) -> Iterator[Served]:
    desk = Desk(tmp_path, db_url)
    tokens = {
        "read": _token(desk, "dashboard", "read"),
        "write": _token(desk, "jira", "write"),
        "acme": _token(desk, "acme-portal", "read", "Acme"),
        "globex": _token(desk, "globex-portal", "read", "Globex"),
        "partner": _token(desk, "initech", "read", "Initech Partners"),
    }

    def healthy() -> tuple[bool, dict[str, Any]]:
        return True, {}

    endpoint = HttpEndpoint(
        "127.0.0.1", 0, healthy, Metrics().registry, api_routes(api_context(desk.app))
    )
    endpoint.start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{endpoint.port}", timeout=10) as client:
            yield Served(desk, client, tokens)
    finally:
        endpoint.stop()
        desk.close()


def _open(served: Served, sender: str, subject: str, **fields: Any) -> str:
    result = served.desk.send(sender=sender, subject=subject, **fields)
    assert result.ticket is not None, result
    served.desk.clock.advance(minutes=1)
    return result.ticket


def test_pages_follow_the_cursor_and_filters_narrow(served: Served) -> None:
    carol = "Carol Customer <carol@acme.example>"
    numbers = [_open(served, carol, f"Export broken {i}") for i in range(5)]
    globex = _open(served, "erin@globex.example", "Invoice missing")
    newest_first = [globex, *reversed(numbers)]

    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = served.get("/api/v1/tickets", **params).json()
        seen += [t["number"] for t in page["tickets"]]
        pages += 1
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == newest_first and pages == 3

    assert served.numbers(organisation="acme") == list(reversed(numbers))
    assert served.numbers(requester="erin@globex.example") == [globex]
    assert served.numbers(q="invoice") == [globex]
    assert served.numbers(status="open", priority="medium") == newest_first
    assert served.numbers(status="resolved") == []
    assert served.numbers(updated_since="2026-11-23T09:05:00Z") == [globex]
    assert served.numbers(updated_since="2026-11-23T09:04:00+00:00") == newest_first[:2]
    assert served.get("/api/v1/tickets", updated_since="yesterday").status_code == 400
    assert served.get("/api/v1/tickets", limit=0).status_code == 400
    assert served.get("/api/v1/tickets", limit=201).status_code == 400
    summary = served.get("/api/v1/tickets", limit=1).json()["tickets"][0]
    assert summary["requester"] == "erin@globex.example" and summary["watchers"] == []

    invalid = served.get("/api/v1/tickets", status="done")
    assert invalid.status_code == 422
    assert invalid.headers["content-type"] == "application/problem+json"
    problem = invalid.json()
    assert problem["type"] == "urn:postdesk:problem:invalid-value" and problem["status"] == 422
    assert problem["valid"][:2] == ["open", "in_progress"] and problem["title"]
    assert served.get("/api/v1/tickets", cursor="nonsense").status_code == 400


def test_missing_bad_and_revoked_tokens_answer_401(served: Served) -> None:
    assert served.get("/api/v1/tickets", who="").status_code == 401
    served.tokens["bad"] = "pdk_" + "x" * 43
    bad = served.get("/api/v1/tickets", who="bad")
    assert bad.status_code == 401 and bad.headers["content-type"] == "application/problem+json"
    assert bad.json()["type"] == "urn:postdesk:problem:unauthorized"
    assert served.get("/api/v1/tickets").status_code == 200
    with served.desk.app.db.transaction() as session:
        assert api_tokens.revoke_token(session, "dashboard") is not None
    assert served.get("/api/v1/tickets").status_code == 401


def test_detail_attachments_and_decision_records(served: Served) -> None:
    message_id = make_msgid(domain="acme.example")
    number = _open(
        served,
        "carol@acme.example",
        "Screen is blank",
        message_id=message_id,
        attachments=[("screen shot é.png", "image/png", PNG)],
    )
    detail = served.get(f"/api/v1/tickets/{number}").json()
    assert detail["number"] == number and detail["requester"] == "carol@acme.example"
    assert [c["role"] for c in detail["comments"]] == ["customer"]
    assert [m["outcome"] for m in detail["messages"]] == ["created"]
    (attachment,) = detail["attachments"]
    assert attachment["filename"] == "screen shot é.png"
    download = served.get(attachment["url"])
    assert download.status_code == 200 and download.content == PNG
    assert download.headers["content-type"] == "image/png"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-disposition"] == (
        "attachment; filename=\"screen shot _.png\"; filename*=UTF-8''screen%20shot%20%C3%A9.png"
    )
    assert served.get(f"/api/v1/tickets/{number}/attachments/999999").status_code == 404

    found = served.get("/api/v1/messages", message_id=message_id.strip("<>")).json()
    assert [(m["outcome"], m["ticket"]) for m in found["messages"]] == [("created", number)]
    stranger_id = make_msgid(domain="nowhere.example")
    served.desk.send(sender="eve@nowhere.example", message_id=stranger_id)
    (rejected,) = served.get("/api/v1/messages", message_id=stranger_id).json()["messages"]
    assert rejected["outcome"] == "rejected" and rejected["ticket"] is None
    assert served.get("/api/v1/messages", "acme", message_id=stranger_id).json() == {"messages": []}
    assert served.get("/api/v1/messages", "globex", message_id=message_id).json() == {
        "messages": []
    }


def _without_date(answer: httpx.Response) -> list[tuple[bytes, bytes]]:
    return [(k, v) for k, v in answer.headers.raw if k.lower() != b"date"]


def test_organisation_tokens_see_their_tickets_and_partners_their_clients(
    served: Served,
) -> None:
    acme = _open(served, "carol@acme.example", "Acme export")
    private = _open(served, "dave@acme.example", "Salary file", body="Visibility: private\n\nHi")
    globex = _open(served, "erin@globex.example", "Globex invoice")
    assert served.numbers("acme") == [acme]
    assert served.numbers("partner") == [acme]
    assert served.numbers("globex") == [globex]
    assert served.numbers("globex", organisation="Acme") == []
    assert served.numbers() == [globex, private, acme]

    assert served.get(f"/api/v1/tickets/{acme}", "partner").status_code == 200
    outsider = served.get(f"/api/v1/tickets/{acme}", "globex")
    missing = served.get("/api/v1/tickets/SUP-999999", "globex")
    assert outsider.status_code == missing.status_code == 404
    assert outsider.content == missing.content
    assert _without_date(outsider) == _without_date(missing)
    private_seen = served.get(f"/api/v1/tickets/{private}", "acme")
    assert private_seen.content == missing.content
    other_attachment = served.get(f"/api/v1/tickets/{acme}/attachments/1", "globex")
    missing_attachment = served.get("/api/v1/tickets/SUP-999999/attachments/1", "globex")
    assert other_attachment.content == missing_attachment.content
    refused = served.send("PATCH", f"/api/v1/tickets/{globex}", "globex", {"status": "closed"})
    assert refused.status_code == 403  # organisation tokens are read-only


def test_patch_then_get_and_values_are_checked(served: Served) -> None:
    number = _open(served, "carol@acme.example", "Calls drop")
    path = f"/api/v1/tickets/{number}"
    assert served.send("PATCH", path, "read", {"status": "closed"}).status_code == 403
    changed = served.send(
        "PATCH", path, "write", {"status": "in_progress", "priority": "high", "assignee": "Alice"}
    )
    assert changed.status_code == 200, changed.text
    detail = served.get(path).json()
    assert (detail["status"], detail["priority"], detail["assignee"]) == (
        "in_progress",
        "high",
        "alice",
    )
    assert detail["first_response_due"] != changed.json()["created_at"]
    assert served.numbers(assignee="alice@desk.example") == [number]
    assert served.send("PATCH", path, "write", {"assignee": None}).json()["assignee"] is None

    bad = served.send("PATCH", path, "write", {"priority": "critical"})
    assert bad.status_code == 422
    assert bad.json()["valid"] == ["urgent", "high", "medium", "low"]
    assert served.send("PATCH", path, "write", {"category": "nope"}).json()["field"] == "category"
    assert served.send("PATCH", path, "write", {"assignee": "mallory"}).status_code == 422
    assert served.send("PATCH", path, "write", {"subject": "x"}).status_code == 400
    assert served.send("PATCH", "/api/v1/tickets/SUP-999999", "write", {}).status_code == 404


def test_a_public_comment_is_redacted_and_relayed_with_the_reply_token(
    served: Served, tmp_path: Path
) -> None:
    number = _open(served, "carol@acme.example", "Login fails")
    path = f"/api/v1/tickets/{number}/comments"
    secret = "password: Tr0ub4dor&3xyz"
    body = {"body": f"Reset done, use {secret} to log in.", "public": True, "author": "alice"}
    created = served.send("POST", path, "write", body)
    assert created.status_code == 201, created.text
    assert "Tr0ub4dor" not in created.json()["body"] and created.json()["redactions"]
    internal = served.send("POST", path, "write", {"body": "Checked logs.", "public": False})
    assert internal.status_code == 201 and internal.json()["author"] == "api:jira"
    comments = served.get(f"/api/v1/tickets/{number}").json()["comments"]
    assert [(c["role"], c["public"]) for c in comments] == [
        ("customer", True),
        ("staff", True),
        ("staff", False),
    ]
    assert all("Tr0ub4dor" not in c["body"] for c in comments)

    relayed = served.desk.outbox("staff_reply")
    assert [r.recipient for r in relayed] == ["carol@acme.example"]
    outbox_worker(served.desk.app).drain(served.desk.clock())
    (sent,) = [
        message_from_bytes(p.read_bytes(), policy=policy.default)
        for p in sorted((tmp_path / "outbox").glob("*.eml"))
        if b"X-Postdesk-Kind: staff_reply\r\n" in p.read_bytes()
    ]
    assert served.desk.outbox("staff_reply_copy"), "the team sees the API's public reply"
    settings = served.desk.app.settings
    token_address = reply_address(
        settings.desk.secret_key, "support@desk.example", number, "carol@acme.example"
    )
    assert sent["Reply-To"] == token_address and sent["To"] == "carol@acme.example"
    text = sent.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Reset done" in text and "Tr0ub4dor" not in text
    assert served.send("POST", path, "write", {"body": " ", "public": True}).status_code == 400
    assert served.send("POST", path, "read", body).status_code == 403


def test_the_openapi_document_describes_every_route_and_parameter(served: Served) -> None:
    document = served.http.get("/api/v1/openapi.json").json()
    paths = document["paths"]
    source = Path(__file__).resolve().parents[4] / "postdesk" / "serve" / "api" / "routes.py"
    routes = re.findall(r'Route\(\s*"([^"]+)"', source.read_text())
    documented = {p.replace("{attachment_id}", "{attachment_id:int}") for p in paths}
    assert {r for r in routes if "rest:path" not in r} <= documented
    listing = {p["name"] for p in paths["/tickets"]["get"]["parameters"]}
    assert listing == {
        "status",
        "organisation",
        "requester",
        "assignee",
        "priority",
        "updated_since",
        "q",
        "cursor",
        "limit",
    }
    assert "Problem" in document["components"]["schemas"]
    unknown = served.get("/api/v1/nothing")
    assert unknown.status_code == 404 and unknown.json()["status"] == 404


def test_api_changes_emit_webhook_events_and_tell_the_new_assignee(
    tmp_path: Path, db_url: str
) -> None:
    """PATCH and POST comments through the API queue `ticket.updated` and `comment.created`
    (the same outbox rows as mail's changes), and an assignment notices the assignee."""
    desk = Desk(tmp_path, db_url)
    woken: list[None] = []  # serve wakes its outbox after each write
    events = frozenset({"ticket.updated", "comment.created"})
    options = replace(desk.app.pipeline.options, webhooks=(WebhookTarget("hooks", events),))
    token = _token(desk, "jira", "write")
    endpoint = HttpEndpoint(
        "127.0.0.1",
        0,
        lambda: (True, {}),
        Metrics().registry,
        api_routes(
            ApiContext(
                desk.app.db,
                desk.app.blobs,
                options,
                desk.app.pipeline.clock,
                lambda: woken.append(None),
            )
        ),
    )
    endpoint.start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{endpoint.port}", timeout=10) as client:
            served = Served(desk, client, {"write": token})
            number = _open(served, "carol@acme.example", "Export stuck")
            before = {r.id for r in desk.outbox("webhook")}
            path = f"/api/v1/tickets/{number}"
            changed = served.send("PATCH", path, "write", {"status": "open", "assignee": "bob"})
            assert changed.status_code == 200, changed.text
            nothing = served.send("PATCH", path, "write", {"status": "open"})
            assert nothing.status_code == 200  # no change: no event
            note = {"body": "Looked at it.", "public": False}
            assert served.send("POST", f"{path}/comments", "write", note).status_code == 201
            assert served.get(path, "write").status_code == 200
            assert len(woken) == 3  # the two PATCHes and the comment; never a read
    finally:
        endpoint.stop()
    rows = [r for r in desk.outbox("webhook") if r.id not in before]
    kinds = [r.context.get("type") or r.context.get("event", {}).get("type") for r in rows]
    assert kinds == ["ticket.updated", "comment.created"], kinds
    assert [r.recipient for r in desk.outbox("assignment_notice")] == ["bob@desk.example"]
    desk.close()
