"""bet void reason: bets on a race set aside at night are refunded as void, with the reason

Revision ID: 1900
Revises: 0600
Create Date: 2026-12-02 23:30:00

A race whose results fail validation at night can never be settled from them; its bets used to
stay open forever. They are now settled as void (stake refunded, 0 P&L) and say why.
Nullable: only void bets carry it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "1900"
down_revision = "0600"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("void_reason", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bets", schema=None) as batch_op:
        batch_op.drop_column("void_reason")
