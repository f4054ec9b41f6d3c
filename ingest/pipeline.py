"""One message, one transaction: dedupe, classify, limit, redact, thread, decide, record.

`Pipeline.process` runs inside the caller's transaction, so the caller chooses the unit of
work (one message for the daemon, a batch of savepoints for `import`). Expected results
(duplicate, ignored, rejected, held) are `Outcome` values, not exceptions; a mail that can
never be used comes back as `quarantined` and the caller keeps the raw bytes encrypted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from ingest.analyse import Analysis, AnalysisOptions, analyse
from ingest.classify.kind import MessageKind
from ingest.decide import authres, policy
from ingest.decide.actions import Actions
from ingest.decide.context import Context
from ingest.decide.dates import received_from_header
from ingest.decide.imported import as_imported
from ingest.decide.notices import Notices
from ingest.decide.ratelimit import flood_check
from ingest.model import Hold, IngestResult, Outcome, ParsedMessage, RawMessage
from ingest.options import PipelineOptions
from ingest.parse.message import normalise_message_id
from ingest.prepare import stored_message_id
from store import comments, directory, inbound, tickets, webhooks
from store.blobs import BlobStore
from store.clock import utcnow
from store.inbound import NewMessage
from store.records import MessageRecord

BOUNCE_LOOKBACK = timedelta(days=7)
# Outcomes whose raw mail is kept (encrypted) so that `postdesk quarantine retry` can re-run it.
KEPT_FOR_RETRY = frozenset({Outcome.QUARANTINED.value, Outcome.HELD.value})


def dedupe_key(message_id: str | None, raw: bytes) -> str:
    """The normalised Message-ID, or a hash of the raw bytes when there is none."""
    if message_id:
        return "mid:" + message_id[:500]
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def quick_message_id(raw: bytes, id_key: str) -> str | None:
    """The Message-ID read from the header block only (cheap; used before a full parse),
    as the store keeps it (a stand-in when it holds a secret; `id_key` keys it)."""
    head = raw.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    lines = head.replace(b"\r\n", b"\n").split(b"\n")
    for index, line in enumerate(lines):
        if line[:11].lower() == b"message-id:":
            value = line[11:]
            for follow in lines[index + 1 : index + 3]:
                if follow[:1] in (b" ", b"\t"):
                    value += follow
            return stored_message_id(normalise_message_id(value.decode("latin-1")), id_key)
    return None


class Pipeline:
    """Turns raw messages into recorded decisions."""

    def __init__(
        self,
        options: PipelineOptions,
        blobs: BlobStore | None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.options = options
        self.blobs = blobs
        self.clock = clock
        self.analysis_options = AnalysisOptions.of(options)

    def prefetch(
        self,
        session: Session,
        raws: Sequence[RawMessage],
        analyses: Sequence[Analysis | None] = (),
    ) -> None:
        """Look up a batch's dedupe keys and the senders its analyses name in one query each
        before its messages are processed, and take the ids of its decision records and
        comments in one query each (when the batch writes behind)."""
        inbound.prefetch_dedupe_keys(
            session, [dedupe_key(self._quick_id(raw), raw.data) for raw in raws]
        )
        directory.prefetch_contacts(
            session,
            [
                a.parsed.sender.email
                for a in analyses
                if a is not None and a.parsed is not None and a.parsed.sender is not None
            ],
        )
        inbound.reserve_ids(session, len(raws))
        comments.reserve_comment_ids(session, len(raws))

    def process(
        self, session: Session, raw: RawMessage, analysis: Analysis | None = None
    ) -> IngestResult:
        """Decide and record what becomes of one message.

        `analysis` is `analyse(raw, ...)` when a pre-stage already ran it (in another
        process); without it the message is analysed here.
        """
        now = self.clock()
        received = raw.received_at or now
        key = dedupe_key(self._quick_id(raw), raw.data)
        seen = inbound.find_by_dedupe_key(session, key)
        if seen is not None and raw.released and seen.outcome in KEPT_FOR_RETRY:
            inbound.forget_message(session, seen.id)  # released from quarantine: decide afresh
        elif seen is not None:
            return self._duplicate(session, seen)
        if analysis is None:
            analysis = analyse(raw, self.analysis_options)
        parsed, verdict = analysis.parsed, analysis.verdict
        if parsed is None or verdict is None:
            return self._final(
                session,
                _Row(key, None, "", raw, received, now),
                Outcome.QUARANTINED,
                analysis.problem,
            )
        if parsed.message_id and dedupe_key(parsed.message_id, raw.data) != key:
            key = dedupe_key(parsed.message_id, raw.data)
            seen = inbound.find_by_dedupe_key(session, key)
            if seen is not None:
                return self._duplicate(session, seen)
        sender = parsed.sender.email if parsed.sender else ""
        mode = raw.mode
        dating = None
        if mode.dated:  # a backlog: the mail's own date, so SLA clocks stand as they were
            received, dating = received_from_header(parsed.date, received)
        row = _Row(key, parsed.message_id, sender, raw, received, now)
        if verdict.kind is MessageKind.BOUNCE:
            since = received - BOUNCE_LOOKBACK
            marked = [
                r
                for r in verdict.bounced_recipients
                if inbound.we_mailed(session, r, verdict.original_message_id, since)
                and directory.mark_bouncing(session, r)
            ]
            reason = verdict.reason + (f"; marked bouncing: {len(marked)}" if marked else "")
            return self._final(session, row, Outcome.IGNORED, reason)
        if verdict.kind is MessageKind.AUTO_REPLY:
            return self._final(session, row, Outcome.IGNORED, verdict.reason)
        content = analysis.content
        if content is None:
            return self._final(session, row, Outcome.QUARANTINED, "no sender address could be read")
        automated = verdict.kind is MessageKind.AUTOMATED
        notices = Notices(
            session,
            self.options,
            now,
            parsed.message_id,
            quiet=(sender,) if automated else (),
            silent=not mode.notify,
        )
        if mode.holds and mode.flood_limit:
            held = flood_check(session, self.options, notices, sender, received)
            if held is not None:
                return self._final(session, row, Outcome.HELD, held[0], hold=held[1])
        identity = policy.identify(session, sender, content.sender_name)
        if automated and not policy.accepts_automated(identity, self.options):
            reason = f"{verdict.reason}; sender not accepted (see accept_automated_from)"
            return self._final(session, row, Outcome.IGNORED, reason)
        row_id = inbound.begin_message(
            session,
            self._record(row, Outcome.IGNORED, "in progress", content.subject, content.redactions),
        )
        context = Context(
            session=session,
            # a quiet import sends no webhook events either (`--notify` sends them)
            options=self.options if mode.notify else replace(self.options, webhooks=()),
            blobs=self.blobs,
            now=received if mode.dated else now,
            received_at=received,
            parsed=parsed,
            content=content,
            sender=identity,
            support_address=self._support_address(raw, parsed),
            recipients=self._recipients(raw, parsed),
            auth=authres.verdict(
                parsed.authentication_results,
                self.options.trusted_authserv_ids,
                sender.rpartition("@")[2],
            ),
            message_row_id=row_id,
            notices=notices,
            automated=automated,
            language=analysis.language,
            language_checked=analysis.language_checked,
            holds=mode.holds,
        )
        decision = Actions(context).decide()
        if mode.dated:
            decision = as_imported(context, decision, now, mode.status, dating)
        if mode.note:
            decision = replace(decision, reason=f"{decision.reason}; {mode.note}")
        ticket = decision.ticket
        inbound.finish_message(
            session, row_id, decision.outcome.value, decision.reason, ticket.id if ticket else None
        )
        hold = Hold("moderation", sender) if decision.outcome is Outcome.HELD else None
        return IngestResult(
            decision.outcome,
            ticket.number if ticket else None,
            parsed.message_id,
            decision.reason,
            content.redactions,
            hold=hold,
            sender=sender,
        )

    def _quick_id(self, raw: RawMessage) -> str | None:
        return quick_message_id(raw.data, self.options.secret_key)

    def _duplicate(self, session: Session, seen: MessageRecord) -> IngestResult:
        number = tickets.get_ticket(session, seen.ticket_id).number if seen.ticket_id else None
        return IngestResult(
            Outcome.DUPLICATE,
            number,
            seen.message_id,
            f"already recorded (first outcome: {seen.outcome})",
        )

    def _recipients(self, raw: RawMessage, parsed: ParsedMessage) -> list[str]:
        addresses = [*raw.rcpts, *parsed.delivered_to]
        addresses += [a.email for a in (*parsed.to, *parsed.cc)]
        return [a.lower() for a in addresses if a]

    def _support_address(self, raw: RawMessage, parsed: ParsedMessage) -> str:
        """The support address the mail came in on: envelope first, then the headers."""
        for address in self._recipients(raw, parsed):
            local, _, domain = address.partition("@")
            base = f"{local.split('+', 1)[0]}@{domain}"
            if base in self.options.support_addresses:
                return base
        return next(iter(self.options.support_addresses))

    def _record(
        self,
        row: _Row,
        outcome: Outcome,
        reason: str,
        subject: str = "",
        redactions: dict[str, int] | None = None,
    ) -> NewMessage:
        return NewMessage(
            dedupe_key=row.key,
            message_id=row.message_id,
            sender=row.sender,
            subject=subject,
            source=row.raw.source,
            received_at=row.received,
            recorded_at=row.now,
            outcome=outcome.value,
            reason=reason,
            redactions=redactions or {},
        )

    def _final(
        self, session: Session, row: _Row, outcome: Outcome, reason: str, hold: Hold | None = None
    ) -> IngestResult:
        """Record a decision taken before any content was read (nothing of the body is kept)."""
        if row.raw.mode.note:
            reason = f"{reason}; {row.raw.mode.note}"
        inbound.record_message(session, self._record(row, outcome, reason))
        if outcome is Outcome.QUARANTINED:
            webhooks.message_quarantined(
                session,
                self.options.webhooks,
                now=row.now,
                message_id=row.message_id,
                sender=row.sender,
                reason=reason,
                source=row.raw.source,
                received_at=row.received,
            )
        return IngestResult(outcome, None, row.message_id, reason, {}, hold=hold, sender=row.sender)


@dataclass(frozen=True, slots=True)
class _Row:
    """What every decision record carries, gathered as the pipeline learns it."""

    key: str
    message_id: str | None
    sender: str
    raw: RawMessage
    received: datetime
    now: datetime
