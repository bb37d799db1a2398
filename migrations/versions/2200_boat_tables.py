"""boat tables: races, entries, results, payouts, odds timeline, predictions, bets and the
day's performance of boat racing (競艇), keyed like its day files (race_id, boat)

Revision ID: 2200
Revises: 2100
Create Date: 2026-12-03 09:18:17

Their own tables rather than a sport column on the horse tables (docs/BOAT.md, "The store").
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "2200"
down_revision = "2100"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "boat_bets",
        sa.Column("policy", sa.String(length=24), nullable=False),
        sa.Column("race_id", sa.String(length=12), nullable=False),
        sa.Column("boat", sa.Integer(), nullable=False),
        sa.Column("race_date", sa.Date(), nullable=False),
        sa.Column("model_version", sa.String(length=40), nullable=False),
        sa.Column("p_final", sa.Float(), nullable=False),
        sa.Column("odds_at_bet", sa.Float(), nullable=False),
        sa.Column("odds_source", sa.String(length=8), nullable=True),
        sa.Column("edge", sa.Float(), nullable=False),
        sa.Column("kelly_fraction", sa.Float(), nullable=True),
        sa.Column("stake_yen", sa.Integer(), nullable=False),
        sa.Column("bankroll_at_bet_yen", sa.Integer(), nullable=True),
        sa.Column("expected_win_pool_yen", sa.Integer(), nullable=True),
        sa.Column("policy_params", sa.Text(), nullable=False),
        sa.Column("odds_at", sa.DateTime(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("settled", sa.Boolean(), nullable=False),
        sa.Column("payout_yen", sa.Integer(), nullable=True),
        sa.Column("refund_yen", sa.Integer(), nullable=True),
        sa.Column("pnl_yen", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("policy", "race_id", "boat", name=op.f("pk_boat_bets")),
    )
    with op.batch_alter_table("boat_bets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_boat_bets_race_date"), ["race_date"], unique=False)

    op.create_table(
        "boat_entries",
        sa.Column("race_id", sa.String(length=12), nullable=False),
        sa.Column("boat", sa.Integer(), nullable=False),
        sa.Column("race_date", sa.Date(), nullable=False),
        sa.Column("venue_code", sa.String(length=2), nullable=False),
        sa.Column("racer_id", sa.String(length=4), nullable=False),
        sa.Column("racer_name", sa.String(length=40), nullable=True),
        sa.Column("age", sa.Integer(), nullable=True),
        sa.Column("branch", sa.String(length=8), nullable=True),
        sa.Column("weight_kg", sa.Integer(), nullable=True),
        sa.Column("racer_class", sa.String(length=2), nullable=False),
        sa.Column("national_win_rate", sa.Float(), nullable=True),
        sa.Column("national_top2_pct", sa.Float(), nullable=True),
        sa.Column("local_win_rate", sa.Float(), nullable=True),
        sa.Column("local_top2_pct", sa.Float(), nullable=True),
        sa.Column("motor_no", sa.Integer(), nullable=True),
        sa.Column("motor_top2_pct", sa.Float(), nullable=True),
        sa.Column("boat_no", sa.Integer(), nullable=True),
        sa.Column("boat_top2_pct", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("race_id", "boat", name=op.f("pk_boat_entries")),
    )
    with op.batch_alter_table("boat_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_boat_entries_race_date"), ["race_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_boat_entries_racer_id"), ["racer_id"], unique=False)

    op.create_table(
        "boat_odds",
        sa.Column("race_id", sa.String(length=12), nullable=False),
        sa.Column("boat", sa.Integer(), nullable=False),
        sa.Column("snapshot", sa.String(length=8), nullable=False),
        sa.Column("race_date", sa.Date(), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=False),
        sa.Column("win_odds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("race_id", "boat", "snapshot", name=op.f("pk_boat_odds")),
    )
    with op.batch_alter_table("boat_odds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_boat_odds_race_date"), ["race_date"], unique=False)

    op.create_table(
        "boat_payouts",
        sa.Column("race_id", sa.String(length=12), nullable=False),
        sa.Column("bet_type", sa.String(length=10), nullable=False),
        sa.Column("combination", sa.String(length=8), nullable=False),
        sa.Column("race_date", sa.Date(), nullable=False),
        sa.Column("payout_yen", sa.Integer(), nullable=True),
        sa.Column("popularity", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("race_id", "bet_type", "combination", name=op.f("pk_boat_payouts")),
    )
    with op.batch_alter_table("boat_payouts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_boat_payouts_race_date"), ["race_date"], unique=False)

    op.create_table(
        "boat_performance",
        sa.Column("perf_date", sa.Date(), nullable=False),
        sa.Column("races", sa.Integer(), nullable=False),
        sa.Column("boats", sa.Integer(), nullable=False),
        sa.Column("quarantined", sa.Integer(), nullable=False),
        sa.Column("races_left_out", sa.Integer(), nullable=False),
        sa.Column("bets", sa.Integer(), nullable=False),
        sa.Column("staked_yen", sa.Integer(), nullable=False),
        sa.Column("returned_yen", sa.Integer(), nullable=False),
        sa.Column("bankroll_yen", sa.Integer(), nullable=False),
        sa.Column("scored_races", sa.Integer(), nullable=False),
        sa.Column("log_loss", sa.Float(), nullable=True),
        sa.Column("model_log_loss", sa.Float(), nullable=True),
        sa.Column("market_log_loss", sa.Float(), nullable=True),
        sa.Column("prior_log_loss", sa.Float(), nullable=True),
        sa.Column("uniform_log_loss", sa.Float(), nullable=True),
        sa.Column("pseudo_r2", sa.Float(), nullable=True),
        sa.Column("model_version", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("perf_date", name=op.f("pk_boat_performance")),
    )
    op.create_table(
        "boat_predictions",
        sa.Column("model_version", sa.String(length=40), nullable=False),
        sa.Column("race_id", sa.String(length=12), nullable=False),
        sa.Column("boat", sa.Integer(), nullable=False),
        sa.Column("race_date", sa.Date(), nullable=False),
        sa.Column("p_prior", sa.Float(), nullable=False),
        sa.Column("p_market", sa.Float(), nullable=True),
        sa.Column("p_model", sa.Float(), nullable=True),
        sa.Column("p_final", sa.Float(), nullable=False),
        sa.Column("odds_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint(
            "model_version", "race_id", "boat", name=op.f("pk_boat_predictions")
        ),
    )
    with op.batch_alter_table("boat_predictions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_boat_predictions_race_date"), ["race_date"], unique=False
        )

    op.create_table(
        "boat_races",
        sa.Column("race_id", sa.String(length=12), nullable=False),
        sa.Column("race_date", sa.Date(), nullable=False),
        sa.Column("venue_code", sa.String(length=2), nullable=False),
        sa.Column("race_number", sa.Integer(), nullable=False),
        sa.Column("race_name", sa.String(length=60), nullable=True),
        sa.Column("distance_m", sa.Integer(), nullable=True),
        sa.Column("deadline_at", sa.DateTime(), nullable=True),
        sa.Column("meeting_day", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=True),
        sa.Column("weather", sa.String(length=8), nullable=True),
        sa.Column("wind_direction", sa.String(length=8), nullable=True),
        sa.Column("wind_speed_m", sa.Integer(), nullable=True),
        sa.Column("wave_cm", sa.Integer(), nullable=True),
        sa.Column("kimarite", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("race_id", name=op.f("pk_boat_races")),
    )
    with op.batch_alter_table("boat_races", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_boat_races_race_date"), ["race_date"], unique=False)

    op.create_table(
        "boat_results",
        sa.Column("race_id", sa.String(length=12), nullable=False),
        sa.Column("boat", sa.Integer(), nullable=False),
        sa.Column("race_date", sa.Date(), nullable=False),
        sa.Column("racer_id", sa.String(length=4), nullable=True),
        sa.Column("finish_code", sa.String(length=4), nullable=False),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("started", sa.Boolean(), nullable=False),
        sa.Column("refunded", sa.Boolean(), nullable=False),
        sa.Column("exhibition_s", sa.Float(), nullable=True),
        sa.Column("course", sa.Integer(), nullable=True),
        sa.Column("start_timing_s", sa.Float(), nullable=True),
        sa.Column("race_time_s", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("race_id", "boat", name=op.f("pk_boat_results")),
    )
    with op.batch_alter_table("boat_results", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_boat_results_race_date"), ["race_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_boat_results_racer_id"), ["racer_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("boat_results", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_boat_results_racer_id"))
        batch_op.drop_index(batch_op.f("ix_boat_results_race_date"))

    op.drop_table("boat_results")
    with op.batch_alter_table("boat_races", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_boat_races_race_date"))

    op.drop_table("boat_races")
    with op.batch_alter_table("boat_predictions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_boat_predictions_race_date"))

    op.drop_table("boat_predictions")
    op.drop_table("boat_performance")
    with op.batch_alter_table("boat_payouts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_boat_payouts_race_date"))

    op.drop_table("boat_payouts")
    with op.batch_alter_table("boat_odds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_boat_odds_race_date"))

    op.drop_table("boat_odds")
    with op.batch_alter_table("boat_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_boat_entries_racer_id"))
        batch_op.drop_index(batch_op.f("ix_boat_entries_race_date"))

    op.drop_table("boat_entries")
    with op.batch_alter_table("boat_bets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_boat_bets_race_date"))

    op.drop_table("boat_bets")
