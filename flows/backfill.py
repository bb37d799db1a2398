"""Backfill: replay a range of past race days through the daily stages, a chunk of days per task.

Each chunk (``chunk_days`` consecutive days on a grid that starts at ``start``) is one task that
reads the chunk from the source once and runs the same stage functions as the daily flow over
the whole chunk — validate the cards, validate the results, reference times, first 3F, indexes,
point-in-time features, predictions — then stakes, settles and records each day in date order
in one pass, so a day's bankroll is the one its earlier days left.

Point in time: features are as-of each runner's day (runs strictly before it); reference times
and the first-3F model are learned from the window that ends the day before the chunk starts, so
every day of the chunk only uses what was known before that day (with chunks, up to
``chunk_days - 1`` days staler than a daily run's). Predictions and stakes use the bet-time odds.

Resumable and idempotent: a chunk marks its days completed (``backfill_days``) when it ends; a
re-run skips chunks whose days are all completed (unless ``force``) and redoes a chunk that was
interrupted from its start (every write replaces by natural key). Between chunks
:func:`after_chunk` is called: the place where periodic model retraining plugs in.

With ``workers`` (PostgreSQL), the stages that do not depend on the ledger run first over every
chunk on the workers of a work pool (:mod:`flows.scaleout`), and each chunk's task runs only
its ordered part (:func:`flows.chain.ordered_chain`): the same outputs.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from prefect import task
from prefect.cache_policies import NONE
from prefect.runtime import flow_run

from config import Settings, mask_url
from flows.alerting import alerting_flow
from flows.backfill_settings import backfill_settings
from flows.chain import chunk_chain, ordered_chain, prepare_history, train_chain
from flows.scaleout import refuse_scale_out, run_waves
from raceday.errors import InputError
from raceday.run_status import COMPLETED, STOPPED, no_races_warning, run_status
from raceday.sources.timeline import OddsAt
from raceday.store.catalogs.ratings import SettledRuns
from raceday.store.catalogs.runs import completed_backfill_days, mark_backfill_days
from tasks.common import AsTasks, current_run_id, engine_for, in_process, io_task_options, logger
from tasks.publish import publish_backfill_summary
from tasks.train import retrain_due

DEFAULT_CHUNK_DAYS = 28


@dataclass(frozen=True)
class Chunk:
    """Consecutive days run by one task."""

    start: date
    end: date

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]


def chunk_grid(start: date, end: date, chunk_days: int) -> list[Chunk]:
    """``start``..``end`` cut into chunks of ``chunk_days`` (the last one may be shorter)."""
    if end < start:
        raise InputError(f"--end {end} is before --start {start}")
    if chunk_days < 1:
        raise InputError(f"--chunk-days must be at least 1, not {chunk_days}")
    chunks = []
    first = start
    while first <= end:
        last = min(first + timedelta(days=chunk_days - 1), end)
        chunks.append(Chunk(first, last))
        first = last + timedelta(days=1)
    return chunks


def pending_chunks(chunks: list[Chunk], completed: set[date], force: bool) -> list[Chunk]:
    """Chunks with a day not completed yet (every chunk when forced)."""
    if force:
        return list(chunks)
    return [chunk for chunk in chunks if not set(chunk.days) <= completed]


def completed_days(settings: Settings, start: date, end: date) -> set[date]:
    """Days of ``start``..``end`` completed by earlier backfills (empty for a fresh store)."""
    from raceday.store.engine import has_schema

    engine = engine_for(settings)
    if not has_schema(engine):
        return set()
    with engine.connect() as connection:
        return completed_backfill_days(connection, start, end)


def warm_up(settings: Settings, start: date) -> None:
    """The warm-up of ``prepare_history`` in-process (benchmarks, child processes in tests)."""
    prepare_history(in_process, settings, start)


@task(name="backfill-chunk", cache_policy=NONE)
def backfill_chunk(
    settings: Settings, chunk: Chunk, settled: SettledRuns | None = None, waved: bool = False
) -> dict[str, int]:
    """One chunk of days, then its days marked completed (one transaction). ``waved``: its
    waves ran on the work pool (:mod:`flows.scaleout`): only its ordered part is left."""
    started, clock = datetime.now(), time.perf_counter()
    chain = ordered_chain if waved else chunk_chain
    counts = chain(in_process, settings, chunk.start, chunk.end, chunk.days, settled)
    with engine_for(settings).begin() as connection:
        mark_backfill_days(
            connection, chunk.days, current_run_id(), started, time.perf_counter() - clock
        )
    logger().info(
        "backfill %s..%s: %d races, %d bets in %.1f s",
        chunk.start,
        chunk.end,
        counts["races"],
        counts["bets"],
        time.perf_counter() - clock,
    )
    return counts


def after_chunk(
    settings: Settings, last_day: date, settled: SettledRuns | None = None
) -> dict[str, Any] | None:
    """After each chunk: train (and maybe promote) the version of ``last_day`` when due.

    The version learns from days up to ``last_day`` only; the next chunk predicts with the
    version promoted before its first day, so this stays point in time.
    """
    if not retrain_due(settings, last_day):
        return None
    try:
        summary = train_chain(in_process, settings, last_day, settled)
    except InputError as short:  # e.g. too few rated winners: the backfill goes on without it
        logger().warning("no version trained after %s: %s", last_day, short)
        return None
    logger().info("trained %s: %s", summary["version"], summary["reason"])
    return summary


@dataclass(frozen=True)
class BackfillSummary:
    """What a backfill reports (``--json`` prints it)."""

    start: str
    end: str
    days: int
    chunks: int
    chunks_run: int
    chunks_skipped: int
    races: int
    runners: int
    bets: int
    seconds: float
    races_predicted: int = 0
    days_skipped: int = 0
    stopped: bool = False
    status: str = COMPLETED
    database: str | None = None
    trained: tuple[str, ...] = ()
    odds_at: str = "morning"
    warnings: tuple[str, ...] = ()


STOP_AT_SAFE_POINT = threading.Event()  # set by the command's first Ctrl-C: stop between chunks
PHASE = {"now": "starting"}  # what this process's backfill is doing (the command's display)


def stopped_warning(run_chunks: int, todo: int) -> str:
    """What a backfill stopped on request says: where it stopped and how to go on."""
    return (
        f"stopped at your request after {run_chunks} of {todo} chunks (every chunk run is "
        "stored): run the same command again to resume; the days done are skipped"
    )


def backfill_run_name() -> str:
    """``backfill-2025-01-01..2025-12-31``: the run named after its range."""
    parameters = flow_run.get_parameters()
    return f"backfill-{parameters.get('start')}..{parameters.get('end')}"


@alerting_flow("backfill", backfill_run_name)
def backfill(
    start: date,
    end: date,
    races: int | None = None,
    source: str | None = None,
    chunk_days: int = DEFAULT_CHUNK_DAYS,
    force: bool = False,
    odds_at: OddsAt | None = None,
    workers: int = 0,
) -> dict[str, Any]:
    """Replay ``start``..``end`` through the daily stages, ``chunk_days`` days per task (the
    store is the settings', never a parameter: see ``flows/daily.py``). ``odds_at``: bet on
    the morning odds (the daily run's) or each race's odds ``live.lead_minutes`` before its
    post time (race-time betting's backtest); default ``settings.live.odds_at``. ``workers``:
    run the stages that do not depend on the ledger chunk-parallel as that many runs of the
    ``backfill-wave`` deployment on its work pool (PostgreSQL only, :mod:`flows.scaleout`);
    0, the default, runs every chunk here in order."""
    clock = time.perf_counter()
    settings = backfill_settings(races, source, odds_at)
    chunks = chunk_grid(start, end, chunk_days)
    todo = pending_chunks(chunks, completed_days(settings, start, end), force)
    if workers:
        refuse_scale_out(settings)
    if todo:
        PHASE["now"] = "warm-up"
        prepare_history(AsTasks(settings), settings, todo[0].start)
    if todo and workers:
        PHASE["now"] = f"waves on {workers} workers"
        spans = [(chunk.start, chunk.end) for chunk in todo]
        run_waves(settings, spans, workers, races, settings.live.odds_at)
    options = io_task_options(settings)
    totals = {"races": 0, "runners": 0, "predicted": 0, "bets": 0}
    versions: list[str] = []
    # read once, extended chunk by chunk (features and training; the chunks' features kept
    # for the trainings' windows)
    settled = SettledRuns.for_training(
        settings.train.window_days(), settings.features.backfill_held_days
    )
    run_chunks = 0
    for chunk in todo:
        if STOP_AT_SAFE_POINT.is_set():  # asked to stop (Ctrl-C): between chunks, all stored
            break
        run_chunks += 1
        PHASE["now"] = f"chunk {run_chunks}/{len(todo)}"
        counts = backfill_chunk.with_options(**options)(settings, chunk, settled, bool(workers))
        for key in totals:
            totals[key] += counts[key]
        PHASE["now"] = f"after chunk {run_chunks}/{len(todo)}"
        trained = after_chunk(settings, chunk.end, settled)
        if trained is not None:
            versions.append(
                f"{trained['version']} ({'promoted' if trained['promoted'] else 'kept'})"
            )
    summary = BackfillSummary(
        start=start.isoformat(),
        end=end.isoformat(),
        days=(end - start).days + 1,
        chunks=len(chunks),
        chunks_run=run_chunks,
        chunks_skipped=len(chunks) - len(todo),
        seconds=round(time.perf_counter() - clock, 1),
        races=totals["races"],
        runners=totals["runners"],
        bets=totals["bets"],
        races_predicted=totals["predicted"],
        days_skipped=sum(len(chunk.days) for chunk in chunks) - sum(len(c.days) for c in todo),
        stopped=run_chunks < len(todo),
        database=mask_url(settings.database_url),
        trained=tuple(versions),
        odds_at=settings.live.odds_at,
    )
    warnings = no_races_warning(summary.races, f"{start}..{end}") if todo else []
    status = run_status((), warnings)
    if summary.stopped:
        warnings.append(stopped_warning(run_chunks, len(todo)))
        status = STOPPED
    result = asdict(replace(summary, status=status, warnings=tuple(warnings)))
    publish_backfill_summary(result)
    return result
