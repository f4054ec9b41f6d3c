"""`postdesk import`: an mbox file or a Maildir folder into the pipeline, in batches.

Messages are committed in batches (one transaction, a savepoint per message), which is
what makes a backlog import fast; a message whose processing fails rolls back only its own
savepoint and goes to quarantine. Re-running an import records nothing twice (dedupe).

An import is quiet by default (`IMPORT_MODE`): it mails nobody, dates each message by its
Date header and does not apply the flood limit; `--notify` queues the mails a live message
would cause. `--since` skips mail dated before an instant (mail without a readable date is
imported). On a terminal the progress bar stays on the last line: log lines written to the
same terminal appear above it.
"""

from __future__ import annotations

import contextlib
import email.utils
import logging
import mailbox
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from ingest.analyse import Analysis, AnalysisOptions
from ingest.model import IngestMode, IngestResult, RawMessage
from ingest.prestage import PreStage
from postdesk.app import App
from postdesk.cli.mbox import Mbox

log = logging.getLogger(__name__)
BATCH_SIZE = 200
# Below this many messages a pool of analysing processes costs more to start than it saves.
PRESTAGE_MIN_MESSAGES = 2 * BATCH_SIZE
# A backlog: no mail to anyone, dated by its mail, no flood limit; holds for moderation stay.
IMPORT_MODE = IngestMode(notify=False, flood_limit=False, dated=True, status="open")
SKIPPED = "skipped"  # the summary's count of mail dated before --since


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


def header_date(raw: bytes) -> datetime | None:
    """The Date header of a raw message, read from its header block only; None when there
    is none or it cannot be read."""
    head = raw.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    lines = head.replace(b"\r\n", b"\n").split(b"\n")
    for index, line in enumerate(lines):
        if line[:5].lower() == b"date:":
            value = line[5:]
            for follow in lines[index + 1 : index + 3]:
                if follow[:1] in (b" ", b"\t"):
                    value += follow
            try:
                parsed = email.utils.parsedate_to_datetime(value.decode("latin-1").strip())
            except (TypeError, ValueError, IndexError, OverflowError):
                return None
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


class Progress:
    """A one-line progress bar on a terminal; silent otherwise."""

    CLEAR_LINE = "\r\x1b[K"

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total = total
        self.stream = stream
        self.enabled = stream.isatty()
        self.started = time.monotonic()
        self.last = 0.0
        self.line = ""

    def update(self, done: int, counts: Counter[str]) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self.last < 0.1 and done < self.total):
            return
        self.last = now
        width = 30
        filled = int(width * done / self.total) if self.total else width
        rate = done / max(now - self.started, 1e-6)
        created = counts.get("created", 0)
        self.line = (
            f"[{'#' * filled}{'.' * (width - filled)}] {done}/{self.total} "
            f"{rate:.0f} msg/s, {created} created"
        )
        self.stream.write("\r" + self.line)
        self.stream.flush()

    def above(self, text: str) -> None:
        """Write `text` (log lines) above the bar: clear the bar, write, draw it again."""
        self.stream.write(self.CLEAR_LINE + text)
        if text.endswith("\n") and self.line:
            self.stream.write(self.line)
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled:
            self.stream.write("\n")


class _AboveBar:
    """A stream for a log handler that writes to the bar's terminal: lines go above it."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress

    def write(self, text: str) -> int:
        self.progress.above(text)
        return len(text)

    def flush(self) -> None:
        self.progress.stream.flush()


@contextlib.contextmanager
def logs_above(progress: Progress) -> Iterator[None]:
    """While the bar is drawn, log handlers writing to its stream write above it."""
    moved: list[tuple[logging.StreamHandler[TextIO], TextIO]] = []
    if progress.enabled:
        for handler in logging.getLogger().handlers:
            if type(handler) is logging.StreamHandler and handler.stream is progress.stream:
                moved.append((handler, handler.stream))
                handler.setStream(_AboveBar(progress))
    try:
        yield
    finally:
        for handler, stream in moved:
            handler.setStream(stream)


def default_jobs() -> int:
    """Analysing processes for an import: one per CPU the process may use. The analysis of
    a message (parse, classify, redact, its language) costs about twice the database half
    in this process, so the analysing processes share the CPUs with it rather than leave
    one to it (on 2 CPUs: 384-407 messages/s with two, 298-335 with one)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, cpus or 1)


def import_path(
    app: App,
    path: Path,
    *,
    progress_stream: TextIO = sys.stderr,
    on_result: Callable[[IngestResult], None] | None = None,
    jobs: int | None = None,
    mode: IngestMode = IMPORT_MODE,
    since: datetime | None = None,
) -> Counter[str]:
    """Import every message (dated at or after `since`, when given); returns the count of
    each outcome, and of `skipped` messages.

    `jobs` processes parse and redact a batch ahead of the database; 0: everything in this
    process. By default one per CPU but one, unless the mailbox is too small for a pool to pay.
    """
    total, messages = iter_messages(path)
    counts: Counter[str] = Counter()
    progress = Progress(total, progress_stream)
    if since is not None:
        messages = _since(messages, since, counts)
    batches = _batches(messages, f"import:{path.name}", mode)
    if jobs is None:
        jobs = default_jobs() if total >= PRESTAGE_MIN_MESSAGES else 0
    done = 0
    with logs_above(progress):
        if jobs:
            budget = app.settings.ingest.max_processing_seconds
            options = AnalysisOptions.of(app.pipeline.options)
            with PreStage(options, jobs, budget=budget) as prestage:
                for batch, analyses in prestage.ahead(batches):
                    done += _run_batch(app, batch, analyses, counts, on_result)
                    progress.update(done + counts[SKIPPED], counts)
        else:
            for batch in batches:
                done += _run_batch(app, batch, (), counts, on_result)
                progress.update(done + counts[SKIPPED], counts)
        progress.update(total, counts)
    progress.finish()
    return counts


def _since(messages: Iterator[bytes], since: datetime, counts: Counter[str]) -> Iterator[bytes]:
    for data in messages:
        date = header_date(data)
        if date is not None and date < since:
            counts[SKIPPED] += 1
            continue
        yield data


def _batches(
    messages: Iterator[bytes], source: str, mode: IngestMode
) -> Iterator[list[RawMessage]]:
    batch: list[RawMessage] = []
    for data in messages:
        batch.append(RawMessage(data=data, source=source, mode=mode))
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
