"""Group commit for the SMTP listener: messages handed in together share one spool write.

Every SMTP session's DATA needs its message durable before the 250. Writing each message on
a thread of its own costs, per message, a directory fsync, a thread hand-off and a wake-up of
the event loop, and the threads contend for the GIL with the loop that serves the sessions.
`SpoolGroupWriter` keeps at most ``writers`` writes in flight (``Spool.put_many`` on the
executor); a message arriving while they are all busy waits for the next one, together with
every other message arriving meanwhile: under load a group costs one file, one fsync of it and
one of the directory, one hand-off and one wake-up, and when the listener is quiet a message
is written at once, alone. ``on_written`` (wake the worker) runs in the loop once per group
that was stored; it must not block.

The writer lives in the event loop's thread and is not thread-safe: call `put` from
coroutines of one loop.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Executor

from ingest.spool.queue import PutRequest, Spool, SpoolEntry

log = logging.getLogger(__name__)
# One write in flight: while it runs, every message arriving waits to share the next file.
# Measured against two (bench/smtp.py): the same acceptance, a third less system time.
DEFAULT_WRITERS = 1
DEFAULT_MAX_GROUP = 64


class SpoolGroupWriter:
    """Awaitable spool writes, grouped while ``writers`` writes are already in flight."""

    def __init__(
        self,
        spool: Spool,
        executor: Executor | None = None,
        *,
        writers: int = DEFAULT_WRITERS,
        max_group: int = DEFAULT_MAX_GROUP,
        on_written: Callable[[], None] | None = None,
    ) -> None:
        if writers <= 0 or max_group <= 0:
            raise ValueError("writers and max_group must be positive")
        self.spool = spool
        self.executor = executor
        self.writers = writers
        self.max_group = max_group
        self.on_written = on_written
        self._waiting: list[tuple[PutRequest, asyncio.Future[SpoolEntry]]] = []
        self._in_flight = 0

    async def put(
        self, raw: bytes, *, mail_from: str, rcpts: Sequence[str], source: str
    ) -> SpoolEntry:
        """The entry once the message is durable; raises the write's ``OSError`` otherwise."""
        future: asyncio.Future[SpoolEntry] = asyncio.get_running_loop().create_future()
        self._waiting.append((PutRequest(raw, mail_from, tuple(rcpts), source), future))
        self._start_writes()
        return await future

    def _start_writes(self) -> None:
        loop = asyncio.get_running_loop()
        while self._waiting and self._in_flight < self.writers:
            group = self._waiting[: self.max_group]
            del self._waiting[: self.max_group]
            self._in_flight += 1
            requests = [request for request, _ in group]
            write = loop.run_in_executor(self.executor, self.spool.put_many, requests)
            write.add_done_callback(functools.partial(self._settle, group))

    def _settle(
        self,
        group: list[tuple[PutRequest, asyncio.Future[SpoolEntry]]],
        done: asyncio.Future[list[SpoolEntry | OSError]],
    ) -> None:
        self._in_flight -= 1
        if done.cancelled():  # the executor was shut down under us
            for _, future in group:
                future.cancel()
            return
        failure = done.exception()
        outcomes: list[SpoolEntry | BaseException] = (
            [failure] * len(group) if failure is not None else list(done.result())
        )
        for (_, future), outcome in zip(group, outcomes, strict=True):
            if future.done():  # the session went away (cancelled) meanwhile
                continue
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)
        self._start_writes()
        if self.on_written is not None and not isinstance(outcomes[0], BaseException):
            try:
                self.on_written()
            except Exception as exc:
                log.warning("spool: wake-up callback failed: %s", type(exc).__name__)
