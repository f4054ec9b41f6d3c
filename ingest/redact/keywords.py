"""One pass over the lower-cased text that finds every keyword and known key prefix.

The trigger is a single regex built as a trie of literal words (sre tries at most one
branch per next character, so the scan stays linear), run over a byte view of the text in
which every possible boundary is the same byte, so that the engine jumps from boundary to
boundary instead of testing every character (see redact_views). Each hit is handed to the
handler registered for that word, which reads the value after it. Words need a non-letter
before and after them; "camel" words are also found inside identifiers (DB_PASSWORD,
clientSecret, accessToken, Bestätigungscode); key prefixes need a boundary only before.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass

from ingest.redact.card_extras import CVV_ANCHORS
from ingest.redact.code_sentences import CODE_SENTENCE_HANDLERS
from ingest.redact.codes import CODE_WORDS_MORE, handle_code_words
from ingest.redact.context_keys import CONTEXT_ANCHORS
from ingest.redact.model import Span
from ingest.redact.password_words import LOGIN_WORDS, PASSWORD_WORDS
from ingest.redact.prose import handle_login, handle_password
from ingest.redact.secrets import (
    CODE_WORDS,
    SECRET_WORDS,
    handle_authorization,
    handle_bearer,
    handle_secret,
)
from ingest.redact.sentences import TOLD_HANDLERS, chain
from ingest.redact.tokens import PREFIXES, Handler
from ingest.redact.views import TextViews, byte_table
from ingest.redact.web import SESSION_WORDS, handle_cookie_header, handle_session


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
    for word in (*CODE_WORDS, *CODE_WORDS_MORE):
        words[word] = handle_code_words
    for word in SESSION_WORDS:
        words[word] = handle_session
    words["cookie"] = handle_cookie_header
    words["authorization"] = handle_authorization
    words["proxy-authorization"] = handle_authorization
    words["bearer"] = handle_bearer
    for word, handler in (*TOLD_HANDLERS.items(), *CODE_SENTENCE_HANDLERS.items()):
        words[word] = chain(words[word], handler) if word in words else handler
    for word, handler in ANCHORS.items():
        words[word] = both(words[word], handler) if word in words else handler
    return _ascii_first(words), dict(PREFIXES)


# Anchor words: the detectors that read a window around a word ("dashboard", "cvv") have
# their words found by this scan with the others (one pass instead of a find per word).
# An anchor counts at the start of a word whatever follows it ("authenticat" in
# "authentication", "settings"), where a keyword needs a non-letter after it.
ANCHORS: dict[str, Handler] = {**CONTEXT_ANCHORS, **CVV_ANCHORS}


def both(first: Handler, second: Handler) -> Handler:
    """A handler that asks both handlers and keeps what each found."""

    def handle(text: str, low: str, start: int, end: int) -> list[Span]:
        return first(text, low, start, end) + second(text, low, start, end)

    return handle


def _ascii_first(words: dict[str, Handler]) -> dict[str, Handler]:
    """The words with a first letter outside [a-z0-9] ("återställde", "şifre") scanned as the
    rest of the word after it: in the words view that letter is a zero byte, and a form
    that starts with one would make the scan try the trie after every run of two
    non-letters (a third slower). Their handler checks the letter before the hit."""
    table: dict[str, Handler] = {}
    for word, handler in words.items():
        if "a" <= word[0] <= "z" or "0" <= word[0] <= "9":
            table[word] = handler
        elif "a" <= word[1:2] <= "z":
            table[word[1:]] = _after_letter(word[0], handler)
    return table


def _after_letter(letter: str, handler: Handler) -> Handler:
    def handle(text: str, low: str, start: int, end: int) -> list[Span]:
        if start == 0 or low[start - 1] != letter or (start > 1 and low[start - 2].isalnum()):
            return []
        return handler(text, low, start - 1, end)

    return handle


_WORDS, _PREFIXES = _table()
_KEYWORD = re.compile(_trie_pattern(set(_PREFIXES) | set(_WORDS)))


def _shorter_word(keyword: str) -> str | None:
    """The longest word that `keyword` starts with and that a non-letter of it ends."""
    for size in range(len(keyword) - 1, 0, -1):
        if keyword[:size] in _WORDS and not "a" <= keyword[size] <= "z":
            return keyword[:size]
    return None


# The word whose handler reads the value: the keyword itself, or, after a key prefix whose
# handler found nothing or before a letter ("passed", "keyboard"), the longest word the
# keyword starts with that a non-letter ends ("pass phrasex" holds "pass"); as a
# `(?:words)(?![a-z])` match at the same place would find.
_SHORTER = {keyword: _shorter_word(keyword) for keyword in set(_PREFIXES) | set(_WORDS)}
# Before a letter, an anchor is read by its own handler (only: a keyword's handler reads a
# value after a whole word).
_SHORTER.update({anchor: anchor for anchor in ANCHORS if _SHORTER.get(anchor) is None})
_WORD_ITSELF = {
    keyword: keyword if keyword in _WORDS else _SHORTER[keyword] for keyword in _SHORTER
}


def _blurred(word: str, keep: str, blur: str) -> str:
    """`word` with every character outside `keep` turned into `blur`."""
    return "".join(ch if ch in keep else blur for ch in word)


# The keyword scan runs over the words view: a zero byte, then the lower-cased text where
# every character other than [a-z0-9] is a zero byte too. A keyword needs one of those
# before it, and sre finds a literal byte (a zero) far faster than a class (non-letters).
# In the keywords, characters other than [a-z0-9] ("api key", "clé", "sk_live_") are zero
# bytes too: a hit on such a form may be another text ("api.key"), so it is read again
# with _KEYWORD on the lower-cased text. A key prefix made of a keyword and non-letters
# ("key-", "sk-") is scanned as that keyword, as "key " is common in prose; a hit on it
# followed by one of the characters that may make it longer (_LONGER_AFTER) is read again
# too. Each form that may need reading again ends with an empty group, so that a hit says
# so by its `lastindex` (cheaper than looking into it).
_WORD_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"
_WORDS_VIEW = byte_table({b: b for b in _WORD_CHARS.encode()}, 0)


def _scanned_as(keyword: str) -> str:
    """How the scan sees `keyword` in the words view (zero bytes for other characters)."""
    blurred = _blurred(keyword, _WORD_CHARS, "\0")
    stripped = blurred.rstrip("\0")
    return stripped if stripped != blurred and stripped in _SHORTER else blurred


_SCANNED = {keyword: _scanned_as(keyword) for keyword in _SHORTER}


def _longer_after() -> dict[str, str]:
    """Keyword -> the characters after it that may make it a longer one scanned as it."""
    after: dict[str, str] = {}
    for keyword, form in _SCANNED.items():
        if form != keyword and "\0" not in form:
            after[form] = after.get(form, "") + keyword[len(form)]
    return after


_LONGER_AFTER = _longer_after()


def _first_chars(node: dict[str, dict]) -> str:  # type: ignore[type-arg]
    """A lookahead for the characters a form starts with, put after the zero byte.

    Four zero bytes in ten are followed by another zero byte, a digit or a letter no form
    starts with; sre rejects those with one class test instead of trying each branch of
    the trie's first level in turn (the scan takes 7% less time)."""
    return "(?=[" + "".join(re.escape(ch) for ch in sorted(node) if ch) + "])"


