"""Backfill: replay a range of past race days through the daily stages, a chunk of days per task.

Each chunk (``chunk_days`` consecutive days on a grid that starts at ``start``) is one task that
reads the chunk from the source once and runs the same stage functions as the daily flow over
the whole chunk — screen the cards and results (nothing stored before both are validated),
store the results, reference times, first 3F, indexes, store the cards, point-in-time
features, predictions — then stakes, settles and records each day in date order in one pass,
so a day's bankroll is the one its earlier days left.

Point in time: features are as-of each runner's day (runs strictly before it); reference times
and the first-3F model are learned from the window that ends the day before the chunk starts, so
every day of the chunk only uses what was known before that day (with chunks, up to
``chunk_days - 1`` days staler than a daily run's). Predictions and stakes use the bet-time odds.

Resumable and idempotent: a chunk marks its days completed (``backfill_days``) when it ends; a
re-run skips chunks whose days are all completed (unless ``force``) and redoes a chunk that was
interrupted from its start (every write replaces by natural key). Once each chunk is prepared
(before its predictions; after its run for a chunk without races) :func:`start_training` is
called: the place where periodic model retraining plugs in; the fit overlaps the chunk's
predictions and ledger pass and the next chunk's stages up to its predictions, which wait for
the version (:class:`Training`).

With ``workers`` (PostgreSQL), the stages that do not depend on the ledger run first over every
chunk on the workers of a work pool (:mod:`flows.scaleout`), and each chunk's task runs only
its ordered part (:func:`flows.chain.ordered_chain`): the same outputs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import suppress
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
from prefect import task
from prefect.cache_policies import NONE
from prefect.runtime import flow_run

from config import Settings, mask_url
from config.reference import circuits
from flows.alerting import alerting_flow
from flows.backfill_plan import Chunk, chunk_grid, chunks_done, pending_chunks
from flows.backfill_settings import backfill_settings
from flows.chain import (
    ChunkNotes,
    PreparedChunk,
    chunk_chain,
    no_wait,
    ordered_chain,
    prepare_chunk,
    prepare_history,
    register_chain,
)
from flows.scaleout import refuse_scale_out, run_waves
from raceday.errors import InputError, RunLocked
from raceday.memory import map_large_blocks
from raceday.model.win import TimeSplit
from raceday.run_status import (
    COMPLETED,
    COMPLETED_WITH_REFUSALS,
    STOPPED,
    DayRefusal,
    backfill_no_races_warning,
    cancelled_warning,
    final_odds_races_warning,
    open_bets_warning,
    quarantine_warning,
    refused_warning,
    run_status,
    stale_odds_warning,
    unknown_class_warning,
    unpriced_warning,
    untimed_warning,
)
from raceday.sources.timeline import OddsAt
from raceday.store.catalogs.bets import open_bets_per_day
from raceday.store.catalogs.performance import RacesJudged, races_judged_between
from raceday.store.catalogs.ratings import SettledRuns
from raceday.store.catalogs.runs import (
    HORSE_LOCK,
    completed_backfill_days,
    mark_backfill_days,
    unmark_backfill_days,
)
from tasks.common import (
    AsTasks,
    current_run_id,
    engine_for,
    in_background,
    in_process,
    io_task_options,
    log_refusals,
    logged,
    logger,
    period_label,
)
from tasks.locks import HeldDays, backfill_lock
from tasks.publish import publish_backfill_summary
from tasks.train import fit_task, load_training_task, retrain_due

DEFAULT_CHUNK_DAYS = 28


def backfilled_days(settings: Settings, start: date, end: date) -> set[date]:
    """Days of ``start``..``end`` a backfill has completed (empty for a fresh store) for every
    circuit the settings' source holds (a store backfilled from NAR tables runs its days again
    for a source of JRA's): what a running backfill's progress counts."""
    from raceday.store.engine import has_schema

    engine = engine_for(settings)
    if not has_schema(engine):
        return set()
    with engine.connect() as connection:
        return completed_backfill_days(connection, start, end, circuits_read(settings))


def completed_days(settings: Settings, start: date, end: date) -> set[date]:
    """:func:`backfilled_days` a backfill skips: but a day with bets of the policy still open (a
    race's results not published when it ran), which runs again, settling them (its placed bets
    are kept), as a boat backfill's day does."""
    backfilled = backfilled_days(settings, start, end)
    if not backfilled:
        return backfilled
    with engine_for(settings).connect() as connection:
        still_open = open_bets_per_day(connection, settings.kelly.policy_name, start, end)
    return backfilled - set(still_open)


