"""The processing budget for an analysis run in this process (`postdesk ingest`, a small
`import`): the pre-stage's pool kills a worker that takes too long (`ingest.prestage`); here
a real-time timer (SIGALRM) interrupts the analysis instead. Python checks for signals
between bytecodes and the regex engine every few thousand steps, so a long match is
interrupted too. The timer is only armed in the main thread of a process (where signals
are delivered) and when no other timer is running; elsewhere the analysis runs unbounded,
as before.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

from ingest.analyse import Analysis, AnalysisOptions, analyse
from ingest.model import RawMessage


class OverBudget(BaseException):
    """The analysis took longer than its budget. A BaseException, as KeyboardInterrupt is:
    the analysis' own `except Exception` fallbacks must not swallow it."""


def over_budget(budget: float) -> str:
    """The quarantine reason of a message whose analysis took longer than `budget`."""
    return f"processing took longer than {budget:g} s"


def analyse_within(
    raw: RawMessage,
    options: AnalysisOptions,
    budget: float | None,
    analyser: Callable[[RawMessage, AnalysisOptions], Analysis] = analyse,
) -> Analysis:
    """`analyse(raw, options)`, or, past `budget` seconds, an Analysis without content whose
    problem says so (the pipeline quarantines it with that reason)."""
    try:
        with _deadline(budget):
            return analyser(raw, options)
    except OverBudget:
        return Analysis(None, over_budget(budget or 0.0), None, None)


def can_time() -> bool:
    """True where the timer can be armed: the main thread, with no timer of another's."""
    return (
        hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
        and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    )


@contextmanager
def _deadline(budget: float | None) -> Iterator[None]:
    if not budget or not can_time():
        yield
        return

    def expired(signum: int, frame: FrameType | None) -> None:
        raise OverBudget

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, budget)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
