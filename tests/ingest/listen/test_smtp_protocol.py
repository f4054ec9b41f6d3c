"""The listener's SMTP protocol behaves exactly as aiosmtpd's: the fast address parse gives
the same results, and over real sockets DATA gives the same replies and the same envelope."""

from __future__ import annotations

import itertools
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Sink
from aiosmtpd.smtp import SMTP, Envelope
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.listen.smtp_protocol import SpoolingSMTP
from tests.e2e.serve_helpers import free_port

CASES = [
    "<a@b.c>",
    "<customer42@acme.example>",
    "<a@b.c> SIZE=100",
    "<a@b.c>\tSIZE=100 BODY=8BITMIME",
    "<a@b.c> BODY=8BITMIME SIZE=12 ",
    "<a@b.c>x",
    "<a@b.c>  ",
    "<a@b.c> (comment) SIZE=1",
    "<a@b.c>(comment)",
    "<>",
    "< a@b.c >",
    '<"q u"@b.c>',
    "<@r1,@r2:a@b.c>",
    "a@b.c",
    "a@b.c SIZE=1",
    "<a.b@c>",
    "<a..b@c>",
    "<.a@b.c>",
    "<a.@b.c>",
    "<a@[1.2.3.4]>",
    "<a(comment)@b.c>",
    " <a@b.c>",
    "<a@b.c",
    "<Ünï@b.c>",
    "<a@bü.c>",
    "<support+SUP-1.k7f3q9@desk.example>",
    "<o'brien@x.example>",
    "<a@-b-.c>",
    "<a@b..c>",
    "<@b.c>",
    "<a@>",
    "",
    "<" + "x" * 64 + "@b.c>",
    "<" + "x" * 65 + "@b.c>",
]


def _outcome(parse: Callable[[str], object], arg: str) -> object:
    try:
        return parse(arg)
    except Exception as exc:  # aiosmtpd's own parse raises on some input ("<"): the same
        return type(exc)


def _both(arg: str) -> tuple[object, object]:
    server = SpoolingSMTP(Sink())
    return _outcome(server._getaddr, arg), _outcome(lambda a: SMTP._getaddr(server, a), arg)


@pytest.mark.parametrize("arg", CASES)
def test_known_forms_parse_as_aiosmtpd_parses_them(arg: str) -> None:
    fast, original = _both(arg)
    assert fast == original


_PIECES = st.sampled_from(
    ["<", ">", "@", ".", " ", "\t", "(", ")", '"', "a", "Z", "0", "+", "-", "_", "'", "ü", "[", "]",
     ",", ":", "=", "SIZE=1", "BODY=8BITMIME", "\\"]
)  # fmt: skip


@settings(max_examples=600, deadline=None)
@given(st.lists(_PIECES, max_size=14).map("".join))
def test_any_argument_parses_as_aiosmtpd_parses_it(arg: str) -> None:
    fast, original = _both(arg.strip())
    assert fast == original


@settings(max_examples=300, deadline=None)
@given(
    st.from_regex(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,8}(\.[A-Za-z0-9-]{1,5}){0,2}", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9-]{1,8}(\.[A-Za-z0-9-]{1,6}){0,3}", fullmatch=True),
    st.sampled_from(["", " SIZE=123", "  BODY=7BIT SIZE=9", "\tSMTPUTF8", "x"]),
)
def test_plain_addresses_take_the_fast_path_with_the_same_result(
    local: str, domain: str, rest: str
) -> None:
    arg = f"<{local}@{domain}>{rest}"
    fast, original = _both(arg)
    assert fast == original


# ---- DATA over real sockets: the same replies and envelopes from both protocols ------------


class _Recorder:
    """A DATA hook that records what it was given."""

    def __init__(self) -> None:
        self.seen: list[tuple[object, ...]] = []

    async def handle_DATA(self, server: SMTP, session: object, envelope: Envelope) -> str:
        self.seen.append(
            (envelope.content, envelope.original_content, envelope.mail_from, envelope.rcpt_tos)
        )
        return "250 OK recorded"


class _Served:
    """One protocol class behind a Controller on a free loopback port."""

    def __init__(self, protocol: type[SMTP], **kwargs: Any) -> None:
        self.recorder = _Recorder()
        self.controller = _controller(protocol, self.recorder, kwargs)
        self.controller.start()
        self.port = self.controller.port

    def stop(self) -> None:
        self.controller.stop()


def _controller(protocol: type[SMTP], handler: _Recorder, kwargs: dict[str, Any]) -> Controller:
    class _Factory(Controller):
        def factory(self) -> SMTP:
            return protocol(self.handler, **self.SMTP_kwargs)

    return _Factory(handler, hostname="127.0.0.1", port=free_port(), **kwargs)


def _reply(sock: socket.socket, buffer: bytearray) -> bytes:
    """Read one complete (possibly multi-line) SMTP reply."""
    while True:
        line_start = 0
        while (end := buffer.find(b"\r\n", line_start)) >= 0:
            if buffer[line_start + 3 : line_start + 4] == b" ":
                reply = bytes(buffer[: end + 2])
                del buffer[: end + 2]
                return reply
            line_start = end + 2
        chunk = sock.recv(65536)
        if not chunk:
            return bytes(buffer)  # closed
        buffer += chunk


