"""The REST API under /api/v1: bearer tokens (`calls`), tickets (`tickets`), changes
(`edits` reads the request, `changes` makes the change), attachments, decision records
(`messages`), errors as problem+json (`problems`), the OpenAPI document (`openapi`) and the
routes (`routes`)."""

__all__ = [
    "attachments",
    "calls",
    "changes",
    "edits",
    "messages",
    "openapi",
    "problems",
    "routes",
    "tickets",
]
