"""The `postdesk` command line: `main` parses arguments and turns errors into exit codes; one
module per command group holds the handlers (`mail`: ingest and import, `tickets`, `outbox`,
`quarantine`, `serve`: serve and sweep, `database`: db and check-config, `redact`), with
`common` (exit codes, settings, the wired application), `views`, `importer` and `mbox`."""

from postdesk.cli.main import main

__all__ = ["main"]
