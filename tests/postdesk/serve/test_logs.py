"""Log lines escape control characters: one record is one line, in the plain and JSON formats,
whatever a client wrote (an SMTP command aiosmtpd logs verbatim)."""

from __future__ import annotations

import io
import json
import logging
import socket
from pathlib import Path

from ingest.spool.queue import Spool
from postdesk.serve.logs import JsonFormatter, PlainFormatter, escape_controls
from tests.ingest.listen.test_smtp import _handler, _serve

HOSTILE = "X\x1b[31mRED\x1b[0m\rfake\nINFO forged line\x00\x7f\x85\u2028end\tTAB"


def _record(message: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.LogRecord("mail.log", logging.WARNING, __file__, 1, message, args, exc_info)


def test_escape_controls_keeps_tab_and_text() -> None:
    escaped = escape_controls(HOSTILE)
    assert escaped == (
        "X\\x1b[31mRED\\x1b[0m\\rfake\\nINFO forged line\\x00\\x7f\\x85\\u2028end\tTAB"
    )
    assert escape_controls("Grüße, 東京 ok") == "Grüße, 東京 ok"


def test_plain_format_is_one_line_with_the_traceback() -> None:
    try:
        raise ValueError("bad\nvalue")
    except ValueError as exc:
        line = PlainFormatter().format(
            _record("%r unrecognised: %s", ("1.2.3.4", 5), HOSTILE, exc=exc)
        )
    assert "\n" not in line and "\r" not in line and "\x1b" not in line
    assert "unrecognised: X\\x1b[31mRED" in line and "\\nTraceback" in line
    assert "\tTAB" in line


def test_json_format_is_one_line_and_its_values_hold_no_control_character() -> None:
    line = JsonFormatter().format(_record("%s", HOSTILE))
    assert "\n" not in line and "\u2028" not in line and "\x85" not in line
    message = json.loads(line)["message"]
    assert not any(ord(c) < 0x20 and c != "\t" for c in message)
    assert "\x1b" not in message and message.startswith("X\\x1b[31m")


def test_an_smtp_command_with_control_bytes_is_logged_on_one_line(tmp_path: Path) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(PlainFormatter())
    logger = logging.getLogger("mail.log")
    logger.addHandler(handler)
    level, logger.level = logger.level, logging.WARNING

    def client(port: int) -> bytes:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
            reader = conn.makefile("rb")
            reader.readline()  # greeting
            conn.sendall(b"EHLO client\r\n")
            while reader.readline()[3:4] == b"-":
                pass
            conn.sendall(
                b"X\x1b[2J\x1b[31mGOT\rINFO\x07 root\r\n"
            )  # the verb is logged, upper-cased
            reply = reader.readline()
            conn.sendall(b"QUIT\r\n")
            reader.readline()
            return reply

    try:
        reply = _serve(_handler(Spool(tmp_path / "spool")), client)
    finally:
        logger.removeHandler(handler)
        logger.level = level
    assert reply.startswith(b"500")
    lines = stream.getvalue().splitlines()
    unrecognised = [line for line in lines if "unrecognised" in line]
    assert len(unrecognised) == 1, lines
    assert unrecognised[0].endswith("unrecognised: X\\x1b[2J\\x1b[31MGOT\\rINFO\\x07")
    assert not any("\x1b" in line or "\x07" in line or "\r" in line for line in lines)
