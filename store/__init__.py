"""The database and the files beside it. Imports no other postdesk package.

`db` (engine, sessions, transactions), `schema` (tables), `migrate` (Alembic), one module per
vocabulary (`tickets`, `comments`, `attachments`, `subscribers`, `audit`, `directory`,
`inbound`, `messages` (the decision log), `outbox`, `webhooks`, `sweeps`, `cursors`,
`reply_tokens`, `attachment_links`, `api_tokens`, `erasure`; `ticket_pages`: the REST API's
pages and scopes), `records` (frozen records), `redacted` (the only text type it writes),
`blobs` (attachment files), `clock`."""

__all__ = [
    "api_tokens",
    "attachment_links",
    "attachments",
    "audit",
    "blobs",
    "clock",
    "comments",
    "cursors",
    "db",
    "directory",
    "durable",
    "erasure",
    "errors",
    "ids",
    "inbound",
    "messages",
    "migrate",
    "outbox",
    "records",
    "redacted",
    "reply_tokens",
    "schema",
    "subscribers",
    "sweeps",
    "ticket_pages",
    "tickets",
    "webhooks",
    "writebehind",
]
