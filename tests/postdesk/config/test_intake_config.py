"""`[lmtp]` and `[[inbound]]`: the example's commented block loads, secrets come only from the
environment variables named, every bad value names its key, and check-config warns about a
webhook whose variable is not set."""

from __future__ import annotations

import argparse
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from postdesk.cli.database import check_config
from postdesk.config.intake import missing_inbound_secrets
from postdesk.config.load import ConfigError, settings_from_mapping
from postdesk.config.settings import Settings
from tests.helpers import EXAMPLE, example_config

ENV = {
    "POSTDESK_MAILGUN_SIGNING_KEY": "key-mailgun-signing",
    "POSTDESK_POSTMARK_USER": "pm-user",
    "POSTDESK_POSTMARK_PASSWORD": "pm-password",
    "POSTDESK_SENDGRID_USER": "sg-user",
    "POSTDESK_SENDGRID_PASSWORD": "sg-password",
}


def _load(data: dict[str, Any], env: dict[str, str] | None = None) -> Settings:
    return settings_from_mapping(data, base=Path("/srv/postdesk"), env=env or {})


def _example_intake_block() -> dict[str, Any]:
    """The commented-out [lmtp] and [[inbound]] tables of config.example.toml, uncommented."""
    text = EXAMPLE.read_text()
    block = text[text.index("# --- Intake beside SMTP and IMAP") :]
    setting = re.compile(r"^# (\[\[?[a-z]+\]\]?|[a-z_]+ = .*)$")  # not the prose comments
    lines = [m.group(1) for line in block.splitlines() if (m := setting.match(line))]
    return tomllib.loads("\n".join(lines))


def test_without_the_keys_there_is_no_lmtp_and_no_webhook() -> None:
    settings = _load(example_config())
    assert not settings.lmtp.enabled and settings.inbound == ()


def test_the_example_block_loads_with_secrets_from_the_environment() -> None:
    data = example_config() | _example_intake_block()
    settings = _load(data, ENV)
    assert settings.lmtp.listen == "unix:/run/postdesk/lmtp.sock"
    assert settings.lmtp.socket_mode == 0o660
    mailgun, postmark, sendgrid = settings.inbound
    assert (mailgun.provider, mailgun.path) == ("mailgun", "/inbound/mailgun-mime")
    assert mailgun.signing_key == "key-mailgun-signing" and mailgun.replay_window_seconds == 300
    assert (postmark.username, postmark.password) == ("pm-user", "pm-password")
    assert postmark.allowed_recipients == ("support@desk.example",)
    assert sendgrid.password == "sg-password"
    assert "pm-password" not in repr(settings) and "key-mailgun" not in repr(settings)
    assert missing_inbound_secrets(settings) == []


def test_unset_variables_are_named_not_fatal_and_check_config_warns(
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = example_config() | _example_intake_block()
    settings = _load(data, {"POSTDESK_POSTMARK_USER": "pm-user"})
    problems = missing_inbound_secrets(settings)
    assert len(problems) == 3
    assert "POSTDESK_MAILGUN_SIGNING_KEY" in problems[0]
    assert "POSTDESK_POSTMARK_PASSWORD" in problems[1] and "USER" not in problems[1]
    assert check_config(argparse.Namespace(settings=settings)) == 0
    out, err = capsys.readouterr()
    assert out.strip() == "ok" and err.count("warning: inbound[") == 3


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ({"lmtp": {"listen": "2424"}}, "lmtp.listen"),
        ({"lmtp": {"listen": "unix:relative.sock"}}, "lmtp.listen"),
        ({"lmtp": {"socket_mode": "rw-rw----"}}, "lmtp.socket_mode"),
        ({"lmtp": {"listen": "127.0.0.1:24", "size": 1}}, "lmtp.size"),
        ({"inbound": [{"provider": "ses"}]}, "inbound[0].provider"),
        ({"inbound": [{"path": "/x"}]}, "inbound[0].provider"),
        (
            {
                "inbound": [
                    {"provider": "mailgun", "path": "/inbound/mailgun", "signing_key_env": "K"}
                ]
            },
            "inbound[0].path",
        ),
        ({"inbound": [{"provider": "mailgun"}]}, "inbound[0].signing_key_env"),
        (
            {"inbound": [{"provider": "mailgun", "signing_key_env": "key-abc-123!"}]},
            "inbound[0].signing_key_env",
        ),
        (
            {"inbound": [{"provider": "postmark", "username_env": "U", "signing_key_env": "K"}]},
            "inbound[0].signing_key_env",
        ),
        ({"inbound": [{"provider": "sendgrid", "username_env": "U"}]}, "inbound[0].password_env"),
        (
            {
                "inbound": [
                    {"provider": "postmark", "username_env": "U", "password_env": "P"},
                    {"provider": "postmark", "username_env": "U", "password_env": "P"},
                ]
            },
            "inbound[1].path",
        ),
        (
            {
                "inbound": [
                    {
                        "provider": "postmark",
                        "username_env": "U",
                        "password_env": "P",
                        "replay_window": "5m",
                    }
                ]
            },
            "inbound[0].replay_window",
        ),
        (
            {
                "inbound": [
                    {
                        "provider": "sendgrid",
                        "username_env": "U",
                        "password_env": "P",
                        "allowed_recipients": ["support"],
                    }
                ]
            },
            "inbound[0].allowed_recipients",
        ),
        (
            {"inbound": [{"provider": "sendgrid", "path": "/metrics", "username_env": "U"}]},
            "inbound[0].path",
        ),
    ],
)
def test_bad_values_name_their_key(table: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError, match="^" + re.escape(expected)):
        _load(example_config() | table, ENV)


def test_a_secret_in_the_file_is_refused() -> None:
    table = {"inbound": [{"provider": "mailgun", "signing_key_env": "K", "signing_key": "s"}]}
    with pytest.raises(ConfigError, match=r"inbound\[0\]\.signing_key: unknown key"):
        _load(example_config() | table, ENV)


def test_serve_refuses_a_webhook_without_its_secret(tmp_path: Path) -> None:
    from ingest.spool.queue import Spool
    from postdesk.serve.daemon import run_daemon
    from postdesk.serve.inbound import inbound_routes_for

    data = example_config() | {"inbound": _example_intake_block()["inbound"]}
    spool = Spool(tmp_path / "spool")
    complete = _load(data, ENV)
    routes = inbound_routes_for(complete, spool)
    assert [r.path for r in routes] == [
        "/inbound/mailgun-mime",
        "/inbound/postmark",
        "/inbound/sendgrid",
    ]
    lacking = _load(data, {k: v for k, v in ENV.items() if "SENDGRID_PASSWORD" not in k})
    with pytest.raises(ConfigError, match="POSTDESK_SENDGRID_PASSWORD"):
        inbound_routes_for(lacking, spool)
    with pytest.raises(ConfigError, match=r"inbound\[2\] \(sendgrid"):
        run_daemon(lacking)  # before anything is built or bound
