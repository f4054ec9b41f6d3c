"""`[[webhooks]]`: read and checked, every bad value named by its key (`check-config`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from postdesk.cli.main import main
from postdesk.config.load import ConfigError, settings_from_mapping
from store.webhooks import EVENT_TYPES
from tests.helpers import example_config
from tests.notify.webhook_receiver import new_secret

SECRET = new_secret()


def _load(hooks: list[dict[str, Any]], env: dict[str, str] | None = None) -> Any:
    data = example_config()
    data["webhooks"] = hooks
    return settings_from_mapping(data, base=Path("/srv/postdesk"), env=env or {})


def _hook(**keys: Any) -> dict[str, Any]:
    return {
        "url": "https://crm.example/hooks",
        "events": ["ticket.created"],
        "secret": SECRET,
    } | keys


def test_a_standard_and_a_slack_webhook() -> None:
    settings = _load(
        [
            _hook(),
            {
                "name": "Team-Chat",
                "url_env": "SLACK_URL",
                "events": ["*"],
                "format": "slack",
            },
        ],
        env={"SLACK_URL": "https://hooks.slack.example/services/T0/B0/XyZ"},
    )
    crm, chat = settings.webhooks
    assert (crm.name, crm.format, crm.events, crm.secret) == (
        "crm.example",
        "standard",
        ("ticket.created",),
        SECRET,
    )
    assert (chat.name, chat.events, chat.secret) == ("team-chat", EVENT_TYPES, "")
    assert chat.url == "https://hooks.slack.example/services/T0/B0/XyZ"
    assert "XyZ" not in repr(chat) and SECRET not in repr(crm)


def test_the_secret_may_come_from_the_environment() -> None:
    hook = _hook(secret_env="CRM_SECRET")
    del hook["secret"]
    [crm] = _load([hook], env={"CRM_SECRET": SECRET}).webhooks
    assert crm.secret == SECRET


def test_no_webhooks_by_default() -> None:
    assert _load([]).webhooks == ()


@pytest.mark.parametrize(
    ("hook", "message"),
    [
        (_hook(url="ftp://crm.example/x"), "webhooks[0].url: expected an http:// or https://"),
        (_hook(url="crm.example/hooks"), "webhooks[0].url: expected an http:// or https://"),
        (_hook(url="https://crm.example:99999/"), "webhooks[0].url: the port"),
        (_hook(events=["ticket.deleted"]), "webhooks[0].events: expected event types among"),
        (_hook(events=[]), "webhooks[0].events: expected a non-empty list"),
        (_hook(secret=""), 'webhooks[0].secret: required for format = "standard"'),
        (_hook(secret="hunter2"), "webhooks[0].secret: expected whsec_ followed by base64"),
        (_hook(secret="whsec_c2hvcnQ="), "of 24 to 64 bytes"),
        (_hook(format="teams"), "webhooks[0].format: expected one of standard, slack"),
        (_hook(format="slack"), "webhooks[0].secret: Slack incoming webhooks are not signed"),
        (_hook(secret_env="NOPE"), "give either secret or secret_env"),
        (_hook(name="no spaces"), "webhooks[0].name: expected letters, digits"),
        (_hook(colour="blue"), "webhooks[0].colour: unknown key"),
    ],
)
def test_bad_values_name_their_key(hook: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=None) as caught:
        _load([hook])
    assert message in str(caught.value)
    assert SECRET not in str(caught.value)


def test_an_unset_environment_variable_is_named() -> None:
    hook = _hook(url_env="CRM_URL")
    del hook["url"]
    with pytest.raises(ConfigError, match=r"webhooks\[0\]\.url_env: .* CRM_URL is not set"):
        _load([hook])


def test_two_webhooks_need_two_names() -> None:
    with pytest.raises(ConfigError, match=r"webhooks\[1\]\.name: 'crm.example' is used"):
        _load([_hook(), _hook(events=["*"])])


def test_check_config_reports_a_bad_webhook(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (Path(__file__).parents[3] / "config.example.toml").read_text()
    config = tmp_path / "config.toml"
    config.write_text(
        text + '\n[[webhooks]]\nurl = "https://crm.example/h"\nevents = ["ticket.created"]\n'
    )
    assert main(["--config", str(config), "check-config"]) == 2
    assert "webhooks[0].secret: required" in capsys.readouterr().err
    config.write_text(
        text
        + f'\n[[webhooks]]\nurl = "https://crm.example/h"\nevents = ["*"]\nsecret = "{SECRET}"\n'
    )
    assert main(["--config", str(config), "check-config"]) == 0
