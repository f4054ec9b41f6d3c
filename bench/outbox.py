"""Benchmark of the outbox worker: mails per second through the file transport and over SMTP.

Usage: .venv/bin/python bench/outbox.py [--mails 2000] [--runs 3] [--only file|smtp]
                                        [--profile] [--seed 1]

Queues realistic notification rows the way production does: a generated support-mail
backlog (bench/mailgen.py: new requests, replies, staff answers, auto-replies) is ingested
through the App into a temporary SQLite database until at least `--mails` outbox rows wait
(confirmations, team notices, comment notices, staff replies ...). The database is kept as a
snapshot; each run starts from a fresh copy of it and drains every row with the production
wiring (`postdesk.notify_build.outbox_worker`) through
(a) the file transport (one fsynced .eml per mail), and
(b) SMTP to a do-nothing aiosmtpd sink on 127.0.0.1 in a process of its own, which counts
    the connections it was opened.
First it times rendering + composing every queued row alone (no database, no transport).
Then per target: mails/s and ms/mail (best run and spread), the worker's CPU per mail, the
split by stage of the best run (claim: the claiming transaction with its skip checks and
thread lookups; render: jinja2; compose: the MIME bytes; send: the transport, connection
closing included; settle: marking rows sent), and with `--profile` a cProfile of the last
drain (top functions by own and by cumulative time).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from mailgen import directory as generated_directory  # noqa: E402
from mailgen import generate  # noqa: E402

import notify.outbox  # noqa: E402
from ingest.model import RawMessage  # noqa: E402
from notify.message import MailHeaders, compose  # noqa: E402
from notify.outbox import OutboxWorker  # noqa: E402
from postdesk.app import App  # noqa: E402
from postdesk.config.load import settings_from_mapping  # noqa: E402
from postdesk.notify_build import outbox_worker  # noqa: E402
from postdesk.serve.logs import configure_logging  # noqa: E402
from store import migrate  # noqa: E402
from store import outbox as outbox_store  # noqa: E402
from tests.e2e.serve_helpers import child_env, free_port  # noqa: E402
from tests.helpers import example_config  # noqa: E402

SINK = """
import sys
from aiosmtpd.controller import Controller

class Sink:
    connections = 0
    messages = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        Sink.connections += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server, session, envelope):
        Sink.messages += 1
        return "250 OK"

controller = Controller(Sink(), hostname="127.0.0.1", port=int(sys.argv[1]),
                        data_size_limit=26214400, decode_data=False)
