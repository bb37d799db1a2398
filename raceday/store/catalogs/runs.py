"""Catalog of run control: each stage's latest run of a day, the day's run lock, and the days a
backfill has completed (``pipeline_runs``, ``run_locks``, ``backfill_days``)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Connection, and_, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from raceday.store.models import BackfillDay, PipelineRun, RunLock, table_of
from raceday.store.repository import insert_rows, read_rows, refused_write, to_records

RUNS = table_of(PipelineRun)
RUN_LOCKS = table_of(RunLock)
BACKFILL_DAYS = table_of(BackfillDay)
HORSE_LOCK = "horse"  # the lock of a horse day (NAR and JRA share the horse tables)
BOAT_LOCK = "boat"  # the lock of a boat day
# The store's one warm-up lock (the history before a first day is no day's own): a run_locks
# row of its own sport, on a day no race has.
WARM_UP_LOCK = "warm-up"
WARM_UP_LOCK_DAY = date.min
# A backfill's lock of its sport's backfills on the store, held for the backfill's whole life
# (one backfill of a store and sport at a time: the chunks of two interleaved): a run_locks row
# of its own sport (``sport`` is at most 8 characters), on a day no race has.
BACKFILL_LOCKS = {HORSE_LOCK: "horse-bf", BOAT_LOCK: "boat-bf"}
BACKFILL_LOCK_DAY = date.min


# --- stage runs -------------------------------------------------------------------------------


def record_stage_run(connection: Connection, run: dict[str, object]) -> None:
    """Upsert the latest run of a stage for a day, counting attempts (``run["attempts"]``: how
    many this run made, 1 when absent), in one statement: two runs recording the same stage of
    a day at once (a race-time day's race runs) both land, the second after the first commits,
    where a read, delete and insert let both insert and the second fail on the key."""
    made = run.get("attempts", 1)
    made = made if isinstance(made, int) else 1
    row = to_records(pd.DataFrame([{**run, "attempts": made}]), RUNS)[0]
    dialect_insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    statement = dialect_insert(RUNS).values(row)
    key = (RUNS.c.flow_name, RUNS.c.stage, RUNS.c.race_date)
    key_names = {column.name for column in key}
    latest = {name: statement.excluded[name] for name in row if name not in key_names}
    statement = statement.on_conflict_do_update(
        index_elements=list(key),
        set_={**latest, "attempts": RUNS.c.attempts + statement.excluded.attempts},
    )
    try:
        connection.execute(statement)
    except DBAPIError as error:
        # ``from None``: the chained error's text is the statement with its values.
        raise refused_write(RUNS, error) from None


WARM_UP_STAGE = "warm-up"  # a store's warm-up: started when decided, completed when derived
WARM_UP_STARTED = "started"


def warm_up_cut_short(connection: Connection) -> date | None:
    """The last day of the latest warm-up that was started and never completed (a run killed
    after storing its results, before deriving them), else None."""
    latest = connection.execute(
        select(RUNS.c.status, RUNS.c.race_date)
        .where(RUNS.c.stage == WARM_UP_STAGE)
        .order_by(RUNS.c.started_at.desc(), RUNS.c.id.desc())
        .limit(1)
    ).first()
    return _as_date(latest.race_date) if latest and latest.status == WARM_UP_STARTED else None


def read_runs(connection: Connection, race_date: date) -> pd.DataFrame:
    """The stage runs of a day (``pipeline_runs`` rows)."""
    return read_rows(connection, RUNS, start=race_date, end=race_date)


def flow_stage_seconds(connection: Connection, flow_name: str, race_date: date) -> float:
    """Stage time recorded so far by a flow for a day."""
    query = select(func.coalesce(func.sum(RUNS.c.duration_s), 0.0)).where(
        and_(RUNS.c.flow_name == flow_name, RUNS.c.race_date == race_date)
    )
    return float(connection.execute(query).scalar() or 0.0)


# --- the day's run lock -----------------------------------------------------------------------


def lock_day(
    connection: Connection, race_date: date, holder: str, run_id: str, sport: str = HORSE_LOCK
) -> None:
    """Take the day's run lock of ``sport`` (:func:`lock_days` of one day)."""
    lock_days(connection, [race_date], holder, run_id, sport)


def lock_days(
    connection: Connection, days: Sequence[date], holder: str, run_id: str, sport: str = HORSE_LOCK
) -> None:
    """Take the run locks of ``days`` of ``sport`` in one statement. The primary key of
    ``run_locks`` (date, sport) is the arbiter: of two runs inserting a day at once exactly one
    succeeds, the other gets an ``IntegrityError`` and takes none of its days (its own
    transaction must be the only thing it rolls back)."""
    since = datetime.now()
    connection.execute(
        insert(RUN_LOCKS),
        [
            {"race_date": day, "sport": sport, "holder": holder, "run_id": run_id, "since": since}
            for day in days
        ],
    )


def day_lock_holder(
    connection: Connection, race_date: date, sport: str = HORSE_LOCK
) -> dict[str, Any] | None:
    """Who holds the day's run lock of ``sport`` (run id, holder, since), or None."""
    found = day_lock_holders(connection, [race_date], sport)
    return {key: found[0][key] for key in ("run_id", "holder", "since")} if found else None


def day_lock_holders(
    connection: Connection, days: Sequence[date], sport: str = HORSE_LOCK
) -> list[dict[str, Any]]:
    """The run locks of ``sport`` held on any of ``days`` (day, run id, holder, since), by day."""
    rows = connection.execute(
        select(RUN_LOCKS.c.race_date, RUN_LOCKS.c.run_id, RUN_LOCKS.c.holder, RUN_LOCKS.c.since)
        .where(RUN_LOCKS.c.race_date.in_(list(days)), RUN_LOCKS.c.sport == sport)
        .order_by(RUN_LOCKS.c.race_date)
    ).all()
    return [{**row._mapping, "race_date": _as_date(row.race_date)} for row in rows]


def renew_lock(connection: Connection, race_date: date, sport: str, run_id: str) -> None:
    """Say that ``run_id``, which holds the run lock of ``race_date`` of ``sport``, is alive:
    its ``since`` becomes now (a lock taken over meanwhile, another run's, is left alone)."""
    connection.execute(
        update(RUN_LOCKS)
        .where(
            RUN_LOCKS.c.race_date == race_date,
            RUN_LOCKS.c.sport == sport,
            RUN_LOCKS.c.run_id == run_id,
        )
        .values(since=datetime.now())
    )


def run_locks_held(connection: Connection) -> list[dict[str, Any]]:
    """Every run lock in the store (day, sport, run id, holder, since), oldest first."""
    rows = connection.execute(
        select(
            RUN_LOCKS.c.race_date,
            RUN_LOCKS.c.sport,
            RUN_LOCKS.c.run_id,
            RUN_LOCKS.c.holder,
            RUN_LOCKS.c.since,
        ).order_by(RUN_LOCKS.c.since, RUN_LOCKS.c.race_date)
    ).all()
    return [dict(row._mapping) for row in rows]


def unlock_day(
    connection: Connection, race_date: date, run_id: str | None = None, sport: str = HORSE_LOCK
) -> None:
    """Release the day's run lock of ``sport`` (only ``run_id``'s when given)."""
    unlock_days(connection, [race_date], run_id, sport)


def unlock_days(
    connection: Connection, days: Sequence[date], run_id: str | None = None, sport: str = HORSE_LOCK
) -> None:
    """Release the run locks of ``days`` of ``sport`` (only ``run_id``'s when given)."""
    condition = and_(RUN_LOCKS.c.race_date.in_(list(days)), RUN_LOCKS.c.sport == sport)
    if run_id is not None:
        condition = and_(condition, RUN_LOCKS.c.run_id == run_id)
    connection.execute(delete(RUN_LOCKS).where(condition))


# --- backfill progress ------------------------------------------------------------------------


def completed_backfill_days(
    connection: Connection, start: date, end: date, circuits: Collection[str] = ()
) -> set[date]:
    """Days ``start``..``end`` a backfill has completed for every one of ``circuits`` (none
    named: for any); a day marked without circuits (before revision 3000) counts for all."""
    query = select(BACKFILL_DAYS.c.race_date, BACKFILL_DAYS.c.circuits).where(
        BACKFILL_DAYS.c.race_date >= start, BACKFILL_DAYS.c.race_date <= end
    )
    return {
        _as_date(day)
        for day, marked in connection.execute(query).all()
        if marked is None or set(circuits) <= set(marked.split(","))
    }


def _as_date(value: Any) -> date:
    return value if not isinstance(value, datetime) else value.date()


def unmark_backfill_days(connection: Connection, days: list[date]) -> None:
    """Forget that ``days`` were completed (a day refused for its input on a forced re-run: a
    later run without ``--force`` must run it again, once mended)."""
    if days:
        connection.execute(delete(BACKFILL_DAYS).where(BACKFILL_DAYS.c.race_date.in_(days)))


def mark_backfill_days(
    connection: Connection,
    days: list[date],
    run_id: str,
    started_at: datetime,
    seconds: float,
    circuits: Collection[str] = (),
) -> None:
    """Record ``days`` as completed by a backfill chunk that started at ``started_at``, took
    ``seconds`` (each day an equal share) and read ``circuits``: the earlier marks replaced, the
    circuits they were done for kept beside these."""
    if not days:
        return
    earlier = select(BACKFILL_DAYS.c.race_date, BACKFILL_DAYS.c.circuits).where(
        BACKFILL_DAYS.c.race_date.in_(days)
    )
    done_for = {_as_date(day): marked for day, marked in connection.execute(earlier).all()}
    connection.execute(delete(BACKFILL_DAYS).where(BACKFILL_DAYS.c.race_date.in_(days)))
    rows = pd.DataFrame(
        {
            "race_date": pd.to_datetime(pd.Series(days)),
            "run_id": run_id,
            "completed_at": started_at + timedelta(seconds=seconds),
            "duration_s": seconds / len(days),
            "circuits": [_circuits_text(circuits, done_for.get(day)) for day in days],
        }
    )
    insert_rows(connection, BACKFILL_DAYS, rows)


def _circuits_text(circuits: Collection[str], earlier: str | None) -> str | None:
    """``circuits`` and the ones of an ``earlier`` mark, as the column keeps them (sorted,
    comma-separated; None when neither names one)."""
    every = {*circuits, *(earlier.split(",") if earlier else ())}
    return ",".join(sorted(every)) or None


# A day a backfill's store wave refused for its input (flows/scaleout.py): a ``pipeline_runs``
# row of its own stage, the day's refusal in ``message``; its ordered pass, in another process,
# reads it back.
REFUSAL_STAGE = "refused"


def replace_refusals(connection: Connection, start: date, end: date, rows: pd.DataFrame) -> None:
    """The refusals recorded for days ``start``..``end``: ``rows`` (``pipeline_runs`` rows of
    :data:`REFUSAL_STAGE`), in place of those an earlier run recorded (a day mended since)."""
    connection.execute(
        delete(RUNS).where(
            RUNS.c.stage == REFUSAL_STAGE, RUNS.c.race_date >= start, RUNS.c.race_date <= end
        )
    )
    insert_rows(connection, RUNS, rows)


def refusal_messages(connection: Connection, start: date, end: date) -> list[str]:
    """The messages of the refusals recorded for days ``start``..``end``, by day."""
    query = (
        select(RUNS.c.message)
        .where(RUNS.c.stage == REFUSAL_STAGE, RUNS.c.race_date >= start, RUNS.c.race_date <= end)
        .order_by(RUNS.c.race_date)
    )
    return [str(message) for message in connection.scalars(query)]
