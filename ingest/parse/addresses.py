"""Address headers to `Address` tuples, the way mail clients read them, and the best sender.

`addresses` reads every occurrence of one header: the common shapes by a fast regex,
the rest with mail-parser's strict parser (with its diagnostics), and what both give up
on by `recover_mailboxes`. Names are decoded, emails lowercased, duplicates dropped with a
set, and at most `max_addresses` kept (the rest noted), so a 100,000-address Cc costs
milliseconds, not minutes (very long lists are cut before the strict parse).

`recover_mailboxes` reads address text the strict parsers give up on, as mail clients
still show it: `Jane jane@example.org` (no angle brackets), `"Sales Team"@example.org>`
(a quoted local part, a stray bracket), `Jane <jane doe@example.org>` (a local part with
spaces, quoted as RFC 5322 wants it). Text without any `@` (`jane at example dot org`)
stays unusable. `best_sender` takes the first From mailbox; when From has none, the first
of Sender, Reply-To and Return-Path that has one, and says which header it used.
"""

from __future__ import annotations

import email.headerregistry
import email.utils
import re

from mailparser.utils import get_addresses

from ingest.model import Address
from ingest.parse.decode import header_text, text_from_surrogates

__all__ = ["MAX_ADDRESSES", "SENDER_HEADERS", "addresses", "best_sender", "recover_mailboxes"]

#: Mailboxes kept per address header (To, Cc...); more are dropped and noted as a defect.
MAX_ADDRESSES = 1000

#: Where a sender is looked for, in order, when From has no usable mailbox.
SENDER_HEADERS = ("sender", "reply-to", "return-path")

#: One element of an address list up to its separating comma (quotes, comments and angle
#: brackets may hold commas); used to cut very long lists before the slower strict parse.
_LIST_ITEM = re.compile(r'(?:"(?:[^"\\]|\\.)*"?|\([^()]*\)?|<[^<>]*>?|[^,"(<])*')
#: Address headers longer than this are cut to about twice the kept mailboxes first.
_LONG_LIST = 16 * 1024
_NULL_PATH = re.compile(r"[^<>@]*<\s*>\s*")
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+"
_SIMPLE_ADDR = rf"{_ATEXT}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
_SIMPLE_MAILBOX = re.compile(
    rf"""[ \t]*(?:(?P<quoted>"(?:[^"\\\r\n]|\\[^\r\n])*")[ \t]*<(?P<a1>{_SIMPLE_ADDR})>
    |(?P<phrase>[^"<>@,;:()\[\]\\\r\n]*)<(?P<a2>{_SIMPLE_ADDR})>
    |(?P<a3>{_SIMPLE_ADDR}))[ \t]*(?:,|$)""",
    re.X,
)
_DOMAIN = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
#: A mailbox somewhere in free text: a quoted local part, or a run of non-separators.
_LOOSE = re.compile(
    rf"""(?P<quoted>"[^"\r\n]*")@(?P<qdomain>{_DOMAIN})
    |<(?P<angled>[^<>@]+)@(?P<adomain>{_DOMAIN})\s*>
    |(?<![^\s<>"(),;:])(?P<plain>[^\s<>"(),;:@\[\]]+)@(?P<pdomain>{_DOMAIN})""",
    re.X,
)
_ATOM_LOCAL = re.compile(_ATEXT)
_COMMENT = re.compile(r"\(([^()]*)\)")
_ANGLED = re.compile(r"<[^<>]*>")
_SPACED_DOT = re.compile(r"\s*([.@])\s*")
_NAME_JUNK = " \t\"'<>,;:"
_HEADERS = email.headerregistry.HeaderRegistry()
#: Comments are read out of names (with the stdlib's slower RFC 5322 parser) up to this size.
_COMMENT_PARSE_MAX = 4096


def recover_mailboxes(text: str) -> list[tuple[str, str]]:
    """(display name, address) pairs found leniently in `text`; [] when none is usable."""
    found: list[tuple[str, str]] = []
    spans: list[tuple[int, int]] = []
    if "<" in text:  # obsolete syntax: comments and spaces inside <jdoe@machine(x). example>
        text = _ANGLED.sub(lambda m: _SPACED_DOT.sub(r"\1", _COMMENT.sub("", m.group(0))), text)
    for match in _LOOSE.finditer(text):
        if match.group("quoted") is not None:
            local, domain = _local_part(match.group("quoted")[1:-1]), match.group("qdomain")
        elif match.group("angled") is not None:
            local, domain = _local_part(match.group("angled")), match.group("adomain")
        else:
            local, domain = _local_part(match.group("plain")), match.group("pdomain")
        if local:
            found.append(("", f"{local}@{domain}"))
            spans.append(match.span())
    if len(found) == 1:  # one mailbox: the other words are its display name
        rest = text[: spans[0][0]] + " " + text[spans[0][1] :]
        name = " ".join(_COMMENT.sub(r"\1", rest).split()).strip(_NAME_JUNK)
        found[0] = (name, found[0][1])
    return found


def _local_part(local: str) -> str:
    """The local part as RFC 5322 writes it: quoted when it is no dot-atom (spaces...)."""
    local = " ".join(local.split())
    if not local:
        return ""
    if _ATOM_LOCAL.fullmatch(local):
        return local
    return '"' + local.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _comment_name(text: str) -> str:
    """The comment of `<jane@example.org> (Jane)`, old-style display name, or ''."""
    found = _COMMENT.search(text)
    return " ".join(found.group(1).split()) if found else ""


