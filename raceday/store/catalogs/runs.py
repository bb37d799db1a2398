"""Catalog of run control: each stage's latest run of a day, the days a backfill has completed
and the day's run lock (all rows of ``pipeline_runs``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Connection, and_, delete, func, insert, select

from raceday.store.models import PipelineRun, table_of
from raceday.store.repository import insert_rows, read_rows

RUNS = table_of(PipelineRun)


# --- stage runs -------------------------------------------------------------------------------


def record_stage_run(connection: Connection, run: dict[str, object]) -> None:
    """Upsert the latest run of a stage for a day, counting attempts (``run["attempts"]``: how
    many this run made, 1 when absent)."""
    key = and_(
        RUNS.c.flow_name == run["flow_name"],
        RUNS.c.stage == run["stage"],
        RUNS.c.race_date == run["race_date"],
    )
    previous = connection.execute(select(RUNS.c.attempts).where(key)).scalar()
    connection.execute(delete(RUNS).where(key))
    made = run.get("attempts", 1)
    made = made if isinstance(made, int) else 1
    insert_rows(connection, RUNS, pd.DataFrame([{**run, "attempts": (previous or 0) + made}]))


def read_runs(connection: Connection, race_date: date) -> pd.DataFrame:
    """The stage runs of a day (``pipeline_runs`` rows)."""
    return read_rows(connection, RUNS, start=race_date, end=race_date)


def flow_stage_seconds(connection: Connection, flow_name: str, race_date: date) -> float:
    """Stage time recorded so far by a flow for a day."""
    query = select(func.coalesce(func.sum(RUNS.c.duration_s), 0.0)).where(
        and_(RUNS.c.flow_name == flow_name, RUNS.c.race_date == race_date)
    )
    return float(connection.execute(query).scalar() or 0.0)


# --- backfill progress ------------------------------------------------------------------------

BACKFILL_FLOW = "backfill"  # pipeline_runs rows (flow "backfill", stage "day") mark a day done
BACKFILL_DAY_STAGE = "day"


def completed_backfill_days(connection: Connection, start: date, end: date) -> set[date]:
    """Days ``start``..``end`` a backfill has completed (recorded in ``pipeline_runs``)."""
    query = select(RUNS.c.race_date).where(
        RUNS.c.flow_name == BACKFILL_FLOW,
        RUNS.c.stage == BACKFILL_DAY_STAGE,
        RUNS.c.status == "completed",
        RUNS.c.race_date >= start,
        RUNS.c.race_date <= end,
    )
    return {_as_date(value) for (value,) in connection.execute(query).all()}


def _as_date(value: Any) -> date:
    return value if not isinstance(value, datetime) else value.date()


def mark_backfill_days(
    connection: Connection, days: list[date], run_id: str, started_at: datetime, seconds: float
) -> None:
    """Record ``days`` as completed by a backfill chunk (replacing earlier marks)."""
    if not days:
        return
    key = and_(
        RUNS.c.flow_name == BACKFILL_FLOW,
        RUNS.c.stage == BACKFILL_DAY_STAGE,
        RUNS.c.race_date.in_(days),
    )
    connection.execute(delete(RUNS).where(key))
    rows = pd.DataFrame(
        {
            "flow_name": BACKFILL_FLOW,
            "stage": BACKFILL_DAY_STAGE,
            "race_date": pd.to_datetime(pd.Series(days)),
            "run_id": run_id,
            "status": "completed",
            "rows_in": 0,
            "rows_out": 0,
            "started_at": started_at,
            "duration_s": seconds / len(days),
            "attempts": 1,
            "message": f"chunk {min(days)}..{max(days)}",
        }
    )
    insert_rows(connection, RUNS, rows)


# --- run lock ---------------------------------------------------------------------------------

LOCK_FLOW = "lock"  # pipeline_runs rows (flow_name "lock", stage "day") hold a day's run lock
LOCK_STAGE = "day"


def lock_day(connection: Connection, race_date: date, holder: str, run_id: str) -> None:
    """Take the day's run lock. The unique key of ``pipeline_runs`` is the arbiter: of two runs
    inserting at once exactly one succeeds, the other gets an ``IntegrityError`` (its own
    transaction must be the only thing it rolls back)."""
    row = {
        "flow_name": LOCK_FLOW,
        "stage": LOCK_STAGE,
        "race_date": race_date,
        "run_id": run_id,
        "status": "running",
        "rows_in": 0,
        "rows_out": 0,
        "started_at": datetime.now(),
        "duration_s": 0.0,
        "attempts": 1,
        "message": holder,
    }
    connection.execute(insert(RUNS).values(**row))


def day_lock_holder(connection: Connection, race_date: date) -> dict[str, Any] | None:
    """Who holds the day's run lock (run id, holder, since), or None."""
    found = connection.execute(
        select(RUNS.c.run_id, RUNS.c.message, RUNS.c.started_at).where(
            RUNS.c.flow_name == LOCK_FLOW, RUNS.c.stage == LOCK_STAGE, RUNS.c.race_date == race_date
        )
    ).first()
    if found is None:
        return None
    return {"run_id": found[0], "holder": found[1], "since": found[2]}


def unlock_day(connection: Connection, race_date: date, run_id: str | None = None) -> None:
    """Release the day's run lock (only ``run_id``'s when given)."""
    condition = and_(
        RUNS.c.flow_name == LOCK_FLOW, RUNS.c.stage == LOCK_STAGE, RUNS.c.race_date == race_date
    )
    if run_id is not None:
        condition = and_(condition, RUNS.c.run_id == run_id)
    connection.execute(delete(RUNS).where(condition))
