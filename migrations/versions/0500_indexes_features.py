"""Track variants, index provenance (variant applied, index version) and stored features.

The ``features`` columns are those of feature set ``pp-v1`` (raceday.ratings.features.FEATURES): a
feature set that changes them brings its own migration.

Revision ID: 0500
Revises: 0700
Create Date: 2026-11-22 00:16:15.201561
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0500"
down_revision = "0700"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "features",
        sa.Column("feature_set", sa.String(length=16), nullable=False),
        sa.Column("race_id", sa.String(length=12), nullable=False),
        sa.Column("umaban", sa.Integer(), nullable=False),
        sa.Column("race_date", sa.Date(), nullable=False),
        sa.Column("keibajo_code", sa.String(length=2), nullable=True),
        sa.Column("horse_id", sa.String(length=10), nullable=True),
        sa.Column("distance_m", sa.Float(), nullable=True),
        sa.Column("field_size", sa.Float(), nullable=True),
        sa.Column("umaban_draw", sa.Float(), nullable=True),
        sa.Column("wakuban", sa.Float(), nullable=True),
        sa.Column("draw_ratio", sa.Float(), nullable=True),
        sa.Column("weight_carried_kg", sa.Float(), nullable=True),
        sa.Column("age", sa.Float(), nullable=True),
        sa.Column("sex_code", sa.Float(), nullable=True),
        sa.Column("body_weight_kg", sa.Float(), nullable=True),
        sa.Column("body_weight_diff_kg", sa.Float(), nullable=True),
        sa.Column("going_code", sa.Float(), nullable=True),
        sa.Column("class_rank", sa.Float(), nullable=True),
        sa.Column("n_past_runs", sa.Integer(), nullable=True),
        sa.Column("no_history", sa.Boolean(), nullable=True),
        sa.Column("days_since_last_run", sa.Float(), nullable=True),
        sa.Column("distance_change_m", sa.Float(), nullable=True),
        sa.Column("class_change", sa.Float(), nullable=True),
        sa.Column("weight_carried_change_kg", sa.Float(), nullable=True),
        sa.Column("speed_last1", sa.Float(), nullable=True),
        sa.Column("speed_mean3", sa.Float(), nullable=True),
        sa.Column("speed_mean5", sa.Float(), nullable=True),
        sa.Column("speed_best5", sa.Float(), nullable=True),
        sa.Column("speed_n5", sa.Integer(), nullable=True),
        sa.Column("ten_last1", sa.Float(), nullable=True),
        sa.Column("ten_mean3", sa.Float(), nullable=True),
        sa.Column("ten_mean5", sa.Float(), nullable=True),
        sa.Column("ten_best5", sa.Float(), nullable=True),
        sa.Column("ten_n5", sa.Integer(), nullable=True),
        sa.Column("agari_last1", sa.Float(), nullable=True),
        sa.Column("agari_mean3", sa.Float(), nullable=True),
        sa.Column("agari_mean5", sa.Float(), nullable=True),
        sa.Column("agari_best5", sa.Float(), nullable=True),
        sa.Column("agari_n5", sa.Integer(), nullable=True),
        sa.Column("composite_last1", sa.Float(), nullable=True),
        sa.Column("composite_mean3", sa.Float(), nullable=True),
        sa.Column("composite_mean5", sa.Float(), nullable=True),
        sa.Column("composite_best5", sa.Float(), nullable=True),
        sa.Column("composite_n5", sa.Integer(), nullable=True),
        sa.Column("finish_pos_last1", sa.Float(), nullable=True),
        sa.Column("finish_pos_mean5", sa.Float(), nullable=True),
        sa.Column("finish_ratio_mean5", sa.Float(), nullable=True),
        sa.Column("margin_last1_s", sa.Float(), nullable=True),
        sa.Column("margin_mean5_s", sa.Float(), nullable=True),
        sa.Column("early_pos_ratio_mean5", sa.Float(), nullable=True),
        sa.Column("win_rate_career", sa.Float(), nullable=True),
        sa.Column("top3_rate_career", sa.Float(), nullable=True),
        sa.Column("jockey_rides_window", sa.Integer(), nullable=True),
        sa.Column("jockey_win_rate_window", sa.Float(), nullable=True),
        sa.Column("trainer_runs_window", sa.Integer(), nullable=True),
        sa.Column("trainer_win_rate_window", sa.Float(), nullable=True),
        sa.Column("n_runs_at_venue", sa.Integer(), nullable=True),
        sa.Column("speed_vs_career_at_venue", sa.Float(), nullable=True),
        sa.Column("n_runs_on_going", sa.Integer(), nullable=True),
        sa.Column("speed_vs_career_on_going", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("feature_set", "race_id", "umaban", name=op.f("pk_features")),
    )
    with op.batch_alter_table("features", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_features_race_date"), ["race_date"], unique=False)

    op.create_table(
        "track_variants",
        sa.Column("race_date", sa.Date(), nullable=False),
        sa.Column("keibajo_code", sa.String(length=2), nullable=False),
        sa.Column("surface", sa.String(length=8), nullable=False),
        sa.Column("variant_s_per_km", sa.Float(), nullable=False),
        sa.Column("n_races", sa.Integer(), nullable=False),
        sa.Column("n_runners", sa.Integer(), nullable=False),
        sa.Column("reference_version", sa.String(length=24), nullable=True),
        sa.PrimaryKeyConstraint(
            "race_date", "keibajo_code", "surface", name=op.f("pk_track_variants")
        ),
    )
    with op.batch_alter_table("indexes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("track_variant_s_per_km", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("index_version", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("indexes", schema=None) as batch_op:
        batch_op.drop_column("index_version")
        batch_op.drop_column("track_variant_s_per_km")

    op.drop_table("track_variants")
    with op.batch_alter_table("features", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_features_race_date"))

    op.drop_table("features")
