"""The stage chain, written once: the order of the stages and what each hands to the next.

Every flow runs its stages through these functions, with a runner that says how: a day's run
(``flows/daily.py``) runs each stage as a task run of its flow (:class:`tasks.common.AsTasks`);
a backfill runs the same functions in-process inside one task run per chunk
(:func:`tasks.common.in_process`); benchmarks and tests call them in-process too.

    warm-up:  prepare store → history gap → ingest → settle chain
    day:      screen (card and results) → morning → night → record   (daily chain)
    morning:  validate card → features → predict → stake                       (predict chain)
    card:     validate card → features                      (card chain, race time's morning)
    race:     odds at the moment (read again until published or closed) → decide race
              (predict, stake on what is left of the day, bets and decision written at once)
              or skip it (missed close, no odds: alerted)                     (race chain)
    race day: each race at its moment (one without odds yet read again between the others'
              until its close): settle the races whose results are out, race chain; then
              settle the rest as results come out
    night:    validate results → reference times → first 3F → indexes          (settle chain)
              → settle → record → monitor → report                             (record chain)
    chunk:    ingest → screen (card and results) → settle chain → store card   (prepare,
              → features (range)                                           no model)
              → predict → replay
    waves:    store (ingest → screen → store results → store card → refusals recorded) |
              derive (stored results → reference times → first 3F → indexes) | features
              (range)                                                     (each chunk-parallel)
    ordered:  refusals read → ingest → card → stored features → predict → replay
                                                                        (a chunk after waves)
    training: load → fit → register                                            (train chain)
              (a backfill fits on a thread of its own while the next chunk runs up to its
              predictions, which wait for the version: ``model_ready``, flows/backfill.py;
              meanwhile the chunks after it are prepared, ahead)

Each stage's return feeds the next; what a stage stores, it writes itself, once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd

from config import Settings
from config.sections import LiveSettings
from data_checks.validate import ValidatedDay, race_odds_failures
from flows.posts import PostTimes
from raceday.errors import InputError, NothingValid, RacedayError, failure_kind
from raceday.memory import freeze_long_lived
from raceday.model.registry import training_summary
from raceday.model.win import FitResult, TimeSplit
from raceday.monitoring.performance import races_cancelled, races_set_aside, records_cancelled
from raceday.pipeline import (
    DaySummary,
    odds_moments,
    races_on_final_odds,
    races_on_stale_odds,
    runner_view,
)
from raceday.racetime import (
    MISSED_CLOSE,
    NO_ODDS,
    ODDS_SET_ASIDE,
    WAITING_FOR_ODDS,
    Clock,
    RaceSlot,
    card_runs,
    next_attempt,
    results_due,
    timetable,
)
from raceday.run_status import DayRefusal
from raceday.sources.base import RawDay, join_lanes, rows_of_days, without_lost_days
from raceday.sources.timeline import decision_moments, unpriced_by_cause
from raceday.store.catalogs.races import RunnerWindow
from raceday.store.catalogs.ratings import SettledRuns, written_runs
from tasks.alerts import alert_history_unusable
from tasks.common import StageRunner, logger
from tasks.derive import LearnedWindow, first3f, indexes, learn_beside, reference_times
from tasks.features import day_features, range_features
from tasks.ingest import ingest
from tasks.locks import warm_up_lock
from tasks.monitor import monitor_day
from tasks.predict import predict
from tasks.race import (
    RaceCard,
    decide_race,
    race_runners,
    races_decided,
    races_with_open_bets,
    read_race_odds,
    settle_races,
    skip_closed_races,
    skip_race,
)
from tasks.record import record_day, report_day, settle
from tasks.replay import replay_days
from tasks.scaleout import (
    record_refusals,
    recorded_refusals,
    replay_card,
    settled_counts,
    stored_features,
    stored_results,
)
from tasks.stake import stake
from tasks.store import history_gap, prepare_store, warm_up_done
from tasks.train import fit_task, load_training_task, register_task
from tasks.validate import (
    ScreenedDays,
    record_refused,
    screen_day,
    screen_days,
    validate_and_store,
)


def settle_chain(
    run: StageRunner,
    settings: Settings,
    raw: RawDay,
    start: date,
    end: date,
    screened: ValidatedDay | None = None,
    window: RunnerWindow | None = None,
    learned: Future[LearnedWindow] | None = None,
    settled: SettledRuns | None = None,
) -> ValidatedDay:
    """The night's derivations over ``start``..``end``: validate and store the results,
    reference times, first 3F, indexes; returns the valid results. ``screened``: the results'
    validation done before any write (:func:`tasks.validate.screen_day`); ``window``: the
    history window a backfill holds for reference times; ``learned``: its reference times and
    first-3F model learned beside the stages before (:func:`tasks.derive.learn_beside`);
    ``settled``: the settled runs a backfill holds, handed the runs written (not read back
    when they are what the store holds: :meth:`SettledRuns.wrote`)."""
    valid = run(validate_and_store, settings, raw, start, end, "results", screened)
    view = runner_view(valid.races, valid.runners)
    computed = derive_chain(run, settings, view, start, end, window, learned)
    if settled is not None:
        settled.wrote(written_runs(valid.races, valid.runners, computed))
    return valid


def derive_chain(
    run: StageRunner,
    settings: Settings,
    view: pd.DataFrame,
    start: date,
    end: date,
    window: RunnerWindow | None = None,
    learned: Future[LearnedWindow] | None = None,
) -> pd.DataFrame:
    """What settled runners ``view`` (dated ``start``..``end``) derive: reference times (of the
    window before ``start``; ``window``: that history as a backfill holds it; ``learned``: as
    learned from it beside the stages before), first 3F, indexes; returns the indexes."""
    plan, references = run(reference_times, settings, start, end, window, learned)
    estimates = run(first3f, settings, view, end, references, plan)
    return run(indexes, settings, view, end, references, plan, estimates)


def prepare_history(run: StageRunner, settings: Settings, race_date: date) -> None:
    """Upgrade the schema; warm an empty store up with the days before ``race_date``. A
    warm-up whose days leave nothing valid is not the day's fault: the day runs without that
    history, as on an empty store, and a warning alert says so (:func:`alert_history_unusable`);
    it used to refuse a valid day (exit 4). The decision and the warm-up hold the store's
    warm-up lock (:func:`tasks.locks.warm_up_lock`): a run that finds another warming the
    store up waits for it, then finds the history there."""
    run(prepare_store, settings)
    with warm_up_lock(settings):  # one warm-up of the store at a time: the others wait
        gap = run(history_gap, settings, race_date)
        if gap is not None:
            start, end = gap
            try:
                settle_chain(run, settings, run(ingest, settings, start, end), start, end)
            except NothingValid as nothing:
                alert_history_unusable(settings, race_date, str(nothing))
            run(warm_up_done, settings, end)


@dataclass(frozen=True)
class Morning:
    """What the morning stages leave: the validated card and the day's bets."""

    card: ValidatedDay
    bets: pd.DataFrame


