"""replayed days keep no run time: ``performance.run_seconds`` a backfill stored is emptied

Revision ID: 2900
Revises: 2800
Create Date: 2026-12-07 23:50:00

Before 2026-12-06 a backfill stored each replayed day's share of its replay's time (about
0.2 s) as the day's ``run_seconds``; a backfill now stores none (the day has no run time of its
own). A store backfilled before kept those shares, so after an upgrade every daily run for 28
race days was a ``run_seconds`` anomaly against a median of 0.2 s. A day whose performance a
backfill wrote last — a day of ``backfill_days`` that no other flow's ``record`` stage recorded
after the backfill completed it — has its ``run_seconds`` emptied, as a backfill stores it now.
A day a daily run (or a live day's night) recorded after its backfill, and a day no backfill
replayed, keep theirs. Going down changes nothing: the shares are not worth restoring.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "2900"
down_revision = "2800"
branch_labels = None
depends_on = None

REPLAYED_LAST = sa.text(
    "UPDATE performance SET run_seconds = NULL "
    "WHERE run_seconds IS NOT NULL AND perf_date IN ("
    " SELECT b.race_date FROM backfill_days b WHERE NOT EXISTS ("
    "  SELECT 1 FROM pipeline_runs p WHERE p.race_date = b.race_date AND p.stage = 'record'"
    "  AND p.flow_name <> 'backfill' AND p.started_at > b.completed_at))"
)


def upgrade() -> None:
    op.get_bind().execute(REPLAYED_LAST)


def downgrade() -> None:
    pass
