"""The daemon: the event loop with its listeners (`daemon`), the child processes
(`workers`), the notify wiring, `/healthz` and `/metrics` (`http`, `metrics`), the REST API
(`api`) and logging."""

__all__ = ["api", "daemon", "http", "logs", "metrics", "notify_start", "workers"]