def _scan_pattern(forms: Iterable[str]) -> tuple[bytes, frozenset[int]]:
    """The trie regex of zero byte + form for each form (longest first), an empty group after
    each form that holds a zero byte, and one after each form of _LONGER_AFTER when a zero
    byte follows it; with the numbers of the groups of that second kind."""
    root: dict[str, dict] = {}  # type: ignore[type-arg]
    for form in forms:
        node = root
        for ch in "\0" + form:
            node = node.setdefault(ch, {})
        node[""] = {}
    groups: list[bool] = []  # per group: does it mark a form of _LONGER_AFTER?

    def emit(node: dict[str, dict], path: str) -> str:  # type: ignore[type-arg]
        alternatives = [
            re.escape(ch) + emit(child, path + ch) for ch, child in sorted(node.items()) if ch
        ]
        if "" in node:  # a form ends here; longer ones are tried first
            if "\0" in path[1:]:
                groups.append(False)
                alternatives.append("()")
            elif path[1:] in _LONGER_AFTER:
                groups.append(True)
                alternatives += ["(?=\0)()", ""]
            else:
                alternatives.append("")
        body = alternatives[0] if len(alternatives) == 1 else "(?:" + "|".join(alternatives) + ")"
        return _first_chars(node) + body if path == "\0" else body

    pattern = emit(root, "")
    return pattern.encode(), frozenset(n for n, longer in enumerate(groups, 1) if longer)