def addresses(
    values: list[str],
    name: str,
    defects: list[str],
    hint: str | None = None,
    limit: int = MAX_ADDRESSES,
) -> tuple[Address, ...]:
    """Mailboxes of every occurrence of one address header: names decoded, emails lowercased,
    duplicates dropped, at most `limit` kept (the rest noted as a defect)."""
    out: list[Address] = []
    seen: set[str] = set()
    dropped = 0
    for value in values:
        if len(out) >= limit:
            dropped += 1
            break
        text, note = text_from_surrogates(value, hint)
        if note:
            defects.append(f"{name}: {note}")
        if len(text) > _LONG_LIST:
            shorter = _first_items(text, 2 * limit + 10)
            dropped += len(shorter) < len(text)
            text = shorter
        text = " ".join(text.split())
        if _NULL_PATH.fullmatch(text):  # "MAILER-DAEMON <>": the null sender, not an error
            continue
        simple = _simple_mailboxes(text)
        if simple is not None:
            pairs = simple
        else:
            diagnostics: list[dict[str, object]] = []
            try:
                pairs = get_addresses(text, defects=diagnostics, decode_names=True)
            except Exception:  # third-party parser on hostile input: never let it stop us
                pairs = email.utils.getaddresses([text])
                defects.append(f"{name}: address list could not be parsed strictly")
            defects.extend(f"{name}: {d.get('reason')}" for d in diagnostics)
            if not any("@" in found for _, found in pairs):
                pairs = recover_mailboxes(text)
                if pairs:
                    defects.append(f"{name}: malformed address read leniently")
        if len(pairs) == 1 and not pairs[0][0] and "(" in text:
            pairs = [(_comment_name(text), pairs[0][1])]
        elif "(" in text and len(text) <= _COMMENT_PARSE_MAX and _has_comment(pairs):
            pairs = _names_without_comments(text, pairs)
        for display, found in pairs:
            addr = found.strip().lower()
            if "@" not in addr or addr in seen:
                continue
            if len(out) >= limit:
                dropped += 1
                continue
            seen.add(addr)
            out.append(Address(header_text(display, hint)[0].strip('"').strip(), addr))
    if dropped:
        defects.append(f"{name}: more than {limit} addresses; only the first {limit} kept")
    return tuple(out)


def _has_comment(pairs: list[tuple[str, str]]) -> bool:
    return any("(" in display for display, _ in pairs)


def _names_without_comments(text: str, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """`Pete(A wonderful \\) chap) <pete(his account)@silly.test>`: the display name is
    `Pete`, the rest are comments (RFC 5322 A.5). The stdlib's RFC 5322 parser knows
    comments; its names are used when it finds the same mailboxes, else `pairs` stay."""
    try:
        header = _HEADERS("from", text)
    except Exception:  # the stdlib parser on hostile input: keep what we have
        return pairs
    if not isinstance(header, email.headerregistry.AddressHeader):  # pragma: no cover
        return pairs
    parsed = header.addresses
    if [a.addr_spec.lower() for a in parsed] != [found.lower() for _, found in pairs]:
        return pairs
    named = zip(parsed, pairs, strict=True)
    return [(a.display_name or display, found) for a, (display, found) in named]


def _first_items(text: str, count: int) -> str:
    """`text` up to the end of its `count`-th list element (the rest cannot be kept anyway)."""
    pos, end = 0, len(text)
    for _ in range(count):
        found = _LIST_ITEM.match(text, pos)
        pos = (found.end() if found else pos) + 1
        if pos >= end:
            return text
    return text[: pos - 1]


def _simple_mailboxes(text: str) -> list[tuple[str, str]] | None:
    """Fast path for the common shapes (`a@b`, `Name <a@b>`, `"Name" <a@b>`); None otherwise."""
    pairs: list[tuple[str, str]] = []
    pos, end = 0, len(text)
    while pos < end:
        match = _SIMPLE_MAILBOX.match(text, pos)
        if match is None or match.end() == pos:
            return None
        quoted, phrase = match.group("quoted"), match.group("phrase")
        if quoted is not None:
            name = re.sub(r"\\(.)", r"\1", quoted[1:-1])
        else:
            name = (phrase or "").strip()
        pairs.append((name, match.group("a1") or match.group("a2") or match.group("a3")))
        pos = match.end()
    return pairs or None


def best_sender(
    found: dict[str, tuple[Address, ...]],
    headers: dict[str, list[str]],
    defects: list[str],
    hint: str | None,
) -> tuple[Address | None, str]:
    """The first From mailbox; when From is missing or unusable, the first of Sender,
    Reply-To and Return-Path that has one. Returns it with the header's name ("" if none)."""
    if found["from"]:
        return found["from"][0], "from"
    for fallback in SENDER_HEADERS:
        mailboxes = found.get(fallback) or addresses(headers.get(fallback, []), fallback, [], hint)
        if mailboxes:
            defects.append(f"From: missing or unreadable; sender taken from {fallback.title()}")
            return mailboxes[0], fallback
    return None, ""
