"""Configuration: the example file loads, and every bad value names its key."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from postdesk.config.load import ConfigError, load_settings, settings_from_mapping
from tests.helpers import EXAMPLE, example_config


def _load(data: dict, env: dict | None = None):
    return settings_from_mapping(data, base=Path("/srv/postdesk"), env=env or {})


def test_example_file_loads_with_documented_defaults() -> None:
    settings = load_settings(EXAMPLE, env={})
    assert settings.desk.ticket_prefix == "SUP"
    assert [a.address for a in settings.desk.support_addresses] == [
        "support@desk.example",
        "billing@desk.example",
    ]
    assert settings.desk.support_addresses[1].category == "billing"
    assert settings.database.url == f"sqlite:///{EXAMPLE.parent / 'var' / 'postdesk.db'}"
    assert (settings.smtp.host, settings.smtp.port) == ("127.0.0.1", 2525)
    assert settings.outbound.transport == "file"
    assert settings.outbound.file_dir == EXAMPLE.parent / "var" / "outbox"
    assert settings.sla.targets["urgent"].first_response == timedelta(hours=1)
    assert settings.sla.targets["low"].resolution == timedelta(days=10)
    assert settings.sla.reminder_at == 0.75
    assert settings.ingest.sender_rate_limit is not None
    assert settings.ingest.sender_rate_limit.count == 30
    assert settings.ingest.sender_rate_limit.window == timedelta(minutes=10)
    assert settings.ingest.max_processing_seconds == 30.0
    assert settings.desk.unknown_senders == "reject"
    assert settings.desk.trust_staff_from is False
    assert {s.email for s in settings.staff} == {"alice@desk.example", "bob@desk.example"}
    assert settings.organisations[2].partner_of == ("Acme",)


def test_every_documented_section_is_in_the_example() -> None:
    text = EXAMPLE.read_text()
    for section in (
        "[desk]",
        "[database]",
        "[smtp]",
        "[[imap]]",
        "[outbound]",
        "[sla]",
        "[schedule]",
        "[ops]",
        "[ingest]",
        "[logging]",
        "[[fields]]",
        "[http]",
        "[[staff]]",
        "[[organisations]]",
    ):
        assert section in text, section


@pytest.mark.parametrize(
    ("section", "key", "value", "expected"),
    [
        ("smtp", "listen", "2525", "smtp.listen"),
        ("smtp", "max_message_bytes", "big", "smtp.max_message_bytes"),
        ("desk", "unknown_senders", "ignore", "desk.unknown_senders"),
        ("desk", "ticket_prefix", "sup-", "desk.ticket_prefix"),
        ("desk", "reopen_window_days", -1, "desk.reopen_window_days"),
        ("desk", "trust_staff_from", "yes", "desk.trust_staff_from"),
        ("outbound", "transport", "carrier-pigeon", "outbound.transport"),
        ("outbound", "backoff_seconds", [], "outbound.backoff_seconds"),
        ("ingest", "sender_rate_limit", "lots", "ingest.sender_rate_limit"),
        ("ingest", "max_attachment_bytes", 0, "ingest.max_attachment_bytes"),
        ("ingest", "min_free_bytes", -1, "ingest.min_free_bytes"),
        ("ingest", "min_free_bytes", "100MB", "ingest.min_free_bytes"),
        ("ingest", "max_processing_seconds", 0, "ingest.max_processing_seconds"),
        ("ingest", "max_processing_seconds", "30s", "ingest.max_processing_seconds"),
        ("sla", "reminder_at", 1.5, "sla.reminder_at"),
        ("sla", "timezone", "Mars/Olympus", "sla.timezone"),
        ("sla", "business_hours", "weekdays", "sla.business_hours"),
        ("schedule", "digest", "hourly", "schedule.digest"),
        ("logging", "level", "LOUD", "logging.level"),
        ("database", "url", "mysql://x", "database.url"),
        ("ops", "digest_to", ["not an address"], "ops.digest_to"),
    ],
)
def test_bad_values_name_their_key_and_value(
    section: str, key: str, value: object, expected: str
) -> None:
    data = example_config()
    data[section][key] = value
    with pytest.raises(ConfigError) as caught:
        _load(data)
    message = str(caught.value)
    assert message.startswith(expected), message
    if isinstance(value, str) and value:
        assert value in message


def test_unknown_key_is_named() -> None:
    data = example_config()
    data["smtp"]["lissen"] = "127.0.0.1:25"
    with pytest.raises(ConfigError, match=r"smtp\.lissen: unknown key"):
        _load(data)


def test_unknown_section_is_named() -> None:
    data = example_config()
    data["smpt"] = {}
    with pytest.raises(ConfigError, match=r"smpt: unknown key"):
        _load(data)


def test_nested_sla_key_is_named() -> None:
    data = example_config()
    data["sla"]["high"]["first_response"] = "soon"
    with pytest.raises(ConfigError, match=r"sla\.high\.first_response: expected a duration"):
        _load(data)


def test_missing_support_addresses_is_required() -> None:
    data = example_config()
    del data["desk"]["support_addresses"]
    with pytest.raises(ConfigError, match=r"desk\.support_addresses: required"):
        _load(data)


def test_secret_key_from_environment_and_too_short() -> None:
    data = example_config()
    data["desk"]["secret_key"] = "short"
    with pytest.raises(ConfigError, match=r"desk\.secret_key"):
        _load(data)
    settings = _load(data, env={"POSTDESK_SECRET_KEY": "x" * 32})
    assert settings.desk.secret_key == "x" * 32


def test_secrets_and_database_from_environment() -> None:
    data = example_config()
    data["imap"] = [{"host": "127.0.0.1", "username": "u", "password_env": "IMAP_PW"}]
    env = {
        "IMAP_PW": "pw-from-env",
        "POSTDESK_OUTBOUND_PASSWORD": "relay-pw",
        "POSTDESK_DATABASE_URL": "postgresql://postdesk@db/postdesk",
    }
    settings = _load(data, env=env)
    assert settings.imap[0].password == "pw-from-env"
    assert settings.outbound.password == "relay-pw"
    assert settings.database.url == "postgresql+psycopg://postdesk@db/postdesk"


def test_imap_account_without_password_names_key() -> None:
    data = example_config()
    data["imap"] = [{"host": "127.0.0.1", "username": "u"}]
    with pytest.raises(ConfigError, match=r"imap\[0\]\.password: required"):
        _load(data)


def test_partner_of_must_name_an_organisation() -> None:
    data = example_config()
    data["organisations"][2]["partner_of"] = ["Nobody Inc"]
    with pytest.raises(ConfigError, match=r"organisations\[2\]\.partner_of"):
        _load(data)


def test_relative_paths_are_relative_to_the_config_file() -> None:
    settings = _load(example_config())
    assert settings.ingest.data_dir == Path("/srv/postdesk/var/data")


def test_invalid_toml_says_so(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[desk\nname = 1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(path)


def test_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read configuration file"):
        load_settings(tmp_path / "nope.toml")


def test_min_free_bytes_defaults_to_100_mib() -> None:
    data = example_config()
    assert _load(data).ingest.min_free_bytes == 100 * 1024 * 1024
    del data["ingest"]["min_free_bytes"]
    assert _load(data).ingest.min_free_bytes == 100 * 1024 * 1024
    data["ingest"]["min_free_bytes"] = 0
    assert _load(data).ingest.min_free_bytes == 0


def test_agent_mail_keys_default_and_read() -> None:
    settings = _load(example_config())
    assert settings.desk.customer_max_priority == "high"
    assert settings.notify.attach_max_bytes == 10 * 1024 * 1024
    assert settings.notify.link_expiry_days == 7
    assert settings.http.base_url == "http://127.0.0.1:8025"
    data = example_config()
    data["desk"]["customer_max_priority"] = "Critical"
    data["notify"] = {"attach_max_bytes": 0, "link_expiry_days": 2}
    data["http"]["public_url"] = "https://desk.example.com/"
    data["staff"][0].update(display_name="Alice Moreau", signature="Alice\nSupport")
    data["organisations"][0]["max_priority"] = "low"
    settings = _load(data)
    assert settings.desk.customer_max_priority == "urgent"
    assert (settings.notify.attach_max_bytes, settings.notify.link_expiry_days) == (0, 2)
    assert settings.http.base_url == "https://desk.example.com"
    assert (settings.staff[0].display_name, settings.staff[0].signature) == (
        "Alice Moreau",
        "Alice\nSupport",
    )
    assert settings.organisations[0].max_priority == "low"
    assert settings.organisations[1].max_priority is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"desk": {"customer_max_priority": "asap"}}, "desk.customer_max_priority: expected one"),
        ({"notify": {"attach_max_bytes": "10MB"}}, "notify.attach_max_bytes: expected a whole"),
        ({"notify": {"link_expiry_days": 0}}, "notify.link_expiry_days"),
        ({"notify": {"attach_bytes": 1}}, "notify.attach_bytes"),
        ({"http": {"public_url": "desk.example.com"}}, "http.public_url: expected a URL"),
    ],
)
def test_bad_agent_mail_values_name_their_key(change: dict, message: str) -> None:
    data = example_config()
    for section, values in change.items():
        data.setdefault(section, {}).update(values)
    with pytest.raises(ConfigError, match=message):
        _load(data)


def test_bad_organisation_max_priority_names_its_key() -> None:
    data = example_config()
    data["organisations"][1]["max_priority"] = "top"
    with pytest.raises(ConfigError, match=r"organisations.*max_priority: expected one of"):
        _load(data)
