"""The REST API's routes, mounted at /api/v1 of the daemon's HTTP listener."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from postdesk.app import App
from postdesk.serve.api import attachments, calls, edits, messages, openapi, tickets
from postdesk.serve.api.calls import ApiContext, json_response
from postdesk.serve.api.problems import ApiProblem, problem_response

__all__ = ["api_context", "api_routes"]

PREFIX = "/api/v1"


def api_context(app: App, after_write: Callable[[], None] | None = None) -> ApiContext:
    """The API's view of the application: its database, files, desk options and clock, and
    what to call after a write (`serve` wakes its outbox)."""
    return ApiContext(app.db, app.blobs, app.pipeline.options, app.pipeline.clock, after_write)


def api_routes(api: ApiContext) -> list[BaseRoute]:
    """The /api/v1 routes, working on `api`."""

    async def openapi_json(_request: Request) -> Response:
        return json_response(openapi.document())

    async def unknown(request: Request) -> Response:
        return problem_response(
            ApiProblem("not-found", f"no endpoint {request.url.path}; see {PREFIX}/openapi.json")
        )

    def bound(
        handler: Callable[[Request], Awaitable[Response]],
    ) -> Callable[[Request], Awaitable[Response]]:
        """The handler, finding `api` in its request's scope (the application's `state` is
        shared with the routes other parts mount)."""

        async def endpoint(request: Request) -> Response:
            request.scope[calls.SCOPE_KEY] = api
            return await handler(request)

        return endpoint

    routes = [
        Route("/openapi.json", openapi_json, methods=["GET"]),
        Route("/tickets", bound(tickets.list_tickets), methods=["GET"]),
        Route("/tickets/{number}", bound(tickets.get_ticket), methods=["GET"]),
        Route("/tickets/{number}", bound(edits.patch_ticket), methods=["PATCH"]),
        Route("/tickets/{number}/comments", bound(edits.add_comment), methods=["POST"]),
        Route(
            "/tickets/{number}/attachments/{attachment_id:int}",
            bound(attachments.get_attachment),
            methods=["GET"],
        ),
        Route("/messages", bound(messages.find_messages), methods=["GET"]),
        Route("/{rest:path}", unknown),
    ]
    return [Mount(PREFIX, routes=routes)]
