"""Classify an inbound message: a bounce, an automatic reply, or a person's mail (RFC 3464, 3834).

Order of the rules: reports about mail we sent come first (RFC 3464 delivery-status and
non-standard bounces), then automatic replies (RFC 3834 and the usual vendor headers), then
other automatic mail (`Auto-Submitted: auto-generated`: alerts, notifications), then
everything else is a person's mail. Bounces and auto-replies never open tickets and are
never answered; a failed delivery names the recipients to mark as bouncing. Automated mail
opens a ticket when the pipeline accepts its sender, and is never answered.

Decisions a reader might look for:
- ARF feedback reports (abuse complaints) are BOUNCE with no recipients: they are reports
  about a message we sent, like a bounce, but nobody is marked as bouncing.
- Delay warnings (Action: delayed) are BOUNCE with no recipients: the mail may still arrive.
- Delivery-success reports and read receipts (MDN) are AUTO_REPLY: machine mail that is
  neither a failure nor a person.
- `reason` names headers, content types and matched rules, never body text, and quotes at
  most a short header token, so it is safe to store and log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.message import Message
from enum import StrEnum

from ingest.classify.auto import auto_reply_reason, automated_reason
from ingest.classify.bounce import ReportFinding, ReportKind, find_report, read_envelope
from ingest.classify.dsn import returned_message_id
from ingest.classify.mime import first_message_id, header_text

log = logging.getLogger(__name__)


class MessageKind(StrEnum):
    """What an inbound message is, as far as ticketing is concerned."""

    PERSON = "person"
    BOUNCE = "bounce"
    AUTO_REPLY = "auto_reply"
    AUTOMATED = "automated"  # auto-generated alerts and notifications: a ticket, never answered


@dataclass(frozen=True, slots=True)
class Classification:
    """The classifier's verdict on one message.

    `reason` is operator-readable ("bounce: multipart/report; report-type=delivery-status").
    `bounced_recipients` are the lowercased addresses whose delivery failed (bounces only).
    `original_message_id` is the Message-ID ("<...>") of the returned or replied-to
    original, when the message names one.
    """

    kind: MessageKind
    reason: str
    bounced_recipients: tuple[str, ...] = ()
    original_message_id: str | None = None


_REPORT_KINDS = {
    ReportKind.FAILURE: (MessageKind.BOUNCE, "bounce"),
    ReportKind.DELAY: (MessageKind.BOUNCE, "bounce (delay warning, recipients not marked)"),
    ReportKind.FEEDBACK: (MessageKind.BOUNCE, "bounce"),
    ReportKind.SUCCESS: (MessageKind.AUTO_REPLY, "auto-reply: delivery-success report"),
    ReportKind.READ_RECEIPT: (MessageKind.AUTO_REPLY, "auto-reply"),
}


def classify(
    message: Message,
    *,
    own_addresses: frozenset[str] = frozenset(),
    loop_marker: str | None = None,
    envelope_from: str | None = None,
) -> Classification:
    """Classify `message` (parsed with the compat32 policy) as PERSON, BOUNCE or AUTO_REPLY.

    `own_addresses` are our support addresses (lowercase): mail From one of them is a loop.
    `loop_marker` is the X-Loop value our outgoing mail carries. `envelope_from` is the SMTP
    MAIL FROM when known ("" for the null sender <>), as Return-Path may be missing.
    Never raises: a message too broken to read is a person's mail, with a reason saying so.
    """
    own = frozenset(a.strip().lower() for a in own_addresses if a.strip())
    try:
        return _classify(message, own, loop_marker, envelope_from)
    except Exception as error:  # classification must never stop ingest; the pipeline goes on
        log.warning("classify: unreadable message taken as a person's (%s)", type(error).__name__)
        return Classification(
            MessageKind.PERSON,
            f"person: no automatic-mail signal could be read ({type(error).__name__})",
        )


def _classify(
    message: Message,
    own_addresses: frozenset[str],
    loop_marker: str | None,
    envelope_from: str | None,
) -> Classification:
    envelope = read_envelope(message, own_addresses, envelope_from)
    report = find_report(message, envelope)
    if report is not None:
        return _from_report(message, report)
    reason = auto_reply_reason(message, envelope, own_addresses, loop_marker)
    if reason is not None:
        return Classification(
            MessageKind.AUTO_REPLY,
            f"auto-reply: {reason}",
            (),
            first_message_id(header_text(message, "In-Reply-To")),
        )
    generated = automated_reason(message)
    if generated is not None:
        return Classification(MessageKind.AUTOMATED, f"automated: {generated}")
    return Classification(MessageKind.PERSON, "person: no bounce or auto-reply signal")


def _from_report(message: Message, report: ReportFinding) -> Classification:
    kind, prefix = _REPORT_KINDS[report.kind]
    recipients = report.recipients if report.kind is ReportKind.FAILURE else ()
    original = returned_message_id(message)
    reason = f"{prefix}: {report.reason}" if report.reason else prefix
    if report.kind is ReportKind.FAILURE and not recipients:
        reason += " (no failed recipient found)"
    return Classification(kind, reason, recipients, original)


__all__ = ["Classification", "MessageKind", "classify"]
