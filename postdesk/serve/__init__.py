"""The daemon: the event loop with its listeners (`daemon`), the child processes
(`workers`), the notify wiring, `/healthz` and `/metrics` (`http`, `metrics`), the REST API
(`api`), attachment downloads (`attachments`) and logging."""

__all__ = ["api", "attachments", "daemon", "http", "logs", "metrics", "notify_start", "workers"]
