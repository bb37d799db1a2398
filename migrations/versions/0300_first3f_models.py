"""first-3F model versions (fitted layers) and the model version of each estimate

Revision ID: 0300
Revises: 0001
Create Date: 2026-11-22 00:27:28.667664
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0300"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "first3f_models",
        sa.Column("version", sa.String(length=24), nullable=False),
        sa.Column("reference_version", sa.String(length=24), nullable=False),
        sa.Column("history_start", sa.Date(), nullable=True),
        sa.Column("history_end", sa.Date(), nullable=True),
        sa.Column("n_leader_rows", sa.Integer(), nullable=False),
        sa.Column("n_1200m_rows", sa.Integer(), nullable=False),
        sa.Column("n_short_rows", sa.Integer(), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("ml_model", sa.Text(), nullable=True),
        sa.Column("ml_library", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_first3f_models")),
    )
    with op.batch_alter_table("first3f", schema=None) as batch_op:
        batch_op.add_column(sa.Column("model_version", sa.String(length=24), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("first3f", schema=None) as batch_op:
        batch_op.drop_column("model_version")

    op.drop_table("first3f_models")
