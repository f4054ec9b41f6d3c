"""Benchmark of `postdesk serve` over SMTP: accepted and end-to-end messages per second.

Usage: .venv/bin/python bench/smtp.py [--messages 2000] [--sessions 8] [--timeout 600]
                                      [--rounds 1] [--accept-only] [--profile FILE]

Sends the same generated messages (about 6 KB each, text + HTML multipart, a unique sender
per message across the example organisations' domains, flood limits off) with N concurrent
SMTP sessions (threads + smtplib) twice:
1. to a bare aiosmtpd server (own process) whose handler answers 250 at once and keeps
   nothing: the ceiling for acceptance on this machine;
2. to `postdesk serve` (own process, SQLite, file outbox), timing acceptance (every 250) and
   end to end (the last message's decision committed: the database is polled).
Prints both rates and the targets: acceptance >= 50% of the bare handler, end to end >= 300
messages/s. `--rounds N` repeats both measurements N times, alternating, and prints the spread
of the ratio (the machine is shared: compare ratios of the same round, not absolute rates).
`--accept-only` stops serve after the last 250 (no end-to-end figure). `--profile FILE`
samples the serve process with py-spy (when installed) and prints the functions where the
time goes (top own time and top cumulative time).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import smtplib
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from tests.e2e.serve_helpers import (  # noqa: E402
    Recorded,
    ServeProcess,
    child_env,
    free_port,
    on_the_wire,
    serve_config,
    wait_until,
)

SUPPORT = "support@desk.example"
DOMAINS = ("acme.example", "globex.example", "initech.example")
ACCEPT_SHARE_TARGET = 0.5
END_TO_END_TARGET = 300.0
_PARAGRAPH = (
    "Since this morning the export of the call history stops at about forty percent and the "
    "browser shows error 500. We tried Firefox and Chrome, cleared the cache and logged in "
    "again. The recordings of yesterday's calls are missing from the list as well, and two "
    "colleagues in the Lyon office see the same. Order 44821 and invoice INV-2026-0113 are "
    "affected; the phone number of the line is +33 4 72 00 00 00.\n"
)
BARE_SERVER = """
import sys, threading
from aiosmtpd.controller import Controller

class Bare:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"

controller = Controller(Bare(), hostname="127.0.0.1", port=int(sys.argv[1]),
                        data_size_limit=26214400, decode_data=False)
