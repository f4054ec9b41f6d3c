"""The boundary matcher given to email.feedparser matches exactly what its regex matched."""

from __future__ import annotations

import email.feedparser
import re

from hypothesis import given
from hypothesis import strategies as st

from ingest.parse import boundary as parse_boundary
from ingest.parse.message import parse_message


def feedparser_regex(separator: str) -> re.Pattern[str]:
    """The pattern email.feedparser (3.11) compiles for a boundary."""
    return re.compile(
        "(?P<sep>" + re.escape(separator) + r")(?P<end>--)?(?P<ws>[ \t]*)(?P<linesep>\r\n|\r|\n)?$"
    )


def same(separator: str, line: str) -> None:
    pattern = feedparser_regex(separator)
    matcher = parse_boundary.compile_pattern(pattern.pattern)
    assert isinstance(matcher, parse_boundary.BoundaryMatcher)
    expected, got = pattern.match(line), matcher.match(line)
    assert (expected is None) == (got is None), (separator, line)
    if expected is not None and got is not None:
        for group in (0, "sep", "end", "ws", "linesep"):
            assert got.group(group) == expected.group(group), (separator, line, group)


BOUNDARY_CHARS = st.sampled_from("abcXYZ019'()+_,-./:=? *[]\\^$|{}")
LINE_TAILS = st.sampled_from(["", "--", "-", " ", "\t", "  \t", "\r\n", "\n", "\r", "x", "--\r\n"])


@given(
    boundary=st.text(BOUNDARY_CHARS, min_size=1, max_size=40),
    tails=st.lists(LINE_TAILS, max_size=4),
    prefix=st.sampled_from(["", "-", "x", " "]),
)
def test_matches_like_the_regex(boundary: str, tails: list[str], prefix: str) -> None:
    separator = "--" + boundary
    same(separator, prefix + separator + "".join(tails))


def test_known_lines() -> None:
    for line in ["--B\r\n", "--B--\r\n", "--B--", "--B  \n", "--Bx\n", "--B-- trailing\n", "B\n"]:
        same("--B", line)


def test_other_patterns_are_compiled_as_usual() -> None:
    assert isinstance(parse_boundary.compile_pattern(r"(?P<sep>x)"), re.Pattern)
    assert isinstance(parse_boundary.compile_pattern("a+", re.I), re.Pattern)


def test_installed_for_the_parser() -> None:
    installed = vars(email.feedparser)["re"]
    assert isinstance(installed, parse_boundary._FeedparserRe)
    assert installed.sub("a", "b", "aa") == "bb", "the rest of `re` is the real one"
    raw = (
        b"From: a@example.com\r\nTo: b@example.com\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/alternative; boundary="==(b.1)=="\r\n\r\n'
        b"--==(b.1)==\r\nContent-Type: text/plain\r\n\r\nplain text\r\n"
        b"--==(b.1)==\r\nContent-Type: text/html\r\n\r\n<p>html</p>\r\n"
        b"--==(b.1)==--\r\nepilogue\r\n"
    )
    parsed = parse_message(raw)
    assert parsed.text.strip() == "plain text"
    assert parsed.html is not None and "html" in parsed.html
