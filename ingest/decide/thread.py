"""Which ticket a mail names: reply-token address, subject tag, or References.

Tried in that order. This module only finds the ticket a mail *names*; whether the sender
may comment on it is `ingest.decide.policy`'s decision.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy.orm import Session

from store import inbound, tickets
from store.records import TicketRecord
from store.reply_tokens import parse_token_address, token_matches

_REPLY_PREFIX = r"(?:re|aw|sv|vs|fw|fwd|wg|tr|antw|ref|rif|res|odp|vb|atb)"


@dataclass(frozen=True, slots=True)
class ThreadMatch:
    """The ticket a mail names, and how it was found."""

    ticket: TicketRecord
    via: str  # "reply token" | "subject tag" | "References"
    token_verified: bool  # sent to the sender's own reply-token address


@lru_cache(maxsize=16)
def _tag_patterns(prefix: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    escaped = re.escape(prefix)
    bracketed = re.compile(rf"\[\s*#?\s*({escaped})\s*-\s*(\d{{1,12}})\s*\]", re.IGNORECASE)
    bare = re.compile(
        rf"^\s*(?:{_REPLY_PREFIX}\s*(?:\[\d+\]|\(\d+\))?\s*:\s*)*#?({escaped})-(\d{{1,12}})\b",
        re.IGNORECASE,
    )
    return bracketed, bare


def subject_tag(subject: str, prefix: str) -> str | None:
    """`[SUP-1042]`, `[#sup-1042]`, or a bare `SUP-1042` after Re:/AW:/Fwd: -> 'SUP-1042'."""
    bracketed, bare = _tag_patterns(prefix)
    match = bracketed.search(subject) or bare.search(subject)
    if not match:
        return None
    return f"{match.group(1).upper()}-{int(match.group(2))}"


def token_addresses(addresses: Iterable[str], support_addresses: frozenset[str]) -> list[str]:
    """The addresses among `addresses` that look like reply tokens of our support addresses."""
    found = []
    for address in addresses:
        parsed = parse_token_address(address)
        if parsed and parsed.base_address in support_addresses:
            found.append(address.lower())
    return list(dict.fromkeys(found))


def find_ticket(
    session: Session,
    *,
    sender: str,
    subject: str,
    recipients: Iterable[str],
    message_ids: list[str],
    prefix: str,
    secret_key: str,
    support_addresses: frozenset[str],
    token_owners: tuple[str, ...] = (),
    previous_keys: tuple[str, ...] = (),
) -> ThreadMatch | None:
    """The ticket the mail names, by reply token, then subject tag, then References.

    A token counts when it was issued to the sender, or to one of `token_owners` (staff
    answering a notice sent to the team address).
    """
    owners = (sender, *token_owners)
    for address in token_addresses(recipients, support_addresses):
        parsed = parse_token_address(address)
        assert parsed is not None
        if not any(token_matches(secret_key, parsed, owner, previous_keys) for owner in owners):
            continue
        ticket = tickets.find_ticket(session, parsed.ticket_number)
        if ticket is not None:
            return ThreadMatch(ticket, "reply token", token_verified=True)
    number = subject_tag(subject, prefix)
    if number is not None:
        ticket = tickets.find_ticket(session, number)
        if ticket is not None:
            return ThreadMatch(ticket, "subject tag", token_verified=False)
    ticket_id = inbound.ticket_for_message_ids(session, message_ids)
    if ticket_id is not None:
        return ThreadMatch(tickets.get_ticket(session, ticket_id), "References", False)
    return None


def named_number(
    subject: str, recipients: Iterable[str], prefix: str, support_addresses: frozenset[str]
) -> str | None:
    """A ticket number the mail names, whether or not it exists (for the not-found reply)."""
    for address in token_addresses(recipients, support_addresses):
        parsed = parse_token_address(address)
        if parsed:
            return parsed.ticket_number
    return subject_tag(subject, prefix)
