"""the hit rate the top picks expect: ``expected_hit_rate`` on the performance records

Revision ID: 2700
Revises: 2600
Create Date: 2026-12-06 14:00:00

``performance`` and ``rolling_performance`` gain ``expected_hit_rate``: the mean probability of
each scored race's top pick, the hit rate the model's own probabilities expect. The
``hit_rate_floor`` rule judges the observed hit rate against it: a fixed floor of 30 % fired on
40 of 171 JRA days of a year, whose favourites win about 31 % of races, and sat far below NAR's
small fields. Rows recorded before have none (NULL): the rule is silent on them until the day
is recorded again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "2700"
down_revision = "2600"
branch_labels = None
depends_on = None

TABLES = ("performance", "rolling_performance")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("expected_hit_rate", sa.Float(), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("expected_hit_rate")