_TRIGGER_PATTERN, _LONGER_GROUPS = _scan_pattern(_SCANNED.values())
_TRIGGER = re.compile(_TRIGGER_PATTERN)
# camelCase identifiers (dbPassword, clientSecret, accessToken, apiKey): an upper-case
# keyword right after a lower-case letter or digit, found on the original text.
_CAMEL_WORDS = (
    *("Password", "Passwort", "Passwd", "Passphrase", "PASSWORD", "PASSWD"),
    *("Secret", "SECRET", "Token", "TOKEN", "Key", "KEY", "Kennwort", "ApiKey", "Apikey", "APIKEY"),
)
_CAMEL = re.compile(rf"(?:{_trie_pattern(_CAMEL_WORDS)})(?![a-z])")
# The camel scan runs over the byte view with the five first letters as one byte (\x01).
_CAMEL_FIRST = "PSTKA"
_CAMEL_VIEW = byte_table({b: 1 for b in _CAMEL_FIRST.encode()})
_CAMEL_BLUR = str.maketrans(dict.fromkeys(_CAMEL_FIRST, "\x01"))
_CAMEL_HINT = re.compile(
    f"(?:{_trie_pattern({w.translate(_CAMEL_BLUR) for w in _CAMEL_WORDS})})(?![a-z])".encode()
)


def _camel_hits(views: TextViews) -> Iterator[tuple[int, int]]:
    """(start, end) of each camelCase keyword match (as `_CAMEL.finditer` over the text)."""
    camel = views.encoded.translate(_CAMEL_VIEW)
    pos = 0
    while (hint := _CAMEL_HINT.search(camel, pos)) is not None:
        exact = _CAMEL.match(views.text, hint.start())
        if exact is None:
            pos = hint.start() + 1
        else:
            yield exact.span()
            pos = exact.end()


def keyword_words(views: TextViews) -> bytes:
    """The words view the keyword scan runs over: a zero byte, then the lower-cased text with
    every character other than [a-z0-9] a zero byte."""
    return (b"\0" + views.low_encoded).translate(_WORDS_VIEW)


def find_keyword_secrets(views: TextViews) -> list[Span]:
    """Spans of passwords, keys, tokens and codes found after keywords or key prefixes."""
    spans: list[Span] = []
    for _, found in keyword_hits(views, keyword_words(views), 0):
        spans.extend(found)
    spans.extend(camel_secrets(views))
    return spans


def camel_secrets(views: TextViews) -> list[Span]:
    """Spans of the secrets after camelCase keywords (dbPassword, clientSecret, apiKey)."""
    spans: list[Span] = []
    text, low = views.text, views.low
    for start, end in _camel_hits(views):
        if start and (text[start - 1].islower() or text[start - 1].isdigit()):
            spans.extend(_WORDS[low[start:end]](text, low, start, end))
    return spans


def keyword_hits(views: TextViews, words: bytes, pos: int) -> Iterator[tuple[int, list[Span]]]:
    """(start, spans) for each keyword the scan of the words view from `pos` on finds.

    A hit depends only on the text at its start, and the scan goes on from where the hit
    leaves it: two scans that meet at the same hit go on alike from there (what
    `redact_parallel` relies on to split the scan between processes).
    """
    budget, light = HitBudget(PACE, at=pos), HitBudget(LIGHT_PACE, at=pos)
    while pos >= 0:
        pos = yield from _keyword_hits_from(views, words, pos, budget, light)


# The keywords' hits are read one by one (a handler call each, a few microseconds) at a
# bounded rate: BURST units at once, then one unit per PACE characters of text, a hit costing
# one unit (a password word's six: its handler reads a sentence, _COST). Past that rate (a
# long log with a password word on every line, a pasted dump of settings) a hit is read
# lightly: the value right after the keyword and a separator (`password: X`, `key=X`,
# `token is X`) is removed when it holds a digit or a sign, at a rate of its own (one per
# LIGHT_PACE characters). Past that too, in keywords packed closer than any text writes them
# ("key=token=secret=...", thousands of "password:"), the hits are not read at all: the
# stretch goes on while they keep coming faster than the light rate refills (until it holds
# RESUME hits again), and it is removed whole, with DENSE_REACH characters after its last
# keyword for that keyword's value. Nothing in it can hide, and it costs a regex step a hit.
BURST = 4096
PACE = 24
LIGHT_PACE = 32
RESUME = 4
DENSE_REACH = 128
# What a hit costs: the password words' handlers read a sentence (six times the others).
# (The words are as the scan sees them: without a first letter outside [a-z0-9].)
_COST = {
    word if "a" <= word[0] <= "z" or "0" <= word[0] <= "9" else word[1:]: 6
    for word in (*PASSWORD_WORDS, *LOGIN_WORDS)
}


