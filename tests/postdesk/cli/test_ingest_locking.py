"""`postdesk ingest` on an SQLite file another process is writing: it waits for the write lock
(the busy timeout) instead of failing, and says "locked", not "unreachable", when the lock is
held for longer than `[database] busy_timeout_seconds`."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.conftest import REPO_ROOT
from tests.e2e.cli import POSTDESK, toml_dump
from tests.e2e.serve_helpers import child_env, wait_until
from tests.helpers import example_config, mail

HOLD_AFTER_OPEN_SECONDS = 1.0  # how long the lock stays held once the other process waits on it


def _config(tmp_path: Path, sqlite_url: str, busy_timeout_seconds: float) -> Path:
    data = example_config()
    data["database"].update(url=sqlite_url, busy_timeout_seconds=busy_timeout_seconds)
    data["ingest"]["data_dir"] = str(tmp_path / "data")
    data["outbound"]["file_dir"] = str(tmp_path / "outbox")
    data["logging"]["file"] = str(tmp_path / "postdesk.log")
    path = tmp_path / "config.toml"
    path.write_text(toml_dump(data))
    return path


def _start_ingest(config: Path, message: bytes) -> subprocess.Popen[bytes]:
    file = config.parent / f"mail-{len(list(config.parent.glob('mail-*')))}.eml"
    file.write_bytes(message)
    return subprocess.Popen(
        [*POSTDESK, "--config", str(config), "ingest", str(file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO_ROOT,
        env=child_env(),
    )


def _has_opened(process: subprocess.Popen[bytes], database: Path) -> bool:
    """Whether `process` has the database file open (so it is at, or past, its first BEGIN)."""
    folder = Path(f"/proc/{process.pid}/fd")
    try:
        links = [os.readlink(fd) for fd in folder.iterdir()]
    except OSError:  # the process ended (or an fd closed while it was listed)
        return process.poll() is not None
    return str(database) in links


@contextmanager
def _write_lock(database: Path) -> Iterator[sqlite3.Connection]:
    """Another process's write transaction on the file, as `sqlite3` or a backup holds it."""
    holder = sqlite3.connect(database, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        yield holder
        holder.execute("ROLLBACK")
    finally:
        holder.close()


def _tickets(sqlite_url: str) -> int:
    engine = create_engine(sqlite_url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM tickets")).scalar_one())
    finally:
        engine.dispose()


def test_an_ingest_waits_for_a_held_write_lock_and_succeeds(
    tmp_path: Path, sqlite_url: str
) -> None:
    database = Path(sqlite_url.removeprefix("sqlite:///"))
    config = _config(tmp_path, sqlite_url, busy_timeout_seconds=30)
    with _write_lock(database):
        process = _start_ingest(config, mail())
        wait_until(lambda: _has_opened(process, database), timeout=30, what="the database open")
        time.sleep(HOLD_AFTER_OPEN_SECONDS)  # it is now waiting for the lock
        assert process.poll() is None, "it waits instead of giving up"
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err.decode(errors="replace")[-2000:]
    assert out.startswith(b"created SUP-1001")
    assert _tickets(sqlite_url) == 1


def test_a_lock_held_past_the_busy_timeout_says_locked_not_unreachable(
    tmp_path: Path, sqlite_url: str
) -> None:
    database = Path(sqlite_url.removeprefix("sqlite:///"))
    config = _config(tmp_path, sqlite_url, busy_timeout_seconds=0.5)
    with _write_lock(database):
        process = _start_ingest(config, mail())
        _, err = process.communicate(timeout=60)  # gives up while the lock is still held
    message = err.decode()
    assert process.returncode == 75  # EX_TEMPFAIL: the MTA retries
    assert "the database is locked" in message and "0.5 s" in message
    assert "busy_timeout_seconds" in message
    assert "cannot reach" not in message and "server is running" not in message
    assert _tickets(sqlite_url) == 0


def test_an_unusable_database_file_says_unreachable(tmp_path: Path) -> None:
    folder = tmp_path / "postdesk.db"
    folder.mkdir()  # a folder where the file should be: SQLite cannot open it
    config = _config(tmp_path, f"sqlite:///{folder}", busy_timeout_seconds=0.5)
    process = _start_ingest(config, mail())
    _, err = process.communicate(timeout=60)
    message = err.decode()
    assert process.returncode == 75  # EX_TEMPFAIL: the MTA retries
    assert "cannot reach the database" in message and "unable to open database file" in message
    assert "locked" not in message