def circuits_read(settings: Settings) -> frozenset[str]:
    """The circuits the settings' source holds (:func:`raceday.sources.factory.source_circuits`):
    what a day the backfill completes is done for."""
    from raceday.sources.factory import source_circuits

    return source_circuits(settings.source, settings.pckeiba.circuits)


def warm_up(settings: Settings, start: date) -> None:
    """The warm-up of ``prepare_history`` in-process (benchmarks, child processes in tests)."""
    prepare_history(in_process, settings, start)


@dataclass(frozen=True)
class ChunkDone:
    """What a chunk's run did: its counts, its days refused for their input, and its card's
    races without odds by their deadline, sized on their final odds, decided on stale odds or
    (at race time) without odds for want of a readable post time."""

    counts: dict[str, int]
    refused: tuple[DayRefusal, ...] = ()
    unpriced: tuple[str, ...] = ()
    final_odds: tuple[str, ...] = ()
    stale_odds: tuple[str, ...] = ()
    untimed: tuple[str, ...] = ()


@task(name="backfill-chunk", cache_policy=NONE)
def backfill_chunk(
    settings: Settings,
    chunk: Chunk,
    settled: SettledRuns | None = None,
    waved: bool = False,
    model_ready: Callable[[], object] = no_wait,
    prepared: Future[PreparedChunk] | None = None,
) -> ChunkDone:
    """One chunk of days, then its days marked completed (one transaction), but those refused
    for their input (a later run runs them). ``waved``: its waves ran on the work pool
    (:mod:`flows.scaleout`): only its ordered part is left; ``model_ready``: waits for the
    training under way before the chunk predicts (and may prepare the next chunk meanwhile);
    ``prepared``: this chunk prepared ahead, beside a fit."""
    started, clock = datetime.now(), time.perf_counter()
    days = (chunk.start, chunk.end, chunk.days)
    notes = ChunkNotes()
    if waved:
        counts = ordered_chain(in_process, settings, *days, settled, model_ready, notes)
    else:
        counts = chunk_chain(in_process, settings, *days, settled, model_ready, prepared, notes)
    refused = notes.refused
    log_refusals(refused)
    refused_days = [refusal.day for refusal in refused]
    done = [day for day in chunk.days if day not in refused_days]
    with engine_for(settings).begin() as connection:
        unmark_backfill_days(connection, refused_days)  # done before, refused now (--force)
        mark_backfill_days(
            connection,
            done,
            current_run_id(),
            started,
            time.perf_counter() - clock,
            circuits_read(settings),
        )
    logger().info(
        "backfill %s..%s: %d races, %d bets in %.1f s",
        chunk.start,
        chunk.end,
        counts["races"],
        counts["bets"],
        time.perf_counter() - clock,
    )
    said = (
        tuple(notes.unpriced),
        tuple(notes.final_odds),
        tuple(notes.stale_odds),
        tuple(notes.untimed),
    )
    return ChunkDone(counts, tuple(refused), *said)


class Training:
    """The training of the version of ``until`` (the chunk's last day), its set loaded: the fit
    runs on a thread of its own (:func:`in_background`; the booster spends it in compiled code,
    without the GIL) while its chunk predicts and replays its days (the set is loaded once the
    chunk is prepared: :func:`training_once_prepared`) and the next chunk runs its stages that
    need no model, and
    :meth:`finish`, called before that chunk predicts (its ``model_ready``) or after the last
    chunk, waits for it and registers the version. The set is loaded before the next chunk
    writes anything and the version is registered before it predicts: the same version, point
    in time, as training between the chunks."""

    def __init__(self, settings: Settings, until: date, split: TimeSplit, runners: pd.DataFrame):
        self.settings, self.until, self.split = settings, until, split
        self.fitting = in_background(
            lambda: in_process(fit_task, settings, split, runners, until), f"fit-{until}"
        )
        self.finished: Future[dict[str, Any] | None] | None = None

    def finish(self) -> dict[str, Any] | None:
        """Wait for the fit and register the version (once: later calls return the same, or
        raise the same); None when there was not enough data to fit on (a warning)."""
        if self.finished is None:
            self.finished = Future()
            try:
                self.finished.set_result(self._register())
            except BaseException as error:  # noqa: BLE001 - raised again below, and on each call
                self.finished.set_exception(error)
        return self.finished.result()

    def _register(self) -> dict[str, Any] | None:
        try:
            fitted, evaluation = self.fitting.result()
            summary = register_chain(
                in_process, self.settings, self.until, self.split, fitted, evaluation
            )
        except InputError as short:  # e.g. too few rated winners: the backfill goes on without it
            logger().warning("no version trained after %s: %s", self.until, short)
            return None
        logger().info("trained %s: %s", summary["version"], summary["reason"])
        return summary


