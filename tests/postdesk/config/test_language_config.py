"""Configuration of mail languages and of the [notify] switches."""

from __future__ import annotations

from pathlib import Path

import pytest

from postdesk.app import pipeline_options
from postdesk.config.load import ConfigError, load_settings, settings_from_mapping
from postdesk.notify_build import renderer, scheduler
from tests.helpers import EXAMPLE, example_config, make_app


def _load(data: dict):  # type: ignore[no-untyped-def,type-arg]
    return settings_from_mapping(data, base=Path("/srv/postdesk"), env={})


def test_the_example_has_the_keys_and_their_defaults() -> None:
    settings = load_settings(EXAMPLE, env={})
    assert (settings.desk.language, settings.desk.staff_language) == ("en", "en")
    assert settings.notify.customer_escalation_mail is True
    assert settings.notify.customer_reminder_mail is True
    assert all(o.language is None for o in settings.organisations)
    assert "[notify]" in EXAMPLE.read_text()


def test_languages_and_switches_are_read_and_reach_their_users() -> None:
    data = example_config()
    data["desk"]["language"] = "nl"
    data["desk"]["staff_language"] = "de"
    data["organisations"][1]["language"] = "fr"
    data["notify"] = {"customer_escalation_mail": False, "customer_reminder_mail": False}
    settings = _load(data)
    assert settings.organisations[1].language == "fr"
    options = pipeline_options(settings)
    assert options.language == "nl"
    assert options.organisation_languages == {"Globex": "fr"}
    built = renderer(settings)
    assert (built.language, built.staff_language) == ("nl", "de")
    assert settings.notify.customer_escalation_mail is False
    assert settings.notify.customer_reminder_mail is False


@pytest.mark.parametrize(
    ("where", "value", "expected"),
    [
        (("desk", "language"), "it", "desk.language: expected one of en, de, fr, es, nl"),
        (("desk", "staff_language"), "german", "desk.staff_language"),
        (("notify", "customer_reminder_mail"), "no", "notify.customer_reminder_mail"),
        (("notify", "customer_escalation_emails"), True, "notify.customer_escalation_emails"),
    ],
)
def test_bad_values_are_named(where: tuple[str, str], value: object, expected: str) -> None:
    data = example_config()
    data.setdefault(where[0], {})[where[1]] = value
    with pytest.raises(ConfigError, match=expected):
        _load(data)


def test_a_bad_organisation_language_is_named() -> None:
    data = example_config()
    data["organisations"][0]["language"] = "klingon"
    with pytest.raises(ConfigError, match=r"organisations\[0\]\.language"):
        _load(data)


def test_the_switches_reach_the_sweep(tmp_path: Path, sqlite_url: str) -> None:
    app = make_app(tmp_path, sqlite_url, notify={"customer_reminder_mail": False})
    try:
        options = scheduler(app).options
        assert (options.customer_escalation_mail, options.customer_reminder_mail) == (True, False)
    finally:
        app.close()
