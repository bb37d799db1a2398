"""Race time: each race predicted and staked minutes before its close, on the odds of that moment.

``live-day`` (``raceday live``): the day's card (ingest, validate, features) under the day's
run lock, then every race in post-time order, each one ``race`` flow run
(``race-44-2026-12-03-R07``) started at its post time less the lead; between races, the races
whose results are out are settled (``settle-races``), so the bankroll, the drawdown brake and
the alert rules are current during the day. With ``replay`` the day runs on a simulated clock
without waiting (the backtest of this mode); without it, on the wall clock (Japan time).

Served (``raceday serve --race-time``), the same pieces run as deployments: ``race-card`` in the
morning validates the card and schedules one ``race`` run per race at its moment (a run that
finds its race's post moved later leaves it to a run at the new moment: :func:`moved_run`);
``settle-races`` polls the results every ten minutes during race hours. The night's
``settle-day`` validates the results and settles the day again, as without race time.

A race is decided once: its bets and its ``race_decisions`` row are written in one
transaction, and every run skips the races already decided, so a day killed and restarted
bets no race twice and misses none whose close has not passed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, cast

import pandas as pd
from prefect import State
from prefect.client.schemas.objects import FlowRun
from prefect.runtime import flow_run
from prefect.states import Completed

from config import Settings, load_settings
from config.reference import circuits
from data_checks.validate import ValidatedDay
from flows.alerting import alerting_flow, day_run_name
from flows.chain import card_chain, card_counts, prepare_history, race_chain, race_day_chain
from flows.posts import race_at_its_post
from raceday.errors import InputError
from raceday.japan_time import JAPAN_TIME, today_in_japan
from raceday.memory import freeze_long_lived
from raceday.racetime import (
    BET,
    POST_MOVED,
    Clock,
    RaceSlot,
    ReplayClock,
    WallClock,
    card_runs,
    results_due,
    retimed,
    timetable,
)
from raceday.run_status import (
    INTERRUPT_RECEIVED,
    dropped_races_warning,
    outcome,
    stale_odds_warning,
    unknown_class_warning,
)
from raceday.sources.base import RawDay, refuse_lost_days
from tasks.alerts import alerts_raised_since
from tasks.common import AsTasks, StageRunner, in_process, logged, logger
from tasks.ingest import ingest, ingest_by_venue
from tasks.locks import day_lock, store_in_use
from tasks.race import (
    RaceCard,
    races_decided,
    races_not_bet,
    races_on_stale_odds_decided,
    races_with_open_bets,
    settle_races,
    skip_closed_races,
    stored_race_card,
)

RACE_DEPLOYMENT = "race/race"

# The day's card and (replays) tables, handed by a day's run to its race runs in the same
# process; a race run elsewhere (a deployment) reads the card from the store.
_CARDS: dict[tuple[str, date], RaceCard] = {}
_REPLAYS: dict[tuple[str, date], RawDay] = {}


def live_settings(
    races: int | None, source: str | None, lead_minutes: int | None = None
) -> Settings:
    """The run's settings, with ``lead_minutes`` (when given) as the lead."""
    settings = load_settings(races=races, source=source)
    if lead_minutes is None:
        return settings
    live = settings.live.model_copy(update={"lead_minutes": lead_minutes})
    return settings.model_copy(update={"live": live})


def stop_if_interrupted() -> None:
    """Raise the Ctrl-C (or SIGTERM) the command received again, after a race's run: Prefect's
    flow engine swallows a KeyboardInterrupt that lands after a flow run's state is final (a
    race run finishing: "BaseException was raised after user code finished executing"), and
    the day went on deciding its races (:data:`raceday.run_status.INTERRUPT_RECEIVED`)."""
    if INTERRUPT_RECEIVED.is_set():
        raise KeyboardInterrupt


def race_run_name() -> str:
    """A race's flow run is named after the race: ``race-44-2026-12-03-R07``."""
    parameters = flow_run.get_parameters()
    race_id = str(parameters.get("race_id", ""))
    return f"race-{race_id[8:10]}-{parameters.get('race_date')}-R{race_id[10:12]}"


def _key(settings: Settings, race_date: date) -> tuple[str, date]:
    return settings.database_url, race_date


