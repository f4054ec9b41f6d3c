"""Hypothesis over real mails: mutated charset labels and header bytes never raise.

Each example takes a corpus mail with odd headers or charsets, then rewrites every
`charset=` label (with hostile labels: codecs that are no charsets, NUL bytes, RFC 2231
forms, random bytes) and/or pours random bytes into a header value, and sometimes wraps
the result as a base64-encoded forward (which the body reader parses on its own). Parsing must return
a message (or say the input is unusable) and the classifier must read the tree it built.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.classify import classify
from ingest.parse.message import UnparseableMessage, parse_message

#: Mails with many odd headers and charsets (present in the shared corpus).
_MAILS = (
    "cpython-test_email/msg_16.txt",
    "cpython-test_email/msg_41.txt",
    "mime4j/testmsgs/russian-headers.msg",
    "otobo-otrs-postmaster/EmailParser/UTF-7.box",
    "otobo-otrs-postmaster/PostMaster/PostMaster-Test14.box",
    "request-tracker/emails/new-ticket-from-gb18030",
    "request-tracker/emails/russian-subject-no-content-type",
    "ruby-mail/emails/attachment_emails/attachment_nonascii_filename.eml",
    "ruby-mail/emails/error_emails/invalid_subject_characters.eml",
    "ruby-mail/emails/plain_emails/raw_email_multiple_from.eml",
    "spamscope-mail-parser/mails/mail_test_1",
    "sisimai-bounces/maildir/dos/lhost-kddi-01.eml",
)
_LABELS = [
    "idna", "punycode", "unicode_escape", "raw_unicode_escape", "undefined", "rot13", "base64",
    "hex", "zlib", "utf\x00-8", "utf-8\x00", "x-unknown", "unknown-8bit", "iso-2022-jp",
    "iso-8859-8-i", "unicode-1-1-utf-7", "utf-16", "utf-32", "ks_c_5601-1987", "gb2312",
    "", '"', "\\", "utf-8*en", "'", "=?utf-8?q?x?=", "cp50220", "x-user-defined", "mbcs",
]  # fmt: skip
_CHARSET = re.compile(rb"charset\*?=(\"[^\"\r\n]*\"|[^;\s]*)", re.I)
_HEADER = re.compile(rb"^(Subject|From|To|Cc|Reply-To|Sender|Content-Type|Content-Disposition)"
                     rb":[^\r\n]*", re.I | re.M)  # fmt: skip

labels = st.one_of(
    st.sampled_from(_LABELS).map(str.encode),
    st.binary(max_size=12),
    st.sampled_from(_LABELS).map(lambda label: b"*=" + label.encode() + b"''x"),
)


@pytest.fixture(scope="module")
def corpus_mails(corpus_dir: Path) -> list[bytes]:
    return [(corpus_dir / rel).read_bytes() for rel in _MAILS if (corpus_dir / rel).is_file()]


def _mutate(raw: bytes, label: bytes | None, header: int, junk: bytes) -> bytes:
    if label is not None:
        raw = _CHARSET.sub(lambda _: b"charset=" + label.replace(b"\\", b"\\\\"), raw)
    fields = list(_HEADER.finditer(raw))
    if fields and junk:
        field = fields[header % len(fields)]
        cut = field.start() + (header % max(1, field.end() - field.start()))
        raw = raw[:cut] + junk + raw[cut:]
    return raw


@settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    which=st.integers(min_value=0, max_value=len(_MAILS) - 1),
    label=st.one_of(st.none(), labels),
    header=st.integers(min_value=0, max_value=10_000),
    junk=st.binary(max_size=24).filter(lambda b: b"\n" not in b and b"\r" not in b),
    forwarded=st.booleans(),
)
def test_mutated_charsets_and_header_bytes_never_raise(
    corpus_mails: list[bytes],
    *,
    which: int,
    label: bytes | None,
    header: int,
    junk: bytes,
    forwarded: bool,
) -> None:
    assert len(corpus_mails) == len(_MAILS)
    raw = _mutate(corpus_mails[which], label, header, junk)
    if forwarded:  # as Outlook forwards: base64 inside message/rfc822, parsed on its own
        raw = (
            b"From: fwd@example.com\nSubject: Fwd\nContent-Type: message/rfc822\n"
            b"Content-Transfer-Encoding: base64\n\n" + base64.encodebytes(raw)
        )
    try:
        parsed = parse_message(raw)
    except UnparseableMessage:
        return
    for text in (
        parsed.text,
        parsed.subject,
        *(a.filename for a in parsed.attachments),
        *(a.name for a in (*parsed.to, *parsed.cc)),
    ):
        text.encode("utf-8")  # no lone surrogates reach the store
        assert "\x00" not in text
    assert parsed.message is not None
    classify(parsed.message, own_addresses=frozenset())
