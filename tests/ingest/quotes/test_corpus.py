"""Corpus tests for reply stripping: every fixture with an expectation in the shared corpus.

The reply-stripping sets (talon, willdurand-email-reply-parser, zapier-email-reply-parser)
carry `expected.json` files derived from their projects' own tests. This module turns each
entry into checks on our `StrippedReply` fields and asserts a minimum pass rate per set
(the rate we actually reach, rounded down), printing the measured rate.

How the source projects' expectations map onto our API:
- `reply_equals` / `reply_contains` / `reply_not_contains` apply to `visible`.
- talon keeps signatures in its "reply", so talon's plain replies are compared with
  `visible` plus the removed `signature` (trailing spaces per line ignored).
- `fragment_*` expectations (the PHP/Python libraries split a body into fragments) land in
  the field the fragment belongs to: a quoted fragment in `quoted`, a signature fragment in
  `signature`, any other shown fragment in `visible`. Where the entry has no flags, the
  fragment's own pattern decides (`On ...`/`>` quoted, `-`/`_` signature, else visible).
- One fragment means nothing may be removed; quoted/signature flags mean that field is
  (non-)empty.
- Where the only fragment with text is quoted and covers the whole body (a lone
  "From: ..." block), our contract applies: `visible` is the full text, nothing removed.
- Template entries (`[DATE]`, `[FROM]`) count once per substituted variant.
"""

from __future__ import annotations

import email
import email.policy
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from ingest.quotes.strip import StrippedReply, strip_html_reply, strip_reply

# Minimum pass rates per set: what the implementation reaches, rounded down.
THRESHOLDS = {
    "talon-standard": 1.0,
    "talon-html": 0.9,  # reply-separated-by-hr: talon also drops "Bob" above the rule
    "willdurand": 1.0,
    "zapier": 1.0,
}


@dataclass(frozen=True, slots=True)
class Check:
    """One assertion on one field of the result ("visible", "quoted", "signature", "reply")."""

    field: str
    op: str  # equals | contains | not_contains | regex | empty | nonempty | equals_nows | lines_eq
    value: str = ""


@dataclass(frozen=True, slots=True)
class Case:
    """One input body with the checks its expectation implies."""

    name: str
    text: str
    is_html: bool
    checks: tuple[Check, ...]
    max_seconds: float = 5.0


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8", errors="replace")


def _first_text_plain(path: Path) -> str:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            content = part.get_content()
            assert isinstance(content, str)
            return content
    raise AssertionError(f"{path} has no text/plain part")


def _placement(entry: dict[str, Any], index: int, pattern: str) -> str | None:
    """Which field fragment `index` belongs to; None when it is hidden non-quoted text."""
    flags = entry.get("fragments", {})
    if "quoted" in flags and flags["quoted"][index]:
        return "quoted"
    if "signature" in flags and flags["signature"][index]:
        return "signature"
    if "hidden" in flags and flags["hidden"][index]:
        return None
    if "quoted" in flags or index == 0:
        return "visible"
    bare = pattern.lstrip("^")
    if bare.startswith(("On", ">", "From:", "De:", "Van:", "Da:")):
        return "quoted"
    if bare.startswith(("_", "-")):
        return "signature"
    return "visible"


def _fragment_checks(entry: dict[str, Any], subst: Callable[[str], str], text: str) -> list[Check]:
    checks: list[Check] = []
    text = text.replace("\r\n", "\n")
    regexes: dict[str, str] = entry.get("fragment_regex", {})
    starts: dict[str, str] = entry.get("fragment_startswith", {})
    equals: dict[str, str] = dict(entry.get("fragment_equals", {}))
    for key, template in entry.get("fragment_equals_template", {}).items():
        equals[key] = subst(template)
    keys = set(regexes) | set(starts) | set(equals)
    keys |= set(entry.get("fragment_contains", {})) | set(entry.get("fragment_not_contains", {}))
    for key in sorted(keys):
        index = int(key)
        words = entry.get("fragment_contains", {}).get(key, [""])
        pattern = regexes.get(key) or starts.get(key) or equals.get(key) or words[0]
        field = _placement(entry, index, pattern)
        if field is None:
            continue
        if key in regexes:
            checks.append(Check(field, "regex", regexes[key]))
        if key in starts:
            checks.append(Check(field, "regex", "^" + re.escape(starts[key])))
        if key in equals and field == "quoted" and equals[key].strip() == text.strip():
            # Everything is quoted: our contract shows the full text and removes nothing.
            checks += [Check("visible", "equals", text.strip()), Check("quoted", "empty")]
            continue
        if key in equals:
            checks.append(Check(field, "contains", equals[key].strip()))
        checks.extend(
            Check(field, "contains", word)
            for word in entry.get("fragment_contains", {}).get(key, [])
        )
        checks.extend(
            Check(field, "not_contains", word)
            for word in entry.get("fragment_not_contains", {}).get(key, [])
        )
        if field != "visible" and key in equals:
            checks.append(Check("visible", "not_contains", equals[key].strip()))
    flags = entry.get("fragments", {})
    if flags.get("count") == 1:
        checks += [Check("quoted", "empty"), Check("signature", "empty")]
    for name in ("quoted", "signature"):
        if name in flags:
            checks.append(Check(name, "nonempty" if any(flags[name]) else "empty"))
    return checks


def _reply_checks(entry: dict[str, Any]) -> list[Check]:
    checks: list[Check] = []
    if "reply_equals" in entry:
        checks.append(Check("visible", "equals", entry["reply_equals"].strip()))
    checks.extend(Check("visible", "contains", w) for w in entry.get("reply_contains", []))
    checks.extend(Check("visible", "not_contains", w) for w in entry.get("reply_not_contains", []))
    return checks