def card_chain(
    run: StageRunner,
    settings: Settings,
    raw: RawDay,
    race_date: date,
    screened: ValidatedDay | None = None,
) -> RaceCard:
    """The card: validate and store it (its morning odds), and its runners' features."""
    card = run(validate_and_store, settings, raw, race_date, race_date, "card", screened)
    return RaceCard(card, run(day_features, settings, card, race_date))


def card_counts(card: ValidatedDay) -> dict[str, int]:
    """What a validated card offered and left out, for a run's summary and its warnings
    (:func:`raceday.run_status.dropped_races_warning`): its races offered (stored or set aside
    by validation), set aside, its quarantined rows, and its races the provider cancelled with
    their records among those rows."""
    aside = len(races_set_aside(card.races, card.quarantine))
    return {
        "races_offered": len(card.races) + aside,
        "races_quarantined": aside,
        "quarantined": len(card.quarantine),
        "races_cancelled": len(races_cancelled(card.quarantine)),
        "quarantined_cancelled": records_cancelled(card.quarantine),
    }


def predict_chain(
    run: StageRunner,
    settings: Settings,
    raw: RawDay,
    race_date: date,
    screened: ValidatedDay | None = None,
) -> Morning:
    """The morning: validate and store the card, features, predictions, bets and bet slip."""
    day = card_chain(run, settings, raw, race_date, screened)
    predictions = run(predict, settings, day.card, race_date, day.features)
    bets = run(stake, settings, predictions, day.card, race_date)
    return Morning(day.card, bets)