def start_training(
    settings: Settings, last_day: date, settled: SettledRuns | None = None
) -> Training | None:
    """Once a chunk is prepared (:func:`training_once_prepared`), or after it: when due, load
    the training set of the version of ``last_day`` and start its fit (:class:`Training`);
    None when no training is due or the set is too small.

    The version learns from days up to ``last_day`` only; the next chunk predicts with the
    version promoted before its first day, so this stays point in time.
    """
    if not retrain_due(settings, last_day):
        return None
    try:
        split, runners = in_process(load_training_task, settings, last_day, settled)
    except InputError as short:  # e.g. too few rated winners: the backfill goes on without it
        logger().warning("no version trained after %s: %s", last_day, short)
        return None
    return Training(settings, last_day, split, runners)


def after_chunk(
    settings: Settings, last_day: date, settled: SettledRuns | None = None
) -> dict[str, Any] | None:
    """After a chunk, in turn (no overlap with the next chunk): train (and maybe promote) the
    version of ``last_day`` when due (:func:`start_training`); its summary."""
    training = start_training(settings, last_day, settled)
    return training.finish() if training is not None else None


ChunkRunner = Callable[[Chunk, Callable[[], object], Future[PreparedChunk] | None], dict[str, int]]
ChunkPreparer = Callable[[Chunk], PreparedChunk]


def chunk_preparer(
    settings: Settings, settled: SettledRuns | None, held: HeldDays | None = None
) -> ChunkPreparer:
    """How a backfill's chunk is prepared in-process (:func:`flows.chain.prepare_chunk`) with
    the settled runs it holds, its days' run locks taken first when ``held`` (the flow's):
    what :func:`run_chunks` runs ahead."""

    def prepare(chunk: Chunk) -> PreparedChunk:
        if held is not None:
            held.hold(chunk.days, stopped_before(chunk))
        return prepare_chunk(in_process, settings, chunk.start, chunk.end, settled)

    return prepare


def prepared_ahead(prepare: ChunkPreparer, chunk: Chunk) -> Future[PreparedChunk]:
    """``prepare(chunk)`` run now, its outcome kept for the chunk's own run: after a failure
    that run prepares the chunk again itself (:func:`flows.chain.chunk_chain`), so the error is
    that chunk's, with its task's retries, not the chunk's that ran it ahead."""
    outcome: Future[PreparedChunk] = Future()
    try:
        outcome.set_result(prepare(chunk))
    except Exception as error:  # noqa: BLE001 - raised again by the chunk's own run
        outcome.set_exception(error)
    return outcome


def preparable_ahead(
    settings: Settings, training: Training, running: Chunk, later: list[Chunk]
) -> list[Chunk]:
    """Which of the ``later`` chunks (in order) may be prepared while ``running`` waits for
    ``training``'s fit: those before which no training can be due (the version of
    ``training.until`` is younger than the retraining interval at the end of the chunk before
    each), so every training's set is loaded, as always, before any chunk after its last day
    is prepared."""
    every = settings.train.backfill_retrain_days
    allowed: list[Chunk] = []
    end_before = running.end
    for chunk in later:
        if (end_before - training.until).days >= every:
            break
        allowed.append(chunk)
        end_before = chunk.end
    return allowed


@dataclass
class ChunksRun:
    """What :func:`run_chunks` did: counts summed over the chunks run, versions trained."""

    totals: dict[str, int] = field(
        default_factory=lambda: {"races": 0, "runners": 0, "predicted": 0, "bets": 0}
    )
    versions: list[str] = field(default_factory=list)
    chunks_run: int = 0

    def trained(self, training: Training | None) -> None:
        """Wait for ``training`` (if any) to be registered and note its version."""
        summary = training.finish() if training is not None else None
        if summary is not None:
            promoted = "promoted" if summary["promoted"] else "kept"
            self.versions.append(f"{summary['version']} ({promoted})")


