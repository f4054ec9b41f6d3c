"""The whole corpus, and thousands of mutations of it, through parse, classify and redaction:
never an exception (an unusable mail is reported as such, never raised).

The mutations are the ones real mail suffers and attackers try: bytes flipped, cut off,
lines dropped or repeated, CRLF and LF mixed, headers duplicated or emptied, boundaries
and charset labels broken, 8-bit and NUL bytes poured in. Hypothesis runs derandomized, so
the same inputs run every time.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.analyse import Analysis, AnalysisOptions, analyse
from ingest.model import RawMessage

OPTIONS = AnalysisOptions(
    own_addresses=frozenset({"support@desk.example"}),
    loop_marker="support@desk.example",
    blocked_extensions=frozenset({"exe"}),
    max_attachment_bytes=10 * 1024 * 1024,
    max_message_attachment_bytes=25 * 1024 * 1024,
    id_key="fuzz-secret-key",
)
# 2,000 in every run; POSTDESK_FUZZ_MUTATIONS=10000 (or more) for the long run before a release.
MUTATIONS = int(os.environ.get("POSTDESK_FUZZ_MUTATIONS", "2000"))
_MAX_MAIL_BYTES = 200_000  # the larger corpus mails are read whole above; mutate the rest


def _corpus(corpus_dir: Path) -> list[bytes]:
    return [
        path.read_bytes()
        for path in sorted(corpus_dir.rglob("*"))
        if path.is_file() and not path.name.startswith(".") and path.suffix not in {".md", ".json"}
    ]


@pytest.fixture(scope="module")
def corpus_mails(corpus_dir: Path) -> list[bytes]:
    mails = [m for m in _corpus(corpus_dir) if len(m) <= _MAX_MAIL_BYTES]
    assert len(mails) > 1000, "the shared corpus should hold well over a thousand mails"
    return mails


def _analysed(data: bytes) -> Analysis:
    result = analyse(RawMessage(data=data, source="smtp", mail_from=""), OPTIONS)
    assert isinstance(result, Analysis)
    assert (result.parsed is None) == bool(result.problem)
    return result


def test_every_corpus_mail_is_analysed_without_an_exception(corpus_dir: Path) -> None:
    mails = _corpus(corpus_dir)
    for data in mails:
        _analysed(data)


def _flip(data: bytes, at: int, value: int) -> bytes:
    if not data:
        return bytes([value])
    at %= len(data)
    return data[:at] + bytes([value]) + data[at + 1 :]


def _cut(data: bytes, at: int, _value: int) -> bytes:
    return data[: at % (len(data) + 1)]


def _insert(data: bytes, at: int, value: int) -> bytes:
    at %= len(data) + 1
    return data[:at] + bytes([value]) * (1 + value % 7) + data[at:]


def _drop_line(data: bytes, at: int, _value: int) -> bytes:
    lines = data.split(b"\n")
    del lines[at % len(lines)]
    return b"\n".join(lines)


def _repeat_line(data: bytes, at: int, value: int) -> bytes:
    lines = data.split(b"\n")
    index = at % len(lines)
    lines[index:index] = [lines[index]] * (2 + value % 50)
    return b"\n".join(lines)


def _newlines(data: bytes, at: int, value: int) -> bytes:
    choices = (b"\r\n", b"\r", b"\n\r", b"\n\n")
    return data.replace(b"\n", choices[value % len(choices)], 1 + at % 40)


def _header_dup(data: bytes, at: int, value: int) -> bytes:
    head, sep, body = data.partition(b"\n\n")
    lines = head.split(b"\n")
    line = lines[at % len(lines)]
    if value % 2:
        lines.insert(at % len(lines), line)  # duplicated
    else:
        lines[at % len(lines)] = line.split(b":", 1)[0] + b":"  # emptied
    return b"\n".join(lines) + sep + body


_BOUNDARY = re.compile(rb'boundary="?([^";\r\n]+)')


def _boundary(data: bytes, at: int, value: int) -> bytes:
    match = _BOUNDARY.search(data)
    if match is None:
        return data
    old = match.group(1)
    new = (b"", old[:-1], old + b"x", b"-" * (value % 80), bytes([value]) + old)[at % 5]
    return data.replace(b"--" + old, b"--" + new, 1 + value % 3)


_CHARSET = re.compile(rb"charset=\"?[^\";\s]*\"?", re.I)
_LABELS = (b"idna", b"utf-8\x00", b"x-unknown", b"", b"utf-7", b"iso-2022-jp", b"\xff\xfe", b"zlib")


def _charset(data: bytes, at: int, value: int) -> bytes:
    return _CHARSET.sub(b"charset=" + _LABELS[(at + value) % len(_LABELS)], data, count=1 + at % 3)


def _eight_bit(data: bytes, at: int, value: int) -> bytes:
    at %= len(data) + 1
    return data[:at] + bytes(range(value % 64 + 128, 256))[: 1 + at % 32] + data[at:]


MUTATE = (
    _flip, _cut, _insert, _drop_line, _repeat_line, _newlines, _header_dup, _boundary,
    _charset, _eight_bit,
)  # fmt: skip


@settings(
    max_examples=MUTATIONS,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    pick=st.integers(min_value=0),
    steps=st.lists(
        st.tuples(st.integers(0, len(MUTATE) - 1), st.integers(min_value=0), st.integers(0, 255)),
        min_size=1,
        max_size=3,
    ),
)
def test_mutated_corpus_mails_are_analysed_without_an_exception(
    corpus_mails: list[bytes], pick: int, steps: list[tuple[int, int, int]]
) -> None:
    data = corpus_mails[pick % len(corpus_mails)]
    for kind, at, value in steps:
        data = MUTATE[kind](data, at, value)
    _analysed(data)