def _session(port: int, chunks: list[bytes | None], *, then_quit: bool = True) -> list[bytes]:
    """EHLO, MAIL, RCPT, DATA, the chunks as sent (None: a pause, so that the server reads
    what came before on its own), then the replies to the end (and QUIT)."""
    replies = []
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        buffer = bytearray()
        replies.append(_reply(sock, buffer))
        for command in (
            b"EHLO client.example",
            b"MAIL FROM:<a@b.example>",
            b"RCPT TO:<s@x.example>",
        ):
            sock.sendall(command + b"\r\n")
            replies.append(_reply(sock, buffer))
        sock.sendall(b"DATA\r\n")
        replies.append(_reply(sock, buffer))
        if not replies[-1].startswith(b"354"):
            return replies
        for chunk in chunks:
            if chunk is None:
                time.sleep(0.1)
            else:
                sock.sendall(chunk)
        replies.append(_reply(sock, buffer))
        if then_quit:
            sock.sendall(b"QUIT\r\n")
            replies.append(_reply(sock, buffer))
    return replies


@pytest.fixture(scope="module", params=[{}, {"decode_data": True}, {"decode_data": True, "enable_SMTPUTF8": True}], ids=["bytes", "ascii", "utf8"])  # fmt: skip
def servers(request: pytest.FixtureRequest) -> Iterator[tuple[_Served, _Served]]:
    """aiosmtpd's protocol and the listener's, with a small size limit to reach its 552."""
    kwargs = {"data_size_limit": 4000, **request.param}
    stock, fast = _Served(SMTP, **kwargs), _Served(SpoolingSMTP, **kwargs)
    yield stock, fast
    stock.stop()
    fast.stop()


def _same(servers: tuple[_Served, _Served], chunks: list[bytes | None]) -> None:
    stock, fast = servers
    seen_before = (len(stock.recorder.seen), len(fast.recorder.seen))
    expected = _session(stock.port, chunks)
    got = _session(fast.port, chunks)
    assert got == expected
    assert fast.recorder.seen[seen_before[1] :] == stock.recorder.seen[seen_before[0] :]


BODIES = {
    "plain": [b"Subject: hi\r\n\r\nhello\r\n.\r\n"],
    "empty": [b".\r\n"],
    "dot-stuffed": [b"..\r\n..x\r\n.y\r\n...\r\nz.\r\n\r\n.\r\n"],
    "first line dotted": [b".leading\r\nnext\r\n.\r\n"],
    "bare lf and cr": [b"a\nb\rc\r\n.\n\r\n\n.\r\n.\r\n"],
    "line of 1001": [b"x" * 999 + b"\r\n.\r\n"],
    "line of 1002": [b"x" * 1000 + b"\r\n.\r\n"],
    "line past the stream limit": [b"y" * 3000 + b"\r\nafter\r\n.\r\n"],
    "dot after a long line": [b"y" * 1500 + b".\r\n.\r\n"],
    # The stream limit leaves the "." of "y...y." unread: the next line read is ".\r\n",
    # the end of a long line, not the end of the data.
    "end of a long line that looks like the end": [b"y" * 1500 + b".", None, b"\r\nok\r\n.\r\n"],
    "too much": [(b"z" * 70 + b"\r\n") * 80 + b".\r\n"],
    "too much, then too long": [(b"z" * 70 + b"\r\n") * 80 + b"w" * 2000 + b"\r\n.\r\n"],
    "split everywhere": [bytes([c]) for c in b"Sub: a\r\n..b\r\n.\r\n"],
    "split terminator": [b"text\r\n.", b"\r", b"\n"],
    "utf-8": ["Grüße\r\n.\r\n".encode()],
    "latin-1": ["Grüße\r\n.\r\n".encode("latin-1")],
    "pipelined quit": [b"body\r\n.\r\nQUIT\r\n"],
}


@pytest.mark.parametrize("chunks", BODIES.values(), ids=BODIES.keys())
def test_data_gives_what_aiosmtpd_gives(
    servers: tuple[_Served, _Served], chunks: list[bytes]
) -> None:
    _same(servers, chunks)


_LINES = st.sampled_from(
    [b"", b".", b"..", b".x", b"x", b"a\nb", b"c\rd", b"\r", b"\xff\xfe", "ü".encode(),
     b"q" * 998, b"q" * 999, b"q" * 1000, b"L" * 1200, b"D" * 2100 + b"."]
)  # fmt: skip


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(_LINES, max_size=12), st.lists(st.integers(0, 3000), max_size=3))
def test_any_data_gives_what_aiosmtpd_gives(
    servers: tuple[_Served, _Served], lines: list[bytes], cuts: list[int]
) -> None:
    payload = b"".join(line + b"\r\n" for line in lines) + b".\r\n"
    edges = sorted({min(cut, len(payload)) for cut in cuts} | {0, len(payload)})
    _same(servers, [payload[a:b] for a, b in itertools.pairwise(edges) if b > a])


def test_a_connection_lost_in_data_reaches_no_hook(servers: tuple[_Served, _Served]) -> None:
    for served in servers:
        before = len(served.recorder.seen)
        with socket.create_connection(("127.0.0.1", served.port), timeout=30) as sock:
            buffer = bytearray()
            _reply(sock, buffer)
            for command in (
                b"HELO c",
                b"MAIL FROM:<a@b.example>",
                b"RCPT TO:<s@x.example>",
                b"DATA",
            ):
                sock.sendall(command + b"\r\n")
                _reply(sock, buffer)
            sock.sendall(b"half a message\r\n")
        assert _session(served.port, [b"ok\r\n.\r\n"])[-2].startswith(b"250")
        assert len(served.recorder.seen) == before + 1  # only the second, complete one
