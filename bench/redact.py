"""Benchmark of the secrets redactor: MB/s in-process and through `postdesk redact`.

Usage: .venv/bin/python bench/redact.py [--size-mb 10] [--adversarial-mb 5] [--repeat 3]
                                        [--setup-detect-secrets] [--skip-cli]

Prints megabytes per second (the best of --repeat runs, and the slowest run as the spread:
the machine may be shared) for a generated, realistic 10 MB support-mail corpus (whole
text and message by message), for each adversarial input (long digit runs, long base64,
repeated keywords ...), for the CLI `postdesk redact`, and for detect-secrets' line
scanners over the same lines. detect-secrets lives in its own venv
(/tmp/postdesk-bench-detect-secrets, created by --setup-detect-secrets), never in the
project's; without it the comparison is skipped and the script says so.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from redact_corpus import adversarial, corpus  # noqa: E402

from ingest.redact.redactor import redact_text  # noqa: E402

DS_VENV = Path("/tmp/postdesk-bench-detect-secrets")
DS_PYTHON = DS_VENV / "bin" / "python"
TARGET_MBPS = 20.0
_DS_SCRIPT = r"""
import json, sys, time
from detect_secrets.core.scan import get_plugins
from detect_secrets.settings import default_settings
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
with default_settings():
    plugins = list(get_plugins())
    start = time.perf_counter()
    found = 0
    for number, line in enumerate(lines, 1):
        for plugin in plugins:
            found += len(plugin.analyze_line(filename="corpus.txt", line=line, line_number=number))
    seconds = time.perf_counter() - start
report = {"seconds": seconds, "lines": len(lines), "found": found, "plugins": len(plugins)}
print(json.dumps(report))
"""


def _mbps(size: int, seconds: float) -> float:
    return size / 1e6 / seconds if seconds > 0 else float("inf")


def _findings(text: str) -> int:
    return len(redact_text(text).findings)


def _best_of(repeat: int, run: Callable[[], int]) -> tuple[float, float, int]:
    """Fastest and slowest of `repeat` runs (seconds) and what the last run returned."""
    times = []
    found = 0
    for _ in range(repeat):
        start = time.perf_counter()
        found = run()
        times.append(time.perf_counter() - start)
    return min(times), max(times), found


def _rate(size: int, best: float, worst: float) -> str:
    """Best MB/s of the runs, and the spread down to the slowest."""
    return f"{_mbps(size, best):7.1f} MB/s (slowest {_mbps(size, worst):5.1f})"


def bench_in_process(messages: list[str], repeat: int) -> float:
    text = "".join(messages)
    size = len(text.encode())
    best, worst, found = _best_of(repeat, partial(_findings, text))
    print(
        f"in-process, whole corpus : {_rate(size, best, worst)}  "
        f"({size / 1e6:.1f} MB, {found} findings)"
    )
    best_pm, worst_pm, per_message = _best_of(
        repeat, lambda: sum(len(redact_text(m).findings) for m in messages)
    )
    print(
        f"in-process, per message  : {_rate(size, best_pm, worst_pm)}  "
        f"({len(messages)} messages, {per_message} findings)"
    )
    return _mbps(size, best)


def bench_adversarial(size: int, repeat: int) -> None:
    print(f"adversarial inputs ({size / 1e6:.0f} MB each):")
    for name, text in adversarial(size).items():
        best, worst, found = _best_of(repeat, partial(_findings, text))
        print(
            f"  {name:28s} {_rate(len(text.encode()), best, worst)}  "
            f"{best:6.2f} s  ({found} findings)"
        )


def bench_cli(text: str, repeat: int) -> None:
    exe = ROOT / ".venv" / "bin" / "postdesk"
    if not exe.exists():
        print(
            f"CLI: {exe} not found; install the project (pip install -e .) "
            "to time `postdesk redact`"
        )
        return
    # As pip does on install: the modules byte-compiled (here PYTHONDONTWRITEBYTECODE may
    # be set, and each start would otherwise compile them again).
    compile_modules = [sys.executable, "-m", "compileall", "-q", "postdesk", "ingest"]
    subprocess.run(compile_modules, cwd=ROOT, check=True)
    data = text.encode()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        proc = subprocess.run([str(exe), "redact"], input=data, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            reason = proc.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
            print(f"CLI: `postdesk redact` failed (exit {proc.returncode}: {reason[0][:120]})")
            return
    start = time.perf_counter()
    subprocess.run([str(exe), "redact"], input=b"", capture_output=True, check=False)
    startup = time.perf_counter() - start
    verdict = "meets" if _mbps(len(data), min(times)) >= TARGET_MBPS else "BELOW"
    print(
        f"CLI postdesk redact      : {_rate(len(data), min(times), max(times))}  "
        f"(including interpreter start, {startup:.2f} s on empty input; "
        f"target {TARGET_MBPS:.0f} MB/s: {verdict})"
    )


def setup_detect_secrets() -> None:
    if not DS_PYTHON.exists():
        subprocess.run([sys.executable, "-m", "venv", str(DS_VENV)], check=True)
    subprocess.run([str(DS_PYTHON), "-m", "pip", "install", "-q", "detect-secrets"], check=True)


def bench_detect_secrets(text: str, ours_mbps: float) -> None:
    if not DS_PYTHON.exists():
        print(
            f"detect-secrets: not installed in {DS_VENV}; "
            "run with --setup-detect-secrets to compare"
        )
        return
    with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8", delete=False) as handle:
        handle.write(text)
    try:
        proc = subprocess.run(
            [str(DS_PYTHON), "-c", _DS_SCRIPT, handle.name],
            capture_output=True,
            check=False,
            text=True,
        )
    finally:
        Path(handle.name).unlink()
    if proc.returncode != 0:
        print(
            f"detect-secrets: could not run ({proc.stderr.strip().splitlines()[-1:]}); "
            "comparison skipped"
        )
        return
    report = json.loads(proc.stdout)
    theirs = _mbps(len(text.encode()), report["seconds"])
    print(
        f"detect-secrets line scan : {theirs:7.1f} MB/s  ({report['plugins']} plugins, "
        f"{report['lines']} lines, {report['found']} hits); postdesk is {ours_mbps / theirs:.1f}x"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=float, default=10.0)
    parser.add_argument("--adversarial-mb", type=float, default=5.0)
    parser.add_argument("--setup-detect-secrets", action="store_true")
    parser.add_argument("--skip-cli", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="runs per input; the best counts")
    args = parser.parse_args()
    messages = corpus(int(args.size_mb * 1e6))
    text = "".join(messages)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"best of {args.repeat} runs; load average {load} on {os.cpu_count()} CPUs")
    ours = bench_in_process(messages, args.repeat)
    verdict = "meets" if ours >= TARGET_MBPS else "BELOW"
    print(f"target {TARGET_MBPS:.0f} MB/s: {verdict}")
    bench_adversarial(int(args.adversarial_mb * 1e6), args.repeat)
    if not args.skip_cli:
        bench_cli(text, args.repeat)
    if args.setup_detect_secrets:
        setup_detect_secrets()
    bench_detect_secrets(text, ours)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
