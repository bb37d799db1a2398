"""run control tables: the day's run lock and the backfill's completed days leave pipeline_runs

Revision ID: 1500
Revises: 1900
Create Date: 2026-12-04 12:00:00

``pipeline_runs`` held two kinds of stand-in rows: a day's run lock (flow ``lock``, stage
``day``, the holder in ``message``) and the days a backfill completed (flow ``backfill``, stage
``day``, status ``completed``; started_at is the chunk's start, duration_s the day's share of the
chunk's time). They move to ``run_locks`` and ``backfill_days``; a mark's ``completed_at`` is its
chunk's start plus the chunk's time (its share times the chunk's days, the rows sharing its run
and start). The downgrade moves them back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "1500"
down_revision = "1900"
branch_labels = None
depends_on = None

LOCK_FLOW = "lock"
BACKFILL_FLOW = "backfill"
DAY_STAGE = "day"

pipeline_runs = sa.table(
    "pipeline_runs",
    sa.column("flow_name", sa.String),
    sa.column("stage", sa.String),
    sa.column("race_date", sa.Date),
    sa.column("run_id", sa.String),
    sa.column("status", sa.String),
    sa.column("rows_in", sa.Integer),
    sa.column("rows_out", sa.Integer),
    sa.column("started_at", sa.DateTime),
    sa.column("duration_s", sa.Float),
    sa.column("attempts", sa.Integer),
    sa.column("message", sa.Text),
)
run_locks = sa.table(
    "run_locks",
    sa.column("race_date", sa.Date),
    sa.column("holder", sa.Text),
    sa.column("run_id", sa.String),
    sa.column("since", sa.DateTime),
)
backfill_days = sa.table(
    "backfill_days",
    sa.column("race_date", sa.Date),
    sa.column("run_id", sa.String),
    sa.column("completed_at", sa.DateTime),
    sa.column("duration_s", sa.Float),
)


def _chunk_sizes(rows: Sequence[Any], *key: str) -> dict[tuple[object, ...], int]:
    """How many marked days share each chunk (the rows with the same values of ``key``)."""
    sizes: dict[tuple[object, ...], int] = {}
    for row in rows:
        chunk = tuple(getattr(row, name) for name in key)
        sizes[chunk] = sizes.get(chunk, 0) + 1
    return sizes


def upgrade() -> None:
    op.create_table(
        "run_locks",
        sa.Column("race_date", sa.Date(), nullable=False),
        sa.Column("holder", sa.Text(), nullable=False),
        sa.Column("run_id", sa.String(length=40), nullable=False),
        sa.Column("since", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("race_date", name=op.f("pk_run_locks")),
    )
    op.create_table(
        "backfill_days",
        sa.Column("race_date", sa.Date(), nullable=False),
        sa.Column("run_id", sa.String(length=40), nullable=False),
        sa.Column("completed_at", sa.DateTime(), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("race_date", name=op.f("pk_backfill_days")),
    )
    connection = op.get_bind()
    runs = pipeline_runs.c
    is_lock = sa.and_(runs.flow_name == LOCK_FLOW, runs.stage == DAY_STAGE)
    is_mark = sa.and_(runs.flow_name == BACKFILL_FLOW, runs.stage == DAY_STAGE)
    locks = connection.execute(
        sa.select(runs.race_date, runs.message, runs.run_id, runs.started_at).where(is_lock)
    ).all()
    marks = connection.execute(
        sa.select(runs.race_date, runs.run_id, runs.started_at, runs.duration_s).where(
            is_mark, runs.status == "completed"
        )
    ).all()
    days_of_chunk = _chunk_sizes(marks, "run_id", "started_at")
    lock_rows = [
        {
            "race_date": lock.race_date,
            "holder": lock.message or "",
            "run_id": lock.run_id,
            "since": lock.started_at,
        }
        for lock in locks
    ]
    mark_rows = [
        {
            "race_date": mark.race_date,
            "run_id": mark.run_id,
            "completed_at": mark.started_at
            + timedelta(seconds=mark.duration_s * days_of_chunk[(mark.run_id, mark.started_at)]),
            "duration_s": mark.duration_s,
        }
        for mark in marks
    ]
    if lock_rows:
        op.bulk_insert(run_locks, lock_rows)
    if mark_rows:
        op.bulk_insert(backfill_days, mark_rows)
    connection.execute(sa.delete(pipeline_runs).where(sa.or_(is_lock, is_mark)))


def downgrade() -> None:
    connection = op.get_bind()
    locks = connection.execute(sa.select(run_locks)).all()
    marks = connection.execute(sa.select(backfill_days).order_by(backfill_days.c.race_date)).all()
    days_of_chunk = _chunk_sizes(marks, "run_id", "completed_at")
    first_day: dict[tuple[object, ...], date] = {}
    last_day: dict[tuple[object, ...], date] = {}
    for mark in marks:
        first_day.setdefault((mark.run_id, mark.completed_at), mark.race_date)
        last_day[(mark.run_id, mark.completed_at)] = mark.race_date
    not_counted = {"rows_in": 0, "rows_out": 0, "attempts": 1}
    lock_rows = [
        {
            "flow_name": LOCK_FLOW,
            "stage": DAY_STAGE,
            "race_date": lock.race_date,
            "run_id": lock.run_id,
            "status": "running",
            "started_at": lock.since,
            "duration_s": 0.0,
            "message": lock.holder,
            **not_counted,
        }
        for lock in locks
    ]
    mark_rows = []
    for mark in marks:
        chunk = (mark.run_id, mark.completed_at)
        mark_rows.append(
            {
                "flow_name": BACKFILL_FLOW,
                "stage": DAY_STAGE,
                "race_date": mark.race_date,
                "run_id": mark.run_id,
                "status": "completed",
                "started_at": mark.completed_at
                - timedelta(seconds=mark.duration_s * days_of_chunk[chunk]),
                "duration_s": mark.duration_s,
                "message": f"chunk {first_day[chunk]}..{last_day[chunk]}",
                **not_counted,
            }
        )
    if lock_rows or mark_rows:
        op.bulk_insert(pipeline_runs, [*lock_rows, *mark_rows])
    op.drop_table("backfill_days")
    op.drop_table("run_locks")
