"""An injected fault for the processing budget's tests: `analyse`, except that a message
carrying `SLOW_MARK` takes far longer than any budget. Kept apart from the tests so the
pool's processes, which import it, load nothing else."""

from __future__ import annotations

import multiprocessing
import time

from ingest.analyse import Analysis, AnalysisOptions, analyse
from ingest.model import RawMessage

SLOW_MARK = b"X-Test-Slow: yes"


def slow_on_mark(raw: RawMessage, options: AnalysisOptions) -> Analysis:
    """Runs in the pool's process, never in the test's (asserted)."""
    assert multiprocessing.parent_process() is not None, "analysed in the main process"
    if SLOW_MARK in raw.data:
        time.sleep(60)
    return analyse(raw, options)


FAIL_MARK = b"X-Test-Fail: yes"


def fail_on_mark(raw: RawMessage, options: AnalysisOptions) -> Analysis:
    """Raises on a message carrying `FAIL_MARK` (in the pool's process, as above)."""
    assert multiprocessing.parent_process() is not None, "analysed in the main process"
    if FAIL_MARK in raw.data:
        raise ValueError("injected analysis fault")
    return analyse(raw, options)
