"""aiosmtpd's SMTP protocol with cheaper address parsing and DATA reading, same behaviour.

Two of aiosmtpd 1.4's steps cost the listener more than everything postdesk adds to a
message (py-spy and CPU time per message of ``postdesk serve``, docs/performance.md):

- ``SMTP._getaddr`` parses every MAIL FROM and RCPT TO address with the email package's
  RFC 5322 header parser and defines a typing Protocol class on each call. Almost every
  address an MTA sends is a plain ``<dot-atom@dot-atom>``, whose parse is the text between
  the brackets: `SpoolingSMTP` answers those with one regular expression and hands anything
  else (quotes, comments, source routes, address literals, non-ASCII, no brackets) to
  aiosmtpd.
- ``SMTP.smtp_DATA`` does, for each line of the message, a debug log call (with the line in
  it: message text in a log when ``mail.log`` is at DEBUG), two joins into new bytearrays and
  a dozen checks, then removes the dot-stuffing line by line. `SpoolingSMTP.smtp_DATA` runs
  the same state machine (end of data, the size limit, the line length limit, a line longer
  than the stream limit, the connection lost) with one read and one append per line, and
  removes the dot-stuffing with one ``replace`` over the whole message.

The replies, the envelope the DATA hook sees and the order of everything are aiosmtpd's:
``tests/ingest/listen/test_smtp_protocol.py`` runs both over real sockets on the same input and
compares them. A handler without a ``handle_DATA`` hook gets aiosmtpd's own ``smtp_DATA``.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import re

from aiosmtpd.smtp import MISSING, SMTP

log = logging.getLogger("mail.log")  # aiosmtpd's logger, for the same connection-lost line

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
# The address, then the end, or the parameters after optional blanks (no comment).
_PLAIN_ANGLE_ADDRESS = re.compile(
    rf"<({_ATEXT}(?:\.{_ATEXT})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)>"
    r"(?:\Z|[ \t]*(?=[^ \t(]))"
)
_END_OF_DATA = b".\r\n"


class _Data(enum.Enum):
    NOMINAL = enum.auto()
    TOO_LONG = enum.auto()  # a line over the line length limit: 500 at the end
    TOO_MUCH = enum.auto()  # over the size limit: 552 at the end


class SpoolingSMTP(SMTP):
    """The SMTP protocol of the listener: aiosmtpd's, with the two fast paths above."""

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        plain = _PLAIN_ANGLE_ADDRESS.match(arg)
        if plain is None:
            return super()._getaddr(arg)
        address = plain.group(1)
        limit = self.local_part_limit
        if limit and len(address.rpartition("@")[0]) > limit:
            return None, None
        return address, arg[plain.end() :]

    async def smtp_DATA(self, arg: str) -> None:
        if "DATA" not in self._handle_hooks:
            await super().smtp_DATA(arg)
            return
        if await self.check_helo_needed():
            return
        if await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        state, lines = await self._read_data()
        if state is _Data.TOO_LONG:
            await self.push_data_reply("500 Line too long (see RFC5321 4.5.3.1.6)")
        elif state is _Data.TOO_MUCH:
            await self.push_data_reply("552 Error: Too much mail data")
        if state is not _Data.NOMINAL:
            self._set_post_data_state()  # type: ignore[no-untyped-call]
            return
        original = b"".join(lines)
        if original.startswith(b".") or b"\r\n." in original:  # RFC 5321 4.5.2
            original = original.replace(b"\r\n.", b"\r\n")
            if original.startswith(b"."):
                original = original[1:]
        content: str | bytes = original
        if self._decode_data:
            if self.enable_SMTPUTF8:
                content = original.decode("utf-8", errors="surrogateescape")
            else:
                try:
                    content = original.decode("ascii", errors="strict")
                except UnicodeDecodeError:
                    await self.push("500 Error: strict ASCII mode")
                    return
        self.envelope.content = content
        self.envelope.original_content = original
        status = await self._call_handler_hook("DATA")
        self._set_post_data_state()  # type: ignore[no-untyped-call]
        await self.push("250 OK" if status is MISSING else status)

    async def push_data_reply(self, status: str) -> None:
        """The reply to a DATA refused as a whole (one line in SMTP; LMTP repeats it for each
        recipient, ``ingest.listen.lmtp``)."""
        await self.push(status)

    async def _read_data(self) -> tuple[_Data, list[bytes]]:
        """Read up to the end-of-data line: the state it ends in and the lines (each with
        its CRLF, still dot-stuffed; none kept once the state is not NOMINAL)."""
        reader = self._reader
        readuntil = reader.readuntil
        size_limit = self.data_size_limit
        line_limit = self.line_length_limit
        state = _Data.NOMINAL
        lines: list[bytes] = []
        size = 0
        in_long_line = False  # a part of a line longer than the stream limit was read
        while self.transport is not None:  # pragma: no branch
            try:
                line = await readuntil(b"\r\n")
            except asyncio.CancelledError:
                log.info("Connection lost during DATA")
                self._writer.close()
                raise
            except asyncio.LimitOverrunError as overrun:
                if state is _Data.NOMINAL:
                    state = _Data.TOO_LONG
                lines.clear()
                size += len(await reader.read(overrun.consumed))
                in_long_line = True
                continue
            if line == _END_OF_DATA and not in_long_line:
                break
            size += len(line)
            if state is _Data.NOMINAL and size_limit and size > size_limit:
                state = _Data.TOO_MUCH
                lines.clear()
            if in_long_line:
                in_long_line = False  # its end: never kept
            elif state is _Data.NOMINAL:
                if len(line) > line_limit:
                    state = _Data.TOO_LONG
                    lines.clear()
                else:
                    lines.append(line)
        return state, lines
