"""Secrets of the web: session cookies, tokens in links and query strings, Mailchimp keys.

`Cookie: sid=...; PHPSESSID=...`, `session=...`, `connect.sid=s%3A...`, `_session_id=...`
(the keyword trigger hands "cookie" and the session cookie names to the handlers here);
`https://app.example.com/magic/<random>`, `?code=<random>&t=<random>` and Mailchimp's
`<32 hex>-us2` (literal anchors, from `find_shaped`). Each value is read with a bounded
pattern anchored where its keyword or anchor was found.
"""

from __future__ import annotations

import re

from ingest.redact.model import Span
from ingest.redact.secrets import handle_secret
from ingest.redact.values import is_marker_at, looks_like_key

_COOKIE_VALUE = re.compile(r"[A-Za-z0-9%._\-+/=:~|!*]{1,4096}")
_SEP = re.compile(r"[ \t]*[\"']?[ \t]*(?:=|:)[ \t]*[\"']?")
_PAIR = re.compile(r"[ \t]*([A-Za-z0-9_.\-$%!*]{1,64})=")
_COOKIE_LINE = re.compile(r"[ \t]*:[ \t]*")
_MAX_PAIRS = 64
_COOKIE_SAID = re.compile(
    r"[ \t-]?(?:value|wert|valeur|valor|valore|waarde)?[ \t]*"
    r"(?:is|was|ist|war|est|était|es|era|è|é|=|:)[ \t]*[\"'`]?"
)


def _secret_cookie(value: str) -> bool:
    """A session value: 12 characters or more, letters and digits, not one repeated."""
    if len(value) < 12 or len(set(value)) < 6:
        return False
    has_digit = any(c.isdigit() for c in value)
    has_alpha = any(c.isalpha() for c in value)
    return has_digit and has_alpha


def _cookie_span(text: str, pos: int) -> Span | None:
    m = _COOKIE_VALUE.match(text, pos)
    if m is None:
        return None
    end = m.end()
    while end > pos and text[end - 1] in ".,:":
        end -= 1
    if not _secret_cookie(text[pos:end]):
        return None
    return Span.of(pos, end, "bearer_token", "session cookie")


def handle_session(text: str, low: str, start: int, end: int) -> list[Span]:
    """The value after a session cookie name: `PHPSESSID=...`, `session: ...`, `sid=...`."""
    m = _SEP.match(low, end)
    if m is None or is_marker_at(text, m.end()):
        return handle_secret(text, low, start, end)
    span = _cookie_span(text, m.end())
    # else as any key: "auth_token=<random letters>", "session token: <key>"
    return [span] if span is not None else handle_secret(text, low, start, end)


def handle_cookie_header(text: str, low: str, start: int, end: int) -> list[Span]:
    """Every long random value in a `Cookie:` or `Set-Cookie:` header line."""
    m = _COOKIE_LINE.match(low, end)
    if m is None:
        # "the cookie value is <value>", "cookie = <value>", "Cookie-Wert ist <value>"
        said = _COOKIE_SAID.match(low, end)
        span = _cookie_span(text, said.end()) if said is not None else None
        return [span] if span is not None else []
    spans: list[Span] = []
    pos = m.end()
    for _ in range(_MAX_PAIRS):
        pair = _PAIR.match(text, pos)
        if pair is None:
            break
        value = _COOKIE_VALUE.match(text, pair.end())
        if value is None:
            pos = pair.end()
        else:
            span = _cookie_span(text, pair.end())
            if span is not None:
                spans.append(span)
            pos = value.end()
        if not text.startswith(";", pos):
            break
        pos += 1
    return spans


SESSION_WORDS: tuple[str, ...] = (
    "session",
    "sessionid",
    "session_id",
    "session-id",
    "sessid",
    "phpsessid",
    "jsessionid",
    "aspsessionid",
    "sid",
    "connect.sid",
    "session_token",
    "sessiontoken",
    "remember_token",
    "auth_token",
    "sess",  # "_gh_sess", "rack.sess"
    "gh_sess",
    "user_session",
    "__host-session",
    "__secure-session",
)
"""Names of session cookies; "cookie" itself reads a whole header."""

_LINK_TOKEN = re.compile(
    r"/(?:magic(?:[-_]?link)?|login|log-in|signin|sign-in|auth|verify|verification|confirm|"
    r"confirmation|activate|activation|reset|password[-_]reset|reset[-_]password|invite|"
    r"invitation|unlock|sso|onetime|one-time|access|token)/"
    r"(?:[A-Za-z0-9_\-]{1,24}/)?([A-Za-z0-9_\-.~%]{20,512})"
)
_QUERY_TOKEN = re.compile(
    r"[?&](?:amp;)?(?:code|ticket|magic|otp|oobcode|oob_code|login_token|reset_token|"
    r"invite_token|access)=([A-Za-z0-9_\-.~%+/]{16,2048})"
)
_URL_RUN = re.compile(r"[^\s\"'<>]{1,4096}")
_MAILCHIMP = re.compile(r"-us\d{1,2}(?![A-Za-z0-9])")
_HEX32 = re.compile(r"[0-9a-f]{32}\Z")


def link_tokens(text: str) -> list[Span]:
    """Random tokens in links (`/magic/<token>`, `reset/<token>`, `?code=<token>`): each
    link from its "://" on is read once."""
    spans: list[Span] = []
    pos = text.find("://")
    while pos >= 0:
        run = _URL_RUN.match(text, pos + 3)
        end = run.end() if run is not None else pos + 3
        if end - pos > 20:
            for regex in (_LINK_TOKEN, _QUERY_TOKEN):
                for m in regex.finditer(text, pos, end):
                    value = m.group(1).rstrip(".~")
                    if looks_like_key(value, strict=False):
                        start = m.start(1)
                        spans.append(Span.of(start, start + len(value), "api_key", "link token"))
        pos = text.find("://", end)
    return spans


def mailchimp_keys(text: str) -> list[Span]:
    """Mailchimp API keys: 32 hex digits and the data centre (`...-us21`)."""
    spans: list[Span] = []
    for m in _MAILCHIMP.finditer(text):
        start = m.start() - 32
        if start < 0 or (start > 0 and text[start - 1].isalnum()):
            continue
        if _HEX32.match(text, start, m.start()):
            spans.append(Span.of(start, m.end(), "api_key", "mailchimp key", 10))
    return spans
