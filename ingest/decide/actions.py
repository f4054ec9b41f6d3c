"""The decision for a person's mail: which ticket, whether the sender may act on it, and what to do.

Order: find the ticket the mail names; forget it when the sender may not
comment on it (an outsider sees exactly what a nonexistent number gives); then staff mail,
a customer's comment, or a new ticket (after the unknown-sender policy).
"""

from __future__ import annotations

from ingest.decide import thread
from ingest.decide.comment import customer_comment
from ingest.decide.context import Context, Decision
from ingest.decide.create import create_ticket
from ingest.decide.language import language_of_mail
from ingest.decide.policy import may_comment
from ingest.decide.staff import staff_mail
from ingest.model import Outcome
from store.reply_tokens import parse_token_address, token_matches


class Actions:
    """Decides and carries out what one person's mail does."""

    def __init__(self, context: Context) -> None:
        self.ctx = context

    def decide(self) -> Decision:
        ctx = self.ctx
        match = thread.find_ticket(
            ctx.session,
            sender=ctx.sender.email,
            subject=ctx.parsed.subject,
            recipients=ctx.recipients,
            message_ids=ctx.message_ids(),
            prefix=ctx.options.ticket_prefix,
            secret_key=ctx.options.secret_key,
            support_addresses=ctx.options.support_set,
            token_owners=self._team_token_owner(),
            previous_keys=ctx.options.previous_secret_keys,
        )
        if ctx.sender.staff is not None:
            return staff_mail(ctx, match, self._staff_verified(match))
        if match is not None and ctx.auth.failed:
            match = None  # a failed DMARC/DKIM/SPF sender may not act on existing tickets
        if match is not None and not may_comment(ctx.session, ctx.sender, match.ticket):
            match = None  # exactly as if the ticket did not exist
        if match is not None:
            return customer_comment(ctx, match)
        return self._new_ticket()

    def _team_token_owner(self) -> tuple[str, ...]:
        """Staff may answer a notice that went to the team address, with its token."""
        team = self.ctx.options.team_address
        return (team,) if team and self.ctx.sender.staff is not None else ()

    def _staff_verified(self, match: thread.ThreadMatch | None) -> tuple[bool, str]:
        ctx = self.ctx
        if ctx.auth.failed:
            return False, f"authentication failed ({ctx.auth.detail})"
        for address in thread.token_addresses(ctx.recipients, ctx.options.support_set):
            parsed = parse_token_address(address)
            if parsed is None or (match and parsed.ticket_number != match.ticket.number):
                continue
            keys = (ctx.options.secret_key, ctx.options.previous_secret_keys)
            if token_matches(keys[0], parsed, ctx.sender.email, keys[1]):
                return True, "sent to the staff member's own reply token"
            team = ctx.options.team_address
            if team and token_matches(keys[0], parsed, team, keys[1]):
                return True, "sent to the team address's reply token"
        if ctx.auth.passed:
            return True, f"trusted Authentication-Results ({ctx.auth.detail})"
        if ctx.options.trust_staff_from:
            return True, "trust_staff_from is enabled"
        return False, "not sent to the staff member's reply token and no trusted DMARC/DKIM pass"

    def _new_ticket(self) -> Decision:
        ctx = self.ctx
        if not ctx.sender.known and not ctx.automated:  # accepted automated mail may open one
            policy = ctx.options.unknown_senders
            if policy == "reject":
                sent = ctx.notices.unknown_sender(
                    ctx.sender.email,
                    ctx.support_address,
                    ctx.content.subject,
                    language_of_mail(ctx, ctx.sender.organisation_id),
                )
                if ctx.notices.silent:
                    note = "not told: no mail during a quiet import"
                else:
                    note = "told how to get access" if sent else "already told within 24 hours"
                return Decision(Outcome.REJECTED, None, f"rejected: unknown sender ({note})")
            if policy == "hold" and ctx.holds:
                return Decision(Outcome.HELD, None, "held for moderation: unknown sender")
        return create_ticket(ctx)
