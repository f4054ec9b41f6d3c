"""One pass over the lower-cased text that finds every keyword and known key prefix.

The trigger is a single regex built as a trie of literal words (sre tries at most one
branch per next character, so the scan stays linear and fast). Each hit is handed to the
handler registered for that word, which reads the value after it. Words need a non-letter
before and after them; "camel" words are also found inside identifiers (DB_PASSWORD,
clientSecret, accessToken, Bestätigungscode); key prefixes need a boundary only before.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ingest.redact_model import Span
from ingest.redact_prose import (
    LOGIN_WORDS,
    PASSWORD_WORDS,
    handle_login,
    handle_password,
)
from ingest.redact_secrets import (
    CODE_WORDS,
    SECRET_WORDS,
    handle_authorization,
    handle_bearer,
    handle_code,
    handle_secret,
)
from ingest.redact_tokens import PREFIXES, Handler


def _trie_pattern(words: Iterable[str]) -> str:
    """A regex matching exactly `words`, longest first, factored by common prefixes."""
    root: dict[str, dict] = {}  # type: ignore[type-arg]
    for word in words:
        node = root
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, dict]) -> str:  # type: ignore[type-arg]
        branches = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if "" in node:
            return f"(?:{body})?"
        return body

    return emit(root)


def _table() -> tuple[dict[str, Handler], dict[str, Handler]]:
    words: dict[str, Handler] = {}
    for word in PASSWORD_WORDS:
        words[word] = handle_password
    for word in LOGIN_WORDS:
        words[word] = handle_login
    for word in SECRET_WORDS:
        words[word] = handle_secret
    for word in CODE_WORDS:
        words[word] = handle_code
    words["authorization"] = handle_authorization
    words["proxy-authorization"] = handle_authorization
    words["bearer"] = handle_bearer
    return words, dict(PREFIXES)


_WORDS, _PREFIXES = _table()
# The leading boundary character is matched, not looked behind: sre then skips letters in
# a tight loop and tries the trie only after spaces and punctuation (several times faster).
_BOUNDARY = r"[^a-z0-9]"
_TRIGGER = re.compile(rf"{_BOUNDARY}(?:{_trie_pattern(set(_PREFIXES) | set(_WORDS))})")
_WORD_AT = re.compile(rf"(?:{_trie_pattern(_WORDS)})(?![a-z])")
# camelCase identifiers (dbPassword, clientSecret, accessToken, apiKey): an upper-case
# keyword right after a lower-case letter or digit, found on the original text.
_CAMEL = re.compile(
    r"(?:P(?:ass(?:word|wort|wd|phrase))|PASS(?:WORD|WD)|S(?:ecret|ECRET)|T(?:oken|OKEN)|"
    r"K(?:ey|EY|ennwort)|A(?:pi[Kk]ey|PIKEY))(?![a-z])"
)


def find_keyword_secrets(text: str, low: str) -> list[Span]:
    """Spans of passwords, keys, tokens and codes found after keywords or key prefixes."""
    spans: list[Span] = []
    padded = " " + low  # a boundary before the first word; offsets below are shifted back
    size = len(low)
    for m in _TRIGGER.finditer(padded):
        start, end = m.start(), m.end() - 1  # the keyword is padded[m.start()+1 : m.end()]
        prefix = _PREFIXES.get(low[start:end])
        if prefix is not None:
            found = prefix(text, low, start, end)
            if found:
                spans.extend(found)
                continue
            w = _WORD_AT.match(low, start)
            if w is None:
                continue
            end = w.end()
        elif end < size and "a" <= low[end] <= "z":
            w = _WORD_AT.match(low, start)  # "passed", "keyboard": a shorter word may fit
            if w is None:
                continue
            end = w.end()
        spans.extend(_WORDS[low[start:end]](text, low, start, end))
    if any(c in text for c in "PSTKA"):
        for m in _CAMEL.finditer(text):
            start = m.start()
            if start and (text[start - 1].islower() or text[start - 1].isdigit()):
                end = m.end()
                spans.extend(_WORDS[low[start:end]](text, low, start, end))
    return spans