controller.start()
print("ready", flush=True)
sys.stdin.readline()
print(f"{Sink.connections} {Sink.messages}", flush=True)
sys.stdin.read()
controller.stop()
"""
BATCH = 100
STAGES = ("claim", "render", "compose", "send", "settle")


def config_data(tmp: Path, db_path: Path, seed: int, outbound: dict[str, Any]) -> dict[str, Any]:
    """config.example.toml with the generated directory, data under `tmp`, limits out of the way
    (every queued row is a mail to send: rate-limit skips would only shorten the work)."""
    data = example_config()
    data["database"]["url"] = f"sqlite:///{db_path}"
    data["desk"]["trust_staff_from"] = True
    data["ingest"].update(
        data_dir=str(tmp / "data"), sender_rate_limit="off", domain_rate_limit="off"
    )
    data["outbound"].update(
        file_dir=str(tmp / "outbox"),
        per_ticket_hourly_limit=1_000_000,
        per_address_daily_limit=1_000_000,
        **outbound,
    )
    data["logging"]["file"] = str(tmp / "postdesk.log")
    data["organisations"] = generated_directory(seed)[0]
    return data


def build_app(tmp: Path, db_path: Path, seed: int, outbound: dict[str, Any]) -> App:
    settings = settings_from_mapping(config_data(tmp, db_path, seed, outbound), base=tmp, env={})
    configure_logging(settings.logging, verbose=False)
    return App.build(settings)


def queue_rows(tmp: Path, snapshot: Path, mails: int, seed: int) -> dict[str, int]:
    """Ingest generated mail until at least `mails` outbox rows wait; rows by kind."""
    app = build_app(tmp / "queue", snapshot, seed, {})
    migrate.upgrade(app.db.engine)
    app.sync_directory()
    backlog = generate(mails, seed=seed).messages  # about one row per message, often more
    try:
        for start in range(0, len(backlog), BATCH):
            batch = backlog[start : start + BATCH]
            app.intake.ingest_batch([RawMessage(data=raw, source="bench") for raw in batch])
            with app.db.transaction() as session:
                rows = outbox_store.list_rows(session, status="pending")
            if len(rows) >= mails:
                break
    finally:
        app.close()
    kinds: dict[str, int] = defaultdict(int)
    for row in rows:
        kinds[row.kind] += 1
    return dict(sorted(kinds.items(), key=lambda item: -item[1]))


@contextmanager
def smtp_sink() -> Iterator[tuple[int, Callable[[], tuple[int, int]]]]:
    """A do-nothing aiosmtpd server in its own process: (port, read (connections, messages))."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", SINK, str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=child_env(),
    )
    assert server.stdin is not None and server.stdout is not None
    stdin, stdout = server.stdin, server.stdout

    def counts() -> tuple[int, int]:
        stdin.write("\n")
        stdin.flush()
        connections, messages = stdout.readline().split()
        return int(connections), int(messages)

    try:
        if stdout.readline().strip() != "ready":
            raise RuntimeError("the SMTP sink did not start")
        yield port, counts
    finally:
        stdin.close()
        server.wait(timeout=30)


