"""Analysis in worker processes, a batch ahead of the database half of the pipeline.

Parsing, classifying and redacting take about half of a message's CPU time and need no
database, so `import` (and the spool worker) hand them to a pool of processes: while the
main process decides and commits one batch, the pool analyses the next. Results come back
in order. A message whose analysis raised comes back as an Analysis without content whose
problem names the exception (quarantined with that reason): it is never analysed again in
the main process, where no budget would hold it.

Every analysis runs in the pool, under a time budget a message (`budget` seconds; the
`[ingest] max_processing_seconds` setting): each worker notes in shared memory which
message it is on and since when, and this process, while it waits, looks. A message over
the budget has its process killed; it comes back as an Analysis without content whose
problem says so (the pipeline quarantines it with that reason), the pool is started again
and the messages not yet analysed are handed to it. A worker that dies on its own (the OOM
killer) is replaced the same way; a message on which it died twice is given up.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import select
import signal
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from multiprocessing.sharedctypes import Synchronized, SynchronizedArray

from ingest.analyse import Analysis, AnalysisOptions, analyse
from ingest.budget import over_budget
from ingest.model import RawMessage

log = logging.getLogger(__name__)
PR_SET_PDEATHSIG = 1
AHEAD_BATCHES = 2  # batches analysed ahead of the one being decided (see ahead)
CHUNK_MESSAGES = 10  # a batch is cut in chunks of at most this many messages (see collect)

DEFAULT_BUDGET = 30.0
_FIELDS = 4  # a worker's slot in the shared clock: pid, chunk, message index, started (0: idle)
_TRIES = 2  # a message on which a worker died this many times is given up

Analyser = Callable[[RawMessage, AnalysisOptions], Analysis]
_options: AnalysisOptions | None = None
_analyser: Analyser = analyse
_clock: SynchronizedArray[float] | None = None
_slot = 0
Work = list[tuple[list[RawMessage], Future[list[Analysis | None]]]]
"""A batch being analysed: its chunks, each with the future of its analyses."""


def analysis_failed(exc: BaseException) -> str:
    """The quarantine reason of a message whose analysis raised `exc`."""
    return f"analysis failed: {type(exc).__name__}"


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


def _start_worker(
    options: AnalysisOptions,
    main: int,
    analyser: Analyser,
    clock: SynchronizedArray[float],
    slots: Synchronized[int],
) -> None:
    global _options, _analyser, _clock, _slot  # noqa: PLW0603 - a pool worker's own values
    die_with_parent()
    if not _alive(main):
        os._exit(0)  # the main process died while this one was starting
    exit_with(main)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    _options, _analyser, _clock = options, analyser, clock
    with slots.get_lock():
        _slot = slots.value
        slots.value += 1
    clock[_slot * _FIELDS] = os.getpid()


def _analyse_chunk(
    chunk: int, raws: list[RawMessage], given_up: dict[int, str]
) -> list[Analysis | None]:
    """Analyse `raws` (but those `given_up`: their reason), noting each start in the clock."""
    assert _options is not None and _clock is not None, "pool worker started without options"
    base = _slot * _FIELDS
    results: list[Analysis | None] = []
    for index, raw in enumerate(raws):
        if index in given_up:
            results.append(Analysis(None, given_up[index], None, None))
            continue
        with _clock.get_lock():
            _clock[base + 1], _clock[base + 2], _clock[base + 3] = chunk, index, time.monotonic()
        try:
            results.append(_analyser(raw, _options))
        except Exception as exc:  # the input's own failure: analysing it again would fail
            # again, and in the main process without the budget; quarantined with the reason
            log.exception("analysis failed (%s); the message is quarantined", type(exc).__name__)
            results.append(Analysis(None, analysis_failed(exc), None, None))
        finally:
            with _clock.get_lock():
                _clock[base + 3] = 0.0
    return results


class PreStage:
    """A pool of `workers` processes running `analyse`, `budget` seconds a message at most."""

    def __init__(
        self,
        options: AnalysisOptions,
        workers: int,
        budget: float = DEFAULT_BUDGET,
        analyser: Analyser = analyse,
    ) -> None:
        self.workers = workers
        self.options = options
        self.budget = budget
        self._analyser = analyser
        self._context = get_context("forkserver")
        self._next_chunk = 0
        # chunk id -> (its batch's work, its place there, messages given up with the reason)
        self._chunks: dict[int, tuple[Work, int, dict[int, str]]] = {}
        self._ids: dict[int, int] = {}  # id(future) -> chunk id
        self._deaths: Counter[tuple[int, int]] = Counter()
        self._start_pool()
        self._pool.submit(_analyse_chunk, -1, [], {})  # start a worker now, not with the first mail

    def _start_pool(self) -> None:
        self._clock = self._context.Array("d", self.workers * _FIELDS)
        self._pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=self._context,
            initializer=_start_worker,
            initargs=(
                self.options,
                os.getpid(),
                self._analyser,
                self._clock,
                self._context.Value("i", 0),
            ),
        )

    def _submit(self, work: Work, place: int, chunk_id: int) -> None:
        chunk = work[place][0] if place < len(work) else []
        given_up = self._chunks[chunk_id][2]
        future = self._pool.submit(_analyse_chunk, chunk_id, chunk, dict(given_up))
        self._ids[id(future)] = chunk_id
        if place < len(work):
            work[place] = (chunk, future)
        else:
            work.append((chunk, future))

    def submit(self, raws: list[RawMessage]) -> Work:
        """Start analysing `raws`; `collect` the returned work for the results, in order."""
        self._forget_cancelled()
        size = max(1, min(CHUNK_MESSAGES, -(-len(raws) // self.workers)))
        work: Work = []
        for start in range(0, len(raws), size):
            chunk_id, self._next_chunk = self._next_chunk, self._next_chunk + 1
            work.append((raws[start : start + size], Future()))
            self._chunks[chunk_id] = (work, len(work) - 1, {})
            self._submit(work, len(work) - 1, chunk_id)
        return work

    def collect(self, work: Work) -> list[Analysis | None]:
        """The analyses of `work`, in order; a message over the budget (or on which the
        analysing process died twice) comes back as an Analysis saying so."""
        analyses: list[Analysis | None] = []
        poll = min(0.25, self.budget / 4)
        for place in range(len(work)):
            while True:
                future = work[place][1]
                try:
                    analyses.extend(future.result(timeout=poll))
                    break
                except FutureTimeout:
                    self._check_clock()
                except BrokenProcessPool:
                    self._restart(killed=False)
            self._chunks.pop(self._ids.pop(id(future), -1), None)
        return analyses

    def _running(self) -> list[tuple[int, int, int, float]]:
        """(pid, chunk, index, started) of each worker on a message now."""
        with self._clock.get_lock():
            values = self._clock[:]
        slots = [values[i : i + _FIELDS] for i in range(0, len(values), _FIELDS)]
        return [(int(p), int(c), int(i), t) for p, c, i, t in slots if p and t]

    def _check_clock(self) -> None:
        now = time.monotonic()
        late = [(c, i) for _, c, i, started in self._running() if now - started > self.budget]
        if not late:
            return
        for chunk_id, index in late:
            if chunk_id in self._chunks:
                self._chunks[chunk_id][2][index] = over_budget(self.budget)
            log.warning("a message took longer than %g s to analyse; quarantined", self.budget)
        self._restart(killed=True)

    def _restart(self, killed: bool) -> None:
        """End the pool's processes, start a new pool, hand it every unfinished chunk."""
        running = self._running()
        if not killed:  # a worker died on its own: the messages it was on get a strike
            log.warning("an analysing process ended unexpectedly; starting the pool again")
            for _, chunk_id, index, _ in running:
                self._deaths[(chunk_id, index)] += 1
                if self._deaths[(chunk_id, index)] >= _TRIES and chunk_id in self._chunks:
                    reason = "the analysing process ended while reading it"
                    self._chunks[chunk_id][2][index] = reason
        self._forget_cancelled()
        again = [
            chunk_id
            for chunk_id, (work, place, _) in sorted(self._chunks.items())
            if not work[place][1].done() or work[place][1].exception() is not None
        ]
        with self._clock.get_lock():
            pids = [int(self._clock[i]) for i in range(0, len(self._clock), _FIELDS)]
        for pid in pids:
            if pid:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._start_pool()
        for chunk_id in again:
            work, place, _ = self._chunks[chunk_id]
            self._ids.pop(id(work[place][1]), None)
            self._submit(work, place, chunk_id)

    def _forget_cancelled(self) -> None:
        """Drop the chunks whose analysis was called off (`release_ahead` cancels them)."""
        for chunk_id, (work, place, _) in list(self._chunks.items()):
            if work[place][1].cancelled():
                del self._chunks[chunk_id]
                self._ids.pop(id(work[place][1]), None)

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
