"""run locks by sport: a boat day and a horse day of the same date each take their own lock

Revision ID: 2400
Revises: 2300
Create Date: 2026-12-03 12:00:00

``run_locks.sport`` (``horse``: the daily, settle and live flows of NAR/JRA, which share the
horse tables; ``boat``: the boat day) joins ``race_date`` in the primary key, the lock's
arbiter. Locks held when upgrading are horse locks; going down drops the boat ones.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "2400"
down_revision = "2300"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("run_locks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("sport", sa.String(length=8), server_default="horse", nullable=False)
        )
        batch_op.drop_constraint("pk_run_locks", type_="primary")
        batch_op.create_primary_key("pk_run_locks", ["race_date", "sport"])


def downgrade() -> None:
    run_locks = sa.table("run_locks", sa.column("sport", sa.String(length=8)))
    op.get_bind().execute(sa.delete(run_locks).where(run_locks.c.sport != "horse"))
    with op.batch_alter_table("run_locks", schema=None) as batch_op:
        batch_op.drop_constraint("pk_run_locks", type_="primary")
        batch_op.create_primary_key("pk_run_locks", ["race_date"])
        batch_op.drop_column("sport")
