"""Is this message a report about mail we sent: a bounce, delay, success or feedback report?

Standard reports come first (multipart/report with message/delivery-status, ARF
message/feedback-report, MDN message/disposition-notification); then non-standard bounces
are recognised from a mail-system sender (MAILER-DAEMON, postmaster, "Mail Delivery
Subsystem"), a bounce subject, a failure notice text, a null sender or an attached original,
always from two signals unless one is conclusive on its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from email.message import Message
from enum import StrEnum
from functools import cached_property

from ingest.classify.dsn import (
    DsnRecipient,
    addresses_in_header,
    delivery_status_text,
    parse_delivery_status,
    recipients_from_text,
)
from ingest.classify.mime import (
    addresses,
    content_param,
    content_type,
    display_names,
    first_text,
    has_header,
    header_text,
    own_parts,
)
from ingest.classify.ses import ses_notification
from ingest.classify.signals import (
    AUTO_REPLY_SUBJECT_STRONG,
    BOUNCE_NOTICE,
    BOUNCE_SUBJECT,
    MAIL_SYSTEM_NAME,
    MAILER_DAEMON_LOCAL,
    POSTMASTER_LOCAL,
    REPLY_OR_FORWARD_PREFIX,
)


class ReportKind(StrEnum):
    """What a machine-made report about a sent message says."""

    FAILURE = "failure"
    DELAY = "delay"
    SUCCESS = "success"
    FEEDBACK = "feedback"
    READ_RECEIPT = "read_receipt"


@dataclass(frozen=True, slots=True)
class ReportFinding:
    """A message recognised as a report, why, and the recipients whose delivery failed."""

    kind: ReportKind
    reason: str
    recipients: tuple[str, ...]


@dataclass(frozen=True)
class Envelope:
    """Sender facts the bounce rules need, read once from the message.

    `from_names` and `exclude` are read when a rule first asks: most mail is a person's,
    and only bounce rules look at them.
    """

    message: Message = field(repr=False)
    own_addresses: frozenset[str]
    from_addresses: tuple[str, ...]
    null_sender: bool
    auto_submitted: bool

    @cached_property
    def from_names(self) -> tuple[str, ...]:
        return tuple(display_names(self.message, "From"))

    @cached_property
    def exclude(self) -> frozenset[str]:
        """Addresses that are not failed recipients: ours and the bounce's own."""
        message = self.message
        return frozenset(
            self.own_addresses.union(self.from_addresses)
            .union(addresses(message, "To"))
            .union(addresses(message, "Return-Path"))
            .union(addresses(message, "Reply-To"))
        )


def find_report(message: Message, envelope: Envelope) -> ReportFinding | None:
    """The report `message` is, or None when it is not a bounce or other report."""
    return _standard_report(message, envelope) or _nonstandard_bounce(message, envelope)


def _standard_report(message: Message, envelope: Envelope) -> ReportFinding | None:
    top_type = content_type(message)
    report_type = content_param(message, "report-type") if top_type == "multipart/report" else ""
    label = f"multipart/report; report-type={report_type}" if report_type else ""
    status_parts: list[Message] = []
    for part in own_parts(message):
        part_type = content_type(part)
        if part_type in ("message/delivery-status", "message/global-delivery-status"):
            label = label or part_type
            status_parts.append(part)
        elif part_type == "message/feedback-report" or report_type == "feedback-report":
            return ReportFinding(
                ReportKind.FEEDBACK, f"feedback report (ARF, {label or part_type})", ()
            )
        elif part_type == "message/disposition-notification":
            return ReportFinding(
                ReportKind.READ_RECEIPT, f"read receipt ({label or part_type})", ()
            )
    if status_parts:
        records = [
            record
            for part in status_parts
            for record in parse_delivery_status(delivery_status_text(part))
        ]
        return _delivery_status(message, records, label, envelope)
    if report_type == "delivery-status":
        return ReportFinding(ReportKind.FAILURE, label, _text_recipients(message, envelope))
    ses = ses_notification(first_text(message), envelope.from_addresses)
    if ses is not None:
        kind = {"bounce": ReportKind.FAILURE, "complaint": ReportKind.FEEDBACK}.get(
            ses.notification_type, ReportKind.SUCCESS
        )
        return ReportFinding(
            kind, f"Amazon SES {ses.notification_type} notification", ses.recipients
        )
    if _is_hotmail_complaint(message, envelope):
        return ReportFinding(ReportKind.FEEDBACK, "feedback report (Hotmail complaint)", ())
    return None