def card_stages(
    run: StageRunner, settings: Settings, race_date: date, by_venue: bool
) -> tuple[RaceCard, RawDay]:
    """The day's card under its run lock: the store made ready, the day ingested (venue by
    venue in a flow run), the card validated and stored, its features."""
    freeze_long_lived()  # the day's full collections skip what the process imported
    with day_lock(settings, race_date):
        prepare_history(run, settings, race_date)
        if by_venue:
            raw = ingest_by_venue(settings, race_date, race_date)
        else:  # as ingest_by_venue: a day whose input could not be read is refused
            raw = run(ingest, settings, race_date, race_date)
            refuse_lost_days(raw, race_date, race_date)
        day = card_chain(run, settings, raw, race_date)
    _CARDS[_key(settings, race_date)] = day
    return day, raw


def slot_of(day: RaceCard, settings: Settings, race_id: str) -> RaceSlot:
    """The race's slot in the day's timetable; InputError when it has none."""
    table = timetable(day.card.races, settings.live.lead_minutes, settings.live.close_minutes)
    for slot in table.slots:
        if slot.race_id == race_id:
            return slot
    raise InputError(f"race {race_id} is not on the day's card with a post time")


@alerting_flow("race", race_run_name)
def race(
    race_id: str,
    race_date: date,
    replay_at: datetime | None = None,
    lead_minutes: int | None = None,
    races: int | None = None,
    source: str | None = None,
    wait_for_odds: bool = True,
    post_at: datetime | None = None,
) -> dict[str, Any] | State[dict[str, Any]]:
    """One race at its moment (started at its post time less the lead): its odds as published,
    predicted and staked, or skipped and alerted when its close has passed or no odds come.
    ``replay_at``: the simulated moment of a replayed day; without ``wait_for_odds`` (a day's
    run) its odds are read once (:func:`flows.chain.race_chain`); ``post_at``: the post time
    it was scheduled for (``race-card``), or its post moved after the card was read (a day's
    run: :class:`flows.posts.PostTimes`). Served (no replay, no day's run around it), it reads
    the race's post time from the source first: a race moved later, its new moment ahead, is
    left to a run scheduled then (:func:`moved_run`; this one ends Completed, saying so), any
    other decided on the close of its post now (:func:`flows.posts.race_at_its_post`)."""
    settings = live_settings(races, source, lead_minutes)
    day = _CARDS.get(_key(settings, race_date)) or stored_race_card(settings, race_date)
    slot = slot_of(day, settings, race_id)
    if post_at is not None:
        live = settings.live
        moved = pd.Series({race_id: post_at})
        slot = retimed([slot], moved, live.lead_minutes, live.close_minutes)[0]
    clock: Clock = WallClock() if replay_at is None else ReplayClock(replay_at)
    raw = None if replay_at is None else _REPLAYS.get(_key(settings, race_date))
    run = AsTasks(settings)

    def decide(now_slot: RaceSlot) -> dict[str, Any]:
        return race_chain(run, settings, now_slot, day, clock, raw, wait_for_odds)

    if replay_at is not None or not wait_for_odds:  # a replay; a day's run: its loop reads them
        return decide(slot)
    return race_at_its_post(run, settings, slot, clock, decide, moved_run)


def moved_run(scheduled: RaceSlot, now_slot: RaceSlot) -> State[dict[str, Any]]:
    """A served race run whose race's post moved with its new moment still ahead: a ``race``
    run scheduled at that moment (its idempotency key names the new post: once per move, and
    none twice with a ``race-card`` run again), and this one Completed, saying so. Not a wait
    within this run: it would hold one of the deployment's slots (``live.race_runs_at_once``)
    while the races at other venues wait for one, and the UI's upcoming runs show the race at
    its new moment."""
    later = schedule_race_run(race_run_requests([now_slot])[0])
    message = (
        f"post time moved from {scheduled.post_at:%H:%M} to {now_slot.post_at:%H:%M}: decided "
        f"at {now_slot.decide_at:%H:%M} by the race run scheduled then ({later.id})"
    )
    moment = f"{now_slot.decide_at:%H:%M}"
    logger().info("%s: left to the race run at %s (%s)", now_slot.run_name, moment, later.id)
    moved = {
        "race_id": now_slot.race_id,
        "outcome": POST_MOVED,
        "post_at": now_slot.post_at.isoformat(),
        "decide_at": now_slot.decide_at.isoformat(),
        "flow_run_id": str(later.id),
    }
    return Completed(message=message, data=moved)