def race_chain(
    run: StageRunner,
    settings: Settings,
    slot: RaceSlot,
    day: RaceCard,
    clock: Clock,
    raw: RawDay | None = None,
    wait_for_odds: bool = True,
) -> dict[str, Any]:
    """One race at its moment: its odds as published by now (read again every
    ``live.odds_poll_s`` until they are, while its sales are open), then decided; a race
    reached after its close, or without odds by then, is skipped and alerted. ``raw``: a
    replayed day's tables. Returns the race's decision; without ``wait_for_odds`` (a day's
    run, whose other races must not wait for this one's odds), the odds are read once, and a
    race without them yet returns ``WAITING_FOR_ODDS`` with the moment to read them again
    (``read_again_at``)."""
    while True:
        decision = race_attempt(run, settings, slot, day, clock, raw)
        if decision["outcome"] != WAITING_FOR_ODDS or not wait_for_odds:
            return decision
        clock.wait_until(decision["read_again_at"])


def race_attempt(
    run: StageRunner,
    settings: Settings,
    slot: RaceSlot,
    day: RaceCard,
    clock: Clock,
    raw: RawDay | None = None,
) -> dict[str, Any]:
    """One reading of a race's odds now (:func:`race_chain`): its decision, or, no odds out
    yet with sales open at the next reading, ``WAITING_FOR_ODDS`` and ``read_again_at``."""
    moment = clock.now()
    if slot.missed(moment):
        reason = f"reached at {moment:%H:%M:%S}, after its close at {slot.close_at:%H:%M}"
        return run(skip_race, settings, slot, MISSED_CLOSE, moment, reason)
    started = time.perf_counter()
    market = run(read_race_odds, settings, slot, moment, raw)
    odds, unsold = market.priced, market.unsold
    if not odds.empty and slot.missed(clock.now()):  # the read (retried) took too long
        reason = f"its odds came at {clock.now():%H:%M:%S}, after its close"
        return run(skip_race, settings, slot, MISSED_CLOSE, clock.now(), reason)
    if not odds.empty:
        runners = race_runners(day, slot.race_id)
        failed = race_odds_failures(odds, runners, unsold)
        if failed:  # what the morning's validation would set aside is not bet at race time
            reason = f"its odds snapshot fails {', '.join(failed)}"
            return run(skip_race, settings, slot, ODDS_SET_ASIDE, clock.now(), reason)
        return run(decide_race, settings, slot, day, odds, clock.now(), started, unsold)
    retry_at = moment + timedelta(seconds=settings.live.odds_poll_s)
    if retry_at >= slot.close_at:
        reason = f"no odds published by {moment:%H:%M:%S} (close {slot.close_at:%H:%M})"
        return run(skip_race, settings, slot, NO_ODDS, moment, reason)
    return {"race_id": slot.race_id, "outcome": WAITING_FOR_ODDS, "read_again_at": retry_at}