def _delivery_status(
    message: Message, records: list[DsnRecipient], label: str, envelope: Envelope
) -> ReportFinding:
    failed = _unique(r.address for r in records if r.failed and r.address)
    if records and all(r.succeeded for r in records):
        actions = ", ".join(sorted({r.action for r in records}))
        return ReportFinding(ReportKind.SUCCESS, f"{label}, Action: {actions}", ())
    if failed:
        return ReportFinding(ReportKind.FAILURE, label, failed)
    if _only_delays(records):
        return ReportFinding(ReportKind.DELAY, f"{label}, Action: delayed", ())
    return ReportFinding(ReportKind.FAILURE, label, _text_recipients(message, envelope))


def _only_delays(records: list[DsnRecipient]) -> bool:
    return bool(records) and all(r.action.startswith("delayed") or r.succeeded for r in records)


def _nonstandard_bounce(message: Message, envelope: Envelope) -> ReportFinding | None:
    failed_header = header_text(message, "X-Failed-Recipients")
    if failed_header:
        return ReportFinding(
            ReportKind.FAILURE,
            "header X-Failed-Recipients",
            _unique(addresses_in_header(failed_header)),
        )
    daemon = next((a for a in envelope.from_addresses if _is_mailer_daemon(a)), None)
    if daemon is not None:
        return ReportFinding(
            ReportKind.FAILURE, f"From {daemon}", _text_recipients(message, envelope)
        )
    subject = header_text(message, "Subject")
    person_subject = bool(REPLY_OR_FORWARD_PREFIX.match(subject))
    if AUTO_REPLY_SUBJECT_STRONG.match(subject):
        return None  # "Automatic reply: Undeliverable invoice" is an out-of-office reply
    subject_hit = not person_subject and bool(BOUNCE_SUBJECT.search(subject))
    system_sender = _system_sender(envelope)
    if not (system_sender or subject_hit or envelope.null_sender or envelope.auto_submitted):
        return None  # no rule below can fire: spare the body scan (the common case)
    notice_hit = bool(BOUNCE_NOTICE.search(first_text(message)[:8000]))
    original_attached = _has_original(message)
    evidence = [
        ("bounce subject", subject_hit),
        ("failure notice text", notice_hit),
        ("null sender (Return-Path <>)", envelope.null_sender),
        ("header Auto-Submitted", envelope.auto_submitted),
        ("returned original attached", original_attached),
    ]
    found = [name for name, hit in evidence if hit]
    if system_sender and found and not person_subject:
        return ReportFinding(
            ReportKind.FAILURE,
            f"From {system_sender} + {' + '.join(found)}",
            _text_recipients(message, envelope),
        )
    if (subject_hit and len(found) >= 2) or (
        len(found) >= 3 and (envelope.null_sender or envelope.auto_submitted)
    ):
        return ReportFinding(
            ReportKind.FAILURE, " + ".join(found), _text_recipients(message, envelope)
        )
    return None


def _is_mailer_daemon(address: str) -> bool:
    return bool(MAILER_DAEMON_LOCAL.match(address.split("@", 1)[0]))


def _system_sender(envelope: Envelope) -> str:
    for address in envelope.from_addresses:
        if POSTMASTER_LOCAL.match(address.split("@", 1)[0]):
            return address
    for name in envelope.from_names:
        if MAIL_SYSTEM_NAME.search(name):
            return f'"{name[:60]}"'
    return ""


def _has_original(message: Message) -> bool:
    return any(
        content_type(part) in ("message/rfc822", "text/rfc822-headers")
        for part in own_parts(message)
        if part is not message
    )


def _is_hotmail_complaint(message: Message, envelope: Envelope) -> bool:
    senders = {"staff@hotmail.com", "staff@outlook.com", "staff@live.com"}
    subject = header_text(message, "Subject").lower()
    return bool(senders.intersection(envelope.from_addresses)) and subject.startswith(
        "complaint about message from"
    )


def _text_recipients(message: Message, envelope: Envelope) -> tuple[str, ...]:
    listed = addresses_in_header(header_text(message, "X-Failed-Recipients"))
    if listed:
        return _unique(listed)
    return _unique(recipients_from_text(first_text(message), envelope.exclude))


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def read_envelope(
    message: Message, own_addresses: frozenset[str], envelope_from: str | None
) -> Envelope:
    """Collect the sender facts of `message` that the bounce and auto-reply rules use."""
    from_addresses = tuple(addresses(message, "From") + addresses(message, "Sender"))
    return_path = header_text(message, "Return-Path").strip()
    null_sender = envelope_from == "" or (
        has_header(message, "Return-Path") and return_path.strip("<> ") == ""
    )
    auto_submitted = header_text(message, "Auto-Submitted").split(";", 1)[0].strip().lower()
    return Envelope(
        message=message,
        own_addresses=own_addresses,
        from_addresses=from_addresses,
        null_sender=null_sender,
        auto_submitted=bool(auto_submitted) and auto_submitted != "no",
    )
