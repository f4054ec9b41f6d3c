"""SIGHUP: read the configuration file again and apply what can change while running.

Reloaded: organisations, contacts and staff (written to the database, as at start), custom
fields and templates (the spool and outbox workers start again on them, after finishing what
they are doing; mail that arrives meanwhile waits in the spool), and the log file is opened
again (log rotation: rename the file, then SIGHUP). Listeners are not touched: open SMTP
sessions and IMAP connections go on. Any other changed key needs a restart; the log says which.
A configuration that does not load is refused, and the running one stays.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from postdesk.config.load import ConfigError, load_settings
from postdesk.config.settings import Settings
from postdesk.serve.preflight import check_values

__all__ = ["RELOADED", "changed_sections", "reloaded_settings"]

log = logging.getLogger(__name__)
# The keys a SIGHUP applies; every other top-level key needs a restart.
RELOADED = ("organisations", "staff", "fields", "templates_dir", "logging")


def reloaded_settings(current: Settings) -> tuple[Settings, list[str]] | None:
    """The settings to run on after a reload, and the changed keys that need a restart;
    None (logged) when the file does not load or names a value that cannot be used."""
    source = current.source
    if source is None:
        log.warning("reload: no configuration file to read again")
        return None
    try:
        fresh = load_settings(Path(source))
        check_values(fresh)
    except ConfigError as exc:
        log.error("reload refused, the running configuration stays: %s", exc)
        return None
    merged = dataclasses.replace(current, **{k: getattr(fresh, k) for k in RELOADED})
    return merged, changed_sections(merged, fresh)


def changed_sections(running: Settings, fresh: Settings) -> list[str]:
    """The top-level keys whose values differ (so: that a reload did not apply)."""
    return [
        f.name
        for f in dataclasses.fields(Settings)
        if f.name != "source" and getattr(running, f.name) != getattr(fresh, f.name)
    ]
