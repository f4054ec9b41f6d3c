"""`postdesk import`: an mbox file or a Maildir folder into the pipeline, in batches.

Messages are committed in batches (one transaction, a savepoint per message), which is
what makes a backlog import fast; a message whose processing fails rolls back only its own
savepoint and goes to quarantine. Re-running an import records nothing twice (dedupe).
"""

from __future__ import annotations

import logging
import mailbox
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TextIO

from ingest.analyse import Analysis, AnalysisOptions
from ingest.model import IngestResult, RawMessage
from ingest.prestage import PreStage
from postdesk.app import App
from postdesk.cli.mbox import Mbox

log = logging.getLogger(__name__)
BATCH_SIZE = 200
# Below this many messages a pool of analysing processes costs more to start than it saves.
PRESTAGE_MIN_MESSAGES = 2 * BATCH_SIZE


class ImportSourceError(Exception):
    """The path is neither an mbox file nor a Maildir folder."""


def _maildir_keys(box: mailbox.Maildir) -> list[str]:
    return sorted(box.keys())


def iter_messages(path: Path) -> tuple[int, Iterator[bytes]]:
    """(count, raw messages) of an mbox file or a Maildir folder, in a stable order."""
    if path.is_dir():
        if not (path / "cur").is_dir() and not (path / "new").is_dir():
            raise ImportSourceError(f"{path} is a folder but not a Maildir (no cur/ or new/)")
        box = mailbox.Maildir(path, factory=None, create=False)
        keys = _maildir_keys(box)
        return len(keys), (box.get_bytes(k) for k in keys)
    if not path.is_file():
        raise ImportSourceError(f"{path} does not exist")
    mbox = Mbox(path)
    return len(mbox), iter(mbox)


class Progress:
    """A one-line progress bar on a terminal; silent otherwise."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total = total
        self.stream = stream
        self.enabled = stream.isatty()
        self.started = time.monotonic()
        self.last = 0.0

    def update(self, done: int, counts: Counter[str]) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self.last < 0.1 and done < self.total):
            return
        self.last = now
        width = 30
        filled = int(width * done / self.total) if self.total else width
        rate = done / max(now - self.started, 1e-6)
        created = counts.get("created", 0)
        self.stream.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{self.total} "
            f"{rate:.0f} msg/s, {created} created"
        )
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled:
            self.stream.write("\n")


def default_jobs() -> int:
    """Analysing processes for an import: one per CPU the process may use, but the one the
    database half needs (at least one)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cpus or 1) - 1)


def import_path(
    app: App,
    path: Path,
    *,
    progress_stream: TextIO = sys.stderr,
    on_result: Callable[[IngestResult], None] | None = None,
    jobs: int | None = None,
) -> Counter[str]:
    """Import every message; returns the count of each outcome.

    `jobs` processes parse and redact a batch ahead of the database; 0: everything in this
    process. By default one per CPU but one, unless the mailbox is too small for a pool to pay.
    """
    total, messages = iter_messages(path)
    counts: Counter[str] = Counter()
    progress = Progress(total, progress_stream)
    batches = _batches(messages, f"import:{path.name}")
    if jobs is None:
        jobs = default_jobs() if total >= PRESTAGE_MIN_MESSAGES else 0
    done = 0
    if jobs:
        budget = app.settings.ingest.max_processing_seconds
        options = AnalysisOptions.of(app.pipeline.options)
        with PreStage(options, jobs, budget=budget) as prestage:
            for batch, analyses in prestage.ahead(batches):
                done += _run_batch(app, batch, analyses, counts, on_result)
                progress.update(done, counts)
    else:
        for batch in batches:
            done += _run_batch(app, batch, (), counts, on_result)
            progress.update(done, counts)
    progress.finish()
    return counts


def _batches(messages: Iterator[bytes], source: str) -> Iterator[list[RawMessage]]:
    batch: list[RawMessage] = []
    for data in messages:
        batch.append(RawMessage(data=data, source=source))
        if len(batch) >= BATCH_SIZE:
            yield batch
            batch = []
    if batch:
        yield batch


def _run_batch(
    app: App,
    batch: list[RawMessage],
    analyses: Sequence[Analysis | None],
    counts: Counter[str],
    on_result: Callable[[IngestResult], None] | None,
) -> int:
    for result in app.intake.ingest_batch(batch, analyses):
        counts[result.outcome.value] += 1
        if on_result is not None:
            on_result(result)
    return len(batch)
