"""`postdesk redact`: text on stdin, the same text with secrets removed on stdout.

A module of its own so that the command starts fast: it imports the redactor and nothing of
the configuration, database or mail machinery (the other command modules import the whole
application). Large inputs are redacted on two CPUs (`ingest.redact.parallel`), with the
same result as one.
"""

from __future__ import annotations

import argparse
import sys

from ingest.redact.parallel import redact_text_parallel


def redact(args: argparse.Namespace) -> int:
    del args
    text = sys.stdin.buffer.read().decode("utf-8", errors="surrogateescape")
    result = redact_text_parallel(text)
    sys.stdout.buffer.write(result.text.encode("utf-8", errors="surrogateescape"))
    sys.stdout.flush()
    if result.findings:
        counts = ", ".join(f"{k}: {v}" for k, v in result.counts().items())
        print(f"postdesk redact: removed {counts}", file=sys.stderr)
    return 0
