"""A boat racing day end to end: ``raceday run --sport boat --date D --source files:DIR``.

    warm-up:  prepare store → boat history (earlier days of the source the store lacks)
    day:      ingest → card (validate, store) → course → predict → exotics → stake
              → results (validate, store) → settle → record → monitor → report
                                                                           (boat day chain)
    backfill: the day chain for each day of the source in a range, in date order (days
              done, recorded and settled, skipped unless forced); before each chunk of days,
              its days' boat run locks held and the boat version of the day before it
              trained when due; a day refused for its input set aside; what it leaves to do
              said in its warnings                                          (boat-backfill)

The chain is written once here (:func:`boat_day_chain`: the card, where a day is refused,
then the rest of the day) and run as task runs of the ``boat-day`` flow
(:class:`tasks.common.AsTasks`). The store comes from the settings, never a flow parameter
(docs/ARCHITECTURE.md). The day's decision sees only the odds published by the
morning decision time and a model fitted on earlier days.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from prefect import get_run_logger

from config import Settings, load_settings, mask_url
from data_checks.boat import ValidCard
from flows.alerting import alerting_flow, day_run_name
from flows.backfill import DEFAULT_CHUNK_DAYS, stopped_before
from flows.backfill_plan import Chunk, chunk_grid
from flows.train import boat_train_chain
from raceday.boat.resume import (
    done_days,
    no_program_warning,
    open_days_warning,
    provisional_warning,
    replayed_warning,
    results_file_days,
    sized_before_warning,
)
from raceday.boat.source import (
    BoatDay,
    boat_directory,
    check_day_files,
    program_days,
    require_results,
)
from raceday.errors import InputError, RacedayError, failure_kind
from raceday.run_status import (
    COMPLETED_WITH_REFUSALS,
    DayRefusal,
    refused_warning,
    run_status,
)
from raceday.store.catalogs.boat import (
    days_recorded,
    open_bets_per_day,
    provisional_bets_per_day,
)
from raceday.store.catalogs.runs import BOAT_LOCK
from raceday.store.engine import has_schema
from tasks.boat import (
    boat_card,
    boat_course,
    boat_decision,
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
from tasks.common import AsTasks, StageRunner, engine_for, log_refusals
from tasks.locks import HeldDays, backfill_lock, day_lock
from tasks.monitor import boat_monitor_day
from tasks.store import prepare_store


def boat_day_card(
    run: StageRunner, settings: Settings, directory: Path, race_date: date
) -> tuple[BoatDay, ValidCard]:
    """The boat day up to its card: history made ready, the day's files read, its card
    validated and stored. Where a day is refused for its input (files refused: exit 2; nothing
    valid: 4), before anything of the day but its quarantine is stored."""
    run(prepare_store, settings)
    run(boat_history, settings, directory, race_date)
    day = run(boat_ingest, settings, directory, race_date)
    return day, run(boat_card, settings, day)


def boat_morning(
    run: StageRunner, settings: Settings, card: ValidCard, race_date: date
) -> pd.DataFrame:
    """The boat day's decision on its card: course → predict → exotics → stake; returns the
    day's predictions (its bets stored)."""
    course = run(boat_course, settings, card, race_date)
    predictions = run(boat_predict, settings, card, race_date, course)
    run(boat_exotics, settings, predictions, race_date)
    run(boat_stake, settings, predictions, race_date)
    return predictions


def boat_night(
    run: StageRunner, settings: Settings, day: BoatDay, card: ValidCard, predictions: pd.DataFrame
) -> dict[str, Any]:
    """The boat day's night on its card and ``predictions``: results → settle (the stored bets)
    → record → monitor → report; returns the day's summary."""
    race_date = day.race_date
    night = run(boat_results, settings, day, card)
    settled = run(boat_settle, settings, night, race_date)
    summary = run(
        boat_record, settings, card, predictions, night, settled, race_date,
        day.missing_odds_file,
    )  # fmt: skip
    summary = run(boat_monitor_day, settings, summary, race_date)
    return run(boat_report, settings, summary, predictions, settled, race_date)


def boat_day_from_card(
    run: StageRunner, settings: Settings, day: BoatDay, card: ValidCard
) -> dict[str, Any]:
    """The boat day after its card: the morning (:func:`boat_morning`), then the night
    (:func:`boat_night`); returns the day's summary."""
    return boat_night(run, settings, day, card, boat_morning(run, settings, card, day.race_date))


def boat_day_chain(
    run: StageRunner, settings: Settings, directory: Path, race_date: date
) -> dict[str, Any]:
    """The boat day: its card (:func:`boat_day_card`), then the rest of the day
    (:func:`boat_day_from_card`); returns the day's summary."""
    day, card = boat_day_card(run, settings, directory, race_date)
    return boat_day_from_card(run, settings, day, card)


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