def reply_parser_cases(root: Path, base: str) -> Iterator[Case]:
    """Cases of a willdurand/zapier-style folder (`base` is the fixtures subfolder)."""
    for entry in json.loads(_read(root / "expected.json"))["entries"]:
        path = root / entry["file"]
        text = _read(path)
        seconds = float(entry.get("max_parse_seconds", 5.0))
        placeholder = entry.get("template_placeholder")
        if placeholder:
            token = "{" + placeholder.strip("[]") + "}"
            for number, value in enumerate(entry["template_values"]):

                def subst(template: str, value: str = value, token: str = token) -> str:
                    return template.replace(token, value)

                variant = text.replace(placeholder, value)
                checks = _reply_checks(entry) + _fragment_checks(entry, subst, variant)
                yield Case(f"{entry['file']}[{number}]", variant, False, tuple(checks), seconds)
            continue
        checks = _reply_checks(entry) + _fragment_checks(entry, lambda t: t, text)
        if not checks and "max_parse_seconds" not in entry:
            continue  # the source project asserts nothing about this fixture
        assert entry["file"].startswith(base)
        yield Case(entry["file"], text, False, tuple(checks), seconds)


def talon_cases(root: Path, html: bool) -> Iterator[Case]:
    """Talon's plain (standard replies) or HTML cases."""
    for entry in json.loads(_read(root / "expected.json"))["entries"]:
        path = root / entry["file"]
        if html and "reply_text_equals" in entry:
            check = Check("visible", "equals_nows", entry["reply_text_equals"])
            yield Case(entry["file"], _read(path), True, (check,))
        elif not html and "reply_equals" in entry:
            check = Check("reply", "lines_eq", entry["reply_equals"])
            yield Case(entry["file"], _first_text_plain(path), False, (check,))
        elif not html and entry.get("reply_nonempty"):
            checks = [Check("visible", "nonempty")]
            checks += [Check("visible", "not_contains", w) for w in entry["reply_not_contains"]]
            yield Case(entry["file"], _read(path), False, tuple(checks))


def _field(result: StrippedReply, name: str) -> str:
    if name == "reply":
        return "\n\n".join(part for part in (result.visible, result.signature) if part)
    value = getattr(result, name)
    assert isinstance(value, str)
    return value


def _no_ws(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _lines(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def _passes(op: str, value: str, expected: str) -> bool:
    """Whether `value` satisfies the check `op` against `expected`."""
    if op == "equals":
        return value.strip() == expected
    if op == "contains":
        return expected in value
    if op == "not_contains":
        return expected not in value
    if op == "regex":
        return re.search(expected, value, re.MULTILINE) is not None
    if op == "empty":
        return value == ""
    if op == "nonempty":
        return value != ""
    if op == "equals_nows":
        return _no_ws(value) == _no_ws(expected)
    if op == "lines_eq":
        return _lines(value) == _lines(expected)
    raise AssertionError(f"unknown check {op!r}")


def failures(case: Case) -> list[str]:
    """Run one case; the list of failed checks (empty when it passes)."""
    started = time.process_time()
    if case.is_html:
        result = StrippedReply(visible=strip_html_reply(case.text), quoted="", signature="")
    else:
        result = strip_reply(case.text)
    elapsed = time.process_time() - started
    problems = [f"took {elapsed:.2f}s"] if elapsed > case.max_seconds else []
    for check in case.checks:
        value = _field(result, check.field)
        ok = _passes(check.op, value, check.value)
        if not ok:
            problems.append(f"{check.field} {check.op} {check.value[:60]!r}: got {value[:120]!r}")
    return problems


def _cases(corpus_dir: Path, name: str) -> list[Case]:
    if name == "talon-standard":
        return list(talon_cases(corpus_dir / "talon", html=False))
    if name == "talon-html":
        return list(talon_cases(corpus_dir / "talon", html=True))
    if name == "willdurand":
        return list(reply_parser_cases(corpus_dir / "willdurand-email-reply-parser", "fixtures/"))
    return list(reply_parser_cases(corpus_dir / "zapier-email-reply-parser", "emails/"))


@pytest.mark.parametrize("set_name", sorted(THRESHOLDS))
def test_corpus_pass_rate(
    corpus_dir: Path, set_name: str, record_property: Callable[[str, object], None]
) -> None:
    """Each reply-stripping set passes at least its recorded rate."""
    cases = _cases(corpus_dir, set_name)
    assert cases, f"no cases found for {set_name}"
    failed = {case.name: problems for case in cases if (problems := failures(case))}
    rate = (len(cases) - len(failed)) / len(cases)
    summary = f"{set_name}: {len(cases) - len(failed)}/{len(cases)} = {rate:.1%}"
    print(summary)
    for name, problems in failed.items():
        print(f"  FAIL {name}: {'; '.join(problems)}")
    record_property(f"quotes_rate_{set_name}", round(rate, 4))
    assert rate >= THRESHOLDS[set_name], summary + "".join(
        f"\n  {name}: {problems}" for name, problems in failed.items()
    )


def test_pathological_input_is_fast(corpus_dir: Path) -> None:
    """The zapier pathological body, repeated 50 times, strips in CPU seconds, not hours."""
    text = _read(corpus_dir / "zapier-email-reply-parser" / "emails" / "pathological.txt") * 50
    started = time.process_time()
    strip_reply(text)
    assert time.process_time() - started < 5.0
