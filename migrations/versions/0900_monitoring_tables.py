"""monitoring: the performance record's new columns, race scores, rolling windows, calibration
and alerts

Revision ID: 0900
Revises: 0300
Create Date: 2026-11-22 00:18:16.318348
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0900"
down_revision = "0300"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("fingerprint", sa.String(length=200), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("race_date", sa.Date(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("raised_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("repeats", sa.Integer(), nullable=False),
        sa.Column("delivery", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.Column("channels", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_alerts_fingerprint_raised_at", ["fingerprint", "raised_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_alerts_race_date"), ["race_date"], unique=False)

    op.create_table(
        "calibration",
        sa.Column("perf_date", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("bin_lower", sa.Float(), nullable=False),
        sa.Column("bin_upper", sa.Float(), nullable=False),
        sa.Column("runners", sa.Integer(), nullable=False),
        sa.Column("p_sum", sa.Float(), nullable=False),
        sa.Column("wins", sa.Integer(), nullable=False),
        sa.Column("model_version", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("perf_date", "source", "bin_lower", name=op.f("pk_calibration")),
    )
    op.create_table(
        "race_scores",
        sa.Column("race_id", sa.String(length=12), nullable=False),
        sa.Column("race_date", sa.Date(), nullable=False),
        sa.Column("keibajo_code", sa.String(length=2), nullable=False),
        sa.Column("model_version", sa.String(length=40), nullable=False),
        sa.Column("priced_runners", sa.Integer(), nullable=False),
        sa.Column("winners", sa.Integer(), nullable=False),
        sa.Column("winner_umaban", sa.Integer(), nullable=True),
        sa.Column("p_final_winner", sa.Float(), nullable=True),
        sa.Column("p_market_winner", sa.Float(), nullable=True),
        sa.Column("log_loss_final", sa.Float(), nullable=True),
        sa.Column("log_loss_market", sa.Float(), nullable=True),
        sa.Column("log_loss_uniform", sa.Float(), nullable=True),
        sa.Column("top_pick_umaban", sa.Integer(), nullable=True),
        sa.Column("top_pick_p", sa.Float(), nullable=True),
        sa.Column("top_pick_finish", sa.Integer(), nullable=True),
        sa.Column("bets", sa.Integer(), nullable=False),
        sa.Column("staked_yen", sa.Integer(), nullable=False),
        sa.Column("returned_yen", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("race_id", name=op.f("pk_race_scores")),
    )
    with op.batch_alter_table("race_scores", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_race_scores_race_date"), ["race_date"], unique=False)

    op.create_table(
        "rolling_performance",
        sa.Column("perf_date", sa.Date(), nullable=False),
        sa.Column("span", sa.String(length=8), nullable=False),
        sa.Column("first_date", sa.Date(), nullable=True),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("races", sa.Integer(), nullable=False),
        sa.Column("scored_races", sa.Integer(), nullable=False),
        sa.Column("bets", sa.Integer(), nullable=False),
        sa.Column("staked_yen", sa.Integer(), nullable=False),
        sa.Column("returned_yen", sa.Integer(), nullable=False),
        sa.Column("roi", sa.Float(), nullable=True),
        sa.Column("hit_rate", sa.Float(), nullable=True),
        sa.Column("top3_rate", sa.Float(), nullable=True),
        sa.Column("log_loss", sa.Float(), nullable=True),
        sa.Column("market_log_loss", sa.Float(), nullable=True),
        sa.Column("pseudo_r2", sa.Float(), nullable=True),
        sa.Column("market_pseudo_r2", sa.Float(), nullable=True),
        sa.Column("quarantine_rate", sa.Float(), nullable=True),
        sa.Column("max_drawdown", sa.Float(), nullable=True),
        sa.Column("bankroll_yen", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("perf_date", "span", name=op.f("pk_rolling_performance")),
    )
    with op.batch_alter_table("performance", schema=None) as batch_op:
        batch_op.add_column(sa.Column("races_offered", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("races_quarantined", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("quarantine_rate", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("scored_races", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("roi", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("drawdown", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("uniform_log_loss", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("pseudo_r2", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("market_pseudo_r2", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("calibration_error", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("run_seconds", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("performance", schema=None) as batch_op:
        batch_op.drop_column("run_seconds")
        batch_op.drop_column("calibration_error")
        batch_op.drop_column("market_pseudo_r2")
        batch_op.drop_column("pseudo_r2")
        batch_op.drop_column("uniform_log_loss")
        batch_op.drop_column("drawdown")
        batch_op.drop_column("roi")
        batch_op.drop_column("scored_races")
        batch_op.drop_column("quarantine_rate")
        batch_op.drop_column("races_quarantined")
        batch_op.drop_column("races_offered")

    op.drop_table("rolling_performance")
    with op.batch_alter_table("race_scores", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_race_scores_race_date"))

    op.drop_table("race_scores")
    op.drop_table("calibration")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alerts_race_date"))
        batch_op.drop_index("ix_alerts_fingerprint_raised_at")

    op.drop_table("alerts")