def boat_settle_chain(
    run: StageRunner, settings: Settings, directory: Path, race_date: date
) -> dict[str, Any]:
    """The evening of a boat day decided before (the horses' settle-day): its K file read,
    validated and stored, and the bets stored by the morning's run settled as placed, never
    decided again; its card read again from the B file (the races the night keeps), its
    predictions the stored ones. A day without its K file, or with no decision stored, is
    refused in one line (exit 2) before anything is written."""
    require_results(directory, race_date)
    run(prepare_store, settings)
    day = run(boat_ingest, settings, directory, race_date)
    predictions = run(boat_decision, settings, race_date)
    card = run(boat_card, settings, day)
    decided = replace(day, missing_odds_file=None)  # the odds were the morning's: not read now
    return boat_night(run, settings, decided, card, predictions) | {"settled_as_placed": True}


@alerting_flow("boat-settle-day", day_run_name)
def boat_settle_day_run(race_date: date, source: str) -> dict[str, Any]:
    """The night of a boat day decided before: its results, its stored bets settled as placed,
    its record and report (``raceday run --sport boat --settle``)."""
    settings = load_settings(source=source)
    with day_lock(settings, race_date, BOAT_LOCK):
        return boat_settle_chain(AsTasks(settings), settings, boat_directory(source), race_date)


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


def backfill_boat_day(
    run: StageRunner, settings: Settings, directory: Path, race_date: date
) -> dict[str, Any] | DayRefusal:
    """One day of a boat backfill: its summary, or its refusal where its daily run would refuse
    it for its input (the command's check of its files, then its card): nothing of it stored
    but its quarantine, not recorded, and the other days go on. An unavailable source or store
    and a defect fail the backfill as before."""
    try:
        check_day_files(directory, race_date)
        day, card = boat_day_card(run, settings, directory, race_date)
    except RacedayError as error:
        if failure_kind(error) != "input":
            raise
        return DayRefusal(race_date, str(error), error.exit_code)
    return boat_day_from_card(run, settings, day, card)


@dataclass(frozen=True)
class BoatDaysRun:
    """What a boat backfill ran: the summaries of its days run, its days refused for their
    input and the versions it trained."""

    summaries: list[dict[str, Any]] = field(default_factory=list)
    refused: list[DayRefusal] = field(default_factory=list)
    trained: list[str] = field(default_factory=list)

    def days_run(self, *, staked: bool = False) -> set[date]:
        """The days run (``staked``: those of them that placed bets)."""
        return {
            date.fromisoformat(summary["date"])
            for summary in self.summaries
            if summary["bets"] or not staked
        }


def run_boat_chunk(
    run: StageRunner, settings: Settings, directory: Path, days: list[date], ran: BoatDaysRun
) -> None:
    """A chunk's ``days`` (its days not recorded yet) after the retraining due before them,
    added to ``ran``; each refused day said in the log, and the others go on."""
    version = retrain_before(run, settings, directory, days[0])
    ran.trained.extend([version] if version else [])
    for race_date in days:
        day = backfill_boat_day(run, settings, directory, race_date)
        if isinstance(day, DayRefusal):
            log_refusals([day])
            ran.refused.append(day)
        else:
            ran.summaries.append(day)


@dataclass(frozen=True)
class BoatStoreDays:
    """The store's boat days as a backfill finds them: recorded (a performance row), with bets
    open (results not in) and with bets refunded provisionally (their races set aside at night),
    in its range; ``done`` are skipped unless forced."""

    recorded: set[date] = field(default_factory=set)
    open_bets: dict[date, int] = field(default_factory=dict)
    provisional: dict[date, int] = field(default_factory=dict)

    @property
    def done(self) -> set[date]:
        """Recorded and settled for good (:func:`raceday.boat.resume.done_days`): no bet open,
        none refunded provisionally (its race set aside at night: results unreadable)."""
        return done_days(self.recorded, set(self.open_bets) | set(self.provisional))


