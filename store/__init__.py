"""The database and the files beside it. Imports no other postdesk package.

`db` (engine, sessions, transactions), `schema` (tables), `migrate` (Alembic), one module per
vocabulary (`tickets`, `comments`, `attachments`, `subscribers`, `audit`, `directory`,
`inbound`, `outbox`, `sweeps`, `cursors`, `reply_tokens`, `attachment_links`, `erasure`),
`records` (frozen records), `redacted` (the only text type it writes), `blobs` (attachment
files), `clock`."""

__all__ = [
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
    "migrate",
    "outbox",
    "records",
    "redacted",
    "reply_tokens",
    "schema",
    "subscribers",
    "sweeps",
    "tickets",
    "writebehind",
]
