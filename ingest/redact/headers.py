"""Secrets out of the header values the store keeps: display names, file names, Message-IDs.

A display name (`"4111 1111 1111 1111" <carol@acme.example>`) becomes a contact's name and
shows in the team's notice; an attachment's file name is stored and named in mails; a
Message-ID is the dedupe key, sits in the decision record and the log line, and goes back
out in In-Reply-To/References. Names and file names are redacted like text (a file name
keeps its extension when only its stem held the secret). A Message-ID cannot hold a marker
and still thread, so one that holds a secret is replaced whole by a stand-in derived from
its keyed hash (HMAC-SHA256 under the desk's secret key, so a guessable secret such as a
card number cannot be found again by hashing candidates): the same id always gives the
same stand-in, so a later reply whose References name the original still finds its
ticket, and ordinary ids are left exactly as they are.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from ingest.redact.model import Redaction
from ingest.redact.redactor import redact_text
from store.redacted import RedactedText

__all__ = [
    "STAND_IN_DOMAIN",
    "redact_filename",
    "redact_name",
    "safe_message_id",
    "safe_message_ids",
]

STAND_IN_DOMAIN = "postdesk.invalid"
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,8}\Z")
# Separators inside an id that the redactor's keyword rules would not read as spaces.
_ID_SEPARATORS = re.compile(r"[<>]")


def redact_name(name: str) -> Redaction:
    """A display name with its secrets removed."""
    return redact_text(name)


def redact_filename(filename: str) -> Redaction:
    """An attachment's file name with its secrets removed; the extension stays when the
    secret was in the stem alone (`card 4111 1111 1111 1111.pdf` -> `[card ...].pdf`)."""
    whole = redact_text(filename)
    if not whole.found:
        return whole
    extension = _EXTENSION.search(filename)
    if extension is not None:
        stem = redact_text(filename[: extension.start()])
        if stem.found and len(stem.findings) >= len(whole.findings):
            return Redaction(RedactedText(stem.text + extension.group()), stem.findings)
    return whole


# Mail software writes long random numbers into Message-IDs (Python's make_msgid: 64 random
# bits, 19-20 digits); one in ten passes the Luhn check. A run of 17 or more digits with no
# separator is such a number, not a card someone typed (cards are read in groups, or 13-16
# digits): without this, one Python-made id in ten would lose its threading to a stand-in.
_GENERATED_DIGITS = re.compile(r"(?<![0-9])[0-9]{17,}(?![0-9])")


def safe_message_id(message_id: str | None, key: str) -> str | None:
    """`message_id` itself, or its stand-in when it holds a secret (None stays None);
    `key` is the desk's secret key."""
    if not message_id:
        return message_id
    readable = _ID_SEPARATORS.sub(" ", _GENERATED_DIGITS.sub("n", message_id))
    if not redact_text(readable).found:
        return message_id
    digest = hmac.new(
        key.encode("utf-8", "surrogateescape"),
        message_id.encode("utf-8", "surrogateescape"),
        hashlib.sha256,
    ).hexdigest()[:32]
    return f"<redacted.{digest}@{STAND_IN_DOMAIN}>"


def safe_message_ids(message_ids: tuple[str, ...], key: str) -> tuple[str, ...]:
    """Each id of a References list through `safe_message_id`."""
    return tuple(safe_message_id(m, key) or m for m in message_ids)
