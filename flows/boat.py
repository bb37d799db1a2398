"""A boat racing day end to end: ``raceday run --sport boat --date D --source files:DIR``.

    warm-up:  prepare store → boat history (earlier days of the source the store lacks)
    day:      ingest → card (validate, store) → course → predict → exotics → stake
              → results (validate, store) → settle → record → monitor → report
                                                                           (boat day chain)
    backfill: the day chain for each day of the source in a range, in date order (days
              already recorded skipped unless forced); before each chunk of days, its days'
              boat run locks held and the boat version of the day before it trained when
              due                                                          (boat-backfill)

The chain is written once here (:func:`boat_day_chain`) and run as task runs of the
``boat-day`` flow (:class:`tasks.common.AsTasks`). The store comes from the settings, never a
flow parameter (docs/ARCHITECTURE.md). The day's decision sees only the odds published by the
morning decision time and a model fitted on earlier days.
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from prefect import get_run_logger

from config import Settings, load_settings, mask_url
from flows.alerting import alerting_flow, day_run_name
from flows.backfill import DEFAULT_CHUNK_DAYS, Chunk, chunk_grid, stopped_before
from flows.train import boat_train_chain
from raceday.boat.source import boat_directory, program_days
from raceday.errors import InputError
from raceday.store.catalogs.boat import days_recorded
from raceday.store.catalogs.runs import BOAT_LOCK
from raceday.store.engine import has_schema
from tasks.boat import (
    boat_card,
    boat_course,
    boat_exotics,
    boat_history,
    boat_ingest,
    boat_predict,
    boat_record,
    boat_report,
    boat_results,
    boat_settle,
    boat_stake,
)
from tasks.boat_train import retrain_due
from tasks.common import AsTasks, StageRunner, engine_for
from tasks.locks import HeldDays, day_lock
from tasks.monitor import boat_monitor_day
from tasks.store import prepare_store


def boat_day_chain(
    run: StageRunner, settings: Settings, directory: Path, race_date: date
) -> dict[str, Any]:
    """The boat day: history made ready, the morning (card → course → predict → exotics →
    stake), the night (results → settle), the record, the monitor rules and the report;
    returns the day's summary."""
    run(prepare_store, settings)
    run(boat_history, settings, directory, race_date)
    day = run(boat_ingest, settings, directory, race_date)
    card = run(boat_card, settings, day)
    course = run(boat_course, settings, card, race_date)
    predictions = run(boat_predict, settings, card, race_date, course)
    run(boat_exotics, settings, predictions, race_date)
    run(boat_stake, settings, predictions, race_date)
    night = run(boat_results, settings, day)
    settled = run(boat_settle, settings, night, race_date)
    summary = run(boat_record, settings, card, predictions, night, settled, race_date)
    summary = run(boat_monitor_day, settings, summary, race_date)
    return run(boat_report, settings, summary, predictions, settled, race_date)


@alerting_flow("boat-day", day_run_name)
def boat_day_run(race_date: date, source: str) -> dict[str, Any]:
    """A whole boat racing day from the day files of ``source`` (``files:DIR``)."""
    settings = load_settings(source=source)
    return locked_boat_day(AsTasks(settings), settings, boat_directory(source), race_date)


def locked_boat_day(
    run: StageRunner, settings: Settings, directory: Path, race_date: date
) -> dict[str, Any]:
    """The boat day chain under the day's boat run lock (a horse day of the same date holds
    its own): a second run of the day at the same time is refused in one line."""
    with day_lock(settings, race_date, BOAT_LOCK):
        return boat_day_chain(run, settings, directory, race_date)


def backfill_run_name() -> str:
    """``boat-backfill-2026-04-01..2026-04-30``."""
    from prefect.runtime import flow_run

    parameters = flow_run.get_parameters()
    return f"boat-backfill-{parameters.get('start')}..{parameters.get('end')}"


def retrain_before(
    run: StageRunner, settings: Settings, directory: Path, first_day: date
) -> str | None:
    """Before a backfill's chunk: the store warmed up to ``first_day``, then the boat version
    of the day before it trained and registered when due (:func:`tasks.boat_train.
    retrain_due`); the chunk's days predict with the version promoted before each of them.
    Returns ``version (promoted|kept)``, or None when nothing was trained."""
    run(prepare_store, settings)
    run(boat_history, settings, directory, first_day)
    last_day = first_day - timedelta(days=1)
    if not retrain_due(settings, last_day):
        return None
    try:
        summary = boat_train_chain(run, settings, last_day)
    except InputError as short:  # e.g. too few single-winner races: the days fit their own
        get_run_logger().warning("no boat version trained after %s: %s", last_day, short)
        return None
    return f"{summary['version']} ({'promoted' if summary['promoted'] else 'kept'})"


@alerting_flow("boat-backfill", backfill_run_name)
def boat_backfill_run(
    start: date,
    end: date,
    source: str,
    force: bool = False,
    chunk_days: int = DEFAULT_CHUNK_DAYS,
) -> dict[str, Any]:
    """Every day of the source from ``start`` to ``end`` through the boat day chain, in date
    order, ``chunk_days`` at a time with a retraining before each chunk when due; each day
    point in time (a version trained strictly before it, else a model fitted on the days
    before it). Each chunk holds its days' boat run locks from before anything of it is
    written until its days are stored: a daily run of one of them is refused, and a day a live
    run holds stops the backfill there (resumable)."""
    settings = load_settings(source=source)
    directory = boat_directory(source)
    started = time.perf_counter()
    days = [day for day in program_days(directory) if start <= day <= end]
    done = set() if force else recorded_days(settings, start, end)
    run = AsTasks(settings)
    run(prepare_store, settings)  # the lock table there before the first chunk's days are held
    summaries: list[dict[str, Any]] = []
    trained: list[str] = []
    held = HeldDays(settings, sport=BOAT_LOCK)
    try:
        for chunk in chunk_grid(start, end, chunk_days):
            todo = [day for day in days if chunk.start <= day <= chunk.end and day not in done]
            if not todo:
                continue
            held.hold(todo, stopped_before(Chunk(todo[0], todo[-1])))
            version = retrain_before(run, settings, directory, todo[0])
            trained += [version] if version else []
            summaries += [boat_day_chain(run, settings, directory, day) for day in todo]
            held.release(todo)  # stored and recorded
    finally:
        held.close()
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "days": len(days),
        "days_run": len(summaries),
        "days_skipped": len(days) - len(summaries),
        "races": sum(summary["races"] for summary in summaries),
        "bets": sum(summary["bets"] for summary in summaries),
        "staked_yen": sum(summary["staked_yen"] for summary in summaries),
        "returned_yen": sum(summary["returned_yen"] for summary in summaries),
        "bankroll_yen": summaries[-1]["bankroll_yen"] if summaries else None,
        "trained": trained,
        "seconds": round(time.perf_counter() - started, 1),
        "database": mask_url(settings.database_url),
    }


def recorded_days(settings: Settings, start: date, end: date) -> set[date]:
    """The boat days ``start``..``end`` recorded already (a performance row): a backfill skips
    them; none in a store without a schema."""
    engine = engine_for(settings)
    if not has_schema(engine):
        return set()
    with engine.connect() as connection:
        return days_recorded(connection, start, end)
