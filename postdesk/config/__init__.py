"""The only reader of configuration: TOML (`reader`) into validated (`load`), frozen
`settings`."""

from postdesk.config.load import load_settings
from postdesk.config.reader import ConfigError

__all__ = ["ConfigError", "load_settings"]
