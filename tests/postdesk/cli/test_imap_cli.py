"""`postdesk imap login|status` and `check-config` with OAuth2 accounts, in process: what the
operator sees for a good login, an unknown account, a password account."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from postdesk.cli.main import main
from tests.e2e.cli import toml_dump
from tests.helpers import example_config
from tests.idp import IdentityProvider, idp

__all__ = ["idp"]  # fixture


@pytest.fixture(autouse=True)
def _umask() -> Iterator[None]:
    """`main` sets umask 077 for its process; give the test session its own back."""
    previous = os.umask(0o022)
    os.umask(previous)
    yield
    os.umask(previous)


@pytest.fixture
def config(tmp_path: Path, idp: IdentityProvider) -> tuple[Path, str]:
    """A configuration with a password account and a generic OAuth2 one; (path, refresh)."""
    client_id, secret = idp.add_client()
    refresh = idp.add_refresh_token(client_id, "support@desk.example")
    data = example_config()
    data["database"]["url"] = f"sqlite:///{tmp_path / 'desk.db'}"
    data["ingest"]["data_dir"] = str(tmp_path / "data")
    data["logging"]["file"] = str(tmp_path / "postdesk.log")
    data["imap"] = [
        {"name": "pw", "host": "127.0.0.1", "username": "u", "password": "p"},
        {
            "name": "oauth",
            "host": "127.0.0.1",
            "username": "support@desk.example",
            "auth": "oauth2",
            "oauth2": {
                "provider": "generic",
                "token_url": idp.token_url,
                "client_id": client_id,
                "client_secret": secret,
            },
        },
    ]
    path = tmp_path / "config.toml"
    path.write_text(toml_dump(data))
    assert main(["--config", str(path), "db", "upgrade"]) == 0
    return path, refresh


def test_imap_commands(
    config: tuple[Path, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    path, refresh = config
    assert main(["--config", str(path), "check-config"]) == 0
    capsys.readouterr()

    assert main(["--config", str(path), "imap", "login", "nope"]) == 1
    assert "no [[imap]] account named 'nope' (accounts: oauth, pw)" in capsys.readouterr().err
    assert main(["--config", str(path), "imap", "login", "pw"]) == 1
    assert 'logs in with a password (auth = "password")' in capsys.readouterr().err

    monkeypatch.setattr("sys.stdin", io.StringIO("rt-wrong\n"))
    assert main(["--config", str(path), "imap", "login", "oauth"]) == 1
    assert "answered 400: invalid_grant" in capsys.readouterr().err

    monkeypatch.setattr("sys.stdin", io.StringIO(refresh + "\n"))
    assert main(["--config", str(path), "imap", "login", "oauth"]) == 0
    out = capsys.readouterr()
    assert out.out.startswith("ok: oauth (support@desk.example) can log in")
    assert refresh not in out.out + out.err

    assert main(["--config", str(path), "imap", "status", "--json"]) == 0
    rows = {r["account"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["oauth"]["credential_stored"] is True and rows["oauth"]["provider"] == "generic"
    assert rows["pw"]["auth"] == "password" and rows["pw"]["credential_stored"] is False
    for stored in tmp_path.glob("desk.db*"):
        assert refresh.encode() not in stored.read_bytes()
    assert refresh not in (tmp_path / "postdesk.log").read_text()
