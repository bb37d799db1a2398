"""boat_course and boat_exotics: each boat's start and course before the race (expected course,
前付け rate, course prior, ST and exhibition indexes) and each race's most likely exacta and
trifecta combinations

Revision ID: 2300
Revises: 2200
Create Date: 2026-12-03 11:50:00

docs/BOAT.md, "Start and course" and "Exacta and trifecta".
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "2300"
down_revision = "2200"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "boat_course",
        sa.Column("race_id", sa.String(length=12), nullable=False),
        sa.Column("boat", sa.Integer(), nullable=False),
        sa.Column("race_date", sa.Date(), nullable=False),
        sa.Column("racer_id", sa.String(length=4), nullable=True),
        sa.Column("expected_course", sa.Float(), nullable=False),
        sa.Column("inner_take_rate", sa.Float(), nullable=False),
        sa.Column("inner_take_starts", sa.Integer(), nullable=False),
        sa.Column("p_course", sa.Float(), nullable=False),
        sa.Column("st_index", sa.Float(), nullable=False),
        sa.Column("expected_st", sa.Float(), nullable=False),
        sa.Column("st_starts", sa.Integer(), nullable=False),
        sa.Column("exhibition_index", sa.Float(), nullable=False),
        sa.Column("expected_exhibition", sa.Float(), nullable=False),
        sa.Column("exhibition_starts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("race_id", "boat", name=op.f("pk_boat_course")),
    )
    with op.batch_alter_table("boat_course", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_boat_course_race_date"), ["race_date"], unique=False)

    op.create_table(
        "boat_exotics",
        sa.Column("race_id", sa.String(length=12), nullable=False),
        sa.Column("bet_type", sa.String(length=10), nullable=False),
        sa.Column("combination", sa.String(length=8), nullable=False),
        sa.Column("race_date", sa.Date(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("method", sa.String(length=24), nullable=False),
        sa.Column("model_version", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("race_id", "bet_type", "combination", name=op.f("pk_boat_exotics")),
    )
    with op.batch_alter_table("boat_exotics", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_boat_exotics_race_date"), ["race_date"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("boat_exotics", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_boat_exotics_race_date"))

    op.drop_table("boat_exotics")
    with op.batch_alter_table("boat_course", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_boat_course_race_date"))

    op.drop_table("boat_course")