def race_day_chain(
    run: StageRunner,
    settings: Settings,
    race_date: date,
    day: RaceCard,
    clock: Clock,
    race: Callable[[RaceSlot], dict[str, Any]],
    raw: RawDay | None = None,
) -> list[dict[str, Any]]:
    """The day at race time: each race not decided yet by ``race`` at its moment (a race
    runner: :func:`race_chain` in-process, or a race flow run, reading its odds once); a race
    whose odds are not out yet is tried again when they are read again (``live.odds_poll_s``
    later), between the other races' decisions, until its close (then ``no_odds``): no race
    waits for another's odds (:func:`raceday.racetime.next_attempt`). Before each try the
    races whose results are out are settled. Races already closed when the run
    begins (a late start) are recorded missed together, with one alert. In real time (no
    ``raw``) the post times are read again while waiting (:class:`flows.posts.PostTimes`): a race
    whose post moved is tried at its new moment. After the last race,
    its result is waited for until ``live.result_delay_minutes`` after its post time (a real
    day polls every ``live.results_poll_s`` up to an hour more; the night's settle-day settles
    the rest).
    Returns the decisions made by this run, in order."""
    live = settings.live
    table = timetable(day.card.races, live.lead_minutes, live.close_minutes)

    def settle_due() -> None:
        due = results_due(table.slots, set(), clock.now(), live.result_delay_minutes)
        open_races = races_with_open_bets(settings, race_date)
        run(settle_races, settings, race_date, sorted(open_races & set(due)), raw)

    began = clock.now()
    plan = card_runs(table.slots, races_decided(settings, race_date), began)
    decisions = run(skip_closed_races, settings, list(plan.past_close), began)
    todo = list(plan.to_run)
    read_again_at: dict[str, datetime] = {}
    posts = PostTimes(run, settings, race_date, clock)
    while (attempt := next_attempt(todo, read_again_at)) is not None:
        if raw is None:  # real time: the source's post times now, which may have moved
            todo = posts.wait(todo, read_again_at)
            attempt = next_attempt(todo, read_again_at) or attempt
        slot, moment = attempt
        clock.wait_until(moment)
        settle_due()
        decision = race(slot)
        if decision.get("outcome") == WAITING_FOR_ODDS:  # the other races go on meanwhile
            read_again_at[slot.race_id] = pd.Timestamp(decision["read_again_at"]).to_pydatetime()
            continue
        todo.remove(slot)
        decisions.append(decision)
        if isinstance(decision.get("decided_at"), (pd.Timestamp, date)):
            clock.wait_until(pd.Timestamp(decision["decided_at"]).to_pydatetime())
    if table.slots:
        last_result = table.slots[-1].post_at + timedelta(minutes=live.result_delay_minutes)
        deadline = last_result + timedelta(hours=1)
        clock.wait_until(last_result)
        settle_due()
        replayed = raw is not None  # a replayed day's results are all there is
        while not replayed and races_with_open_bets(settings, race_date) and clock.now() < deadline:
            clock.wait_until(clock.now() + timedelta(seconds=live.results_poll_s))
            settle_due()
    return decisions


def record_chain(
    run: StageRunner, settings: Settings, race_date: date
) -> tuple[DaySummary, pd.DataFrame]:
    """After the results: settle the day's bets, its performance record, the alerts and the
    report; returns the day's summary and its settled bets."""
    settled = run(settle, settings, race_date)
    summary = run(record_day, settings, race_date, settled)
    run(monitor_day, settings, race_date)
    return run(report_day, settings, race_date, summary), settled


def daily_chain(
    run: StageRunner, settings: Settings, raw: RawDay, race_date: date
) -> tuple[DaySummary, pd.DataFrame, ValidatedDay]:
    """A whole day in one go: the day's decision before any write (card and results screened:
    a day refused at night stores no bet), the morning, the night and the record. Returns the
    day's summary, its settled bets and its card (with the odds its bets were sized on)."""
    freeze_long_lived()  # once per process: full collections skip what it imported
    screened = run(screen_day, settings, raw, race_date, race_date, ("card", "results"))
    morning = predict_chain(run, settings, raw, race_date, screened["card"])
    settle_chain(run, settings, raw, race_date, race_date, screened["results"])
    return (*record_chain(run, settings, race_date), morning.card)


def no_wait() -> None:
    """A chunk whose model is ready when it starts (no training under way)."""


@dataclass
class ChunkNotes:
    """What a backfill's chunk says beyond its counts, for the backfill's summary: its days
    refused for their input (not replayed), and its card's races left without odds by their
    deadline (stored, neither predicted nor bet: the card's ``unpriced``), sized on their
    final odds (``final_odds``: no snapshot of theirs the source could date) or, at race time
    (``live.odds_at`` ``lead``), decided on a snapshot older than ``live.stale_odds_minutes``
    (``stale_odds``)."""

    refused: list[DayRefusal] = field(default_factory=list)
    unpriced: list[str] = field(default_factory=list)
    final_odds: list[str] = field(default_factory=list)
    stale_odds: list[str] = field(default_factory=list)
    untimed: list[str] = field(default_factory=list)

    def note_card(self, card: ValidatedDay, live: LiveSettings) -> None:
        """The card's races without odds, those priced on their final odds and (at race time)
        those decided on stale odds, and those without odds for want of a readable post time
        (``untimed``: no deadline, :func:`raceday.sources.timeline.unpriced_by_cause`)."""
        # in the morning every race of a card has its deadline: its day's morning_odds_at
        lead = live.odds_at == "lead"
        late, untimed = (
            unpriced_by_cause(card.unpriced, card.races, live.card_timing())
            if lead
            else (list(card.unpriced), [])
        )
        self.unpriced.extend(late)
        self.untimed.extend(untimed)
        self.final_odds.extend(races_on_final_odds(card.odds))
        if lead:
            decided = decision_moments(card.races, live.card_timing())
            seen = odds_moments(card.odds, decided)
            self.stale_odds.extend(races_on_stale_odds(seen, live.stale_odds_minutes))


