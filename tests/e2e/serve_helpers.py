"""Run `postdesk serve` as a real subprocess on free loopback ports with a temporary config.

Used by tests/e2e/test_serve.py and bench/smtp.py. `serve_config` writes config.example.toml
with the database, data, outbox and log paths moved under a folder and the SMTP and HTTP
listeners on free loopback ports; `ServeProcess` starts the daemon, waits (bounded) until both
listeners answer, speaks HTTP to it, and stops it with SIGTERM or SIGKILL. Every wait is a
bounded poll of something observable, never a fixed sleep.
"""

from __future__ import annotations

import json
import os
import signal
import smtplib
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from tests.conftest import REPO_ROOT
from tests.e2e.cli import POSTDESK, toml_dump
from tests.helpers import example_config, merge_config

START_TIMEOUT = 30.0
POLL_INTERVAL = 0.05
# Variables that would override the temporary configuration file.
_OVERRIDING_ENV = ("POSTDESK_CONFIG", "POSTDESK_DATABASE_URL", "POSTDESK_SECRET_KEY")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(
    predicate: Callable[[], Any], *, timeout: float, what: str, interval: float = POLL_INTERVAL
) -> Any:
    """Poll `predicate` until it returns a truthy value (returned); AssertionError on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def on_the_wire(raw: bytes) -> bytes:
    """A message with CRLF line ends, as an MTA sends it (smtplib sends bytes unchanged)."""
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def child_env() -> dict[str, str]:
    """The environment for a postdesk child process: ours, minus config-overriding variables."""
    env = {k: v for k, v in os.environ.items() if k not in _OVERRIDING_ENV}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return env


@dataclass(frozen=True, slots=True)
class ServeConfig:
    """A configuration file written for one daemon, and where its parts live."""

    path: Path
    folder: Path
    db_url: str
    smtp_port: int
    http_port: int
    log_file: Path

    def cli(self, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        """Run `postdesk --config PATH ARGS...` and return the completed process (text)."""
        return subprocess.run(
            [*POSTDESK, "--config", str(self.path), *args],
            capture_output=True,
            text=True,
            cwd=self.folder,
            env=child_env(),
            timeout=timeout,
            check=False,
        )

    def cli_json(self, *args: str) -> Any:
        """Run a `--json` command; fail with its stderr when it exits non-zero."""
        result = self.cli(*args, "--json")
        if result.returncode != 0:
            raise AssertionError(f"postdesk {' '.join(args)}: {result.stderr[-2000:]}")
        return json.loads(result.stdout)

    def with_new_ports(self) -> ServeConfig:
        """The same configuration on fresh ports (rewrites the file)."""
        data = json.loads((self.folder / "config.json").read_text())
        return _write(self.folder, self.db_url, data, free_port(), free_port())


def serve_config(
    folder: Path, db_url: str, overrides: Mapping[str, Any] | None = None, *, upgrade: bool = True
) -> ServeConfig:
    """Write `folder/config.toml` for a daemon on `db_url`; run `db upgrade` unless told not to."""
    folder.mkdir(parents=True, exist_ok=True)
    data = example_config()
    data["database"]["url"] = db_url
    data["ingest"]["data_dir"] = str(folder / "data")
    data["outbound"]["file_dir"] = str(folder / "outbox")
    data["logging"]["file"] = str(folder / "postdesk.log")
    merge_config(data, overrides or {})
    (folder / "config.json").write_text(json.dumps(data))
    config = _write(folder, db_url, data, free_port(), free_port())
    if upgrade:
        result = config.cli("db", "upgrade")
        if result.returncode != 0:
            raise AssertionError(f"postdesk db upgrade failed: {result.stderr[-2000:]}")
    return config


def _write(
    folder: Path, db_url: str, data: dict[str, Any], smtp_port: int, http_port: int
) -> ServeConfig:
    data["smtp"]["listen"] = f"127.0.0.1:{smtp_port}"
    data["http"]["listen"] = f"127.0.0.1:{http_port}"
    path = folder / "config.toml"
    path.write_text(toml_dump(data), encoding="utf-8")
    return ServeConfig(path, folder, db_url, smtp_port, http_port, folder / "postdesk.log")


class ServeProcess:
    """One `postdesk serve` child process; its stderr goes to `folder/serve.stderr`."""

    def __init__(self, config: ServeConfig, *, extra_args: tuple[str, ...] = ()) -> None:
        self.config = config
        self.stderr_path = config.folder / "serve.stderr"
        self._stderr = self.stderr_path.open("ab")
        self.proc = subprocess.Popen(
            [*POSTDESK, "--config", str(config.path), *extra_args, "serve"],
            stdin=subprocess.DEVNULL,
            stdout=self._stderr,
            stderr=self._stderr,
            cwd=config.folder,
            env=child_env(),
        )

    @classmethod
    def start(cls, config: ServeConfig, *, attempts: int = 3) -> tuple[ServeProcess, ServeConfig]:
        """Start and wait until SMTP and HTTP answer; retry on fresh ports if one was taken."""
        for attempt in range(attempts):
            daemon = cls(config)
            try:
                daemon.wait_ready()
            except AssertionError:
                daemon.kill()
                if "cannot listen" not in daemon.output() or attempt == attempts - 1:
                    raise
                config = config.with_new_ports()
                continue
            return daemon, config
        raise AssertionError("unreachable")

    def output(self) -> str:
        """What the process wrote to stdout/stderr, plus the tail of its log file."""
        text = self.stderr_path.read_text(errors="replace")
        if self.config.log_file.exists():
            text += "\n--- log ---\n" + self.config.log_file.read_text(errors="replace")[-4000:]
        return text

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(
                f"postdesk serve exited {self.proc.returncode} during start-up:\n{self.output()}"
            )
        try:
            with smtplib.SMTP("127.0.0.1", self.config.smtp_port, timeout=5) as client:
                client.noop()
            self.http_get("/healthz")
        except OSError:
            return False
        return True

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Wait until the SMTP listener answers NOOP and /healthz answers (any status)."""
        try:
            wait_until(self._ready, timeout=timeout, what="postdesk serve to listen")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.output()}") from None

    def http_get(self, path: str) -> tuple[int, str]:
        """GET `path` from the daemon's HTTP endpoint: (status, body text)."""
        url = f"http://127.0.0.1:{self.config.http_port}{path}"
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return int(response.status), response.read().decode()
        except urllib.error.HTTPError as error:
            return int(error.code), error.read().decode()

    def health(self) -> tuple[int, dict[str, Any]]:
        """/healthz as (status, parsed JSON body)."""
        status, body = self.http_get("/healthz")
        return status, json.loads(body)

    def smtp(self, timeout: float = 30.0) -> smtplib.SMTP:
        """A connected SMTP client (EHLO done)."""
        client = smtplib.SMTP("127.0.0.1", self.config.smtp_port, timeout=timeout)
        client.ehlo("client.example")
        return client

    def terminate(self, timeout: float = 20.0) -> int:
        """SIGTERM, then wait (bounded) for the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        finally:
            self._stderr.close()

    def children(self) -> list[int]:
        """Process ids of the daemon's child processes (Linux /proc)."""
        return _children(self.proc.pid)

    def descendants(self) -> list[int]:
        """Its children, their children (the analysing pool's forkserver and workers) ..."""
        found: list[int] = []
        todo = [self.proc.pid]
        while todo:
            kids = _children(todo.pop())
            found += kids
            todo += kids
        return found

    def kill(self) -> None:
        """SIGKILL (no clean-up at all) and reap the process."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(30)
        self._stderr.close()


class Recorded:
    """A read-only look at what a daemon committed: inbound messages and tickets."""

    def __init__(self, db_url: str) -> None:
        self.engine = create_engine(db_url)

    def inbound(self) -> list[tuple[str | None, str, int | None]]:
        """(message_id, outcome, ticket id) of every recorded inbound message."""
        with self.engine.connect() as conn:
            rows = conn.execute(text("SELECT message_id, outcome, ticket_id FROM inbound_messages"))
            return [(r[0], str(r[1]), r[2]) for r in rows]

    def count_inbound(self) -> int:
        """How many inbound messages are recorded."""
        with self.engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM inbound_messages")).scalar_one())

    def ticket_subjects(self) -> list[str]:
        """The subject of every ticket (one entry per ticket)."""
        with self.engine.connect() as conn:
            return [str(r[0]) for r in conn.execute(text("SELECT subject FROM tickets"))]

    def close(self) -> None:
        self.engine.dispose()


__all__ = [
    "Recorded",
    "ServeConfig",
    "ServeProcess",
    "free_port",
    "on_the_wire",
    "serve_config",
    "wait_until",
]


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(c) for c in (task / "children").read_text().split()]
    except FileNotFoundError:  # it ended meanwhile
        pass
    return found
