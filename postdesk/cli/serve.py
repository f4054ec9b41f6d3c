"""`postdesk serve` (the daemon) and `postdesk sweep` (every scheduler job due at an instant)."""

from __future__ import annotations

import argparse
import json

from postdesk.cli.common import EXIT_OK, command_settings, open_app, parse_now

__all__ = ["serve", "sweep"]


def serve(args: argparse.Namespace) -> int:
    from postdesk.serve.daemon import run_daemon

    return run_daemon(command_settings(args), verbose=args.verbose)


def sweep(args: argparse.Namespace) -> int:
    from postdesk.notify_build import run_sweep

    app = open_app(args)
    try:
        summary = run_sweep(app, parse_now(args.now))
    finally:
        app.close()
    print(json.dumps(summary, default=str))
    return EXIT_OK
