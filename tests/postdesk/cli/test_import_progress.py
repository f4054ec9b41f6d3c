"""The import's progress bar stays readable: log lines written to its terminal go above it;
`--since` reads the Date header alone."""

from __future__ import annotations

import io
import logging
from collections import Counter
from datetime import UTC, datetime

from postdesk.cli.importer import Progress, header_date, logs_above


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_log_lines_go_above_the_bar_and_the_bar_is_drawn_again() -> None:
    terminal = Terminal()
    progress = Progress(10, terminal)
    handler = logging.StreamHandler(terminal)
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    try:
        with logs_above(progress):
            progress.update(5, Counter(created=5))
            logging.getLogger("ingest.intake").info("message outcome=created")
            assert handler.stream is not terminal
        assert handler.stream is terminal, "the handler gets its stream back"
    finally:
        root.handlers[:] = saved
        root.setLevel(level)
    screen = terminal.getvalue()
    bar = "[###############...............] 5/10"
    assert screen.startswith("\r" + bar)
    after_log = screen.split("message outcome=created\n", 1)[1]
    assert after_log.startswith(bar), "the bar is drawn again under the log line"
    assert "\r\x1b[K" in screen, "the bar's line is cleared before the log line"


def test_no_bar_off_a_terminal() -> None:
    stream = io.StringIO()
    progress = Progress(3, stream)
    with logs_above(progress):
        progress.update(3, Counter())
    assert stream.getvalue() == ""


def test_header_date() -> None:
    raw = b"From: a@b.example\r\nDate: Mon, 02 Mar 2026\r\n 08:00:00 +0100\r\n\r\nDate: no\r\n"
    assert header_date(raw) == datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    assert header_date(b"From: a@b.example\n\nbody\n") is None
    assert header_date(b"Date: yesterday\n\n") is None
