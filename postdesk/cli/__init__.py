"""The `postdesk` command line: `main` parses arguments and turns errors into exit codes;
one module per command group holds the handlers."""

from postdesk.cli.main import main

__all__ = ["main"]
