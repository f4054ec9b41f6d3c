"""Reply-token addresses: `support+SUP-1042.k7f3q9@desk.example`.

The token is an HMAC of the ticket number and the recipient under the server secret, so a
reply to that address is attributed to that recipient's ticket even when the subject was
edited, and a forged or stale token is recognisably wrong. It lives in `store` because both
the inbound side (which checks tokens) and the outbound side (which writes them) speak it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass

TOKEN_LENGTH = 10
_TOKEN_ADDRESS = re.compile(
    r"^(?P<local>[^+@\s]+)\+(?P<number>[a-z][a-z0-9]{0,9}-\d{1,12})\.(?P<token>[a-z2-7]{6,26})@(?P<domain>[^@\s]+)$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class TokenAddress:
    """A parsed `local+NUMBER.TOKEN@domain` address (not yet verified)."""

    base_address: str
    ticket_number: str
    token: str


def reply_token(secret_key: str, ticket_number: str, recipient: str) -> str:
    """The lowercase token for `recipient`'s mail about `ticket_number`."""
    message = f"{ticket_number.upper()}\x00{recipient.strip().lower()}".encode()
    digest = hmac.new(secret_key.encode(), message, hashlib.sha256).digest()
    return base64.b32encode(digest).decode("ascii").lower()[:TOKEN_LENGTH]


def reply_address(secret_key: str, support_address: str, ticket_number: str, recipient: str) -> str:
    """The Reply-To address for `recipient`'s mail about `ticket_number`."""
    local, _, domain = support_address.partition("@")
    token = reply_token(secret_key, ticket_number, recipient)
    return f"{local}+{ticket_number.lower()}.{token}@{domain}".lower()


def parse_token_address(address: str) -> TokenAddress | None:
    """Split a token address into its parts, or None when it is not one."""
    match = _TOKEN_ADDRESS.match(address.strip())
    if not match:
        return None
    return TokenAddress(
        base_address=f"{match['local']}@{match['domain']}".lower(),
        ticket_number=match["number"].upper(),
        token=match["token"].lower(),
    )


def token_matches(
    secret_key: str, parsed: TokenAddress, recipient: str, previous_keys: Sequence[str] = ()
) -> bool:
    """Whether the token was issued to `recipient` for the ticket (constant-time compare),
    under the secret key or, during a key rotation, one of the `previous_keys`."""
    found = False
    for key in (secret_key, *previous_keys):
        expected = reply_token(key, parsed.ticket_number, recipient)
        found |= hmac.compare_digest(expected, parsed.token)
    return found
