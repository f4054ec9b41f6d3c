"""The durable directory queue between the listeners and the pipeline, and the quarantine.

`queue` is the spool itself (put, claim, done, recover); `entry`, `group` and `free` are its
files; `writer` is the SMTP listener's group-commit writer; `quarantine` keeps mail that could
not be used (encrypted, with its reason)."""

__all__ = ["entry", "free", "group", "quarantine", "queue", "writer"]
