"""HTTP basic authentication of a provider's webhook request, compared in constant time.

Postmark and SendGrid authenticate their inbound posts with the credentials in the webhook
URL (``https://user:password@desk.example/inbound/postmark``), sent as
``Authorization: Basic ...``; only over TLS is that a secret.
"""

from __future__ import annotations

import base64
import binascii
import hmac

__all__ = ["CHALLENGE", "basic_auth_matches"]

CHALLENGE = 'Basic realm="postdesk inbound", charset="UTF-8"'


def basic_auth_matches(authorization: str | None, username: str, password: str) -> bool:
    """Whether the ``Authorization`` header carries exactly these credentials.

    Never true for empty configured credentials. The username and the password are both
    compared (in constant time, whatever matched before), so the answer's timing tells
    nothing about either.
    """
    if not authorization or not username or not password:
        return False
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    given_user, sep, given_password = decoded.partition(b":")
    user_ok = hmac.compare_digest(given_user, username.encode("utf-8"))
    password_ok = hmac.compare_digest(given_password, password.encode("utf-8"))
    return bool(sep) and user_ok and password_ok
