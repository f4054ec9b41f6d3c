"""Mail commands: `#name value` lines at the top of a staff reply.

`#status resolved`, `#status: resolved` and `#Status Waiting on customer` all set a status
(by its name or its words); `#priority high`, `#assign alice` (or `#assign me`), `#unassign`,
`#category billing`, `#visibility private`, `#cc ADDRESS`, `#internal`, `#resolve`, `#close`.
Every `#word` line at the top is a command line and is taken out of the text, so none is ever
relayed to the customer; a line that is not a valid command is kept in `invalid` with what is
wrong, for the report to the agent (`VALID_FORMS` lists what is accepted).
"""

from __future__ import annotations

import email.utils
import re
from dataclasses import dataclass

from ingest.decide.commands import MAX_HEAD_LINES, PRIORITIES, VISIBILITIES, normalise_priority
from ingest.redact.derived import without_head
from store.redacted import RedactedText

__all__ = ["STATUSES", "VALID_FORMS", "StaffCommands", "read_staff_commands", "status_word"]

STATUSES = ("open", "in_progress", "waiting_on_customer", "escalated", "resolved", "closed")
_STATUS_ALIASES = {
    "new": "open",
    "reopen": "open",
    "reopened": "open",
    "in_work": "in_progress",
    "working": "in_progress",
    "waiting": "waiting_on_customer",
    "waiting_for_customer": "waiting_on_customer",
    "pending": "waiting_on_customer",
    "solved": "resolved",
}
VALID_FORMS = (
    "#status open | in progress | waiting on customer | escalated | resolved | closed",
    "#priority urgent | high | medium | low",
    "#assign NAME (a staff member's name or address, or: me)",
    "#unassign",
    "#category CATEGORY",
    "#visibility private | organisation",
    "#cc ADDRESS",
    "#internal (the reply becomes an internal note, relayed to nobody)",
    "#resolve",
    "#close",
)
_LINE = re.compile(r"^\s*#(?P<name>[A-Za-z][A-Za-z_-]*)(?:\s*:\s*|\s+|$)(?P<arg>.*?)\s*$")
_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_NO_ARGUMENT = ("internal", "resolve", "close", "unassign")


def status_word(value: str) -> str | None:
    """`Waiting on customer`, `waiting-on-customer`, `resolved.` -> the status; else None."""
    word = re.sub(r"[\s_-]+", "_", value.strip().strip(".!").lower())
    word = _STATUS_ALIASES.get(word, word)
    return word if word in STATUSES else None


@dataclass(frozen=True, slots=True)
class StaffCommands:
    """What the command lines of one staff reply ask for, and the text without them."""

    body: RedactedText
    status: str | None = None
    priority: str | None = None
    assign: str | None = None  # as written: resolved against the staff directory by the caller
    unassign: bool = False
    category: str | None = None
    visibility: str | None = None
    cc: tuple[str, ...] = ()
    internal: bool = False
    lines: tuple[str, ...] = ()  # every command line read, valid or not
    invalid: tuple[tuple[str, str], ...] = ()  # (line, what is wrong)

    @property
    def any(self) -> bool:
        """Whether any command line was read (valid or not)."""
        return bool(self.lines)


class _Reader:
    """Collects the commands of one reply, line by line."""

    def __init__(self, categories: tuple[str, ...]) -> None:
        self.categories = categories
        self.values: dict[str, object] = {}
        self.cc: list[str] = []
        self.invalid: list[tuple[str, str]] = []

    def read(self, line: str, name: str, arg: str) -> None:
        problem = self._apply(name.lower(), arg)
        if problem is not None:
            self.invalid.append((line.strip(), problem))

    def _apply(self, name: str, arg: str) -> str | None:
        if name in _NO_ARGUMENT:
            if arg:
                return f"#{name} takes no value"
            if name == "internal":
                self.values["internal"] = True
            elif name == "unassign":
                self.values["unassign"] = True
            else:
                self.values["status"] = "resolved" if name == "resolve" else "closed"
            return None
        if name not in ("status", "priority", "assign", "category", "visibility", "cc"):
            return f"unknown command #{name}"
        if not arg:
            return f"#{name} needs a value"
        if name == "status":
            status = status_word(arg)
            if status is None:
                return "no such status; use " + ", ".join(s.replace("_", " ") for s in STATUSES)
            self.values["status"] = status
        elif name == "priority":
            priority = normalise_priority(arg)
            if priority is None:
                return "no such priority; use " + ", ".join(PRIORITIES)
            self.values["priority"] = priority
        elif name == "assign":
            self.values["assign"] = arg
        elif name == "category":
            category = arg.lower().replace(" ", "_")
            if category not in self.categories:
                return "no such category; use " + ", ".join(self.categories)
            self.values["category"] = category
        elif name == "visibility":
            visibility = VISIBILITIES.get(arg.lower())
            if visibility is None:
                return "no such visibility; use private or organisation"
            self.values["visibility"] = visibility
        else:
            return self._cc(arg)
        return None

    def _cc(self, arg: str) -> str | None:
        found = [a.lower() for _, a in email.utils.getaddresses([arg.replace(";", ",")]) if a]
        if not found or not all(_ADDRESS.match(a) for a in found):
            return "#cc needs an email address, like #cc dave@example.com"
        self.cc.extend(a for a in found if a not in self.cc)
        return None


def read_staff_commands(text: RedactedText, categories: tuple[str, ...]) -> StaffCommands:
    """Read the `#command` lines at the top of a staff reply (blank lines between them too);
    they are removed from the text whether or not they are valid."""
    lines = text.split("\n")
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    reader = _Reader(categories)
    read: list[str] = []
    used = 0
    for line in lines[start : start + MAX_HEAD_LINES]:
        if not line.strip() and used:
            used += 1
            continue
        match = _LINE.match(line)
        if not match:
            break
        used += 1
        read.append(line.strip())
        reader.read(line, match["name"], match["arg"])
    values = reader.values
    return StaffCommands(
        body=without_head(text, used),
        status=_text(values.get("status")),
        priority=_text(values.get("priority")),
        assign=_text(values.get("assign")),
        unassign=bool(values.get("unassign")),
        category=_text(values.get("category")),
        visibility=_text(values.get("visibility")),
        cc=tuple(reader.cc),
        internal=bool(values.get("internal")),
        lines=tuple(read),
        invalid=tuple(reader.invalid),
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