@dataclass(frozen=True)
class PreparedChunk:
    """A chunk's stages that need no model, run (:func:`prepare_chunk`): its stored card, its
    settled races and runners counted, its features; ``card`` None when it had no races (or
    every day was refused); ``refused``: its days refused for their input, nothing of them
    stored but what their daily run would (:mod:`raceday.run_status`, ``DayRefusal``)."""

    card: ValidatedDay | None
    features: pd.DataFrame
    races: int = 0
    runners: int = 0
    refused: tuple[DayRefusal, ...] = ()


def read_chunk(
    run: StageRunner, settings: Settings, start: date, end: date
) -> tuple[RawDay, tuple[DayRefusal, ...]]:
    """The chunk ``start``..``end`` from the source; when the source refuses it as bad input,
    day by day: the days it reads go on, the others are refused with the line their daily run
    would end with, as are the days whose input is only in a part the source set aside
    (:func:`raceday.sources.base.lost_days`). An unavailable source or a defect fails the chunk
    as before."""
    refused: list[DayRefusal] = []
    try:
        raw = run(ingest, settings, start, end)
    except RacedayError as error:
        if failure_kind(error) != "input":
            raise
        logger().warning("%s..%s refused (%s): read day by day", start, end, error)
        raw, refused = _read_day_by_day(run, settings, start, end)
    raw, lost = without_lost_days(raw, start, end)
    unread = [DayRefusal(day, line, InputError.exit_code) for day, line in lost.items()]
    return raw, tuple(sorted([*refused, *unread], key=_day_of))


def _read_day_by_day(
    run: StageRunner, settings: Settings, start: date, end: date
) -> tuple[RawDay, list[DayRefusal]]:
    read: list[RawDay] = []
    refused: list[DayRefusal] = []
    for day in (start + timedelta(days=n) for n in range((end - start).days + 1)):
        try:
            read.append(run(ingest, settings, day, day))
        except RacedayError as error:
            if failure_kind(error) != "input":
                raise
            refused.append(DayRefusal(day, str(error), error.exit_code))
    return join_lanes(read), refused


def prepare_chunk(
    run: StageRunner,
    settings: Settings,
    start: date,
    end: date,
    settled: SettledRuns | None = None,
) -> PreparedChunk:
    """A backfill's chunk ``start``..``end`` up to its predictions: ingested (:func:`read_chunk`),
    its card and results validated before anything is stored, each day decided on its own as
    its daily run would decide it (:func:`tasks.validate.screen_days`: a refused day stores
    nothing but its quarantine, the other days go on), the results settled
    (:func:`settle_chain`), then the card stored, so each day's features see every run before it
    (the chunk's earlier days included) — what a daily run of the day would see; ``settled``:
    the settled runs the backfill holds (extended with the chunk's, not re-read). Needs no
    model: a backfill runs it beside a training's fit."""
    raw, unread = read_chunk(run, settings, start, end)
    if raw.is_empty:
        return PreparedChunk(card=None, features=pd.DataFrame(), refused=unread)
    window = settled.reference_window if settled is not None else None
    # the window's reference times and first-3F model, learned while the chunk is validated
    learned = learn_beside(settings, start, end, window) if window is not None else None
    screened, refused = screen_chunk(run, settings, raw, start, end, unread)
    if screened is None:  # every day with races refused
        return PreparedChunk(card=None, features=pd.DataFrame(), refused=refused)
    raw, validated = screened.raw, screened.validated
    valid = settle_chain(
        run, settings, raw, start, end, validated["results"], window, learned, settled
    )
    # after the results: the card stores only its races left unsettled (and every race's
    # bet-time odds); a settled race's runners are written once, not as a card first
    card = run(validate_and_store, settings, raw, start, end, "card", validated["card"])
    record_refused(settings, screened.refused)
    features = run(range_features, settings, start, end, settled)
    return PreparedChunk(card, features, len(valid.races), len(valid.runners), refused)


