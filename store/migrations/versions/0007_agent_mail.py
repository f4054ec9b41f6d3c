"""Agents' mail: a staff member's display name and signature, an organisation's highest
priority its customers may ask for.

Revision ID: 0007
Revises: 0002
Create Date: 2026-12-07

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Columns filled from the configuration at start (`[[staff]]`, `[[organisations]]`)."""
    with op.batch_alter_table("staff") as batch:
        batch.add_column(
            sa.Column("display_name", sa.String(200), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("signature", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("organisations") as batch:
        batch.add_column(sa.Column("max_priority", sa.String(10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("organisations") as batch:
        batch.drop_column("max_priority")
    with op.batch_alter_table("staff") as batch:
        batch.drop_column("signature")
        batch.drop_column("display_name")
