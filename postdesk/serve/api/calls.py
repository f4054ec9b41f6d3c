"""One API request's unit of work: the bearer token checked, then the handler's work in one
database transaction, on a worker thread (the database calls block).

A handler is an `async` Starlette endpoint that calls `run(request, work, ...)`; `work` takes a
`Call` (the session, the token, its scope, the request's values) and returns a response.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ingest.options import PipelineOptions
from postdesk.serve.api.problems import ApiProblem, problem_response
from store import api_tokens, ticket_pages
from store.api_tokens import ApiToken
from store.blobs import BlobStore
from store.db import Database
from store.errors import StoreUnavailable
from store.ticket_pages import Scope

__all__ = ["SCOPE_KEY", "ApiContext", "Call", "json_response", "run"]

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 1024 * 1024
SCOPE_KEY = "postdesk.api"


@dataclass(frozen=True, slots=True)
class ApiContext:
    """What the API's handlers work with (built from the application by `routes`)."""

    db: Database
    blobs: BlobStore
    options: PipelineOptions
    clock: Callable[[], datetime]
    # After a write's commit: wake the outbox, so relayed replies and notices go out at once.
    after_write: Callable[[], None] | None = None


@dataclass(frozen=True, slots=True)
class Call:
    """One authenticated request, inside its transaction."""

    api: ApiContext
    session: Session
    token: ApiToken
    scope: Scope
    path: Mapping[str, Any]
    query: Mapping[str, str]
    body: Mapping[str, Any]
    now: datetime


def json_response(value: Any, status: int = 200) -> Response:
    content = json.dumps(value, ensure_ascii=False, default=str).encode()
    return Response(content, status, media_type="application/json")


def _bearer(request: Request) -> str | None:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" and credentials.strip() else None


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise ApiProblem("bad-request", f"the body is larger than {MAX_BODY_BYTES} bytes")
    try:
        value = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiProblem("bad-request", "the body is not JSON") from exc
    if not isinstance(value, dict):
        raise ApiProblem("bad-request", "the body must be a JSON object")
    return value


def _work(
    api: ApiContext,
    request: Request,
    body: Mapping[str, Any],
    work: Callable[[Call], Response],
    write: bool,
) -> tuple[Response, ApiToken | None]:
    now = api.clock()
    token = _bearer(request)
    with api.db.transaction(read_only=not write) as session:
        found = api_tokens.find_by_token(session, token) if token else None
        if found is None:
            raise ApiProblem(
                "unauthorized", "send Authorization: Bearer TOKEN (see `postdesk tokens create`)"
            )
        if write and found.scope != "write":
            raise ApiProblem("forbidden", "this needs a token with the write scope")
        call = Call(
            api=api,
            session=session,
            token=found,
            scope=ticket_pages.scope_of(session, found.organisation_id),
            path=dict(request.path_params),
            query=request.query_params,
            body=body,
            now=now,
        )
        return work(call), found


def _stale(api: ApiContext, token: ApiToken) -> bool:
    """Whether the token's `last_used_at` is due to be written again."""
    last = token.last_used_at
    return last is None or api.clock() - last >= api_tokens.LAST_USED_RESOLUTION


def _mark_used(api: ApiContext, token: ApiToken) -> None:
    with api.db.transaction() as session:
        api_tokens.mark_used(session, token, api.clock())


async def run(
    request: Request, work: Callable[[Call], Response], *, write: bool = False
) -> Response:
    """Authenticate, then run `work` in a transaction (read-only unless `write`)."""
    api = request.scope[SCOPE_KEY]
    assert isinstance(api, ApiContext)
    try:
        body = await _body(request) if request.method in ("POST", "PATCH") else {}
        response, token = await run_in_threadpool(_work, api, request, body, work, write)
        if write and api.after_write is not None and response.status_code < 300:
            api.after_write()
        if token is not None and _stale(api, token):
            await run_in_threadpool(_mark_used, api, token)
        return response
    except ApiProblem as problem:
        return problem_response(problem)
    except StoreUnavailable as exc:
        log.warning("api: %s %s: database unavailable (%s)", request.method, request.url.path, exc)
        return problem_response(ApiProblem("unavailable", "the database did not answer"))
    except Exception as exc:  # any other failure: one line without values, a 500
        log.error("api: %s %s failed: %s", request.method, request.url.path, type(exc).__name__)
        return problem_response(ApiProblem("server-error", "see the server's log"))