def screen_chunk(
    run: StageRunner,
    settings: Settings,
    raw: RawDay,
    start: date,
    end: date,
    unread: tuple[DayRefusal, ...],
) -> tuple[ScreenedDays | None, tuple[DayRefusal, ...]]:
    """The chunk's days (``raw``, read by :func:`read_chunk`; ``unread``: the days its source
    refused) decided each as its daily run would (:func:`tasks.validate.screen_days`): the
    days kept with their validations, None when every day with races is refused (their
    records written: nothing else is), and every refusal, by day."""
    screened = run(screen_days, settings, raw, start, end, ("card", "results"))
    refused = tuple(sorted([*unread, *(day.refusal for day in screened.refused)], key=_day_of))
    if not screened.validated:
        record_refused(settings, screened.refused)
        return None, refused
    return screened, refused


def _day_of(refusal: DayRefusal) -> date:
    return refusal.day


def chunk_chain(
    run: StageRunner,
    settings: Settings,
    start: date,
    end: date,
    days: list[date],
    settled: SettledRuns | None = None,
    model_ready: Callable[[], object] = no_wait,
    prepared: Future[PreparedChunk] | None = None,
    notes: ChunkNotes | None = None,
) -> dict[str, int]:
    """A backfill's chunk of days ``start``..``end``: :func:`prepare_chunk` (or its outcome,
    ``prepared``, when the backfill ran it ahead, beside a fit; prepared again here if that
    failed), then predictions with the version promoted before the chunk and the card's
    bet-time odds, and the days staked, settled and recorded in date order in one pass
    (:func:`tasks.replay.replay_days`).
    ``model_ready``: called before the predictions, returns once the version trained before
    ``start`` is registered (a training running meanwhile); ``notes``: receives the days the
    chunk refused for their input (not replayed) and its card's races without odds. Returns
    counts."""
    if prepared is not None and prepared.exception() is None:
        chunk = prepared.result()
    else:  # not prepared ahead, or that failed: prepared here, in the chunk's own run (retried
        if prepared is not None:  # as its stages are, and the error is the chunk's own)
            logger().info("%s..%s prepared again: ahead, %s", start, end, prepared.exception())
        chunk = prepare_chunk(run, settings, start, end, settled)
    if notes is not None:
        notes.refused.extend(chunk.refused)
    if chunk.card is None:
        return {"races": 0, "runners": 0, "predicted": 0, "bets": 0}
    if notes is not None:
        notes.note_card(chunk.card, settings.live)
    model_ready()
    refused_days = {refusal.day for refusal in chunk.refused}
    kept = [day for day in days if day not in refused_days]
    counts = predict_and_replay(run, settings, chunk.card, chunk.features, start, end, kept)
    return {"races": chunk.races, "runners": chunk.runners, **counts}


def predict_and_replay(
    run: StageRunner,
    settings: Settings,
    card: ValidatedDay,
    features: pd.DataFrame,
    start: date,
    end: date,
    days: list[date],
) -> dict[str, int]:
    """A chunk's predictions (``start``..``end``) with the version promoted before ``start``
    and its ``days`` staked, settled and recorded in date order; the races predicted and the
    bets placed."""
    predictions = run(predict, settings, card, end, features, model_day=start)
    bets = run(replay_days, settings, predictions, card, days)
    predicted = int(predictions["race_id"].nunique()) if len(predictions) else 0
    return {"predicted": predicted, "bets": bets}


# --- a backfill scaled out over a work pool (flows/scaleout.py) --------------------------------
# The chunk chain cut where it depends on other chunks: each wave runs every chunk in parallel
# once the wave before has stored every chunk; the ordered pass then runs chunk by chunk.


def store_wave(run: StageRunner, settings: Settings, start: date, end: date) -> int:
    """Wave A: the chunk read and its days decided as :func:`prepare_chunk` does (reads nothing
    stored): its results and card stored, a day refused for its input storing only what its
    daily run stores; the refusals recorded for the ordered pass
    (:func:`tasks.scaleout.record_refusals`), a chunk refused as a range too (rows of no day,
    nothing valid: its records written, its :class:`NothingValid` raised by the ordered pass
    at that chunk, where the in-process backfill raises it — not a wave run that fails).
    Returns the valid races."""
    raw, refused = read_chunk(run, settings, start, end)
    races, whole = 0, None
    if not raw.is_empty:
        try:
            screened, refused = screen_chunk(run, settings, raw, start, end, refused)
        except NothingValid as nothing:
            screened, whole = None, nothing
        if screened is not None:
            races = store_screened(run, settings, screened, start, end)
    record_refusals(settings, start, end, refused, whole)
    return races


