"""Rotating `[desk] secret_key`: reply tokens and quarantined mail made under the old key still
work while it is listed in `previous_secret_keys`; new ones use the new key."""

from __future__ import annotations

import email
import json
from pathlib import Path

from store.reply_tokens import reply_address
from tests.e2e.cli import Cli, make_cli
from tests.helpers import mail

OLD_KEY = "the-old-secret-key-0123456789"
NEW_KEY = "the-new-secret-key-9876543210"
SUPPORT, CAROL = "support@desk.example", "carol@acme.example"


def _reply_to(outbox: Path, recipient: str) -> set[str]:
    found = set()
    for path in outbox.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes())
        if message["X-Envelope-To"] == recipient and message["Reply-To"]:
            found.add(str(message["Reply-To"]))
    return found


def _set_keys(cli: Cli, secret: str, previous: list[str]) -> None:
    text = cli.config.read_text()
    lines = [
        line
        for line in text.splitlines()
        if not line.startswith(("secret_key =", "previous_secret_keys ="))
    ]
    at = lines.index("[desk]") + 1
    lines[at:at] = [f'secret_key = "{secret}"', f"previous_secret_keys = {json.dumps(previous)}"]
    cli.config.write_text("\n".join(lines) + "\n")


def _reply(cli: Cli, token_address: str) -> dict[str, str]:
    # No subject tag and no References: only the token can thread it.
    raw = mail(to=token_address, subject="still broken", body="It still fails today.\n")
    result: dict[str, str] = cli.json("ingest", "--rcpt", token_address, "-", stdin=raw)
    return result


def test_old_tokens_and_quarantine_work_during_a_rotation(tmp_path: Path, sqlite_url: str) -> None:
    cli = make_cli(tmp_path, sqlite_url, desk={"secret_key": OLD_KEY, "unknown_senders": "hold"})
    assert cli.json("ingest", "-", stdin=mail())["ticket"] == "SUP-1001"
    held = cli.json("ingest", "-", stdin=mail(sender="newbie@acme-partner.example"))
    assert held["outcome"] == "held"
    cli.run("outbox", "flush")
    [old_token] = _reply_to(tmp_path / "outbox", "carol@acme.example")
    assert old_token == reply_address(OLD_KEY, SUPPORT, "SUP-1001", CAROL)

    _set_keys(cli, NEW_KEY, [OLD_KEY])
    cli.run("check-config")
    replied = _reply(cli, old_token)
    assert (replied["outcome"], replied["ticket"]) == ("commented", "SUP-1001")
    assert "reply token" in cli.run("tickets", "show", "SUP-1001").stdout.decode()
    config = cli.config.read_text().replace(
        'contacts = ["erin@globex.example"]',
        'contacts = ["erin@globex.example", "newbie@acme-partner.example"]',
    )
    cli.config.write_text(config)
    [released] = cli.json("quarantine", "retry")
    assert released["outcome"] == "created"  # decrypted with the previous key

    second = cli.json("ingest", "-", stdin=mail(subject="Another problem"))["ticket"]
    cli.run("outbox", "flush")
    [new_token] = _reply_to(tmp_path / "outbox", "carol@acme.example") - {old_token}
    assert new_token == reply_address(NEW_KEY, SUPPORT, second, CAROL)  # new mail: new key
    assert _reply(cli, new_token)["ticket"] == second

    _set_keys(cli, NEW_KEY, [])  # the rotation is over: the old token is a stranger's now
    assert _reply(cli, old_token)["ticket"] != "SUP-1001"
