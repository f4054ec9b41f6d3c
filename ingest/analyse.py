"""The database-free half of the pipeline: parse, classify, redact, strip quotes.

`analyse` reads everything the pipeline needs from the raw bytes without touching the
store, so it can run in another process (`ingest.prestage`) while the database half decides
the messages before it. Its result is a plain, picklable value: the email package's message
tree is dropped once it has been classified, and the content is already redacted. Its
Message-ID, In-Reply-To and References are those the store may keep: an id that holds a
secret is replaced by its stand-in (`ingest.prepare.with_safe_ids`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ingest.classify.kind import Classification, MessageKind, classify
from ingest.classify.language import detect_language
from ingest.model import ParsedMessage, RawMessage
from ingest.options import PipelineOptions
from ingest.parse.message import UnparseableMessage, parse_message
from ingest.prepare import Redacted, prepare, with_safe_ids

TICKET_KINDS = frozenset({MessageKind.PERSON, MessageKind.AUTOMATED})
# Paths whose MAIL FROM is the real envelope sender ("" there is the null sender of a bounce).
ENVELOPE_SOURCES = frozenset({"smtp", "lmtp"})
"""The kinds of mail whose content may reach a ticket."""


@dataclass(frozen=True, slots=True)
class AnalysisOptions:
    """What analysis needs of the desk's configuration (picklable, unlike PipelineOptions)."""

    own_addresses: frozenset[str]
    loop_marker: str | None
    blocked_extensions: frozenset[str]
    max_attachment_bytes: int
    max_message_attachment_bytes: int
    id_key: str  # the desk's secret key: stand-ins for Message-IDs that hold a secret

    @classmethod
    def of(cls, options: PipelineOptions) -> AnalysisOptions:
        return cls(
            own_addresses=frozenset({*options.support_addresses, options.from_address} - {""}),
            loop_marker=options.from_address or None,
            blocked_extensions=options.blocked_extensions,
            max_attachment_bytes=options.max_attachment_bytes,
            max_message_attachment_bytes=options.max_message_attachment_bytes,
            id_key=options.secret_key,
        )


@dataclass(frozen=True, slots=True)
class Analysis:
    """What the bytes of one message say, before any decision.

    `parsed` is None when nothing usable could be read (`problem` says why). `content` is
    the redacted content of a person's (or automated) mail with a sender; None for bounces,
    auto-replies and mail without a sender address, whose content is never stored.
    """

    parsed: ParsedMessage | None
    problem: str
    verdict: Classification | None
    content: Redacted | None
    language: str | None = None  # of the content's text, when the detector is sure
    language_checked: bool = False  # the detector ran (else decide runs it when it must)


def analyse(raw: RawMessage, options: AnalysisOptions) -> Analysis:
    """Parse, classify and (for a person's mail) redact one message."""
    try:
        parsed = parse_message(raw.data)
    except UnparseableMessage as exc:
        return Analysis(None, f"unparseable: {exc}", None, None)
    assert parsed.message is not None  # set by parse_message, dropped below
    verdict = classify(
        parsed.message,
        own_addresses=options.own_addresses,
        loop_marker=options.loop_marker,
        envelope_from=raw.mail_from if raw.source in ENVELOPE_SOURCES else None,
    )
    content = None
    language, checked = None, False
    if verdict.kind in TICKET_KINDS and parsed.sender is not None and parsed.sender.email:
        content = prepare(parsed, options)
        if _may_open_a_ticket(parsed, verdict):  # a reply's ticket has its language already
            language, checked = detect_language(f"{content.subject}\n{content.visible}"), True
    safe = with_safe_ids(dataclasses.replace(parsed, message=None), options.id_key)
    return Analysis(safe, "", verdict, content, language, checked)


def _may_open_a_ticket(parsed: ParsedMessage, verdict: Classification) -> bool:
    """Whether the mail's language may be asked for: it is a person's (alerts are never
    answered), says none itself (Content-Language), and answers nothing (a reply joins a
    ticket that has its language; should it open one after all, decide detects then)."""
    return (
        verdict.kind is not MessageKind.AUTOMATED
        and not parsed.content_language
        and not parsed.in_reply_to
        and not parsed.references
    )