def store_screened(
    run: StageRunner, settings: Settings, screened: ScreenedDays, start: date, end: date
) -> int:
    """A chunk's days kept by :func:`screen_chunk` stored, results then card (as
    :func:`prepare_chunk`), then its refused days' records; the valid races."""
    raw, validated = screened.raw, screened.validated
    valid = run(validate_and_store, settings, raw, start, end, "results", validated["results"])
    run(validate_and_store, settings, raw, start, end, "card", validated["card"])
    record_refused(settings, screened.refused)
    return len(valid.races)


def derive_wave(run: StageRunner, settings: Settings, start: date, end: date) -> int:
    """Wave B (every chunk stored): the chunk's derivations from its stored settled runners —
    reference times of the window before ``start``, first 3F, indexes. Returns the runners."""
    view = run(stored_results, settings, start, end)
    if view.empty:  # an empty chunk: nothing to derive (as the chunk chain)
        return 0
    return len(derive_chain(run, settings, view, start, end))


def features_wave(run: StageRunner, settings: Settings, start: date, end: date) -> int:
    """Wave C (every chunk's indexes stored): the chunk's point-in-time features (each day
    reads the runs before it: earlier chunks and the chunk's earlier days). Returns rows."""
    return len(run(range_features, settings, start, end))


WAVES: dict[str, Callable[[StageRunner, Settings, date, date], int]] = {
    "store": store_wave,
    "derive": derive_wave,
    "features": features_wave,
}  # in this order, each after the one before has run every chunk


def ordered_chain(
    run: StageRunner,
    settings: Settings,
    start: date,
    end: date,
    days: list[date],
    settled: SettledRuns | None = None,
    model_ready: Callable[[], object] = no_wait,
    notes: ChunkNotes | None = None,
) -> dict[str, int]:
    """A chunk's ordered part once :data:`WAVES` have stored it: the card again (validated,
    not stored again) without the days the store wave refused (read back from the store:
    :func:`tasks.scaleout.recorded_refusals`, into ``notes`` with the card's races without
    odds), its stored features,
    predictions with the version promoted before the chunk (``model_ready`` as in
    :func:`chunk_chain`), then the other days staked, settled and recorded in date order.
    Returns counts, as :func:`chunk_chain`."""
    chunk_refused = recorded_refusals(settings, start, end)
    if notes is not None:
        notes.refused.extend(chunk_refused)
    refused_days = {refusal.day for refusal in chunk_refused}
    raw, _unread = read_chunk(run, settings, start, end)  # (the unread days: refused above)
    raw = rows_of_days(raw, refused_days, keep=False) if refused_days else raw
    if raw.is_empty:
        return {"races": 0, "runners": 0, "predicted": 0, "bets": 0}
    card = run(replay_card, settings, raw, start, end)
    if notes is not None:
        notes.note_card(card, settings.live)
    features = run(stored_features, settings, start, end, settled)
    model_ready()
    kept = [day for day in days if day not in refused_days]
    counts = predict_and_replay(run, settings, card, features, start, end, kept)
    races, runners = settled_counts(settings, start, end)
    return {"races": races, "runners": runners, **counts}


def train_chain(
    run: StageRunner, settings: Settings, until: date, settled: SettledRuns | None = None
) -> dict[str, Any]:
    """Train, evaluate and register the version of ``until``; a backfill passes the settled
    runs it holds. Returns what ``raceday train --json`` prints."""
    split, runners = run(load_training_task, settings, until, settled)
    fitted, evaluation = run(fit_task, settings, split, runners, until)
    return register_chain(run, settings, until, split, fitted, evaluation)


def register_chain(
    run: StageRunner,
    settings: Settings,
    until: date,
    split: TimeSplit,
    fitted: FitResult,
    evaluation: dict[str, Any],
) -> dict[str, Any]:
    """The training's last stage: register (and maybe promote) the fitted version of
    ``until``; returns the training's summary (:func:`train_chain`)."""
    registered = run(register_task, settings, until, split, fitted, evaluation)
    return training_summary(until, split, fitted, evaluation, registered)