def backfill_warnings(
    directory: Path, span: Chunk, days: list[date], ran: BoatDaysRun, before: BoatStoreDays,
    after: BoatStoreDays,
) -> list[str]:  # fmt: skip
    """What a boat backfill of ``span`` did and leaves to do: its refused days, the days with
    bets open it replayed (not settled as placed), the bets it leaves open,
    its days with a K file but no B file (not run), and the later days sized before a day it
    settled after them (:mod:`raceday.boat.resume`); ``after`` holds the store's days from the
    span's start on, later ones too."""
    open_bets = {day: n for day, n in after.open_bets.items() if day <= span.end}
    provisional = {day: n for day, n in after.provisional.items() if day <= span.end}
    results_only = {day for day in results_file_days(directory) if span.start <= day <= span.end}
    return [
        *refused_warning(ran.refused),
        *replayed_warning(ran.days_run() & set(before.open_bets)),
        *open_days_warning(set(open_bets), sum(open_bets.values())),
        *provisional_warning(provisional),
        *no_program_warning(results_only - set(days) - after.recorded),
        *sized_before_warning(
            ran.days_run(staked=True) - before.done, after.recorded - ran.days_run()
        ),
    ]


def boat_backfill_summary(
    start: date,
    end: date,
    days: list[date],
    ran: BoatDaysRun,
    settings: Settings,
    warnings: list[str],
    reopened: int = 0,
) -> dict[str, Any]:
    """The boat backfill's summary: its days run (``days_reopened`` of them recorded before
    with bets open), skipped (done before) and refused, their totals, the versions trained,
    its ``warnings``; status ``completed-with-refusals`` when a day was refused."""
    summaries = ran.summaries
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "status": COMPLETED_WITH_REFUSALS if ran.refused else run_status((), warnings),
        "days": len(days),
        "days_run": len(summaries),
        "days_reopened": reopened,
        "days_skipped": len(days) - len(summaries) - len(ran.refused),
        "days_refused": [refusal.as_summary() for refusal in ran.refused],
        "races": sum(summary["races"] for summary in summaries),
        "bets": sum(summary["bets"] for summary in summaries),
        "staked_yen": sum(summary["staked_yen"] for summary in summaries),
        "returned_yen": sum(summary["returned_yen"] for summary in summaries),
        "bankroll_yen": summaries[-1]["bankroll_yen"] if summaries else None,
        "trained": ran.trained,
        "warnings": warnings,
        "database": mask_url(settings.database_url),
    }


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
    before it). A day done (recorded and settled) is skipped unless ``force``: a day recorded
    with bets open (its results not in) runs again. Each chunk holds its days' boat run locks
    from before anything of it is written until its days are stored (a day a live run holds
    stops the backfill there, resumable); a day refused for its input is set aside and the
    other days go on. The backfill holds the store's boat backfill lock for its whole life
    (:func:`tasks.locks.backfill_lock`): another boat backfill of the store meanwhile is
    refused before it reads anything."""
    settings = load_settings(source=source)
    with backfill_lock(settings, BOAT_LOCK, f"{start}..{end}"):
        return boat_backfill_held(settings, start, end, source, force, chunk_days)


def boat_backfill_held(
    settings: Settings, start: date, end: date, source: str, force: bool, chunk_days: int
) -> dict[str, Any]:
    """The boat backfill of ``start``..``end`` (the flow's), its store's boat backfill lock
    held; its summary."""
    directory = boat_directory(source)
    started = time.perf_counter()
    days = [day for day in program_days(directory) if start <= day <= end]
    before = store_days(settings, start, end)
    done = set() if force else before.done
    run, ran = AsTasks(settings), BoatDaysRun()
    run(prepare_store, settings)  # the lock table there before the first chunk's days are held
    held = HeldDays(settings, sport=BOAT_LOCK)
    try:
        for chunk in chunk_grid(start, end, chunk_days):
            todo = [day for day in days if chunk.start <= day <= chunk.end and day not in done]
            if todo:
                held.hold(todo, stopped_before(Chunk(todo[0], todo[-1])))
                run_boat_chunk(run, settings, directory, todo, ran)
                held.release(todo)  # stored and recorded (a refused day: nothing stored)
    finally:
        held.close()
    after = store_days(settings, start, date.max)  # later days too: sized before a day run now
    warnings = backfill_warnings(directory, Chunk(start, end), days, ran, before, after)
    reopened = len(ran.days_run() & (set(before.open_bets) | set(before.provisional)))
    summary = boat_backfill_summary(start, end, days, ran, settings, warnings, reopened)
    return summary | {"seconds": round(time.perf_counter() - started, 1)}


def store_days(settings: Settings, start: date, end: date) -> BoatStoreDays:
    """The boat days ``start``..``end`` recorded already (a performance row) and those with
    bets open; none in a store without a schema."""
    engine = engine_for(settings)
    if not has_schema(engine):
        return BoatStoreDays()
    with engine.connect() as connection:
        return BoatStoreDays(
            days_recorded(connection, start, end),
            open_bets_per_day(connection, start, end),
            provisional_bets_per_day(connection, start, end),
        )