controller.start()
print("ready", flush=True)
sys.stdin.read()
controller.stop()
"""


def start_py_spy(pid: int, output: Path) -> subprocess.Popen[bytes] | None:
    """Sample `pid` with py-spy (raw collapsed stacks, per thread) until terminated."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).exists():
        print("py-spy is not installed (pip install py-spy): no profile")
        return None
    return subprocess.Popen(
        [
            py_spy,
            "record",
            "--pid",
            str(pid),
            "--format",
            "raw",
            "--threads",
            "--nonblocking",
            "--rate",
            "100",
            "--output",
            str(output),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def print_profile(raw: Path, top: int = 12) -> None:
    """Where serve's time goes, from py-spy's raw output: share of samples per thread, then
    for the two busiest threads the functions with the most samples on the stack
    (cumulative) and at its top (own time).

    The spool worker runs in a child process, which py-spy does not follow here; serve's own
    busiest threads are the event loop and the spool writes."""
    if not raw.exists():
        print(f"no profile written to {raw}")
        return
    threads: Counter[str] = Counter()
    stacks: dict[str, Counter[tuple[str, ...]]] = {}
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        thread, *frames = stack.split(";")
        name = thread.rpartition(": ")[2]
        name = name.rstrip("_0123456789") if name.startswith("spool-write") else name
        threads[name] += int(count_text)
        kept = tuple(_frame_name(f) for f in frames if not f.startswith("Thread."))
        stacks.setdefault(name, Counter())[kept] += int(count_text)
    total = sum(threads.values()) or 1
    print(f"\nprofile of serve: {total} samples of running threads (py-spy, 100/s)")
    for name, count in threads.most_common(8):
        print(f"  {count / total:6.1%}  thread {name}")
    for name, _ in threads.most_common(2):
        samples = stacks.get(name, Counter())
        in_thread = sum(samples.values()) or 1
        own: Counter[str] = Counter()
        cumulative: Counter[str] = Counter()
        for stack_frames, count in samples.items():
            if stack_frames:
                own[stack_frames[-1]] += count
            for frame in set(stack_frames):
                cumulative[frame] += count
        for frame in [f for f, c in cumulative.items() if c >= 0.97 * in_thread]:
            del cumulative[frame]  # the thread's entry frames: on every stack, saying nothing
        for title, counter in (("cumulative", cumulative), ("own time", own)):
            print(f"thread {name}, top {top} by {title} (share of the thread's samples):")
            for frame, count in counter.most_common(top):
                print(f"  {count / in_thread:6.1%}  {frame}")


def _frame_name(frame: str) -> str:
    """`func (path/to/file.py:12)` -> `func (file.py)`, the line number dropped."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rpartition(":")[0]
    parts = Path(path).parts
    short = "/".join(parts[-2:]) if parts else path
    return f"{name} ({short})"


def build_messages(count: int) -> list[tuple[str, bytes]]:
    """`count` realistic ~6 KB multipart messages with unique senders and Message-IDs."""
    messages = []
    for n in range(count):
        domain = DOMAINS[n % len(DOMAINS)]
        sender = f"customer{n}@{domain}"
        msg = EmailMessage()
        msg["From"] = f"Customer {n} <{sender}>"
        msg["To"] = SUPPORT
        msg["Subject"] = f"Export of call history fails ({n})"
        msg["Message-ID"] = make_msgid(idstring=f"bench{n}", domain=domain)
        text = f"Hello support,\n\n{_PARAGRAPH * 7}\nThanks,\nCustomer {n}\n"
        msg.set_content(text)
        html = "".join(f"<p>{line}</p>" for line in text.splitlines() if line)
        msg.add_alternative(f"<html><body>{html}</body></html>", subtype="html")
        messages.append((sender, on_the_wire(msg.as_bytes())))
    return messages


def send_all(port: int, messages: list[tuple[str, bytes]], sessions: int) -> tuple[float, int]:
    """Send with `sessions` concurrent connections; (seconds, number answered 250)."""
    accepted = [0] * sessions

    def session(index: int) -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=120) as client:
            for sender, raw in messages[index::sessions]:
                if not client.sendmail(sender, [SUPPORT], raw):
                    accepted[index] += 1

    threads = [threading.Thread(target=session, args=(i,)) for i in range(sessions)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, sum(accepted)


def bare_rate(
    messages: list[tuple[str, bytes]], sessions: int
) -> tuple[float, tuple[float, ...] | None]:
    """Messages per second accepted by the do-nothing aiosmtpd handler, and its user and
    system CPU per message."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", BARE_SERVER, str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=child_env(),
    )
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        before = process_cpu_split(server.pid)
        seconds, accepted = send_all(port, messages, sessions)
        after = process_cpu_split(server.pid)
    finally:
        server.communicate("", timeout=30)
    assert accepted == len(messages), f"bare handler accepted {accepted}/{len(messages)}"
    cpu = None
    if before is not None and after is not None:
        cpu = tuple((a - b) / accepted * 1000 for a, b in zip(after, before, strict=True))
    return accepted / seconds, cpu


@dataclass(frozen=True)
class ServeFigures:
    accepted: float  # messages/s answered 250
    end_to_end: float | None  # messages/s committed (None with --accept-only)
    drain: float  # seconds from the last 250 to the last commit
    cpu_ms: tuple[float, ...] | None  # user and system CPU of serve's main process (all its
    # threads) per accepted message
    tree_cpu_ms: float | None  # CPU of serve and its workers per message, start to last commit


def process_cpu_split(pid: int) -> tuple[float, float] | None:
    """(user, system) CPU seconds of a process (all threads, not its children)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / ticks, int(fields[12]) / ticks


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it (from /proc's children lists)."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        try:
            tasks = Path(f"/proc/{current}/task").iterdir()
            for task in tasks:
                pending += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def tree_cpu(pid: int) -> dict[int, float]:
    """User + system CPU seconds of `pid` and of each of its living descendants."""
    used = {}
    for member in descendants(pid):
        split = process_cpu_split(member)
        if split:
            used[member] = sum(split)
    return used


def describe(pid: int, root: int) -> str:
    """Which of serve's processes `pid` is: main, a worker child, or one of their children."""
    if pid == root:
        return "serve (listeners, spool writes)"
    try:
        parent = int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except (OSError, ValueError):
        return f"process {pid}"
    if "forkserver" in cmdline:
        return "forkserver"
    if parent == root:
        return f"worker child {pid}"
    return f"child {pid} of {parent}"


def serve_rates(
    messages: list[tuple[str, bytes]],
    sessions: int,
    timeout: float,
    profile: Path | None,
    accept_only: bool = False,
) -> ServeFigures:
    """Acceptance and end-to-end figures for `postdesk serve` (end to end unless `accept_only`)."""
    folder = Path(tempfile.mkdtemp(prefix="postdesk-bench-smtp-"))
    try:
        config = serve_config(
            folder,
            f"sqlite:///{folder / 'postdesk.db'}",
            {
                "ingest": {"sender_rate_limit": "off", "domain_rate_limit": "off"},
                "logging": {"level": "WARNING"},
            },
        )
        daemon, config = ServeProcess.start(config)
        probe = Recorded(config.db_url)
        spy = start_py_spy(daemon.proc.pid, profile) if profile else None
        try:
            cpu_before = process_cpu_split(daemon.proc.pid)
            tree_before = tree_cpu(daemon.proc.pid)
            started = time.perf_counter()
            seconds, accepted = send_all(config.smtp_port, messages, sessions)
            cpu_after = process_cpu_split(daemon.proc.pid)
            end_to_end = tree_used = None
            if not accept_only:
                wait_until(
                    lambda: probe.count_inbound() >= accepted,
                    timeout=timeout,
                    what=f"{accepted} messages committed",
                    interval=0.02,
                )
                end_to_end = time.perf_counter() - started
                tree_after = tree_cpu(daemon.proc.pid)
                tree_used = sum(tree_after.values()) - sum(tree_before.values())
                for member, used in sorted(tree_after.items()):
                    spent = used - tree_before.get(member, 0.0)
                    print(
                        f"    {describe(member, daemon.proc.pid):32s} "
                        f"{spent / accepted * 1000:6.2f} ms CPU a message"
                    )
        finally:
            if spy is not None:
                spy.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
                spy.wait(60)
            probe.close()
            code = daemon.terminate(timeout=60)
        if code != 0:
            print(f"warning: serve exited {code}:\n{daemon.output()[-2000:]}")
        assert accepted == len(messages), f"serve accepted {accepted}/{len(messages)}"
        cpu_ms = None
        if cpu_before is not None and cpu_after is not None:
            cpu_ms = tuple(
                (a - b) / accepted * 1000 for a, b in zip(cpu_after, cpu_before, strict=True)
            )
        return ServeFigures(
            accepted=accepted / seconds,
            end_to_end=accepted / end_to_end if end_to_end else None,
            drain=end_to_end - seconds if end_to_end else 0.0,
            cpu_ms=cpu_ms,
            tree_cpu_ms=tree_used / accepted * 1000 if tree_used is not None else None,
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=600.0, help="end-to-end wait, seconds")
    parser.add_argument("--rounds", type=int, default=1, help="bare + serve measurements")
    parser.add_argument("--accept-only", action="store_true", help="no end-to-end figure")
    parser.add_argument("--profile", type=Path, help="py-spy raw output file for serve")
    args = parser.parse_args()
    messages = build_messages(args.messages)
    size = sum(len(raw) for _, raw in messages) / len(messages)
    print(
        f"{len(messages)} messages of {size / 1024:.1f} KB on average, {args.sessions} sessions, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}"
    )
    shares = []
    for _ in range(max(1, args.rounds)):
        bare, bare_cpu = bare_rate(messages, args.sessions)
        print(
            f"bare aiosmtpd handler (250 at once)  accepted   {bare:8.1f} messages/s"
            + (f" (CPU {sum(bare_cpu):.2f} ms/message)" if bare_cpu else "")
        )
        serve = serve_rates(messages, args.sessions, args.timeout, args.profile, args.accept_only)
        share = serve.accepted / bare
        shares.append(share)
        cpu = (
            f"; main process CPU {sum(serve.cpu_ms):.2f} ms/message: user {serve.cpu_ms[0]:.2f},"
            f" system {serve.cpu_ms[1]:.2f}"
            if serve.cpu_ms
            else ""
        )
        print(
            f"postdesk serve (SQLite)              accepted   {serve.accepted:8.1f} messages/s "
            f"({share:.0%} of bare; target >= {ACCEPT_SHARE_TARGET:.0%}: "
            f"{'met' if share >= ACCEPT_SHARE_TARGET else 'NOT met'}{cpu})"
        )
        if serve.end_to_end is not None:
            print(
                f"postdesk serve (SQLite)              end to end {serve.end_to_end:8.1f} "
                f"messages/s (target >= {END_TO_END_TARGET:.0f}: "
                f"{'met' if serve.end_to_end >= END_TO_END_TARGET else 'NOT met'}; "
                f"spool drained {serve.drain:.1f} s after the last 250; serve and its workers "
                f"used {serve.tree_cpu_ms or 0:.2f} ms CPU a message)"
            )
    if len(shares) > 1:
        print(
            f"acceptance share of bare over {len(shares)} rounds: best {max(shares):.0%}, "
            f"median {statistics.median(shares):.0%}, worst {min(shares):.0%} "
            f"(load average now {os.getloadavg()[0]:.2f})"
        )
    if args.profile:
        print_profile(args.profile)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
