"""Lines at the top of a mail that mean something: field lines, staff commands, keywords.

- Field lines on a new ticket (`Priority: high`, `Category: billing`, `Call reference: X`,
  `Visibility: private`, configured custom fields) before any other text.
- Staff command lines: read by `ingest.decide.staff_commands`.
- `#mute` / `#unmute` as the first line of a requester's or watcher's reply.
- "Escalation" (any case, then `:`, `-` or a space) as the first line of a customer comment.

Each reader returns the lines it understood and the text without them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.redact.derived import without_head
from store.redacted import RedactedText

BUILTIN_FIELDS = ("priority", "category", "call reference", "visibility", "organisation")
VISIBILITIES = {
    "private": "private",
    "organisation": "organisation",
    "organization": "organisation",
    "public": "organisation",
    "shared": "organisation",
}
_FIELD_LINE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9 _-]{0,40}?)\s*:\s*(.*?)\s*$")
_ESCALATION = re.compile(r"^\s*escalation(?:\s*$|\s*[:\-]\s*|\s+)(?P<reason>.*)$", re.I)
_MUTE = re.compile(r"^\s*#(mute|unmute)\s*$", re.I)
MAX_HEAD_LINES = 30
PRIORITIES = ("urgent", "high", "medium", "low")
PRIORITY_ALIASES = {"critical": "urgent", "normal": "medium"}


def normalise_priority(value: str) -> str | None:
    """'High' -> 'high', 'critical' -> 'urgent'; None for anything else."""
    word = value.strip().lower()
    word = PRIORITY_ALIASES.get(word, word)
    return word if word in PRIORITIES else None


@dataclass(frozen=True, slots=True)
class FieldLines:
    """Field lines found at the top of a new ticket."""

    priority: str | None
    category: str | None
    call_reference: str | None
    visibility: str | None
    organisation: str | None
    custom: dict[str, str]
    ignored: tuple[tuple[str, str], ...]  # (line, reason)
    body: RedactedText


def _split_head(text: str) -> tuple[list[str], list[str]]:
    lines = text.split("\n")
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    return lines[:start], lines[start:]


def read_field_lines(
    text: RedactedText, categories: tuple[str, ...], custom_fields: dict[str, tuple[str, ...]]
) -> FieldLines:
    """Read `Name: value` lines at the very top of `text`; stop at the first other line."""
    _, lines = _split_head(text)
    values: dict[str, str] = {}
    custom: dict[str, str] = {}
    ignored: list[tuple[str, str]] = []
    custom_by_key = {name.lower(): name for name in custom_fields}
    used = 0
    for line in lines[:MAX_HEAD_LINES]:
        match = _FIELD_LINE.match(line)
        if not match:
            break
        key, value = match.group(1).strip().lower(), match.group(2)
        if key not in BUILTIN_FIELDS and key not in custom_by_key:
            break
        used += 1
        if key in BUILTIN_FIELDS:
            problem = _check_builtin(key, value, categories)
            if problem:
                ignored.append((line.strip(), problem))
            else:
                values[key] = value
            continue
        name = custom_by_key[key]
        allowed = custom_fields[name]
        chosen = (
            next((a for a in allowed if a.lower() == value.lower()), None) if allowed else value
        )
        if not value or chosen is None:
            ignored.append(
                (line.strip(), f"allowed values: {', '.join(allowed)}" if allowed else "empty")
            )
        else:
            custom[name] = chosen
    body = without_head(text, used)
    return FieldLines(
        priority=normalise_priority(values["priority"]) if "priority" in values else None,
        category=values.get("category", "").lower() or None,
        call_reference=values.get("call reference") or None,
        visibility=VISIBILITIES.get(values.get("visibility", "").lower()),
        organisation=values.get("organisation") or None,
        custom=custom,
        ignored=tuple(ignored),
        body=body,
    )


def _check_builtin(key: str, value: str, categories: tuple[str, ...]) -> str | None:
    if key == "priority" and normalise_priority(value) is None:
        return "priority must be urgent, high, medium or low"
    if key == "category" and value.lower() not in categories:
        return f"category must be one of {', '.join(categories)}"
    if key == "visibility" and value.lower() not in VISIBILITIES:
        return "visibility must be private or organisation"
    if key == "call reference" and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,99}", value):
        return "call reference must be a single word like CALL-88231"
    return None


def read_mute(text: str) -> bool | None:
    """True for `#mute`, False for `#unmute` on the first line, else None."""
    _, lines = _split_head(text)
    match = _MUTE.match(lines[0]) if lines else None
    return None if not match else match.group(1).lower() == "mute"


def read_escalation(text: str) -> str | None:
    """The reason given on a first line starting with "Escalation", or None."""
    _, lines = _split_head(text)
    if not lines:
        return None
    match = _ESCALATION.match(lines[0])
    if not match:
        return None
    return (match.group("reason") or "").strip() or "no reason given"