def owed_training(
    settings: Settings, start: date, todo: list[Chunk], settled: SettledRuns | None
) -> Training | None:
    """A resumed backfill's training owed by the last chunk an earlier run completed: when due
    after it (:func:`start_training`), the version of its last day. A run killed after marking
    a chunk done and before registering the version trained on it (the fit runs beside the
    next chunk) would otherwise lose that version for good, and every later chunk would be
    predicted by other versions than an uninterrupted backfill's. None when nothing before the
    first chunk to run was completed, or nothing is owed (the version is stored)."""
    if not todo or todo[0].start <= start:
        return None
    return start_training(settings, todo[0].start - timedelta(days=1), settled)


def run_chunks(
    settings: Settings,
    todo: list[Chunk],
    settled: SettledRuns | None,
    run_chunk: ChunkRunner,
    prepare: ChunkPreparer | None = None,
    owed: Training | None = None,
) -> ChunksRun:
    """``todo`` in order by ``run_chunk(chunk, model_ready, prepared)``, each followed by its
    training when due (:func:`start_training`), overlapped with the next chunk up to its
    predictions (``model_ready``); with ``prepare`` (a chunk's stages that need no model), the
    chunks after that one are prepared too while the fit runs (:func:`preparable_ahead`,
    :func:`preparing_ahead`) and handed to their runs as ``prepared``. Stops between chunks
    when asked (:data:`STOP_AT_SAFE_POINT`), the training under way finished first; a chunk
    prepared ahead and not run is run again by the next backfill (its days are not
    completed). ``owed``: a training under way before the first chunk (:func:`owed_training`),
    finished before that chunk predicts."""
    map_large_blocks()  # what each chunk frees leaves the process (raceday.memory)
    done = ChunksRun()
    training: Training | None = owed
    started: list[Training | None] = []  # the training started once the chunk was prepared
    ahead: dict[date, Future[PreparedChunk]] = {}
    try:
        for index, chunk in enumerate(todo):
            if STOP_AT_SAFE_POINT.is_set():  # asked to stop (Ctrl-C): between chunks, all stored
                break
            done.chunks_run += 1
            PHASE["now"] = f"chunk {done.chunks_run}/{len(todo)}"
            model_ready: Callable[[], object] = no_wait
            if training is not None:
                following = preparable_ahead(settings, training, chunk, todo[index + 1 :])
                model_ready = training.finish
                if prepare is not None and following:
                    model_ready = preparing_ahead(training, prepare, following, ahead)
            started = []
            ready = training_once_prepared(settings, chunk, settled, model_ready, started)
            counts = run_chunk(chunk, ready, ahead.pop(chunk.start, None))
            for key in done.totals:
                done.totals[key] += counts[key]
            done.trained(training)  # registered before the chunk predicted (or now: no races)
            PHASE["now"] = f"after chunk {done.chunks_run}/{len(todo)}"
            # started beside the chunk's predictions, or now (a chunk without races)
            training = started[0] if started else start_training(settings, chunk.end, settled)
    except Exception:
        for under_way in (training, *started):  # the chunk failed: the versions are
            if under_way is not None:  # registered all the same, as when trained in turn
                with suppress(Exception):
                    under_way.finish()
        raise
    done.trained(training)
    return done


def training_once_prepared(
    settings: Settings,
    chunk: Chunk,
    settled: SettledRuns | None,
    model_ready: Callable[[], object],
    started: list[Training | None],
) -> Callable[[], object]:
    """A chunk's ``model_ready`` that, once ``model_ready`` has returned (the version before
    the chunk registered), starts the training of the version of the chunk's last day when
    due (:func:`start_training`, into ``started``): the chunk is prepared — its results,
    derivations and features, all a training reads, are stored and held — so the fit runs
    while the chunk predicts, stakes, settles and records its days (which no training reads)
    instead of after them. Once, however often a retried run of the chunk asks."""

    def ready() -> object:
        version = model_ready()
        if not started:
            started.append(start_training(settings, chunk.end, settled))
        return version

    return ready


