"""ingest.parse.fast builds exactly the stdlib compat32 tree, or returns None to fall back.

Every comparison is against `BytesParser(policy=compat32).parsebytes` with the boundary
patch of ingest.parse.boundary installed, as ingest.parse.message runs it.
"""

from __future__ import annotations

import email.parser
import email.policy
from email.message import EmailMessage, Message
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.parse import boundary as parse_boundary
from ingest.parse.fast import MAX_DEPTH, parse_bytes

parse_boundary.install()
_STDLIB = email.parser.BytesParser(policy=email.policy.compat32)

#: Share of all corpus files (mail or not) that take the fast path: measured 603 of 1,641
#: (36.7 %). The rest: not mail, message/* parts (bounces), defects, lone CRs.
MIN_CORPUS_FAST_SHARE = 0.35
#: Corpus mails the stdlib parses without any defect, message/* part, digest or lone CR
#: that still fall back, and why.
KNOWN_CLEAN_FALLBACKS = {
    # Repeated boundary lines, which feedparser swallows.
    "cpython-test_email/msg_37.txt",
    "mime4j/mimetools-testmsgs/2002_06_12_doublebound.msg",
    "mime4j/mimetools-testmsgs/double-bound.msg",
    # An inner boundary that starts with the outer one.
    "mime4j/testmsgs/boundary-name-clash.msg",
    "mime4j/testmsgs/boundary-name-clash.out",
    "ruby-mail/emails/mime_emails/email_with_similar_boundaries.eml",
}


def tree(msg: Message) -> tuple[Any, ...]:
    """Everything feedparser sets on a message, recursively, in a comparable form."""
    state = vars(msg)  # the private attributes are what must be identical
    payload = state["_payload"]
    return (
        list(state["_headers"]),
        state["_unixfrom"],
        state["_default_type"],
        [tree(part) for part in payload] if isinstance(payload, list) else payload,
        msg.preamble,
        msg.epilogue,
        [type(defect).__name__ for defect in msg.defects],
        state["_charset"],
        msg.policy,
        type(msg),
    )


def check(raw: bytes) -> bool:
    """Assert the fast tree (if any) equals the stdlib's; True when the fast path was taken."""
    fast = parse_bytes(raw)
    if fast is None:
        return False
    assert tree(fast) == tree(_STDLIB.parsebytes(raw))
    return True


def walk(msg: Message) -> list[Message]:
    """The message and all its parts, depth first."""
    payload = vars(msg)["_payload"]
    parts = [msg]
    for part in payload if isinstance(payload, list) else ():
        parts.extend(walk(part))
    return parts


# --- the shared corpus ---------------------------------------------------------------------


def test_corpus_fast_trees_equal_stdlib(corpus_dir: Path) -> None:
    files = sorted(path for path in corpus_dir.rglob("*") if path.is_file())
    assert len(files) > 1000
    fast = 0
    clean_fallbacks = set()
    for path in files:
        raw = path.read_bytes()
        if check(raw):
            fast += 1
            continue
        stdlib = _STDLIB.parsebytes(raw)
        text = raw.decode("ascii", "surrogateescape")
        parts = walk(stdlib)
        if (
            text.count("\r") == text.count("\r\n")
            and not any(part.defects for part in parts)
            and not any(part.get_content_maintype() == "message" for part in parts)
            and not any(part.get_content_type() == "multipart/digest" for part in parts)
        ):
            clean_fallbacks.add(path.relative_to(corpus_dir).as_posix())
    share = fast / len(files)
    print(f"fast path: {fast} of {len(files)} corpus files ({share:.1%})")
    assert share >= MIN_CORPUS_FAST_SHARE
    assert clean_fallbacks <= KNOWN_CLEAN_FALLBACKS


# --- generated messages --------------------------------------------------------------------

_TEXT = "Hello,\n\nthe export still fails.\n\n-- \nAnna\n"
_HTML = "<html><body><p>Hello,</p><p>the export still fails.</p></body></html>\n"


