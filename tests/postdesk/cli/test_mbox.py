"""postdesk.cli.mbox splits an mbox file exactly as the standard library's mailbox.mbox does."""

from __future__ import annotations

import mailbox
import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from postdesk.cli.mbox import Mbox

LINES = st.sampled_from(
    [
        b"From sender@example.com Mon Nov 23 09:00:00 2026\n",
        b"From \n",
        b"From",
        b">From quoted in a body\n",
        b"Subject: hello\n",
        b"Subject: crlf\r\n",
        b"\n",
        b"\r\n",
        b"body text\n",
        b"no newline at the end",
        b" From indented\n",
    ]
)


def split_both(data: bytes) -> tuple[list[bytes], list[bytes]]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "box.mbox"
        path.write_bytes(data)
        box = mailbox.mbox(path, factory=None, create=False)
        expected = [box.get_bytes(key) for key in box.iterkeys()]
        box.close()
        mbox = Mbox(path)
        assert len(mbox) == len(expected)
        return expected, list(mbox)


@given(st.lists(LINES, max_size=30))
def test_same_messages_as_mailbox(lines: list[bytes]) -> None:
    expected, got = split_both(b"".join(lines))
    assert got == expected


def test_messages_written_by_mailbox_come_back() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "box.mbox"
        box = mailbox.mbox(path, create=True)
        raws = [
            b"From: a@example.com\nSubject: one\n\nFrom the start, a body line.\n",
            b"X: 2\n\nb\n",
        ]
        for raw in raws:
            box.add(raw)
        box.close()
        got = list(Mbox(path))
    assert got[1] == raws[1]
    assert got[0] == raws[0].replace(b"\nFrom the", b"\n>From the"), "mailbox escapes From lines"


def test_empty_file_has_no_messages() -> None:
    assert split_both(b"") == ([], [])
