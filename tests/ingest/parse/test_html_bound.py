"""Deep and huge HTML bodies are read within bounds (issue 20): depth capped before the
sanitiser, a body over the size cap read as text in linear time, memory kept small."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import nh3
import pytest

from ingest.analyse import AnalysisOptions, analyse
from ingest.model import RawMessage
from ingest.parse.html_bound import MAX_HTML_CHARS, html_as_text, read_html, too_large
from ingest.parse.html_depth import MAX_HTML_DEPTH, cap_depth
from ingest.quotes.strip import strip_html_reply
from ingest.redact.attached import redact_attached_mail

ROOT = Path(__file__).resolve().parents[3]
OPTIONS = AnalysisOptions(frozenset({"help@desk.example"}), None, frozenset(), 10**7, 10**8, "key")
HEAD = "From: Ann <ann@example.org>\nTo: help@desk.example\nSubject: s\nMIME-Version: 1.0\n"
TAGS = {"b", "i", "div", "span", "p", "li", "ul", "dl", "dd", "dt", "section", "table", "tr",
        "td", "th", "tbody", "form", "select", "option", "font", "a", "em", "h1", "blockquote"}  # fmt: skip
_TAG = re.compile(r"<(/?)([a-z0-9]+)[^>]*>")


def html_mail(html: str) -> RawMessage:
    return RawMessage((HEAD + "Content-Type: text/html; charset=utf-8\n\n" + html).encode())


def tree_depth(html: str) -> int:
    """How deep the tree builder nests `html` (every tag kept, output well-formed)."""
    depth = deepest = 0
    for m in _TAG.finditer(nh3.Cleaner(tags=TAGS, link_rel=None).clean(html)):
        depth += -1 if m.group(1) else 1
        deepest = max(deepest, depth)
    return deepest


@pytest.mark.parametrize(
    "unit",
    [
        "<div>",
        "<b><div>x</b>",  # the adoption agency leaves the div open
        "<span><div>x</span>",  # an end tag the builder ignores
        "<li><section>x",
        "<li><dt><p>",
        "<form><div></form>",  # the form is taken out, the div stays
        "x<section><select>",
        "<table><tr><td>",
        "<b class=a>x<i>y",
        "<div><script></div></script>",  # not an end tag: script text
    ],
)
def test_the_builder_never_nests_deeper_than_a_small_multiple_of_the_cap(unit: str) -> None:
    capped, dropped = cap_depth(unit * 3000)
    assert dropped > 0
    assert tree_depth(capped) <= 3 * MAX_HTML_DEPTH


def test_ordinary_html_is_left_as_it_is() -> None:
    html = (
        "<html><head><style>p {}</style></head><body><p>Hello<p>again<ul><li>one<li>two</ul>"
        "<table><tr><td>a<td>b<tr><td>c</table><font face=x>old</font><b><i>x</i></b>"
        + "<div><p>row <b>bold</b></p></div>" * 500
        + "</body></html>"
    )
    assert cap_depth(html) == (html, 0)


def test_200k_nested_divs_through_analyse_keep_their_text() -> None:
    html = "<div>" * 200_000 + "The printer on floor 2 is jammed." + "</div>" * 200_000
    analysis = analyse(html_mail(html), OPTIONS)
    assert analysis.parsed is not None and analysis.content is not None
    assert analysis.parsed.text == "The printer on floor 2 is jammed."
    assert analysis.content.visible == "The printer on floor 2 is jammed."
    assert any("too large" in note for note in analysis.parsed.defects)


def test_20k_nested_divs_under_the_size_cap_are_flattened_below_the_cap() -> None:
    html = "<div>" * 20_000 + "deep text" + "</div>" * 20_000 + "<p>after</p>"
    assert not too_large(html)
    body = read_html(html, with_text=True)
    assert body.html is not None and "deep text" in body.html and "after" in body.html
    assert body.html.count("<div>") == MAX_HTML_DEPTH
    assert body.text == "deep text\n\nafter"
    assert "nested deeper than 128" in body.note
    analysis = analyse(html_mail(html), OPTIONS)
    assert analysis.content is not None and analysis.content.html is not None
    assert "deep text" in analysis.content.visible


def test_html_as_text_is_readable() -> None:
    html = (
        "<html><head><title>T</title><style>p{color:red}</style></head><body>"
        "<p>Hi &amp; <b>welcome</b>,</p><script>if (a<b) alert(1)</script><HEADER>Head</HEADER>"
        "<table><tr><td>a<td>b</table><!-- hidden --><DIV>end   of\tline</DIV></body></html>"
    )
    assert html_as_text(html) == "Hi & welcome,\n\nHead\n\na b\n\nend of line"


def test_a_huge_html_reply_is_stripped_as_text() -> None:
    body = "<p>Yes, that works.</p><blockquote>" + "<p>old text</p>" * 80_000 + "</blockquote>"
    assert too_large(body)
    assert strip_html_reply(body).startswith("Yes, that works.")


def test_a_huge_html_part_of_an_attached_mail_is_kept_as_redacted_text() -> None:
    html = "<p>card 4111 1111 1111 1111</p>" + "<p>filler</p>" * (MAX_HTML_CHARS // 10)
    eml = (HEAD + "Content-Type: text/html; charset=utf-8\n\n" + html).encode()
    result = redact_attached_mail(eml, lambda _: None)
    assert result is not None
    payload, counts = result
    assert b"4111" not in payload and b"Content-Type: text/plain" in payload
    assert sum(counts.values()) >= 1


def test_a_20mb_html_body_is_read_as_text_in_little_memory() -> None:
    """Built and analysed in a child process, whose own peak RSS (VmHWM) is what is measured."""
    script = textwrap.dedent(
        """
        import sys

        def peak_mb():
            # This process's own high-water mark (VmHWM). Not getrusage's ru_maxrss, which
            # Linux carries over exec from the forking parent: a big pytest process would
            # count, and the figure would depend on what ran before.
            for line in open("/proc/self/status"):
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024
            raise RuntimeError("no VmHWM in /proc/self/status")

        from ingest.analyse import AnalysisOptions, analyse
        from ingest.model import RawMessage
        para = "<p>We ordered <b>twelve</b> chairs; please see <a href='https://x.example/o'>the order</a>. " + "word " * 60 + "</p>\\n"
        body = "<html><body><p>FIRST LINE</p>" + para * (20_000_000 // len(para) + 1) + "<p>LAST LINE</p></body></html>"
        head = "From: Ann <ann@example.org>\\nTo: help@desk.example\\nSubject: s\\nContent-Type: text/html\\n\\n"
        raw = RawMessage((head + body).encode())
        del body
        options = AnalysisOptions(frozenset({"help@desk.example"}), None, frozenset(), 10**7, 10**8, "key")
        analysis = analyse(raw, options)
        text = analysis.parsed.text
        lines = text.split("\\n")
        print(len(raw.data), analysis.parsed.html is None, lines[0], lines[-1],
              max(map(len, lines)), peak_mb(),
              sep="|")
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    size, no_html, first, last, longest, peak_mb = run.stdout.strip().split("|")
    assert int(size) >= 20_000_000
    assert no_html == "True"  # too large to keep as HTML
    assert (first, last) == ("FIRST LINE", "LAST LINE")
    assert int(longest) < 1000  # paragraphs stay lines: readable
    assert int(peak_mb) < 300
