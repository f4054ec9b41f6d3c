"""Recorded events into mail out, and time-driven work: `render` (templates into mail),
`message` (MIME), `attachments` (attached or linked files), `transport` (relay or files),
`outbox` (claim, send, retry), `sla` and `jobs` (what is due when), `digests`, `scheduler`
(APScheduler wiring), `webhooks` (signed HTTP POSTs of webhook rows) and `slack` (their chat
text)."""

__all__ = [
    "attachments",
    "context",
    "digests",
    "errors",
    "jobs",
    "message",
    "options",
    "outbox",
    "render",
    "scheduler",
    "sla",
    "slack",
    "transport",
    "webhooks",
]
