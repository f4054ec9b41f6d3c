"""Indexes for thread lookups: outbox and inbound rows by Message-ID and by ticket.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Without these, finding the ticket a reply answers scans the whole outbox."""
    op.create_index("ix_outbox_message_id", "outbox", ["message_id"])
    op.create_index("ix_outbox_ticket", "outbox", ["ticket_id"])
    op.create_index("ix_inbound_ticket", "inbound_messages", ["ticket_id"])


def downgrade() -> None:
    op.drop_index("ix_inbound_ticket", table_name="inbound_messages")
    op.drop_index("ix_outbox_ticket", table_name="outbox")
    op.drop_index("ix_outbox_message_id", table_name="outbox")
