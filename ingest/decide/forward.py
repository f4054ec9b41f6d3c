"""A verified staff member forwards a customer's mail to the support address: the ticket is
the customer's (as FreeScout and Zammad do).

The original sender is read from the forwarded mail: an attached message's From header, or
the From line of the forwarded header block in the text. The customer becomes the requester
and the forwarded mail the ticket's first (public) comment; the forwarder's own note is kept
as an internal comment by the staff member.
"""

from __future__ import annotations

import dataclasses
import email.parser
import email.policy
import email.utils

from ingest.decide import policy, record
from ingest.decide.context import Context, Decision
from ingest.decide.create import create_ticket
from ingest.model import ParsedMessage
from ingest.parse.attached import EML_TYPE
from ingest.parse.decode import header_text
from ingest.quotes.forward import forwarded_author, split_forward
from ingest.quotes.rules import is_forward_subject
from ingest.redact.derived import NO_TEXT, forward_parts, or_placeholder
from ingest.redact.headers import redact_name

__all__ = ["forwarded_sender", "ticket_for_forwarded_customer"]

_HEADERS = email.parser.BytesHeaderParser(policy=email.policy.compat32)


def forwarded_sender(parsed: ParsedMessage) -> tuple[str, str] | None:
    """(name, address) of the author of the mail a forward carries, or None."""
    if not is_forward_subject(parsed.subject):
        return None
    for item in parsed.attachments:
        if item.content_type == EML_TYPE:
            value = _HEADERS.parsebytes(item.payload).get("From")
            if value is not None:
                name, address = email.utils.parseaddr(header_text(value)[0])
                if "@" in address:
                    return name, address.lower()
    return forwarded_author(split_forward(parsed.text)[1])


def ticket_for_forwarded_customer(ctx: Context, name: str, address: str) -> Decision:
    """Open the ticket for the customer whose mail a verified staff member forwarded."""
    staff = ctx.sender
    note, forwarded = forward_parts(ctx.content.full_text)
    body = or_placeholder(forwarded, NO_TEXT)
    content = dataclasses.replace(ctx.content, full_text=body, visible=body)
    customer = policy.identify(ctx.session, address, redact_name(name).text)
    decision = create_ticket(dataclasses.replace(ctx, sender=customer, content=content))
    ticket = decision.ticket
    if ticket is None:
        return decision
    if note:
        record.add_comment(
            ctx,
            ticket.id,
            role="staff",
            public=False,
            body=note,
            notes={"forwarded_for": address},
            keep_html=False,
            keep_attachments=False,
        )
    record.audit(ctx, ticket.id, "forwarded_by_staff", {"staff": staff.email, "customer": address})
    return dataclasses.replace(
        decision, reason=f"{decision.reason}; forwarded by staff {staff.email} for {address}"
    )
