"""race time: bets say when their odds were published and when they were decided; races decided
at race time are recorded once

Revision ID: 2100
Revises: 1500
Create Date: 2026-12-03 10:00:00

``bets.odds_at`` / ``bets.decided_at`` (nullable: bets placed before this revision lack them).
``race_decisions``: one row per race decided by ``raceday live`` (policy, race_id), written in
the transaction that writes the race's bets, so a restarted day decides no race twice.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "2100"
down_revision = "1500"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("odds_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("decided_at", sa.DateTime(), nullable=True))
    op.create_table(
        "race_decisions",
        sa.Column("policy", sa.String(length=24), nullable=False),
        sa.Column("race_id", sa.String(length=12), nullable=False),
        sa.Column("race_date", sa.Date(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("post_at", sa.DateTime(), nullable=True),
        sa.Column("odds_at", sa.DateTime(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
        sa.Column("bets", sa.Integer(), nullable=False),
        sa.Column("staked_yen", sa.Integer(), nullable=False),
        sa.Column("model_version", sa.String(length=40), nullable=True),
        sa.Column("run_id", sa.String(length=40), nullable=False),
        sa.Column("latency_s", sa.Float(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("policy", "race_id", name=op.f("pk_race_decisions")),
    )
    with op.batch_alter_table("race_decisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_race_decisions_race_date"), ["race_date"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("race_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_race_decisions_race_date"))
    op.drop_table("race_decisions")
    with op.batch_alter_table("bets", schema=None) as batch_op:
        batch_op.drop_column("decided_at")
        batch_op.drop_column("odds_at")
