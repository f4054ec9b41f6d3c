"""Seconds and MB/s of crafted mails through parse + prepare, beside the corpus's.

Usage: .venv/bin/python bench/adversarial.py [--only NAME ...] [--timeout 120]

Each input is built here (nothing is read from disk but the corpus) and measured in a child
process of its own, so its peak memory (max RSS) is its own and a run that takes too long
is stopped at `--timeout` seconds and printed as such. The inputs:

- corpus: every mail of /work/shared/corpus (or $POSTDESK_CORPUS), the normal case;
- nested-divs: 200,000 nested `<div>` around one sentence (2.2 MB);
- html-20mb: a 20 MB HTML body of paragraphs, links, bold text and table rows;
- cc-100k: 100,000 addresses in one Cc header (2 MB);
- keyword-runs: 1 MB of `key=token=secret=password=api_key=` without spaces.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from ingest.parse.message import UnparseableMessage, parse_message  # noqa: E402
from ingest.prepare import prepare  # noqa: E402

CORPUS = Path(os.environ.get("POSTDESK_CORPUS", "/work/shared/corpus"))
_HEAD = (
    "From: Alice <alice@example.com>\r\nTo: help@example.net\r\n{extra}"
    "Subject: adversarial\r\nMessage-ID: <{name}@example.com>\r\nMIME-Version: 1.0\r\n"
    "Content-Type: {ctype}; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
)


class _Limits:
    blocked_extensions: frozenset[str] = frozenset({"exe"})
    max_attachment_bytes = 25 * 1024 * 1024
    max_message_attachment_bytes = 50 * 1024 * 1024


def _mail(name: str, body: str, ctype: str = "text/html", extra: str = "") -> bytes:
    head = _HEAD.format(name=name, ctype=ctype, extra=extra)
    return (head + body).encode()


def nested_divs(count: int = 200_000) -> bytes:
    """`count` nested divs around one sentence."""
    return _mail("divs", "<div>" * count + "Hello, the printer is broken." + "</div>" * count)


def html_20mb(size: int = 20_000_000) -> bytes:
    """A large but ordinary-looking HTML body of about `size` bytes."""
    unit = (
        "<p>Dear team, the <b>invoice</b> for order {n} is attached; see "
        '<a href="https://example.com/orders/{n}">the order page</a> for details.</p>\r\n'
        "<table><tr><td>Item {n}</td><td>12.50 EUR</td></tr></table>\r\n"
    )
    parts: list[str] = ["<html><body>"]
    total = 0
    n = 0
    while total < size:
        piece = unit.format(n=n)
        parts.append(piece)
        total += len(piece)
        n += 1
    parts.append("</body></html>")
    return _mail("html20", "".join(parts))


def cc_100k(count: int = 100_000) -> bytes:
    """One Cc header with `count` distinct addresses."""
    cc = ",\r\n ".join(f"user{i}@example.org" for i in range(count))
    return _mail("cc", "Please help.\r\n", "text/plain", f"Cc: {cc}\r\n")


def keyword_runs(size: int = 1_000_000) -> bytes:
    """Keyword runs without spaces (the redactor's worst case in issue 20)."""
    unit = "key=token=secret=password=api_key="
    return _mail("keys", unit * (size // len(unit)) + "\r\n", "text/plain")


INPUTS: dict[str, Callable[[], bytes]] = {
    "nested-divs": nested_divs,
    "html-20mb": html_20mb,
    "cc-100k": cc_100k,
    "keyword-runs": keyword_runs,
}


def _through(data: bytes) -> None:
    try:
        parsed = parse_message(data)
    except UnparseableMessage:
        return
    prepare(parsed, _Limits())


def _child(name: str) -> dict[str, float]:
    """Run one input here; its size, seconds and this process's peak RSS."""
    if name == "corpus":
        mails = [p.read_bytes() for p in sorted(CORPUS.rglob("*")) if p.is_file()]
        size = sum(map(len, mails))
        start = time.perf_counter()
        for data in mails:
            _through(data)
    else:
        data = INPUTS[name]()
        size = len(data)
        start = time.perf_counter()
        _through(data)
    seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"bytes": size, "seconds": seconds, "peak_mb": peak_kb / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", choices=["corpus", *INPUTS], default=None)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child)))
        return
    names = args.only or ["corpus", *INPUTS]
    print(f"{'input':14} {'MB':>8} {'seconds':>9} {'MB/s':>8} {'peak MB':>8}")
    for name in names:
        command = [sys.executable, __file__, "--child", name]
        try:
            run = subprocess.run(
                command, capture_output=True, text=True, timeout=args.timeout, check=True
            )
        except subprocess.TimeoutExpired:
            print(f"{name:14} {'':>8} {'>' + str(int(args.timeout)):>9} (stopped)")
            continue
        except subprocess.CalledProcessError as exc:
            print(f"{name:14} failed: {exc.stderr.strip().splitlines()[-1:]}")
            continue
        result = json.loads(run.stdout)
        mb = result["bytes"] / 1e6
        rate = mb / result["seconds"] if result["seconds"] else float("inf")
        print(f"{name:14} {mb:8.2f} {result['seconds']:9.2f} {rate:8.2f} {result['peak_mb']:8.0f}")


if __name__ == "__main__":
    main()
