"""Quarantined mail is stored only encrypted, readable with the right key, and purgeable."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ingest.errors import (
    IngestError,
    QuarantineError,
    QuarantineItemNotFound,
    QuarantineKeyError,
)
from ingest.spool.quarantine import Quarantine

SECRET_KEY = "test-secret-key-0123456789"
PASSWORD = "Tr0ub4dor&3-hunter2-secret"
RAW = (
    "From: alice@customer.example\r\nTo: support@example.com\r\n"
    "Subject: my password is " + PASSWORD + "\r\n\r\n"
    "Hello, I cannot log in, my password is " + PASSWORD + "\r\n"
).encode()
RECEIVED = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)


class FakeClock:
    """A settable clock."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _put(q: Quarantine, raw: bytes = RAW, reason: str = "ParseError after 5 attempts") -> str:
    return q.put(
        raw,
        reason=reason,
        source="smtp",
        rcpts=["support@example.com"],
        mail_from="alice@customer.example",
        received_at=RECEIVED,
        attempts=5,
    ).id


def test_round_trip_and_metadata(tmp_path: Path) -> None:
    clock = FakeClock(datetime(2024, 5, 2, tzinfo=UTC))
    q = Quarantine(tmp_path / "q", SECRET_KEY, clock=clock)
    item_id = _put(q)
    [item] = q.list()
    assert item.id == item_id
    assert item.received_at == RECEIVED and item.quarantined_at == clock.now
    assert item.reason == "ParseError after 5 attempts"
    assert (item.source, item.rcpts, item.mail_from) == (
        "smtp",
        ("support@example.com",),
        "alice@customer.example",
    )
    assert item.attempts == 5 and item.size == len(RAW)
    assert q.read(item_id) == RAW
    assert q.count() == 1


def test_plaintext_never_reaches_the_disk(tmp_path: Path) -> None:
    q = Quarantine(tmp_path / "q", SECRET_KEY)
    _put(q)
    files = [path for path in (tmp_path / "q").rglob("*") if path.is_file()]
    assert len(files) == 2
    for path in files:
        data = path.read_bytes()
        assert PASSWORD.encode() not in data
        assert b"cannot log in" not in data and b"my password" not in data
        assert SECRET_KEY.encode() not in data


def test_files_and_directory_are_private(tmp_path: Path) -> None:
    q = Quarantine(tmp_path / "q", SECRET_KEY)
    _put(q)
    assert stat.S_IMODE((tmp_path / "q").stat().st_mode) == 0o700
    for path in (tmp_path / "q").iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_wrong_key_is_reported_clearly(tmp_path: Path) -> None:
    item_id = _put(Quarantine(tmp_path / "q", SECRET_KEY))
    other = Quarantine(tmp_path / "q", "another-secret-key")
    with pytest.raises(QuarantineKeyError, match=r"another secret_key.*previous_secret_keys"):
        other.read(item_id)


def test_tampered_ciphertext_is_detected(tmp_path: Path) -> None:
    q = Quarantine(tmp_path / "q", SECRET_KEY)
    item_id = _put(q)
    path = tmp_path / "q" / f"{item_id}.bin"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(QuarantineKeyError, match="failed authentication"):
        q.read(item_id)


def test_swapped_ciphertexts_do_not_decrypt(tmp_path: Path) -> None:
    q = Quarantine(tmp_path / "q", SECRET_KEY)
    first, second = _put(q, b"first message"), _put(q, b"second message")
    (tmp_path / "q" / f"{first}.bin").write_bytes((tmp_path / "q" / f"{second}.bin").read_bytes())
    with pytest.raises(QuarantineKeyError):
        q.read(first)


def test_reason_is_folded_to_one_short_line(tmp_path: Path) -> None:
    q = Quarantine(tmp_path / "q", SECRET_KEY)
    _put(q, reason="first line\nsecond line\t" + "x" * 1000)
    [item] = q.list()
    assert "\n" not in item.reason and item.reason.startswith("first line second line x")
    assert len(item.reason) == 300


def test_remove_and_unknown_ids(tmp_path: Path) -> None:
    q = Quarantine(tmp_path / "q", SECRET_KEY)
    item_id = _put(q)
    q.remove(item_id)
    assert q.list() == [] and list((tmp_path / "q").iterdir()) == []
    with pytest.raises(QuarantineItemNotFound):
        q.read(item_id)
    with pytest.raises(QuarantineItemNotFound):
        q.read("../../etc/passwd")
    assert issubclass(QuarantineItemNotFound, QuarantineError)
    assert issubclass(QuarantineError, IngestError)


def test_purge_removes_only_old_items(tmp_path: Path) -> None:
    clock = FakeClock(datetime(2024, 1, 1, tzinfo=UTC))
    q = Quarantine(tmp_path / "q", SECRET_KEY, clock=clock)
    old = _put(q)
    clock.now += timedelta(days=40)
    fresh = _put(q)
    assert [item.id for item in q.list()] == [old, fresh]
    assert q.purge(older_than=clock.now - timedelta(days=30)) == 1
    assert [item.id for item in q.list()] == [fresh]
    assert q.read(fresh) == RAW


def test_empty_secret_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="secret_key"):
        Quarantine(tmp_path / "q", "")


def test_items_of_a_previous_key_are_read_during_a_rotation(tmp_path: Path) -> None:
    old_id = _put(Quarantine(tmp_path / "q", SECRET_KEY))
    rotated = Quarantine(tmp_path / "q", "the-new-secret-key-abcdef", previous_keys=[SECRET_KEY])
    assert rotated.read(old_id) == RAW
    new_id = _put(rotated)
    assert rotated.get(new_id).key_id == rotated.key_id != rotated.get(old_id).key_id
    with pytest.raises(QuarantineKeyError):  # the old key alone cannot read the new item
        Quarantine(tmp_path / "q", SECRET_KEY).read(new_id)
