"""What kind of mail this is: a person's, a bounce, an auto-reply or bulk (RFC 3464, 3834).

`kind` is the entry point (`classify`, `MessageKind`); `bounce`, `dsn`, `ses` read delivery
reports, `auto` auto-replies, `signals` the header signals, `mime` the MIME parts they read."""

from ingest.classify.kind import Classification, MessageKind, classify

__all__ = ["Classification", "MessageKind", "classify"]
