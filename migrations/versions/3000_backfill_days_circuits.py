"""a backfilled day is done for the circuits its source held: ``backfill_days.circuits``

Revision ID: 3000
Revises: 2900
Create Date: 2026-12-08 00:20:00

A backfill skipped every day an earlier backfill had completed, whatever that backfill read: a
store backfilled from NAR tables, then backfilled over the same days from JRA tables (a second
export, or PC-KEIBA's circuits set to ``nar,jra``), skipped every day ("resuming: 16 of 16
days were done") and stored no JRA race, exit 0. A day is now done for the circuits of the
source that completed it (``nar``, ``jra``, ``jra,nar``), and a backfill reading another
circuit runs it. A day completed before this revision is done for the circuits of the races
stored for it (JRA's venues 01-10, any other two-digit venue NAR's); a day without a stored
race keeps no circuits (``NULL``: done for any source, as before).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "3000"
down_revision = "2900"
branch_labels = None
depends_on = None

JRA_VENUES = "('01', '02', '03', '04', '05', '06', '07', '08', '09', '10')"


def _stored(condition: str) -> str:
    return (
        "EXISTS (SELECT 1 FROM races r WHERE r.race_date = backfill_days.race_date "
        f"AND {condition})"
    )


JRA = _stored(f"r.keibajo_code IN {JRA_VENUES}")
NAR = _stored(f"r.keibajo_code NOT IN {JRA_VENUES} AND r.keibajo_code BETWEEN '11' AND '99'")
STORED_CIRCUITS = sa.text(
    "UPDATE backfill_days SET circuits = CASE "
    f"WHEN {JRA} AND {NAR} THEN 'jra,nar' WHEN {JRA} THEN 'jra' WHEN {NAR} THEN 'nar' END"
)


def upgrade() -> None:
    with op.batch_alter_table("backfill_days", schema=None) as batch_op:
        batch_op.add_column(sa.Column("circuits", sa.String(length=16), nullable=True))
    op.get_bind().execute(STORED_CIRCUITS)


def downgrade() -> None:
    with op.batch_alter_table("backfill_days", schema=None) as batch_op:
        batch_op.drop_column("circuits")
