"""Errors of the REST API as `application/problem+json` (RFC 9457): type, title, status, detail.

Each kind of problem has a type URI of its own (`PROBLEM_TYPES`, listed in the OpenAPI
document); an invalid value adds `field` and the `valid` values.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

__all__ = ["PROBLEM_TYPES", "ApiProblem", "problem_response"]

PROBLEM_MEDIA_TYPE = "application/problem+json"
_BASE = "urn:postdesk:problem:"
# slug -> (HTTP status, title)
PROBLEM_TYPES: dict[str, tuple[int, str]] = {
    "unauthorized": (401, "Missing or invalid bearer token"),
    "forbidden": (403, "The token's scope does not allow this"),
    "not-found": (404, "Not found"),
    "bad-request": (400, "The request cannot be read"),
    "invalid-value": (422, "A value is not one of the valid ones"),
    "server-error": (500, "The server could not answer"),
    "unavailable": (503, "The database is unavailable; retry later"),
}


class ApiProblem(Exception):
    """Raised by a handler's work; answered as problem+json."""

    def __init__(self, slug: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.slug = slug
        self.detail = detail
        self.extra = extra


def problem_response(problem: ApiProblem) -> Response:
    status, title = PROBLEM_TYPES[problem.slug]
    body = {
        "type": _BASE + problem.slug,
        "title": title,
        "status": status,
        "detail": problem.detail,
        **problem.extra,
    }
    headers = {"WWW-Authenticate": 'Bearer realm="postdesk"'} if status == 401 else None
    content = json.dumps(body, ensure_ascii=False).encode()
    return Response(content, status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)