def preparing_ahead(
    training: Training,
    prepare: ChunkPreparer,
    following: list[Chunk],
    ahead: dict[date, Future[PreparedChunk]],
) -> Callable[[], object]:
    """A chunk's ``model_ready`` that prepares the ``following`` chunks (into ``ahead``) before
    it waits for ``training``: the first always, the others while the fit is still running (on
    its own thread: the fit and the preparations share the two cores); none after one that
    failed, or once the backfill is asked to stop."""

    def ready() -> object:
        phase = PHASE["now"]
        for count, chunk in enumerate(following):
            if (count and training.fitting.done()) or STOP_AT_SAFE_POINT.is_set():
                break
            if chunk.start not in ahead:  # (a retried run of the chunk: prepared already)
                PHASE["now"] = f"{phase}, {count + 1} prepared ahead"
                ahead[chunk.start] = prepared_ahead(prepare, chunk)
            if ahead[chunk.start].exception() is not None:
                break
        PHASE["now"] = phase
        return training.finish()

    return ready


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
    days_refused: tuple[dict[str, Any], ...] = ()


STOP_AT_SAFE_POINT = threading.Event()  # set by the command's first Ctrl-C: stop between chunks
PHASE = {"now": "starting"}  # what this process's backfill is doing (the command's display)


def stopped_warning(run_chunks: int, todo: int) -> str:
    """What a backfill stopped on request says: where it stopped and how to go on."""
    return (
        f"stopped at your request after {run_chunks} of {todo} chunks (every chunk run is "
        "stored): run the same command again to resume; the days done are skipped"
    )


def stopped_before(chunk: Chunk) -> str:
    """What a backfill refused ``chunk`` (a live run holds one of its days) leaves."""
    return (
        f"the backfill stopped before {period_label(chunk.start, chunk.end)}, nothing of it "
        "written (the chunks before it are stored: run the same command again to resume once "
        "that run has ended)"
    )


def with_refusals(stopped: RunLocked, refused: list[DayRefusal]) -> RunLocked:
    """A backfill stopped at a day another run holds, its line naming the days it refused
    before (else only its summary, which a stop does not print, would)."""
    if not refused:
        return stopped
    days = ", ".join(str(refusal.day) for refusal in refused)
    return RunLocked(f"{stopped}; before it, day(s) refused for their input: {days}")


def classless_warning(judged: list[RacesJudged], what: str) -> list[str]:
    """The days of ``what`` (the chunks run, ``judged``) most of whose stored races of a
    circuit are of no known class, one line per circuit (the day's rule held day by day:
    :func:`raceday.run_status.unknown_class_warning`), logged too."""
    stored = [chunk.stored for chunk in judged if not chunk.stored.empty]
    if not stored:
        return []
    return logged(unknown_class_warning(pd.concat(stored), circuits(), what))


def backfill_run_name() -> str:
    """``backfill-2025-01-01..2025-12-31``: the run named after its range."""
    parameters = flow_run.get_parameters()
    return f"backfill-{parameters.get('start')}..{parameters.get('end')}"


