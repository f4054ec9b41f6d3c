"""What `check-config` (and `serve`, which loads the same way) refuses: cron fields the
scheduler cannot use, duplicates in the directory, values `serve` would fail on later."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from postdesk.config.load import ConfigError, settings_from_mapping
from postdesk.serve.preflight import check_values
from tests.helpers import example_config


def _load(data: dict[str, Any]) -> Any:
    return settings_from_mapping(data, base=Path("/srv/postdesk"), env={})


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("digest", "0 25 * * *", "schedule.digest: the hour field '25'"),
        ("digest", "61 * * * *", "schedule.digest: the minute field '61'"),
        ("daily_digest", "0 7 32 * *", "schedule.daily_digest: the day field '32'"),
        ("daily_digest", "0 7 * 13 *", "schedule.daily_digest: the month field '13'"),
        ("daily_digest", "0 7 * * funday", "schedule.daily_digest: the day of week field"),
        ("digest", "0 * * *", "schedule.digest: expected a cron expression with 5 fields"),
    ],
)
def test_cron_fields_are_checked(key: str, value: str, message: str) -> None:
    data = example_config()
    data["schedule"][key] = value
    with pytest.raises(ConfigError, match="^" + message.replace("(", r"\(")):
        _load(data)


def test_valid_cron_expressions_pass() -> None:
    data = example_config()
    data["schedule"].update(digest="*/15 8-18 * * mon-fri", daily_digest="30 6 1 1,7 *")
    assert _load(data).schedule.digest_cron == "*/15 8-18 * * mon-fri"


def test_duplicate_staff_address() -> None:
    data = example_config()
    data["staff"].append({"name": "Other Alice", "email": "ALICE@desk.example"})
    with pytest.raises(ConfigError, match=r"staff: 'alice@desk.example' is listed twice"):
        _load(data)


def test_duplicate_organisation_name() -> None:
    data = example_config()
    data["organisations"].append({"name": "acme", "domains": ["acme2.example"]})
    with pytest.raises(ConfigError, match=r"two organisations are named 'acme'"):
        _load(data)


def test_a_domain_in_two_organisations() -> None:
    data = example_config()
    domain = data["organisations"][0]["domains"][0]
    data["organisations"].append({"name": "Copycat", "domains": [domain]})
    with pytest.raises(ConfigError, match=f"the domain '{domain}' belongs to both 'Acme'"):
        _load(data)


def test_a_contact_in_two_organisations() -> None:
    data = example_config()
    data["organisations"].append({"name": "Copycat", "contacts": ["carol@acme.example"]})
    with pytest.raises(ConfigError, match=r"'carol@acme.example' is listed in both 'Acme'"):
        _load(data)


def test_smtp_and_http_on_one_port() -> None:
    data = example_config()
    data["http"]["listen"] = data["smtp"]["listen"]
    with pytest.raises(ConfigError, match=r"^http.listen: 127.0.0.1:2525 is also smtp.listen"):
        _load(data)


def _local(tmp_path: Path) -> dict[str, Any]:
    """The example configuration with every path it writes under `tmp_path`."""
    data = example_config()
    data["database"]["url"] = f"sqlite:///{tmp_path / 'postdesk.db'}"
    data["ingest"]["data_dir"] = str(tmp_path / "data")
    data["outbound"]["file_dir"] = str(tmp_path / "outbox")
    data["logging"]["file"] = str(tmp_path / "postdesk.log")
    return data


def test_values_serve_uses_are_checked(tmp_path: Path) -> None:
    data = _local(tmp_path)
    check_values(_load(data))
    data["smtp"].update(tls_cert=str(tmp_path / "none.pem"), tls_key=str(tmp_path / "none.key"))
    with pytest.raises(ConfigError, match=r"^smtp.tls_cert: cannot load the SMTP TLS certificate"):
        check_values(_load(data))
    data = _local(tmp_path)
    data["templates_dir"] = str(tmp_path / "missing")
    with pytest.raises(ConfigError, match=r"^templates_dir: .* is not a directory"):
        check_values(_load(data))


def test_paths_serve_writes_must_be_writable(tmp_path: Path) -> None:
    import os

    if os.getuid() == 0:
        pytest.skip("root may write anywhere")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    data = _local(tmp_path)
    data["ingest"]["data_dir"] = str(locked / "data")
    with pytest.raises(ConfigError, match=r"^ingest.data_dir: this user .* cannot create"):
        check_values(_load(data))


def test_a_file_where_a_folder_belongs(tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("")
    data = _local(tmp_path)
    data["logging"]["file"] = str(tmp_path / "plain" / "postdesk.log")
    with pytest.raises(ConfigError, match=r"^logging.file: .*plain is not a folder"):
        check_values(_load(data))
