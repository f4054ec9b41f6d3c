"""Sealed IMAP credentials: never in clear in the database, bound to the account and the
secret key; login state kept per account."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from store.db import Database
from store.imap_credentials import CredentialKeyError, ImapCredentials

KEY = "test-secret-key-0123456789"
TOKEN = b'{"kind": "refresh_token", "value": "rt-very-secret-refresh-token-42"}'
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def database(db_url: str) -> Database:
    return Database(db_url)


def test_credentials_are_sealed_and_bound(database: Database) -> None:
    store = ImapCredentials(database, KEY)
    store.save("support", TOKEN)
    with database.engine.connect() as conn:
        sealed = conn.execute(text("SELECT sealed FROM imap_credentials")).scalar_one()
    assert b"rt-very-secret" not in bytes(sealed) and bytes(sealed).startswith(b"PDC1")
    assert store.load("support") == TOKEN
    assert store.load("other") is None
    with pytest.raises(CredentialKeyError, match="another \\[desk\\] secret_key"):
        ImapCredentials(database, "another-secret-key-0123456789").load("support")
    with database.engine.begin() as conn:  # a sealed value moved to another account
        conn.execute(
            text(
                "INSERT INTO imap_credentials (account, sealed, key_id, updated_at, "
                "login_failures, login_error) SELECT 'copy', sealed, key_id, updated_at, 0, '' "
                "FROM imap_credentials WHERE account = 'support'"
            )
        )
    with pytest.raises(CredentialKeyError, match="damaged"):
        store.load("copy")
    store.forget("support")
    assert store.load("support") is None
    database.dispose()


def test_login_state_since_the_first_failure(database: Database) -> None:
    store = ImapCredentials(database, KEY)
    store.login_failed("support", "refused", T0)
    store.login_failed("support", "refused again\nwith a newline", T0 + timedelta(minutes=1))
    [problem] = store.problems()
    assert (problem.since, problem.failures, problem.error) == (
        T0,
        2,
        "refused again with a newline",
    )
    store.login_succeeded("support")
    assert store.problems() == []
    store.login_failed("support", "refused", T0 + timedelta(hours=1))
    assert store.problems()[0].since == T0 + timedelta(hours=1)
    database.dispose()


def test_credentials_of_a_previous_key_open_during_a_rotation(database: Database) -> None:
    ImapCredentials(database, KEY).save("support", TOKEN)
    rotated = ImapCredentials(database, "the-new-secret-key-0123456789", [KEY])
    assert rotated.load("support") == TOKEN
    rotated.save("support", TOKEN)  # sealed again, under the new key
    with pytest.raises(CredentialKeyError, match="previous_secret_keys"):
        ImapCredentials(database, KEY).load("support")
    database.dispose()