def run_held_chunks(
    settings: Settings,
    start: date,
    todo: list[Chunk],
    workers: int,
    races: int | None,
    held: HeldDays,
    notes: ChunkNotes,
) -> ChunksRun:
    """The backfill after its warm-up: with ``workers``, the waves over every chunk on the work
    pool, then each chunk (:func:`run_chunks`), each holding its days' run locks (``held``)
    from before its first write until it is stored (with ``workers``: all of them before the
    waves); the days it refuses for their input and its card races without odds added to
    ``notes``."""
    if todo and workers:
        held.hold([day for chunk in todo for day in chunk.days], stopped_before(todo[0]))
        PHASE["now"] = f"waves on {workers} workers"
        spans = [(chunk.start, chunk.end) for chunk in todo]
        run_waves(settings, spans, workers, races, settings.live.odds_at)
    options = io_task_options(settings)
    # read once, extended chunk by chunk (features and training; the chunks' features kept
    # for the trainings' windows)
    settled = SettledRuns.for_training(
        settings.train.window_days(), settings.features.backfill_held_days
    )

    def run_chunk(
        chunk: Chunk, model_ready: Callable[[], object], prepared: Future[PreparedChunk] | None
    ) -> dict[str, int]:
        held.hold(chunk.days, stopped_before(chunk))
        chunk_task = backfill_chunk.with_options(**options)
        done = chunk_task(settings, chunk, settled, bool(workers), model_ready, prepared)
        held.release(chunk.days)  # stored and marked completed (a refused day: nothing stored)
        notes.refused.extend(done.refused)
        notes.unpriced.extend(done.unpriced)
        notes.final_odds.extend(done.final_odds)
        notes.stale_odds.extend(done.stale_odds)
        notes.untimed.extend(done.untimed)
        return done.counts

    # the waves prepared every chunk already (workers): the ordered part has nothing to prepare
    prepare = None if workers else chunk_preparer(settings, settled, held)
    owed = owed_training(settings, start, todo, settled)
    return run_chunks(settings, todo, settled, run_chunk, prepare, owed)


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
    0, the default, runs every chunk here in order. A chunk's days are held (their run locks,
    :class:`tasks.locks.HeldDays`) from before anything of them is written until the chunk is
    stored: a daily run of one of them is refused meanwhile, and a day a live run holds stops
    the backfill there, as Ctrl-C would (the same command resumes). The backfill holds the
    store's horse backfill lock for its whole life (:func:`tasks.locks.backfill_lock`): another
    backfill of the store meanwhile is refused before it reads anything."""
    clock = time.perf_counter()
    settings = backfill_settings(races, source, odds_at)
    chunks = chunk_grid(start, end, chunk_days)
    with backfill_lock(settings, HORSE_LOCK, f"{start}..{end}"):
        return backfill_held(settings, chunks, force, workers, races, clock)


def backfill_held(
    settings: Settings,
    chunks: list[Chunk],
    force: bool,
    workers: int,
    races: int | None,
    clock: float,
) -> dict[str, Any]:
    """The backfill of ``chunks`` (the flow's), its store's backfill lock held; its summary."""
    start, end = chunks[0].start, chunks[-1].end
    completed = completed_days(settings, start, end)
    todo = pending_chunks(chunks, completed, force)
    if workers:
        refuse_scale_out(settings)
    if todo:
        PHASE["now"] = "warm-up"
        prepare_history(AsTasks(settings), settings, todo[0].start)
    held = HeldDays(settings)
    notes = ChunkNotes()
    refused = notes.refused
    try:
        done = run_held_chunks(settings, start, todo, workers, races, held, notes)
    except RunLocked as stopped:
        raise with_refusals(stopped, refused) from None
    finally:
        held.close()
    totals = done.totals
    skipped = chunks_done(chunks, completed, force)
    summary = BackfillSummary(
        start=start.isoformat(),
        end=end.isoformat(),
        days=(end - start).days + 1,
        # the chunks done before and skipped, and those this run planned (a chunk with days
        # not done runs those days' runs as chunks of their own): chunks_run never exceeds it
        chunks=skipped + len(todo),
        chunks_run=done.chunks_run,
        chunks_skipped=skipped,
        seconds=round(time.perf_counter() - clock, 1),
        races=totals["races"],
        runners=totals["runners"],
        bets=totals["bets"],
        races_predicted=totals["predicted"],
        days_skipped=sum(len(chunk.days) for chunk in chunks) - sum(len(c.days) for c in todo),
        stopped=done.chunks_run < len(todo),
        database=mask_url(settings.database_url),
        trained=tuple(done.versions),
        odds_at=settings.live.odds_at,
        days_refused=tuple(refusal.as_summary() for refusal in refused),
    )
    ran = todo[: done.chunks_run]
    with engine_for(settings).connect() as connection:  # of the chunks this run ran, as its counts
        judged = [races_judged_between(connection, chunk.start, chunk.end) for chunk in ran]
        still_open = open_bets_per_day(connection, settings.kelly.policy_name, start, end)
    cancelled = sum(chunk.cancelled for chunk in judged)
    days_run = sum(len(chunk.days) for chunk in ran) - len(refused)
    warnings = cancelled_warning(cancelled)
    if todo and not cancelled:
        warnings += backfill_no_races_warning(
            summary.races, f"{start}..{end}", days_run, summary.days_skipped
        )
    warnings += quarantine_warning(
        sum(chunk.set_aside for chunk in judged), sum(chunk.offered for chunk in judged), 0
    )
    warnings += unpriced_warning(notes.unpriced)
    warnings += untimed_warning(notes.untimed)
    warnings += final_odds_races_warning(notes.final_odds)
    warnings += stale_odds_warning(notes.stale_odds, settings.live.stale_odds_minutes)
    warnings += classless_warning(judged, f"{start}..{end}")
    warnings += refused_warning(refused)
    warnings += open_bets_warning(still_open)
    status = COMPLETED_WITH_REFUSALS if refused else run_status((), warnings)
    if summary.stopped:
        warnings.append(stopped_warning(done.chunks_run, len(todo)))
        status = STOPPED
    result = asdict(replace(summary, status=status, warnings=tuple(warnings)))
    publish_backfill_summary(result)
    return result