@dataclass(slots=True)
class HitBudget:
    """How many hits may still be read, counted up to text position `at`: BURST at most,
    refilled by one every `pace` characters."""

    pace: float = PACE
    hits: float = BURST
    at: int = 0

    def refill(self, pos: int) -> None:
        if pos > self.at:
            self.hits = min(BURST, self.hits + (pos - self.at) / self.pace)
            self.at = pos

    def take(self, pos: int, cost: int) -> bool:
        """True (and `cost` spent) when the hit at `pos` may be read."""
        self.refill(pos)
        if self.hits < cost:
            return False
        self.hits -= cost
        return True


# The light read: a separator, then a value of 4 to 128 characters, after the keyword (and a
# suffix: "password_hash", "api-key").
_LIGHT = re.compile(
    r"(?:[_\-.][a-z0-9]{1,20}){0,2}[ \t]{0,3}(?:[:=]|(?:is|was|ist|est|es)[ \t])[ \t]{0,3}"
    r"[\"'`]?(?P<value>[^\s\"'`<>,;]{4,128})"
)


def _light_read(text: str, low: str, keyword: str, end: int) -> list[Span]:
    """The value right after the keyword at low[..end] when it holds a digit or a sign."""
    m = _LIGHT.match(low, end)
    if m is None:
        return []
    value = text[m.start("value") : m.end("value")]
    if value.isalpha() or value[-1] in ":=":  # a word, or the next label ("password:")
        return []
    if keyword in _COST:
        return [Span.of(m.start("value"), m.end("value"), "password", "password")]
    return [Span.of(m.start("value"), m.end("value"), "api_key", "secret")]


def _dense_until(words: bytes, start: int, budget: HitBudget) -> int:
    """Where the last keyword of the dense stretch from the hit at `start` starts: the hits
    after it go on while the budget, spending one unit a hit, stays below RESUME."""
    last, hits, at = start, budget.hits, budget.at
    for m in _TRIGGER.finditer(words, start + 1):  # HitBudget.refill, inlined: a hit a step
        pos = m.start()
        hits = min(BURST, hits + (pos - at) / budget.pace)
        at = pos
        if hits >= RESUME:
            break
        hits = max(0.0, hits - 1)
        last = pos
    budget.hits, budget.at = hits, at
    return last


def _dense_span(start: int, end: int) -> Span:
    return Span.of(start, end, "password", "credentials")


def _keyword_hits_from(
    views: TextViews, words: bytes, pos: int, budget: HitBudget, light: HitBudget
) -> Generator[tuple[int, list[Span]], None, int]:
    """The hits of the words view from `pos` on (see `keyword_hits`).

    The keywords are those `[^a-z0-9](?:keywords)` finds on " " + low, in the same order.
    Where the view blurred a character and the text holds a shorter keyword (or none), the
    scan stops and this returns where to go on from; -1 at the end of the text.
    """
    text, low = views.text, views.low
    size = len(low)
    for m in _TRIGGER.finditer(words, pos):
        start, end = m.span()
        end -= 1  # the keyword is words[start + 1 : end + 1] = low[start:end]
        keyword = low[start:end]
        resume = -1
        mark = m.lastindex
        if mark is not None and (
            mark not in _LONGER_GROUPS or low[end] in _LONGER_AFTER[keyword]
        ):  # the view blurred a character: read the text itself
            exact = _KEYWORD.match(low, start)
            if exact is None:
                return start + 1
            if exact.end() != end:  # a shorter keyword ("api" in "api.key") or "key-"
                end = resume = exact.end()
                keyword = low[start:end]
        if not budget.take(start, _COST.get(keyword, 1)):  # past the rate (see BURST):
            if not light.take(start, 1):  # read lightly, or not at all
                last = _dense_until(words, start, light)
                yield start, [_dense_span(start, min(size, last + DENSE_REACH))]
                return last + 1
            if found := _light_read(text, low, keyword, end):
                yield start, found
            if resume >= 0:
                return resume + 1
            continue
        prefix = _PREFIXES.get(keyword)
        if prefix is not None and (found := prefix(text, low, start, end)):
            yield start, found
        else:
            before_letter = end < size and "a" <= low[end] <= "z"
            word = (_SHORTER if before_letter else _WORD_ITSELF)[keyword]
            if word is None:
                pass
            elif before_letter and word == keyword and keyword in ANCHORS:
                yield start, ANCHORS[keyword](text, low, start, end)
            else:
                yield start, _WORDS[word](text, low, start, start + len(word))
        if resume >= 0:
            return resume + 1
    return -1