def _headers(msg: EmailMessage) -> EmailMessage:
    msg["From"] = "Anna <anna@example.com>"
    msg["To"] = "support@desk.example"
    msg["Subject"] = "Export fails"
    msg["Message-ID"] = "<1@example.com>"
    return msg


def text_only() -> EmailMessage:
    msg = _headers(EmailMessage())
    msg.set_content(_TEXT)
    return msg


def alternative() -> EmailMessage:
    msg = text_only()
    msg.add_alternative(_HTML, subtype="html")
    return msg


def mixed() -> EmailMessage:
    msg = text_only()
    msg.add_attachment(b"%PDF-1.4\n" * 40, maintype="application", subtype="pdf", filename="a.pdf")
    msg.add_attachment("line one\nline two\n", filename="app.log")
    return msg


def nested() -> EmailMessage:
    msg = alternative()
    msg.add_attachment(b"\x89PNG\r\n" * 30, maintype="image", subtype="png", filename="s.png")
    return msg


def nested_levels(levels: int) -> bytes:
    """`levels` multiparts, each the first part of the one around it."""
    text = "Content-Type: text/plain\n\ninnermost\n"
    for level in reversed(range(levels)):
        text = (
            f"Content-Type: multipart/mixed; boundary=level{level}-\n\n"
            f"--level{level}-\n{text}--level{level}-\n\nsibling {level}\n--level{level}---\n"
        )
    return text.encode()


def as_bytes(msg: EmailMessage, linesep: str) -> bytes:
    return msg.as_bytes(policy=email.policy.default.clone(linesep=linesep))


def boundaries(msg: EmailMessage) -> list[str]:
    return [str(part.get_boundary()) for part in msg.walk() if part.is_multipart()]


BUILDERS = {"text": text_only, "alternative": alternative, "mixed": mixed, "nested": nested}


@pytest.mark.parametrize("linesep", ["\n", "\r\n"], ids=["lf", "crlf"])
@pytest.mark.parametrize("name", sorted(BUILDERS))
@pytest.mark.parametrize("preamble", [None, "", "This is a MIME message.\n"])
@pytest.mark.parametrize("epilogue", [None, "", "trailer\n", "\n\ntrailer"])
def test_generated_messages_take_the_fast_path(
    name: str, linesep: str, preamble: str | None, epilogue: str | None
) -> None:
    msg = BUILDERS[name]()
    msg.preamble = preamble
    msg.epilogue = epilogue
    assert check(as_bytes(msg, linesep))


@pytest.mark.parametrize("linesep", ["\n", "\r\n"], ids=["lf", "crlf"])
@pytest.mark.parametrize("name", ["alternative", "mixed", "nested"])
def test_whitespace_after_boundaries(name: str, linesep: str) -> None:
    msg = BUILDERS[name]()
    raw = as_bytes(msg, linesep)
    for boundary in boundaries(msg):
        line = f"--{boundary}".encode()
        raw = raw.replace(line + linesep.encode(), line + b" \t " + linesep.encode())
        raw = raw.replace(line + b"--" + linesep.encode(), line + b"--\t" + linesep.encode())
    assert b" \t " + linesep.encode() in raw
    assert check(raw)


@pytest.mark.parametrize("linesep", ["\n", "\r\n"], ids=["lf", "crlf"])
@pytest.mark.parametrize("name", ["alternative", "mixed", "nested"])
def test_close_boundary_without_final_newline(name: str, linesep: str) -> None:
    raw = as_bytes(BUILDERS[name](), linesep).rstrip(b"\r\n")
    assert raw.endswith(b"--")
    assert check(raw)
    assert check(raw + b"   ")


