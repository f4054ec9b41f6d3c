"""Analysis in worker processes, a batch ahead of the database half of the pipeline.

Parsing, classifying and redacting take about half of a message's CPU time and need no
database, so `import` (and the spool worker) hand them to a pool of processes: while the
main process decides and commits one batch, the pool analyses the next. Results come back
in order. A message the pool could not analyse comes back as None and is analysed again in
the main process, where its failure takes the pipeline's usual road (quarantine).
"""

from __future__ import annotations

import ctypes
import logging
import os
import select
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing import get_context

from ingest.analyse import Analysis, AnalysisOptions, analyse
from ingest.model import RawMessage

log = logging.getLogger(__name__)
PR_SET_PDEATHSIG = 1
AHEAD_BATCHES = 2  # batches analysed ahead of the one being decided (see ahead)
CHUNK_MESSAGES = 10  # a batch is cut in chunks of at most this many messages (see collect)

_options: AnalysisOptions | None = None
Work = list[tuple[list[RawMessage], Future[list[Analysis | None]]]]
"""A batch being analysed: its chunks, each with the future of its analyses."""


def die_with_parent() -> None:
    """Linux: this process gets SIGKILL when the process that started it dies.

    A pool worker's parent is the forkserver: it also watches the pool's owner (`exit_with`).
    """
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except OSError:
            log.warning("worker process: cannot tie its life to the parent's")


def exit_with(pid: int) -> None:
    """End this process as soon as process `pid` has ended (a watcher thread).

    A pool worker's parent is the forkserver, not the process that owns the pool, and the
    forkserver lives as long as any process it forked holds its "alive" pipe, as every pool
    worker does: when the owner is killed (SIGKILL, the OOM killer), a worker would wait on
    its call queue forever and keep the forkserver alive with it. Linux: a pidfd becomes
    readable when the process ends; elsewhere the process is looked at once a second.
    """
    try:
        pidfd: int | None = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = None

    def watch() -> None:
        if pidfd is not None:
            select.select([pidfd], [], [])
        else:
            while _alive(pid):
                time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name=f"exit-with-{pid}", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _start_worker(options: AnalysisOptions, main: int) -> None:
    global _options  # noqa: PLW0603 - the one value a pool worker keeps between calls
    die_with_parent()
    if not _alive(main):
        os._exit(0)  # the main process died while this one was starting
    exit_with(main)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    _options = options


def _analyse_chunk(raws: list[RawMessage]) -> list[Analysis | None]:
    assert _options is not None, "pool worker started without its options"
    return _analyse_all(raws, _options)


def _analyse_all(raws: list[RawMessage], options: AnalysisOptions) -> list[Analysis | None]:
    results: list[Analysis | None] = []
    for raw in raws:
        try:
            results.append(analyse(raw, options))
        except Exception:  # analysed again by the pipeline, which quarantines it
            results.append(None)
    return results


class PreStage:
    """A pool of `workers` processes running `analyse`."""

    def __init__(self, options: AnalysisOptions, workers: int) -> None:
        self.workers = workers
        self.options = options
        self._pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=get_context("forkserver"),
            initializer=_start_worker,
            initargs=(options, os.getpid()),
        )
        self._pool.submit(_analyse_chunk, [])  # start a worker now, not with the first mail

    def submit(self, raws: list[RawMessage]) -> Work:
        """Start analysing `raws`; `collect` the returned work for the results, in order."""
        size = max(1, min(CHUNK_MESSAGES, -(-len(raws) // self.workers)))
        return [
            (chunk, self._pool.submit(_analyse_chunk, chunk))
            for chunk in (raws[i : i + size] for i in range(0, len(raws), size))
        ]

    def collect(self, work: Work) -> list[Analysis | None]:
        """The analyses of `work`, in order. While a chunk is still being analysed, this
        process (idle until it has the results) analyses the last chunks no worker has
        started yet, instead of waiting for them."""
        analyses: list[Analysis | None] = []
        stolen: dict[int, list[Analysis | None]] = {}
        last = len(work) - 1
        for index, (_, future) in enumerate(work):
            while index not in stolen and last > index and not future.done():
                chunk, queued = work[last]
                if queued.cancel():  # no worker took it: analyse it here
                    stolen[last] = _analyse_all(chunk, self.options)
                last -= 1
            analyses.extend(stolen[index] if index in stolen else future.result())
        return analyses

    def ahead(
        self, batches: Iterable[list[RawMessage]]
    ) -> Iterator[tuple[list[RawMessage], list[Analysis | None]]]:
        """Each batch with its analyses, the next `AHEAD_BATCHES` already being analysed
        meanwhile (the workers never wait for this process to finish a batch)."""
        pending: deque[tuple[list[RawMessage], Work]] = deque()
        for batch in batches:
            pending.append((batch, self.submit(batch)))
            if len(pending) > AHEAD_BATCHES:
                done, futures = pending.popleft()
                yield done, self.collect(futures)
        while pending:
            done, futures = pending.popleft()
            yield done, self.collect(futures)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> PreStage:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
