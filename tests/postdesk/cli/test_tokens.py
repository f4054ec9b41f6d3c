"""`postdesk tokens create|list|revoke`: once through the real command, then through its
handler in this process (each command a second or more under load otherwise), and the token
it prints used against the API over a socket."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from postdesk.cli.common import CommandError
from postdesk.cli.main import build_parser
from postdesk.cli.tokens import tokens
from postdesk.serve.api.routes import api_context, api_routes
from postdesk.serve.http import HttpEndpoint
from postdesk.serve.metrics import Metrics
from tests.e2e.cli import make_cli
from tests.helpers import make_app, make_settings


def _healthy() -> tuple[bool, dict[str, Any]]:
    return True, {}


class Tokens:
    """`postdesk tokens ...` run by its handler, with the output captured."""

    def __init__(self, tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
        self.settings = make_settings(tmp_path, db_url)
        self.capsys = capsys

    def run(self, *argv: str) -> tuple[str, str]:
        args = build_parser().parse_args(["tokens", *argv])
        args.settings = self.settings
        assert tokens(args) == 0
        out = self.capsys.readouterr()
        return out.out, out.err

    def json(self, *argv: str) -> Any:
        return json.loads(self.run(*argv, "--json")[0])

    def refused(self, *argv: str) -> str:
        with pytest.raises(CommandError) as error:
            self.run(*argv)
        return str(error.value)


def test_the_command_prints_a_token_once(tmp_path: Path, sqlite_url: str) -> None:
    cli = make_cli(tmp_path, sqlite_url)
    made = cli.run("tokens", "create", "--name", "dashboard", "--scope", "read")
    token = made.stdout.decode().strip()
    assert token.startswith("pdk_") and len(token) > 40
    assert b"shown only now" in made.stderr


def test_create_list_use_and_revoke(
    tmp_path: Path, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    cli = Tokens(tmp_path, sqlite_url, capsys)
    token = cli.run("create", "--name", "dashboard", "--scope", "read")[0].strip()
    org = cli.json("create", "--name", "acme", "--scope", "read", "--org", "Acme")
    assert org["name"] == "acme" and org["token"].startswith("pdk_") and org["token"] != token

    listed = cli.json("list")
    assert [(t["name"], t["scope"], t["organisation"]) for t in listed] == [
        ("dashboard", "read", None),
        ("acme", "read", "Acme"),
    ]
    assert listed[0]["last_used_at"] is None
    text = cli.run("list")[0]
    assert "dashboard" in text and token not in text and token not in json.dumps(listed)

    app = make_app(tmp_path, sqlite_url)
    endpoint = HttpEndpoint(
        "127.0.0.1", 0, _healthy, Metrics().registry, api_routes(api_context(app))
    )
    endpoint.start()
    try:
        url = f"http://127.0.0.1:{endpoint.port}/api/v1/tickets"
        auth = {"Authorization": f"Bearer {token}"}
        assert httpx.get(url, headers=auth).json() == {"tickets": [], "next": None}
        assert cli.json("list")[0]["last_used_at"] is not None
        assert cli.run("revoke", "dashboard")[0] == "token 'dashboard' revoked\n"
        assert httpx.get(url, headers=auth).status_code == 401
    finally:
        endpoint.stop()
        app.close()
    assert [t["name"] for t in cli.json("list")] == ["acme"]

    assert cli.run("revoke", str(org["id"]))[0] == "token 'acme' revoked\n"
    assert "no token named" in cli.refused("revoke", "nobody")
    assert "read-only" in cli.refused("create", "--name", "x", "--scope", "write", "--org", "Acme")
    assert "no organisation 'Nope'" in cli.refused(
        "create", "--name", "x", "--scope", "read", "--org", "Nope"
    )
    cli.run("create", "--name", "twice", "--scope", "write")
    assert "exists" in cli.refused("create", "--name", "twice", "--scope", "write")
