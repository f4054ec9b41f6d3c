"""Envelope values for a message fetched over IMAP, read from its own headers.

IMAP hands over the stored message without its SMTP envelope; the delivering MTA usually
recorded it in Delivered-To / X-Original-To (recipient) and Return-Path (sender). Only the
header block is parsed; a damaged one yields empty values, never an exception.
"""

from __future__ import annotations

import logging
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses

log = logging.getLogger(__name__)

RCPT_HEADERS = ("Delivered-To", "X-Original-To", "To")


def envelope_recipients(raw: bytes) -> tuple[str, ...]:
    """Recipients from Delivered-To, else X-Original-To, else To; may be empty."""
    try:
        headers = BytesHeaderParser(policy=compat32).parsebytes(raw)
        for name in RCPT_HEADERS:
            values = [str(value) for value in headers.get_all(name) or []]
            found = tuple(addr for _, addr in getaddresses(values) if "@" in addr)
            if found:
                return found
    except Exception as exc:  # a damaged header block must not stop the poller
        log.warning("imap: unreadable recipient headers (%s)", type(exc).__name__)
    return ()


def return_path(raw: bytes) -> str:
    """The envelope sender recorded in Return-Path (without <>), or "" when absent or empty."""
    try:
        value = BytesHeaderParser(policy=compat32).parsebytes(raw).get("Return-Path")
    except Exception as exc:
        log.warning("imap: unreadable Return-Path (%s)", type(exc).__name__)
        return ""
    return str(value).strip().strip("<>").strip() if value is not None else ""
