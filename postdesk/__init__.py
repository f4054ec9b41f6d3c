"""The application: composition only. `cli` (one module per command group), `config`
(the only reader of configuration), `serve` (the daemon and its processes), `app` (settings
into the plain values the other packages take)."""

__all__ = ["app", "cli", "config", "notify_build", "serve"]
