"""Held and quarantined mail coming back: released, retried, dropped, shown, and the flood
limit's holds released by themselves once their window has passed.

Held mail (the flood limit, `unknown_senders = "hold"`) and quarantined mail (it could not
be used) wait encrypted in the quarantine (`ingest.spool.quarantine`); its item says which
(`state`). `release_due` runs from the scheduler (`serve`, `postdesk sweep`): a flood hold
whose window has passed is decided again, in arrival order, at most the limit's count per
sender (or domain) a window, so a flood comes back at the rate the desk accepts; the rest
wait for the next window. An operator's `release` (and `retry`) bypasses every hold. Each
re-run is decided afresh (`RawMessage.released`) with the time the mail first arrived, so
its SLA clock starts when the customer wrote.
"""

from __future__ import annotations

import contextlib
import email.parser
import email.policy
import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ingest.errors import QuarantineItemNotFound, QuarantineKeyError
from ingest.model import Hold, IngestMode, RawMessage
from ingest.parse.message import normalise_message_id
from ingest.pipeline import quick_message_id
from ingest.redact.headers import safe_message_id
from ingest.redact.redactor import redact_text
from ingest.spool.quarantine import QuarantineItem, message_ref
from notify.digests import HeldSender, MailWaiting, QuarantinedMail
from postdesk.app import App
from store import inbound
from store.records import iso

log = logging.getLogger(__name__)

# An operator's release: no flood limit, no moderation hold.
OPERATOR_RELEASE = IngestMode(holds=False, note="taken out of the quarantine by an operator")
# A flood hold whose window passed: no flood limit, but `unknown_senders = "hold"` applies.
WINDOW_RELEASE = IngestMode(flood_limit=False, note="released after its flood window")
SHOWN_HEADERS = (
    "From",
    "Sender",
    "Reply-To",
    "To",
    "Cc",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "Auto-Submitted",
    "Precedence",
    "List-Id",
    "Content-Type",
)
MAX_HEADER_CHARS = 300


@dataclass(frozen=True, slots=True)
class Released:
    """What became of one item taken out of the quarantine."""

    id: str
    state: str  # what it was: held or quarantined
    outcome: str
    ticket: str | None
    reason: str

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "state": self.state,
            "outcome": self.outcome,
            "ticket": self.ticket,
            "reason": self.reason,
        }


def item_json(item: QuarantineItem) -> dict[str, Any]:
    """One item as `quarantine list --json` and `quarantine show --json` print it."""
    hold = item.hold
    return {
        "id": item.id,
        "state": item.state,
        "received_at": iso(item.received_at),
        "quarantined_at": iso(item.quarantined_at),
        "reason": item.reason,
        "sender": item.sender or item.mail_from,
        "source": item.source,
        "size": item.size,
        "attempts": item.attempts,
        "hold": None if hold is None else hold.scope,
        "release_at": iso(hold.until) if hold else None,
    }


def ordered(items: list[QuarantineItem]) -> list[QuarantineItem]:
    """Items in arrival order: when the mail was received, then when it was kept."""
    return sorted(items, key=lambda item: (item.received_at, item.quarantined_at, item.id))


def take_out(app: App, item: QuarantineItem, mode: IngestMode) -> Released:
    """Decide one item afresh (with `mode`); the item goes once its decision is recorded
    (should it be held or quarantined again, the intake keeps a new item)."""
    raw = RawMessage(
        data=app.quarantine.read(item.id),
        rcpts=item.rcpts,
        mail_from=item.mail_from,
        source=item.source,
        received_at=item.received_at,
        released=True,
        mode=mode,
    )
    result = app.intake.ingest(raw)
    # Another daemon may have taken it out at the same moment: its decision stands.
    with contextlib.suppress(QuarantineItemNotFound):
        app.quarantine.remove(item.id)
    log.info(
        "quarantine: %s %s taken out: outcome=%s ticket=%s",
        item.state,
        item.id,
        result.outcome.value,
        result.ticket or "-",
    )
    return Released(item.id, item.state, result.outcome.value, result.ticket, result.reason)


def release(app: App, item_id: str) -> Released:
    """An operator's release of one item: decided again, bypassing every hold."""
    return take_out(app, app.quarantine.get(item_id), OPERATOR_RELEASE)


def held_from(app: App, address: str) -> list[QuarantineItem]:
    """The held items of one sender, in arrival order."""
    wanted = address.strip().lower()
    return ordered(
        [
            item
            for item in app.quarantine.list()
            if item.hold is not None and (item.sender or item.mail_from).lower() == wanted
        ]
    )


def release_sender(app: App, address: str) -> list[Released]:
    """An operator's release of every held item of one sender, in arrival order."""
    return [take_out(app, item, OPERATOR_RELEASE) for item in held_from(app, address)]


