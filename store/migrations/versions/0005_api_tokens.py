"""REST API: bearer tokens (kept as SHA-256), and the ticket listing's keyset indexes.

Revision ID: 0005
Revises: 0002
Create Date: 2026-12-07

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("scope IN ('read','write')", name="ck_api_tokens_scope"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
        sa.UniqueConstraint("token_hash"),
    )
    # GET /api/v1/tickets: newest change first, a page after an (updated_at, id) cursor.
    op.create_index("ix_tickets_updated", "tickets", ["updated_at", "id"])
    op.create_index("ix_tickets_org_updated", "tickets", ["organisation_id", "updated_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_tickets_org_updated", table_name="tickets")
    op.drop_index("ix_tickets_updated", table_name="tickets")
    op.drop_table("api_tokens")