def day_clock(settings: Settings, race_date: date, replay: bool) -> Clock:
    """The day's clock: the wall clock, or a replayed day's starting at its morning decision
    time."""
    return ReplayClock(settings.live.morning_moment(race_date)) if replay else WallClock()


def day_summary(
    settings: Settings,
    race_date: date,
    day: RaceCard,
    decisions: list[dict[str, Any]],
    replay: bool,
    started: datetime,
) -> dict[str, Any]:
    """What ``raceday live`` prints: the day's races, what became of each, and the run's
    status from its warnings (:func:`live_warnings`, and the day's races decided on stale odds:
    :func:`raceday.run_status.stale_odds_warning`) and the alerts raised since it ``started``."""
    table = timetable(day.card.races, settings.live.lead_minutes, settings.live.close_minutes)
    outcomes: dict[str, int] = {}
    for decision in decisions:
        what = str(decision.get("outcome"))
        outcomes[what] = outcomes.get(what, 0) + 1
    skipped = races_not_bet(settings, race_date)  # the day's, a restarted day's earlier runs too
    stale = races_on_stale_odds_decided(settings, race_date)  # the day's, as ``skipped``
    warnings = live_warnings(skipped, len(table.untimed), day.card)
    warnings += stale_odds_warning(stale, settings.live.stale_odds_minutes)
    bets = [d for d in decisions if d.get("outcome") == BET]
    return {
        "date": race_date.isoformat(),
        "mode": "replay" if replay else "real time",
        "lead_minutes": settings.live.lead_minutes,
        "races": len(table.slots) + len(table.untimed),
        "decided": len(decisions),
        "already_decided": len(races_decided(settings, race_date)) - len(decisions),
        "outcomes": outcomes,
        "bets": int(sum(int(d.get("bets", 0)) for d in bets)),
        "staked_yen": int(sum(int(d.get("staked_yen", 0)) for d in bets)),
        "open_bets_races": len(races_with_open_bets(settings, race_date)),
        **outcome(alerts_raised_since(settings, race_date, started), warnings),
    }


def live_warnings(skipped: list[str], untimed: int, card: ValidatedDay) -> list[str]:
    """What a race-time day warns of, as a day's run says it: the card's races cancelled, none
    at all, races set aside by validation (a post time it cannot read, a race listed twice:
    :func:`raceday.run_status.dropped_races_warning`); its races not bet (``skipped``: their
    ids and outcomes), those without a readable post time, and most of a circuit's races of
    the card of no known class (:func:`raceday.run_status.unknown_class_warning`; logged)."""
    warnings = dropped_races_warning(card_counts(card))
    if skipped:
        warnings.append(f"{len(skipped)} races not bet: {', '.join(skipped[:10])}")
    if untimed:
        warnings.append(f"{untimed} races without a readable post time: not bet")
    return warnings + logged(unknown_class_warning(card.races, circuits()))


def live_day_in_process(settings: Settings, race_date: date, replay: bool) -> dict[str, Any]:
    """The race-time day without Prefect: the same chain, every stage called in-process (tests,
    benchmarks and ``raceday live --direct``)."""
    started = datetime.now()
    day, raw = card_stages(in_process, settings, race_date, by_venue=False)
    clock = day_clock(settings, race_date, replay)
    table_raw = raw if replay else None

    def one_race(slot: RaceSlot) -> dict[str, Any]:
        return race_chain(in_process, settings, slot, day, clock, table_raw, wait_for_odds=False)

    decisions = race_day_chain(in_process, settings, race_date, day, clock, one_race, table_raw)
    return day_summary(settings, race_date, day, decisions, replay, started)


@alerting_flow("live-day", day_run_name)
def live_day(
    race_date: date | None = None,
    lead_minutes: int | None = None,
    replay: bool = False,
    races: int | None = None,
    source: str | None = None,
) -> dict[str, Any]:
    """A race day at race time: the card, then each race a ``race`` flow run at its moment."""
    started = datetime.now()
    settings = live_settings(races, source, lead_minutes)
    race_date = race_date or today_in_japan()
    run = AsTasks(settings)
    day, raw = card_stages(run, settings, race_date, by_venue=True)
    if replay:
        _REPLAYS[_key(settings, race_date)] = raw
    clock = day_clock(settings, race_date, replay)

    def one_race(slot: RaceSlot) -> dict[str, Any]:
        decided = race(
            slot.race_id,
            race_date,
            replay_at=clock.now() if replay else None,
            lead_minutes=lead_minutes,
            races=races,
            source=source,
            wait_for_odds=False,
            post_at=slot.post_at,
        )
        stop_if_interrupted()
        return cast(dict[str, Any], decided)  # a day's run's race reads no post time: no move

    decisions = race_day_chain(
        run, settings, race_date, day, clock, one_race, raw if replay else None
    )
    return day_summary(settings, race_date, day, decisions, replay, started)


