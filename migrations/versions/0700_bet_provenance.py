"""bet provenance: odds source, kelly fraction, bankroll and pool at bet; profit and loss

Revision ID: 0700
Revises: 0900
Create Date: 2026-11-22 00:13:15.642957

How each stake came about, on the bet itself: whether it was sized on bet-time or final odds
(backtests on final odds are optimistic), the full-Kelly fraction before limits, the bankroll it
was sized on, and the expected win pool behind the pool cap; and each settled bet's profit and
loss (payout + refund - stake). Nullable: older bets lack them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0700"
down_revision = "0900"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("odds_source", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("kelly_fraction", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("bankroll_at_bet_yen", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("expected_win_pool_yen", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("pnl_yen", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bets", schema=None) as batch_op:
        batch_op.drop_column("pnl_yen")
        batch_op.drop_column("expected_win_pool_yen")
        batch_op.drop_column("bankroll_at_bet_yen")
        batch_op.drop_column("kelly_fraction")
        batch_op.drop_column("odds_source")
