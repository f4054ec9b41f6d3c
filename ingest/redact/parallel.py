"""The redactor on two CPUs for large texts: the same spans as `redact_engine.find_spans`.

`postdesk redact` reads megabytes at once; the daemon redacts one message at a time and
never uses this. Most of the time goes into the keyword scan (see `redact_keywords`), so
a forked child scans the keywords of the later part of the text, the shaped tokens and the
random keys while this process finds the cards, the camelCase keywords and the keywords of
the earlier part.
The split is exact, not a guess at a safe place: this process scans on past the split
until it meets a hit the child also found; from that hit on both scans are the same (a
hit depends only on the text at its start), so the child's hits from there are taken and
its hits before it are dropped. Where the two never meet, this process scans to the end
itself; where the child fails, this process does its part. Either way the result is what
one process finds. (In a keyword-dense stretch, past the hit budget of `redact_keywords`,
the two scans may meet with budgets of their own: either removes such a stretch whole or
value by value, both safe, and mail as people write it never comes near the budget.)
"""

from __future__ import annotations

import marshal
import os
from collections.abc import Iterator
from itertools import chain

from ingest.redact.cards import find_cards
from ingest.redact.engine import apply, find_spans, merge
from ingest.redact.keywords import camel_secrets, keyword_hits, keyword_words
from ingest.redact.model import Redaction, Span
from ingest.redact.random_tokens import find_random_tokens
from ingest.redact.tokens import find_shaped
from ingest.redact.views import TextViews

MIN_PARALLEL_CHARS = 1_000_000
"""Below this a fork costs more than it saves."""

CHILD_SHARE = 0.45
"""The part of the keyword scan the child takes: this process also runs the other scans."""

_Hits = list[tuple[int, list[Span]]]
_Scan = Iterator[tuple[int, list[Span]]]


def can_fork() -> bool:
    return hasattr(os, "fork") and (os.cpu_count() or 1) > 1


def redact_text_parallel(text: str) -> Redaction:
    """`redact_text` for a large text, with the keyword scan split over two processes."""
    if len(text) < MIN_PARALLEL_CHARS or not can_fork():
        return apply(text, find_spans(text))
    return apply(text, find_spans_split(text, int(len(text) * (1 - CHILD_SHARE))))


def find_spans_split(text: str, split: int) -> list[Span]:
    """find_spans(text), the keyword hits from `split` on scanned by a forked child."""
    views = TextViews.of(text)
    words = keyword_words(views)
    child = _fork_keyword_scan(views, words, split)
    cards = find_cards(views)
    camel = camel_secrets(views)
    keywords, rest = scan_until(views, words, split)
    later, tokens = _collect(*child) if child is not None else (None, None)
    keywords.extend(join_hits(rest, later))
    return merge(cards + keywords + camel + (_token_scans(views) if tokens is None else tokens))


def _token_scans(views: TextViews) -> list[Span]:
    """The scans the child runs besides its keywords: shaped tokens and random keys."""
    return find_shaped(views) + find_random_tokens(views)


def scan_until(views: TextViews, words: bytes, split: int) -> tuple[list[Span], _Scan]:
    """The spans of the keyword hits before `split`, and the scan from there on."""
    spans: list[Span] = []
    scan = keyword_hits(views, words, 0)
    for start, found in scan:
        if start >= split:
            return spans, chain([(start, found)], scan)
        spans.extend(found)
    return spans, iter(())


def join_hits(scan: _Scan, later: _Hits | None) -> list[Span]:
    """The spans of `scan` up to the first hit the child also found (`later`, the child's
    hits), then the child's from that hit on; all of `scan` without the child's."""
    spans: list[Span] = []
    index = {start: n for n, (start, _) in enumerate(later or ())}
    for start, found in scan:
        if later is not None and (n := index.get(start)) is not None:
            for _, theirs in later[n:]:
                spans.extend(theirs)
            break
        spans.extend(found)
    return spans


def _fork_keyword_scan(views: TextViews, words: bytes, split: int) -> tuple[int, int] | None:
    """Start a child that sends back the keyword hits from `split` on; None if fork fails."""
    reader, writer = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(reader)
        os.close(writer)
        return None
    if pid == 0:  # the child: scan, send, and leave without running any cleanup
        status = 1
        try:
            os.close(reader)
            hits = [(start, _fields(found)) for start, found in keyword_hits(views, words, split)]
            data = marshal.dumps((hits, _fields(_token_scans(views))))
            with os.fdopen(writer, "wb") as pipe:
                pipe.write(data)
            status = 0
        finally:
            os._exit(status)
    os.close(writer)
    return pid, reader


def _collect(pid: int, reader: int) -> tuple[_Hits | None, list[Span] | None]:
    """The child's keyword hits and token spans (_token_scans), or Nones when it failed
    (this process then does its part)."""
    with os.fdopen(reader, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    if status != 0 or not data:
        return None, None
    hits, shaped = marshal.loads(data)  # noqa: S302 - written by our own child, above
    return [(start, _spans(found)) for start, found in hits], _spans(shaped)


def _fields(spans: list[Span]) -> list[tuple[int, int, str, str, int]]:
    """Spans as tuples for marshal (built in: importing pickle costs the command 5 ms)."""
    return [(s.start, s.end, s.kind, s.label, s.priority) for s in spans]


def _spans(fields: list[tuple[int, int, str, str, int]]) -> list[Span]:
    return [Span(*f) for f in fields]
