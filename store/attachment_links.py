"""Signed, expiring download links for attachments: `/attachments/<id>.<expiry>.<mac>`.

The mac is an HMAC-SHA256 of the attachment id and the expiry (Unix seconds) under the desk's
secret key, so a link names exactly one attachment until one instant, and neither can be
changed without the key. `verify` compares in constant time and answers None for anything
wrong (malformed, forged, expired) without saying which. It lives in `store`, beside the
reply tokens, because the outbound side writes links and the HTTP listener checks them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Sequence
from datetime import UTC, datetime

__all__ = ["download_path", "sign", "verify"]

MAC_LENGTH = 32  # base64url characters: 192 bits
_SIGNED = re.compile(
    r"^(?P<id>[1-9][0-9]{0,18})\.(?P<expires>[0-9]{1,12})\.(?P<mac>[A-Za-z0-9_-]+)$"
)
_PURPOSE = b"postdesk attachment link\x00"  # never the same message as a reply token's


def _mac(secret_key: str, attachment_id: int, expires: int) -> str:
    message = _PURPOSE + f"{attachment_id}\x00{expires}".encode("ascii")
    digest = hmac.new(secret_key.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")[:MAC_LENGTH]


def sign(secret_key: str, attachment_id: int, expires: datetime) -> str:
    """The signed part of the link to attachment `attachment_id`, valid until `expires`."""
    seconds = int(expires.timestamp())
    return f"{attachment_id}.{seconds}.{_mac(secret_key, attachment_id, seconds)}"


def verify(
    secret_key: str, signed: str, now: datetime, previous_keys: Sequence[str] = ()
) -> int | None:
    """The attachment id a link names, or None when it is malformed, forged or expired.
    During a key rotation, a link signed under one of the `previous_keys` still counts."""
    match = _SIGNED.match(signed)
    if match is None:
        return None
    attachment_id, expires = int(match["id"]), int(match["expires"])
    signed_here = False
    for key in (secret_key, *previous_keys):
        signed_here |= hmac.compare_digest(_mac(key, attachment_id, expires), match["mac"])
    if not signed_here:
        return None
    moment = now if now.tzinfo else now.replace(tzinfo=UTC)
    if moment.timestamp() >= expires:
        return None
    return attachment_id


def download_path(signed: str) -> str:
    """The path the HTTP listener serves a signed link at (after the public base URL)."""
    return f"/attachments/{signed}"
