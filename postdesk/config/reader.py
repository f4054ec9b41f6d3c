"""Typed, key-naming access to one TOML table, used by `postdesk.config.load`.

Every getter records the key it read, so that `finish()` can reject unknown keys, and every
error names the full dotted key and the offending value, e.g.
`smtp.listen: expected "host:port", got "2525"`.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from postdesk.config.settings import RateLimit

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


class ConfigError(Exception):
    """The configuration is invalid; the message names the key and the bad value."""

    label = "configuration error: "  # how the command line introduces the message
    exit_code = 2


def _show(value: object) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value)


class Table:
    """One TOML table, read key by key."""

    def __init__(self, data: object, path: str) -> None:
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: expected a table, got {_show(data)}")
        self._data: dict[str, Any] = data
        self._path = path
        self._seen: set[str] = set()

    def key(self, name: str) -> str:
        """The dotted name of a key in this table, for error messages."""
        return f"{self._path}.{name}" if self._path else name

    def fail(self, name: str, expected: str, value: object) -> ConfigError:
        """An error naming the key, what it should be, and what it was."""
        return ConfigError(f"{self.key(name)}: expected {expected}, got {_show(value)}")

    def _get(self, name: str, default: object) -> object:
        self._seen.add(name)
        return self._data.get(name, default)

    def raw(self, name: str, default: object = None) -> object:
        """The value as TOML gave it, for keys with more than one accepted shape."""
        return self._get(name, default)

    def has(self, name: str) -> bool:
        return name in self._data

    def text(self, name: str, default: str | None = None, *, required: bool = False) -> str:
        value = self._get(name, default)
        if value is None:
            if required:
                raise ConfigError(f"{self.key(name)}: required, but missing")
            return ""
        if not isinstance(value, str):
            raise self.fail(name, "a string", value)
        if required and not value.strip():
            raise ConfigError(f"{self.key(name)}: required, but empty")
        return value

    def choice(self, name: str, choices: tuple[str, ...], default: str) -> str:
        value = self.text(name, default)
        if value not in choices:
            raise self.fail(name, "one of " + ", ".join(choices), value)
        return value

    def flag(self, name: str, default: bool) -> bool:
        value = self._get(name, default)
        if not isinstance(value, bool):
            raise self.fail(name, "true or false", value)
        return value

    def whole(self, name: str, default: int, *, minimum: int = 0) -> int:
        value = self._get(name, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(name, "a whole number", value)
        if value < minimum:
            raise self.fail(name, f"a whole number >= {minimum}", value)
        return value

    def number(self, name: str, default: float, *, low: float, high: float) -> float:
        value = self._get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(name, "a number", value)
        if not low <= float(value) <= high:
            raise self.fail(name, f"a number from {low} to {high}", value)
        return float(value)

    def str_list(self, name: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        value = self._get(name, list(default))
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(name, "a list of strings", value)
        return tuple(value)

    def email(self, name: str, default: str | None = None, *, required: bool = False) -> str:
        value = self.text(name, default, required=required)
        if value and not _EMAIL.match(value):
            raise self.fail(name, "an email address", value)
        return value.lower()

    def emails(self, name: str) -> tuple[str, ...]:
        values = self.str_list(name)
        for value in values:
            if not _EMAIL.match(value):
                raise self.fail(name, "a list of email addresses", value)
        return tuple(v.lower() for v in values)

    def duration(self, name: str, default: str) -> timedelta:
        value = self._get(name, default)
        parsed = parse_duration(value) if isinstance(value, str) else None
        if parsed is None:
            raise self.fail(name, 'a duration like "30m", "4h" or "2d"', value)
        return parsed

    def rate_limit(self, name: str, default: str) -> RateLimit | None:
        value = self._get(name, default)
        if value == "off":
            return None
        if isinstance(value, str) and value.count("/") == 1:
            count, window = value.split("/")
            parsed = parse_duration(window)
            if count.strip().isdigit() and int(count) > 0 and parsed is not None:
                return RateLimit(count=int(count), window=parsed)
        raise self.fail(name, '"COUNT/WINDOW" like "30/10m", or "off"', value)

    def path(self, name: str, default: str | None, base: Path) -> Path | None:
        value = self.text(name, default)
        if not value:
            return None
        path = Path(value).expanduser()
        return path if path.is_absolute() else (base / path)

    def host_port(self, name: str, default: str) -> tuple[str, int]:
        value = self.text(name, default)
        host, sep, port = value.rpartition(":")
        host = host.strip("[]")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise self.fail(name, '"host:port"', value)
        return host, int(port)

    def table(self, name: str) -> Table:
        return Table(self._get(name, {}), self.key(name))

    def tables(self, name: str) -> list[Table]:
        value = self._get(name, [])
        if not isinstance(value, list):
            raise self.fail(name, "an array of tables ([[" + name + "]])", value)
        return [Table(item, f"{self.key(name)}[{i}]") for i, item in enumerate(value)]

    def finish(self) -> None:
        """Reject keys this table does not know."""
        unknown = sorted(set(self._data) - self._seen)
        if unknown:
            name = unknown[0]
            raise ConfigError(
                f"{self.key(name)}: unknown key (value {_show(self._data[name])}); "
                "see config.example.toml for the keys that exist"
            )


def parse_duration(text: str) -> timedelta | None:
    """'90s', '30m', '4h', '2d', '1w' -> timedelta; None if it is not such a duration."""
    match = _DURATION.match(text)
    if not match:
        return None
    return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])
