"""Signed download links: one attachment, until one instant, not changeable without the key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from store.attachment_links import download_path, sign, verify

KEY = "a-secret-key-of-the-desk"
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_a_link_names_its_attachment_until_it_expires() -> None:
    signed = sign(KEY, 42, NOW + timedelta(days=7))
    assert verify(KEY, signed, NOW) == 42
    assert verify(KEY, signed, NOW + timedelta(days=7) - timedelta(seconds=1)) == 42
    assert verify(KEY, signed, NOW + timedelta(days=7)) is None
    assert download_path(signed) == f"/attachments/{signed}"


def test_changed_ids_expiries_keys_and_garbage_are_refused() -> None:
    signed = sign(KEY, 42, NOW + timedelta(days=1))
    number, expires, mac = signed.split(".")
    assert verify(KEY, f"43.{expires}.{mac}", NOW) is None
    assert verify(KEY, f"{number}.{int(expires) + 86400}.{mac}", NOW) is None
    assert verify("another-secret-key", signed, NOW) is None
    assert verify(KEY, signed[:-1], NOW) is None
    for junk in ("", "42", "42..x", "../../etc/passwd", "0.1.abc", f"{signed}/x", "x" * 5000):
        assert verify(KEY, junk, NOW) is None


def test_a_naive_clock_counts_as_utc() -> None:
    signed = sign(KEY, 7, NOW + timedelta(hours=1))
    assert verify(KEY, signed, NOW.replace(tzinfo=None)) == 7


def test_a_link_of_a_previous_key_counts_during_a_rotation() -> None:
    new_key = "the-new-secret-key-0123456789"
    old = sign(KEY, 42, NOW + timedelta(days=1))
    assert verify(new_key, old, NOW) is None
    assert verify(new_key, old, NOW, [KEY]) == 42