@pytest.mark.parametrize("linesep", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_unixfrom_and_headers_only(linesep: str) -> None:
    raw = as_bytes(alternative(), linesep)
    assert check(b"From anna@example.com Mon Mar  2 08:00:00 2026" + linesep.encode() + raw)
    assert check(b"Subject: x" + linesep.encode() + b"X-Folded: a" + linesep.encode() + b" b")
    assert check(b"Subject: no newline at all")
    assert check(b"")
    assert check(linesep.encode() + b"body only" + linesep.encode())


def test_nesting_depth_limit() -> None:
    assert check(nested_levels(MAX_DEPTH))
    deeper = nested_levels(MAX_DEPTH + 1)
    assert parse_bytes(deeper) is None
    stdlib = walk(_STDLIB.parsebytes(deeper))
    assert sum(part.is_multipart() for part in stdlib) == MAX_DEPTH + 1
    assert not any(part.defects for part in stdlib)


# --- edge cases ----------------------------------------------------------------------------

_MULTI = (
    "From: a@example.com\n"
    'Content-Type: multipart/mixed; boundary="b"\n'
    "\n"
    "preamble\n"
    "--b\n"
    "Content-Type: text/plain\n"
    "\n"
    "one\n"
    "--b\n"
    "\n"
    "two\n"
    "--b--\n"
    "epilogue\n"
)


def _nested(inner_close: str, outer_close: str = "--outer--\n") -> str:
    return (
        "Content-Type: multipart/mixed; boundary=outer\n"
        "\n"
        "--outer\n"
        "Content-Type: multipart/alternative; boundary=inner\n"
        "\n"
        "--inner\n"
        "\n"
        "text\n"
        f"{inner_close}"
        "--outer\n"
        "\n"
        "attachment\n"
        f"{outer_close}"
    )


#: (case, raw text, True: fast path / False: must fall back).
EDGE_CASES: list[tuple[str, str, bool]] = [
    ("plain multipart", _MULTI, True),
    ("lone CR in body", _MULTI.replace("one\n", "o\rne\n"), False),
    ("lone CR at end", _MULTI + "\r", False),
    ("missing close boundary", _MULTI.replace("--b--\n", ""), False),
    ("close boundary only", _MULTI.replace("--b\n", ""), False),
    ("no boundary parameter", _MULTI.replace('; boundary="b"', ""), False),
    ("empty boundary", _MULTI.replace('boundary="b"', 'boundary=""'), False),
    (
        "base64 multipart",
        _MULTI.replace("\n\n", "\nContent-Transfer-Encoding: base64\n\n", 1),
        False,
    ),
    ("8bit multipart", _MULTI.replace("\n\n", "\nContent-Transfer-Encoding: 8BIT\n\n", 1), True),
    (
        "message/rfc822 part",
        _MULTI.replace("Content-Type: text/plain", "Content-Type: message/rfc822"),
        False,
    ),
    ("message/rfc822 top", "Content-Type: message/rfc822\n\nSubject: inner\n\nbody\n", False),
    ("delivery-status", "Content-Type: message/delivery-status\n\nA: b\n\nC: d\n", False),
    ("digest", _MULTI.replace("multipart/mixed", "multipart/digest"), False),
    ("no blank line after headers", "Subject: x\nbody line\n", False),
    ("header continuation first", " folded\nSubject: x\n\nbody\n", False),
    ("continuation after unixfrom", "From a b\n folded\nSubject: x\n\nbody\n", False),
    ("From line in headers", "Subject: x\nFrom a b\nTo: c\n\nbody\n", False),
    ("From line last header", "Subject: x\nFrom a b\n\nbody\n", False),
    ("empty header name", "Subject: x\n: value\n\nbody\n", False),
    ("non-ASCII header name", "Sübject: x\n\nbody\n", False),
    ("unixfrom in a part", _MULTI.replace("--b\n\ntwo", "--b\nFrom x y\n\ntwo"), True),
    ("boundaryX inside a part", _MULTI.replace("one\n", "--bX\n--b-x\n--b---\n"), True),
    ("indented boundary", _MULTI.replace("one\n", " --b\n"), True),
    ("boundary lines after close", _MULTI + "--b\n--b--\n", True),
    ("empty preamble line", _MULTI.replace("preamble\n", "\n"), True),
    ("CR before CRLF", _MULTI.replace("\n", "\r\n").replace("one", "one\r"), False),
    ("CRLF blank preamble", _MULTI.replace("\n", "\r\n").replace("preamble\r\n", "\r\n\r\n"), True),
    ("CRLF throughout", _MULTI.replace("\n", "\r\n"), True),
    ("mixed line endings", _MULTI.replace("one\n", "one\r\n"), True),
    ("empty part", _MULTI.replace("\ntwo\n", "\n"), True),
    ("headers-only part", _MULTI.replace("\ntwo\n", "X-A: b\n"), True),
    ("repeated boundary lines", _MULTI.replace("--b\n\ntwo", "--b\n--b\n\ntwo"), False),
    ("repeated start boundary", _MULTI.replace("--b\n", "--b\n--b\n", 1), False),
    ("boundary at end of text", _MULTI.replace("--b--\nepilogue\n", "--b"), False),
    ("nested multipart", _nested("--inner--\n"), True),
    ("nested with epilogue", _nested("--inner--\ninner epilogue\n\n"), True),
    ("nested epilogue blank line", _nested("--inner--\n\n"), True),
    ("nested close without newline", _nested("--inner--\n").rstrip("\n"), True),
    ("outer boundary in unclosed inner", _nested(""), False),
    ("outer close in unclosed inner", _nested("", outer_close=""), False),
    (
        "inner boundary prefix of outer",
        _nested("--inner--\n").replace("boundary=inner", "boundary=out").replace("inner", "out"),
        False,
    ),
]


@pytest.mark.parametrize(
    ("raw", "fast"), [(raw, fast) for _, raw, fast in EDGE_CASES], ids=[c for c, _, _ in EDGE_CASES]
)
def test_edge_cases(raw: str, fast: bool) -> None:
    data = raw.encode("utf-8")
    assert check(data) is fast
    if not fast:
        assert parse_bytes(data) is None


def test_unclosed_inner_multipart_really_differs() -> None:
    """Why an inner multipart must close inside its part: feedparser records a defect."""
    stdlib = _STDLIB.parsebytes(_nested("").encode())
    assert any(part.defects for part in walk(stdlib))


# --- random mutations ----------------------------------------------------------------------

_SEEDS = [
    as_bytes(alternative(), "\n"),
    as_bytes(mixed(), "\r\n"),
    _MULTI.encode(),
    _nested("--inner--\nepi\n").encode(),
]
_TOKENS = [
    b"\r",
    b"\n",
    b"\r\n",
    b"-",
    b"--",
    b"--b",
    b"--outer",
    b"--inner--",
    b"b",
    b":",
    b" ",
    b"\t",
    b"From ",
    b"X",
    b"\xff",
    b"Content-Type: multipart/mixed; boundary=b\n",
    b"Content-Type: message/rfc822\n",
]


def _boundary_tokens(seed: bytes) -> list[bytes]:
    msg = _STDLIB.parsebytes(seed)
    found = [str(part.get_boundary()).encode() for part in walk(msg) if part.is_multipart()]
    return [b"--" + boundary for boundary in found]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    seed = draw(st.sampled_from(_SEEDS))
    tokens = _TOKENS + _boundary_tokens(seed)
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["insert", "delete", "replace", "delete-line", "dup-line"]))
        if kind in ("insert", "replace"):
            token = draw(st.sampled_from(tokens))
            end = at + (len(token) if kind == "replace" else 0)
            data[at:end] = token
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 8))]
        else:
            start = data.rfind(b"\n", 0, at) + 1
            stop = data.find(b"\n", at)
            stop = len(data) if stop < 0 else stop + 1
            data[start:stop] = data[start:stop] * 2 if kind == "dup-line" else b""
    return bytes(data)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(mutated())
def test_mutations_never_differ_from_stdlib(raw: bytes) -> None:
    check(raw)


def test_mutation_seeds_take_the_fast_path() -> None:
    assert all(check(seed) for seed in _SEEDS)
