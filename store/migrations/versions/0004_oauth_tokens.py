"""IMAP OAuth2 credentials (sealed) and each account's login state.

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-07

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "imap_credentials",
        sa.Column("account", sa.String(length=200), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=True),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("login_failing_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("login_failures", sa.Integer(), nullable=False),
        sa.Column("login_error", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("account"),
    )


def downgrade() -> None:
    op.drop_table("imap_credentials")