class StageTimer:
    """Wraps the worker's stages to add up the seconds spent in each."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    def timed(self, stage: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[stage] += time.perf_counter() - start

        return wrapper

    @contextmanager
    def attached(self, worker: OutboxWorker) -> Iterator[None]:
        compose = notify.outbox.compose
        worker._claim = self.timed("claim", worker._claim)  # type: ignore[method-assign]
        worker._settle_unsettled = self.timed("settle", worker._settle_unsettled)  # type: ignore[method-assign]
        worker.renderer.render = self.timed("render", worker.renderer.render)  # type: ignore[method-assign]
        worker.transport.send = self.timed("send", worker.transport.send)  # type: ignore[method-assign]
        worker.transport.close = self.timed("send", worker.transport.close)  # type: ignore[method-assign]
        notify.outbox.compose = self.timed("compose", compose)  # type: ignore[assignment]
        try:
            yield
        finally:
            notify.outbox.compose = compose


class Run(NamedTuple):
    """One drain: wall and CPU seconds of this process, mails sent, wall seconds by stage."""

    seconds: float
    cpu: float
    sent: int
    stages: dict[str, float]


def drain_once(
    tmp: Path, snapshot: Path, seed: int, outbound: dict[str, Any], profile: bool
) -> tuple[Run, pstats.Stats | None]:
    """One drain of a fresh copy of the queued database, and its profile when asked."""
    run = tmp / "run"
    shutil.rmtree(run, ignore_errors=True)
    run.mkdir()
    db_path = run / "postdesk.db"
    shutil.copyfile(snapshot, db_path)
    app = build_app(run, db_path, seed, outbound)
    try:
        worker = outbox_worker(app)
        timer = StageTimer()
        profiler = cProfile.Profile() if profile else None
        with timer.attached(worker):
            start, cpu_start = time.perf_counter(), time.process_time()
            if profiler is not None:
                profiler.enable()
            report = worker.drain()
            if profiler is not None:
                profiler.disable()
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    finally:
        app.close()
    if report.sent != report.total:
        raise RuntimeError(f"not every row was sent: {report}")
    stats = pstats.Stats(profiler, stream=sys.stdout) if profiler is not None else None
    return Run(seconds, cpu, report.sent, dict(timer.seconds)), stats


def print_runs(title: str, runs: list[Run]) -> None:
    rates = [run.sent / run.seconds for run in runs]
    best = runs[max(range(len(runs)), key=lambda i: rates[i])]
    sent, seconds = best.sent, best.seconds
    cpu = sorted(1000 * run.cpu / run.sent for run in runs)
    print(f"\n{title}: {sent} mails, {len(runs)} run(s)")
    print(
        f"  best {max(rates):7.1f} mails/s  {1000 * seconds / sent:6.2f} ms/mail"
        f"   (spread {min(rates):.1f}-{max(rates):.1f} mails/s)"
    )
    print(f"  CPU of the worker: {cpu[0]:.2f} ms/mail (spread {cpu[0]:.2f}-{cpu[-1]:.2f})")
    print("  best run by stage (ms/mail):")
    accounted = 0.0
    for stage in STAGES:
        spent = best.stages.get(stage, 0.0)
        accounted += spent
        print(f"    {stage:<8} {1000 * spent / sent:6.3f}")
    print(f"    {'other':<8} {1000 * (seconds - accounted) / sent:6.3f}")


def render_compose_alone(snapshot: Path, seed: int, tmp: Path) -> tuple[float, int]:
    """(seconds, mails) of rendering and composing every queued row, nothing else (no
    database work, no transport): the CPU-bound core of a delivery."""
    app = build_app(tmp / "alone", snapshot, seed, {})
    try:
        with app.db.transaction() as session:
            rows = outbox_store.list_rows(session, status="pending")
        worker = outbox_worker(app)
    finally:
        app.close()
    options = worker.options
    now = datetime.now(UTC)
    start = time.perf_counter()
    for row in rows:
        headers = MailHeaders(
            row.id, row.kind, row.recipient, str(row.message_id), row.automatic, (), ()
        )
        compose(
            worker.renderer.render(row.kind, row.context),
            headers,
            row.context,
            from_address=options.from_address,
            desk_name=options.desk_name,
            secret_key=options.secret_key,
            now=now,
        )
    return time.perf_counter() - start, len(rows)


def print_profile(title: str, stats: pstats.Stats, top: int = 25) -> None:
    print(f"\ncProfile of one drain ({title}), top {top} by own time:")
    stats.sort_stats("tottime").print_stats(top)
    print(f"cProfile of one drain ({title}), top {top} by cumulative time:")
    stats.sort_stats("cumulative").print_stats(top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", choices=("file", "smtp"))
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="postdesk-bench-outbox-") as folder:
        tmp = Path(folder)
        snapshot = tmp / "queued.db"
        start = time.perf_counter()
        kinds = queue_rows(tmp, snapshot, args.mails, args.seed)
        print(
            f"queued {sum(kinds.values())} rows in {time.perf_counter() - start:.1f} s "
            f"by ingesting generated mail: "
            + ", ".join(f"{kind} {count}" for kind, count in kinds.items())
        )
        alone = [render_compose_alone(snapshot, args.seed, tmp) for _ in range(args.runs)]
        per_mail = sorted(1000 * seconds / mails for seconds, mails in alone)
        print(
            f"\nrender + compose alone: {per_mail[0]:.3f} ms/mail "
            f"(spread {per_mail[0]:.3f}-{per_mail[-1]:.3f})"
        )
        targets: list[tuple[str, dict[str, Any]]] = []
        if args.only in (None, "file"):
            targets.append(("file transport", {"transport": "file"}))
        with smtp_sink() as (port, counts):
            if args.only in (None, "smtp"):
                targets.append(
                    ("SMTP to a loopback aiosmtpd sink", {"transport": "smtp", "port": port})
                )
            for title, outbound in targets:
                runs = []
                for index in range(args.runs):
                    profile = args.profile and index == args.runs - 1
                    run, stats = drain_once(tmp, snapshot, args.seed, outbound, profile)
                    runs.append(run)
                print_runs(title, runs)
                if outbound["transport"] == "smtp":
                    connections, messages = counts()
                    print(f"  the sink saw {messages} mails over {connections} connection(s)")
                if stats is not None:
                    print_profile(title, stats)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
