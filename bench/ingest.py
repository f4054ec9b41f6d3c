"""Benchmark of `postdesk import`: messages per second into SQLite and PostgreSQL.

Usage: .venv/bin/python bench/ingest.py [--count 10000] [--only sqlite|postgresql] [--profile]
                                        [--seed 1]

Generates a realistic backlog (bench/mailgen.py) into an mbox in a temporary folder with a
configuration of ~50 organisations and ~500 contacts (flood limits off), then, for each
database, times `postdesk import` end to end as a subprocess and `import_path` in-process
(with statement counts by query shape, commits and blob writes), each into a fresh database.
PostgreSQL: a uniquely named database is created through POSTDESK_TEST_DATABASE_URL
(default postgresql+psycopg://postgres@127.0.0.1:5432/test) and dropped afterwards.
It also prints the cost of the CPU-only stages over the same messages: parsing, classifying,
redaction alone, quote stripping. `--profile` adds a cProfile of the in-process import
(top 25 functions by cumulative and by total time).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import mailbox
import os
import pstats
import re
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from mailgen import directory as generated_directory  # noqa: E402
from mailgen import generate  # noqa: E402
from sqlalchemy import create_engine, event, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from ingest.classify.kind import classify  # noqa: E402
from ingest.model import ParsedMessage  # noqa: E402
from ingest.options import PipelineOptions  # noqa: E402
from ingest.parse.message import parse_message  # noqa: E402
from ingest.pipeline import quick_message_id  # noqa: E402
from ingest.prepare import prepare  # noqa: E402
from ingest.prestage import PreStage  # noqa: E402
from ingest.quotes.strip import strip_reply  # noqa: E402
from ingest.redact.redactor import is_text_like, redact_html, redact_text  # noqa: E402
from postdesk.app import App  # noqa: E402
from postdesk.cli.importer import import_path  # noqa: E402
from postdesk.config.load import settings_from_mapping  # noqa: E402
from postdesk.serve.logs import configure_logging  # noqa: E402
from store import migrate  # noqa: E402
from store.schema import TICKET_NUMBER_START  # noqa: E402
from tests.e2e.cli import toml_dump  # noqa: E402
from tests.helpers import example_config  # noqa: E402

POSTDESK = ROOT / ".venv" / "bin" / "postdesk"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TARGETS = {"sqlite": 400.0, "postgresql": 300.0}
_TABLE = re.compile(r"^(SELECT|INSERT INTO|UPDATE|DELETE FROM)\b.*?(?:FROM )?(\w+)", re.S)
_WHERE = re.compile(r"(\w+\.\w+) (=|IN|>=|IS)")


def config_data(tmp: Path, db_url: str, seed: int) -> dict[str, Any]:
    """config.example.toml with the generated directory, data under `tmp`, flood limits off."""
    data = example_config()
    data["database"]["url"] = db_url
    data["desk"]["trust_staff_from"] = True
    data["ingest"].update(
        data_dir=str(tmp / "data"), sender_rate_limit="off", domain_rate_limit="off"
    )
    data["outbound"]["file_dir"] = str(tmp / "outbox")
    data["logging"]["file"] = str(tmp / "postdesk.log")
    data["organisations"] = generated_directory(seed)[0]
    return data


def write_mbox(path: Path, messages: list[bytes]) -> None:
    box = mailbox.mbox(path, create=True)
    box.lock()
    try:
        for raw in messages:
            box.add(raw)
        box.flush()
    finally:
        box.unlock()
        box.close()


@contextmanager
def database(kind: str, tmp: Path, name: str) -> Iterator[str]:
    """A fresh, empty database URL (a SQLite file, or a new PostgreSQL database dropped after)."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp / (name + '.db')}"
        return
    admin = os.environ.get("POSTDESK_TEST_DATABASE_URL", DEFAULT_PG)
    admin = admin.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    db_name = f"postdesk_bench_{os.getpid()}_{secrets.token_hex(4)}"
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{db_name}"'))
    try:
        yield make_url(admin).set(database=db_name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        engine.dispose()


def run_cli(tmp: Path, url: str, mbox: Path, seed: int) -> tuple[float, float, dict[str, int]]:
    """(wall seconds, CPU seconds) of `postdesk import --json` as a subprocess (after
    `db upgrade`), and its summary."""
    config = tmp / "cli.toml"
    config.write_text(toml_dump(config_data(tmp / "cli", url, seed)))
    base = [str(POSTDESK), "--config", str(config)]
    subprocess.run([*base, "db", "upgrade"], check=True, capture_output=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([*base, "import", "--json", str(mbox)], check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    summary: dict[str, int] = json.loads(done.stdout)
    return wall, cpu, summary


class PoolClock:
    """CPU seconds of the import's analysing processes, read from /proc before they exit."""

    seconds = 0.0

    @classmethod
    def install(cls) -> None:
        close = PreStage.close

        def timed_close(prestage: PreStage) -> None:
            ticks = os.sysconf("SC_CLK_TCK")
            for pid in list(prestage._pool._processes or {}):  # a benchmark may peek
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                cls.seconds += (int(fields[11]) + int(fields[12])) / ticks
            close(prestage)

        PreStage.close = timed_close  # type: ignore[method-assign]


class Meter:
    """Counts statements by shape (and their driver time), commits and blob writes."""

    def __init__(self, app: App) -> None:
        self.statements: Counter[str] = Counter()
        self.seconds: dict[str, float] = defaultdict(float)
        self.commits = 0
        self.blob_writes = 0
        self.blob_seconds = 0.0
        self._started = 0.0
        engine = app.db.engine
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)
        event.listen(engine, "commit", self._commit)
        put = app.blobs.put

        def timed_put(data: bytes) -> str:
            start = time.perf_counter()
            try:
                return put(data)
            finally:
                self.blob_writes += 1
                self.blob_seconds += time.perf_counter() - start

        app.blobs.put = timed_put  # type: ignore[method-assign]

    def _before(self, *_args: Any) -> None:
        self._started = time.perf_counter()

    def _after(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        key = shape(statement)
        self.statements[key] += 1
        self.seconds[key] += time.perf_counter() - self._started

    def _commit(self, *_args: Any) -> None:
        self.commits += 1


def shape(statement: str) -> str:
    """`SELECT inbound_messages [inbound_messages.dedupe_key =]`: what a statement does."""
    flat = " ".join(statement.split())
    match = _TABLE.match(flat)
    if match is None:
        return re.sub(r"sa_savepoint_\d+", "sa_savepoint_N", flat[:60])
    verb, table = match.group(1), match.group(2)
    if verb == "SELECT":
        after = flat.split(" FROM ", 1)[1] if " FROM " in flat else flat
        table = after.split()[0]
    where = flat.split(" WHERE ", 1)[1] if " WHERE " in flat else ""
    columns = ",".join(dict.fromkeys(m.group(1) + " " + m.group(2) for m in _WHERE.finditer(where)))
    return f"{verb.split()[0]} {table}" + (f" [{columns}]" if columns else "")


def run_in_process(
    tmp: Path, url: str, mbox: Path, seed: int, *, profile: bool
) -> tuple[float, float, Counter[str], Meter, pstats.Stats | None]:
    """(wall seconds, CPU seconds, outcomes, meter, profile) of `import_path` in this process."""
    settings = settings_from_mapping(config_data(tmp, url, seed), base=tmp, env={})
    configure_logging(settings.logging, verbose=False)
    app = App.build(settings)
    migrate.upgrade(app.db.engine)
    app.sync_directory()
    meter = Meter(app)
    PoolClock.seconds = 0.0
    profiler = cProfile.Profile() if profile else None
    try:
        start, cpu_start = time.perf_counter(), time.process_time()
        if profiler is not None:
            profiler.enable()
        counts = import_path(app, mbox, progress_stream=io.StringIO())
        if profiler is not None:
            profiler.disable()
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    finally:
        app.close()
    stats = pstats.Stats(profiler, stream=sys.stdout) if profiler is not None else None
    return seconds, cpu, counts, meter, stats


def stage_costs(messages: list[bytes], options: PipelineOptions) -> dict[str, float]:
    """Seconds spent in each CPU-only stage over all messages (no database)."""
    spent: dict[str, float] = defaultdict(float)
    parsed: list[ParsedMessage] = []
    for raw in messages:
        start = time.perf_counter()
        quick_message_id(raw, options.secret_key)
        middle = time.perf_counter()
        parsed.append(parse_message(raw))
        spent["message-id peek"] += middle - start
        spent["parse"] += time.perf_counter() - middle
    own = frozenset(options.support_addresses)
    for item in parsed:
        start = time.perf_counter()
        classify(item.message, own_addresses=own)
        spent["classify"] += time.perf_counter() - start
        start = time.perf_counter()
        visible = _redact_all(item)
        spent["redact (subject, text, html, attachments)"] += time.perf_counter() - start
        start = time.perf_counter()
        strip_reply(visible)
        spent["strip quotes"] += time.perf_counter() - start
        start = time.perf_counter()
        prepare(item, options)
        spent["prepare (redact + strip + attachment checks)"] += time.perf_counter() - start
    return dict(spent)


def _redact_all(item: ParsedMessage) -> str:
    """Redact everything prepare() redacts; returns the redacted text."""
    redact_text(item.subject)
    redacted = redact_text(item.text).text
    if item.html:
        redact_html(item.html)
    for attachment in item.attachments:
        if is_text_like(attachment.filename, attachment.content_type):
            redact_text(attachment.payload.decode("utf-8", errors="surrogateescape"))
    return redacted


def report_meter(meter: Meter, count: int) -> None:
    total = sum(meter.statements.values())
    driver = sum(meter.seconds.values())
    print(
        f"    statements: {total} ({total / count:.1f}/message), driver time {driver:.2f} s; "
        f"commits {meter.commits}; blob writes {meter.blob_writes} "
        f"({meter.blob_seconds:.2f} s in the pipeline; written and fsynced on writer threads)"
    )
    for key, n in meter.statements.most_common(22):
        print(f"      {n / count:6.2f}/msg {meter.seconds[key] * 1000 / count:6.3f} ms/msg  {key}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--only", choices=sorted(TARGETS))
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    PoolClock.install()
    start = time.perf_counter()
    backlog = generate(args.count, args.seed, TICKET_NUMBER_START)
    sizes = sorted(len(m) for m in backlog.messages)
    print(
        f"generated {args.count} messages in {time.perf_counter() - start:.1f} s: median "
        f"{sizes[len(sizes) // 2] / 1024:.1f} KB, total {sum(sizes) / 2**20:.1f} MB; expected "
        + ", ".join(f"{k} {v}" for k, v in sorted(backlog.expected.items()))
    )
    with tempfile.TemporaryDirectory(prefix="postdesk-bench-") as folder:
        tmp = Path(folder)
        mbox = tmp / "backlog.mbox"
        write_mbox(mbox, backlog.messages)
        settings = settings_from_mapping(config_data(tmp, "sqlite://", args.seed), base=tmp, env={})
        from postdesk.app import pipeline_options

        costs = stage_costs(backlog.messages, pipeline_options(settings))
        print("CPU-only stages over the same messages:")
        for name, seconds in costs.items():
            print(
                f"  {name:48s} {seconds * 1000 / args.count:7.3f} ms/msg "
                f"{args.count / seconds:9.0f} msg/s"
            )
        for kind in [args.only] if args.only else ["sqlite", "postgresql"]:
            bench_database(kind, tmp, mbox, args, backlog.expected)
    return 0


def bench_database(
    kind: str, tmp: Path, mbox: Path, args: argparse.Namespace, expected: Counter[str]
) -> None:
    count = args.count
    with database(kind, tmp, "cli") as url:
        seconds, cpu, summary = run_cli(tmp, url, mbox, args.seed)
    rate = count / seconds
    verdict = "meets" if rate >= TARGETS[kind] else "BELOW"
    print(
        f"{kind}: CLI `postdesk import` {seconds:.1f} s = {rate:.0f} msg/s "
        f"({verdict} the {TARGETS[kind]:.0f} msg/s target); main process CPU {cpu:.1f} s = "
        f"{count / cpu:.0f} msg/s of CPU; summary {summary}"
    )
    got = {k: v for k, v in summary.items() if v and k != "total"}
    if got != dict(expected):
        print(f"  WARNING: outcomes differ from the expected {dict(expected)}")
    with database(kind, tmp, "inproc") as url:
        seconds, cpu, counts, meter, _ = run_in_process(
            tmp / "inproc", url, mbox, args.seed, profile=False
        )
    print(
        f"{kind}: in-process import_path {seconds:.1f} s = {count / seconds:.0f} msg/s "
        f"({seconds * 1000 / count:.2f} ms/msg; CPU: main process {cpu * 1000 / count:.2f} "
        f"ms/msg, analysing processes {PoolClock.seconds * 1000 / count:.2f} ms/msg); "
        f"{dict(counts)}"
    )
    report_meter(meter, count)
    if args.profile:
        with database(kind, tmp, "profiled") as url:
            seconds, _, _, _, stats = run_in_process(
                tmp / "profiled", url, mbox, args.seed, profile=True
            )
        assert stats is not None
        print(f"{kind}: profiled in-process run {seconds:.1f} s (profiler overhead included)")
        stats.sort_stats("cumulative").print_stats(25)
        stats.sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    sys.exit(main())