def retry(app: App, item_id: str | None) -> list[Released]:
    """Run one item (or every item, in arrival order) again; held mail is released (the
    hold bypassed), so a retry never just holds it again."""
    items = [app.quarantine.get(item_id)] if item_id else ordered(app.quarantine.list())
    return [take_out(app, item, OPERATOR_RELEASE) for item in items]


def drop(app: App, item_id: str, now: datetime) -> QuarantineItem:
    """Delete one item for good; its decision record says it was dropped."""
    item = app.quarantine.get(item_id)
    message_id = _message_id(app, item)
    app.quarantine.remove(item.id)
    if message_id:
        with app.db.transaction() as session:
            inbound.note_on_record(
                session, message_id, f"dropped from the quarantine at {now:%Y-%m-%d %H:%M} UTC"
            )
    log.info("quarantine: %s %s dropped", item.state, item.id)
    return item


def _message_id(app: App, item: QuarantineItem) -> str | None:
    try:
        return quick_message_id(app.quarantine.read(item.id), app.pipeline.options.secret_key)
    except Exception:  # an unreadable item (another key): nothing to note
        return None


def release_due(app: App, now: datetime) -> list[Released]:
    """Release the flood holds whose window has passed, in arrival order, at most the
    limit's count per address (or domain) at a time; the others wait one more window."""
    options = app.pipeline.options
    limits = {"address": options.sender_rate, "domain": options.domain_rate}
    due = [
        item
        for item in ordered(app.quarantine.list())
        if item.hold is not None
        and item.hold.scope in limits
        and item.hold.until is not None
        and item.hold.until <= now
    ]
    taken: dict[tuple[str, str], int] = {}
    released: list[Released] = []
    for item in due:
        hold = item.hold
        assert hold is not None
        limit = limits[hold.scope]
        group = (hold.scope, hold.who)
        if limit is not None and taken.get(group, 0) >= limit.count:
            later = Hold(hold.scope, hold.who, now + limit.window)
            app.quarantine.update(replace(item, hold=later))
            continue
        taken[group] = taken.get(group, 0) + 1
        try:
            released.append(take_out(app, item, WINDOW_RELEASE))
        except QuarantineItemNotFound:
            continue  # another daemon released it meanwhile
        except QuarantineKeyError as exc:  # kept under another secret_key: wait for it
            log.warning("held mail %s cannot be released: %s", item.id, exc)
    if released:
        log.info("held mail: %d message(s) released after their window", len(released))
    return released


def quarantine_ids_for(app: App, message_id: str | None) -> list[str]:
    """The quarantine items of the mail with this Message-ID (as the store keeps it)."""
    ref = message_ref(message_id)
    return [item.id for item in app.quarantine.list() if ref and item.message_ref == ref]


def show(app: App, item_id: str) -> dict[str, Any]:
    """One item for `quarantine show`: its metadata and its headers, with secrets removed
    from every value (never the body)."""
    item = app.quarantine.get(item_id)
    detail = item_json(item)
    detail["rcpts"] = list(item.rcpts)
    detail["mail_from"] = item.mail_from
    raw = app.quarantine.read(item.id)
    headers = email.parser.BytesParser(policy=email.policy.default).parsebytes(
        raw, headersonly=True
    )
    key = app.pipeline.options.secret_key
    shown: dict[str, str] = {}
    for name in SHOWN_HEADERS:
        try:
            value = headers.get(name)
            text = None if value is None else " ".join(str(value).split())
        except Exception:  # a header the email package cannot decode
            text = "[unreadable]"
        if text is None:
            continue
        if name in ("Message-ID", "In-Reply-To"):
            shown[name] = safe_message_id(normalise_message_id(text), key) or "-"
        else:
            shown[name] = str(redact_text(text[:MAX_HEADER_CHARS]).text)
    detail["headers"] = shown
    return detail


def mail_waiting(app: App) -> MailWaiting:
    """What waits in the quarantine, for the digest: held mail by sender (scope, next
    release) and every quarantined mail, in arrival order."""
    items = ordered(app.quarantine.list())
    senders: dict[str, list[QuarantineItem]] = {}
    for item in items:
        if item.hold is not None:
            senders.setdefault(item.sender or item.mail_from, []).append(item)
    held = tuple(
        HeldSender(
            sender=sender,
            count=len(group),
            scope=group[0].hold.scope if group[0].hold else "moderation",
            release_at=min((i.hold.until for i in group if i.hold and i.hold.until), default=None),
        )
        for sender, group in sorted(senders.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    )
    quarantined = tuple(
        QuarantinedMail(item.id, item.reason, item.received_at)
        for item in items
        if item.hold is None
    )
    return MailWaiting(held, quarantined)
