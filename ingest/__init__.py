"""Raw mail in, a recorded decision out: one sub-package per stage of a message's flow.

Read the folders in the order a message meets them: `listen` (SMTP, IMAP: bytes into the
spool, acknowledged after fsync) -> `spool` (the durable queue, and quarantine) -> `parse`
-> `classify` -> `redact` -> `quotes` -> `decide` (which ticket, who may do what, the
actions and the notices they queue). `intake` is the unit of work (a batch of messages, one
transaction), `worker` drains the spool into it; `analyse`, `prepare` and `prestage` are the
stages before the database, `pipeline` the decision inside the transaction.
"""

__all__ = [
    "analyse",
    "classify",
    "decide",
    "errors",
    "intake",
    "listen",
    "model",
    "options",
    "parse",
    "pipeline",
    "prepare",
    "prestage",
    "quotes",
    "redact",
    "spool",
    "worker",
]