@alerting_flow("race-card", day_run_name)
def race_card(race_date: date | None = None) -> dict[str, Any]:
    """Morning of a race-time day (deployment): the card, then one ``race`` deployment run
    scheduled per race not decided yet whose sales are open, at its post time less the lead
    (at once when that has passed); the races whose close has passed already (a card made
    late, or run again after racing began) are recorded ``missed_close`` together, with one
    alert, as ``raceday live`` records them (:func:`raceday.racetime.card_runs`), and no run
    is started for them. Run again, it schedules nothing twice (idempotency keys) and records
    no race twice (the races decided are left out)."""
    settings = load_settings()
    race_date = race_date or today_in_japan()
    run = AsTasks(settings)
    day, _raw = card_stages(run, settings, race_date, by_venue=True)
    table = timetable(day.card.races, settings.live.lead_minutes, settings.live.close_minutes)
    now = WallClock().now()
    plan = card_runs(table.slots, races_decided(settings, race_date), now)
    missed = run(skip_closed_races, settings, list(plan.past_close), now)
    requests = race_run_requests(list(plan.to_run))
    for request in requests:
        schedule_race_run(request)
    logger().info(
        "race runs scheduled for %d races; %d races past their close at %s recorded "
        "missed_close, no run started",
        len(requests), len(missed), f"{now:%H:%M:%S}",
    )  # fmt: skip
    return {
        "date": race_date.isoformat(),
        "scheduled": [request["flow_run_name"] for request in requests],
        "past_close": len(missed),
        "untimed": list(table.untimed),
    }


def race_run_requests(slots: list[RaceSlot]) -> list[dict[str, Any]]:
    """One ``race`` deployment run per race: at its moment (UTC), named after the race, with
    the post time it is for (``post_at``: the run reads the source's again as it starts) and an
    idempotency key of the race and that post, so that a second ``race-card`` run schedules
    nothing twice and a race whose post moved is scheduled once at its new moment."""
    return [
        {
            "parameters": {
                "race_id": slot.race_id,
                "race_date": slot.race_date.isoformat(),
                "post_at": slot.post_at.isoformat(),
            },
            "scheduled_time": slot.decide_at.replace(tzinfo=JAPAN_TIME).astimezone(UTC),
            "flow_run_name": slot.run_name,
            "idempotency_key": f"{RACE_DEPLOYMENT}|{slot.race_id}|{slot.post_at:%Y-%m-%dT%H:%M}",
        }
        for slot in slots
    ]


def schedule_race_run(request: dict[str, Any]) -> FlowRun:
    """The ``race`` deployment run ``request`` asks for (:func:`race_run_requests`), not waited
    for; the run already made under its idempotency key when there is one."""
    from prefect.deployments import run_deployment

    made = run_deployment(RACE_DEPLOYMENT, timeout=0, as_subflow=False, **request)
    return cast(FlowRun, made)  # called from a sync flow: the run, not a coroutine


@alerting_flow("settle-races", day_run_name)
def settle_races_flow(race_date: date | None = None) -> dict[str, Any]:
    """During race hours (deployment): settle the day's races whose results are out; the store
    held from restores meanwhile (no day's run lock: :func:`tasks.locks.store_in_use`)."""
    settings = load_settings()
    race_date = race_date or today_in_japan()
    with store_in_use(settings):
        day = stored_race_card(settings, race_date)
        table = timetable(day.card.races, settings.live.lead_minutes, settings.live.close_minutes)
        now = WallClock().now()
        due = set(results_due(table.slots, set(), now, settings.live.result_delay_minutes))
        races = sorted(due & races_with_open_bets(settings, race_date))
        settled = AsTasks(settings)(settle_races, settings, race_date, races)
    return {"date": race_date.isoformat(), "due": len(races), "settled_races": settled}
