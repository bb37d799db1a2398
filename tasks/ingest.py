"""Ingest: read raw PC-KEIBA tables for a date range from the configured source.

``ingest`` reads a range in one read (the warm-up history; backfills read chunks their own
way). ``ingest_by_venue`` reads a race day venue by venue: one ``ingest-<venue name>`` task
run per venue, started together so their IO overlaps, each retried on its own; a venue still
failing is quarantined as a rejected input and alerted while the other venues go on. The lanes
write nothing to the store: the joint ``ingest`` stage row (every venue, its attempts, rows or
error) is written once from the flow's thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from typing import Any, cast

import anyio
import anyio.to_thread
from prefect import Task, task
from prefect.cache_policies import NONE
from prefect.client.schemas.objects import State
from prefect.context import AsyncClientContext
from prefect.runtime import task_run
from prefect.utilities.asyncutils import run_coro_as_sync

from config import Settings, mask_url
from config.reference import circuits, venue_names, venue_romanised_names, venue_time_zones
from data_checks.suites import venue_codes_for
from data_checks.validate import venues_of_no_circuit
from raceday.errors import InputError, RacedayError
from raceday.simulate.config import SimulatorConfig
from raceday.sources.base import (
    RaceSource,
    RawDay,
    RejectedInput,
    refuse_lost_days,
    source_days_held,
)
from raceday.sources.factory import open_source
from raceday.sources.lanes import (
    LaneOutcome,
    join_outcomes,
    lanes_summary,
    most_attempts,
    rejected_lanes,
)
from raceday.sources.simulator import SimulatorSource
from raceday.store.catalogs.races import a_source_other_than, holds_source
from tasks.alerts import raise_alerts, venue_down_alert
from tasks.common import (
    attempts_until_failed,
    current_flow_name,
    engine_for,
    io_task_options,
    logger,
    period_label,
    stage,
    stage_run,
)
from tasks.labels import lane_task_run_name


def simulator_config(settings: Settings) -> SimulatorConfig:
    """The simulator's configuration from settings."""
    return SimulatorConfig(
        seed=settings.simulator.seed, races_per_day=settings.simulator.races_per_day
    )


def refuse_mixing_simulated_and_real_races(settings: Settings) -> None:
    """:class:`InputError` when a run would mix the simulator's races with real ones in one store.

    Either way round: a worker started without ``RACEDAY_SOURCE`` reads the simulator (its
    default) into a store of real races; a real source pointed at the store the demo filled
    (``make run``: the default ``var/raceday.db``) reads real days beside simulated ones. The
    simulator's race ids are the real venues' and numbers, so either would be stored, trained on
    and settled with the other's history. One line, nothing read or written. A store already
    holding both (from before this check) is left to the real source."""
    simulator = SimulatorSource.name
    with engine_for(settings).connect() as connection:
        real = a_source_other_than(connection, simulator)
        # a real source: asked only of a store without real races, the simulator's never
        only_simulated = (
            settings.source != simulator and real is None and holds_source(connection, simulator)
        )
    store = mask_url(settings.database_url)
    if settings.source == simulator and real is not None:
        raise InputError(
            f"the store at {store} holds races read from {real}, and this run reads the "
            "simulator (RACEDAY_SOURCE not set?): nothing read or stored; set RACEDAY_SOURCE "
            "(or --source) to the store's source, or give the simulator a store of its own (--db)"
        )
    if only_simulated:
        raise InputError(
            f"the store at {store} holds only simulated races (the demo's?), and this run reads "
            f"{settings.source}: nothing read or stored; give your races a store of their own "
            "(--db or RACEDAY_DB_URL), or remove the simulated store first"
        )


def configured_source(settings: Settings) -> RaceSource:
    """The race source named in settings; never the simulator's races and real ones in one store
    (:func:`refuse_mixing_simulated_and_real_races`)."""
    refuse_mixing_simulated_and_real_races(settings)
    return open_source(
        settings.source,
        simulator=simulator_config(settings),
        pckeiba_url=settings.pckeiba_url,
        pckeiba_circuits=settings.pckeiba.circuits,
        time_zones=venue_time_zones(),
    )


def days_the_source_holds(settings: Settings) -> tuple[date, date] | None:
    """The first and last race day the source holds (:func:`source_days_held`), asked of a day
    without races for the run's warning; a source that cannot answer now (down since the day
    was read) says nothing: a note is not worth failing the run it ends (logged)."""
    try:
        return source_days_held(configured_source(settings))
    except RacedayError as error:
        logger().warning("could not ask %s which days it holds: %s", settings.source, error)
        return None


def say_venues_of_no_circuit(raw: RawDay, start: date, end: date) -> None:
    """A read holding venues outside NAR and JRA (:func:`venues_of_no_circuit`: kept, learned
    from their own history) says so once, naming its days: each validation of the read (a
    run's card and results, a warm-up's results) said it again."""
    codes = venues_of_no_circuit(raw.nvd_ra, venue_codes_for(circuits()))
    if codes:
        logger().warning(
            "venue code(s) %s in %s are neither NAR nor JRA: kept as venues of their own "
            "(standards, pools and the model learn them from their own history)",
            ", ".join(codes[:20]),
            period_label(start, end),
        )


@stage("ingest", io=True)
def ingest(settings: Settings, start: date, end: date) -> RawDay:
    """Raw races, runners and odds snapshots dated ``start``..``end`` from the source."""
    source = configured_source(settings)
    with stage_run(settings, "ingest", end) as record:
        raw = source.read_days(start, end)
        record.rows_out = len(raw.nvd_se)
    say_venues_of_no_circuit(raw, start, end)
    logger().info(
        "ingested %d races, %d runners from %s for %s..%s",
        len(raw.nvd_ra),
        len(raw.nvd_se),
        settings.source,
        start,
        end,
    )
    return raw


@task(name="venues", cache_policy=NONE, task_run_name="venues")
async def list_venues(source: RaceSource, start: date, end: date) -> list[str]:
    """The venues with rows dated ``start``..``end`` (the day's lanes). Async as the lanes
    are (:func:`ingest_venue`), so its timeout is real: the listing runs in a worker thread."""
    listing = partial(source.venues, start, end)
    return await anyio.to_thread.run_sync(listing, abandon_on_cancel=True)


@dataclass(frozen=True)
class LaneRead:
    """A venue's rows and the attempt that read them."""

    raw: RawDay
    attempts: int


@task(name="ingest-venue", cache_policy=NONE)
async def ingest_venue(source: RaceSource, start: date, end: date, venue: str | None) -> LaneRead:
    """One venue's rows dated ``start``..``end`` (every venue's when ``venue`` is None).

    Async so that the task's timeout is real: the blocking read runs in a worker thread and the
    task stops waiting for it when the timeout passes (a sync task in a worker thread can only
    notice its timeout after the read returns, and Prefect warns so on every run)."""
    read = partial(source.read_days, start, end, venues=None if venue is None else [venue])
    raw = await anyio.to_thread.run_sync(read, abandon_on_cancel=True)
    return LaneRead(raw, attempts=max(int(task_run.run_count or 1), 1))


async def read_lanes(
    lanes: Sequence[tuple[Task[..., Any], str | None]], source: RaceSource, start: date, end: date
) -> list[State[LaneRead]]:
    """Each ``(task, venue)`` lane run as a task run of its own, all at once in one event loop
    sharing one Prefect client (a task submitted to the thread pool starts an event loop and a
    client of its own: ≈ 35 ms of CPU a venue, most of the lanes' cost); their final states."""
    async with AsyncClientContext.get_or_create():
        reads = [lane(source, start, end, venue, return_state=True) for lane, venue in lanes]
        return list(await asyncio.gather(*reads))


@dataclass(frozen=True)
class DayLanes:
    """The day's lanes (a venue each; ``None``: one read of every venue) and their final
    states, in the same order."""

    venues: list[str | None]
    states: list[State[LaneRead]]


async def read_day_by_venue(
    settings: Settings, source: RaceSource, start: date, end: date
) -> DayLanes:
    """The venues listed (the ``venues`` task run, retried, its timeout real as the lanes'),
    then a lane each (:func:`read_lanes`), in one event loop sharing one Prefect client."""
    options = io_task_options(settings)
    names, romanised = venue_names(), venue_romanised_names()
    async with AsyncClientContext.get_or_create():
        venues = await list_venues.with_options(**options)(source, start, end)
        # no venue has rows: one read of the whole range says so (and what it set aside)
        lanes: list[str | None] = [*venues] or [None]
        lane = ingest_venue.with_options(**options)
        named = [
            (lane.with_options(task_run_name=lane_task_run_name(venue, romanised, names)), venue)
            for venue in lanes
        ]
        return DayLanes(lanes, await read_lanes(named, source, start, end))


def lane_outcome(settings: Settings, venue: str, state: State[LaneRead]) -> LaneOutcome:
    """A lane's rows, or the error it still failed with after its retries."""
    if state.is_completed():
        read = state.result()
        return LaneOutcome(venue, read.attempts, raw=read.raw)
    found = state.result(raise_on_failure=False)
    error = found if isinstance(found, BaseException) else RuntimeError(str(state.message))
    return LaneOutcome(venue, attempts_until_failed(settings, error), error=error)


def alert_venues_down(
    settings: Settings, race_date: date, rejected: Sequence[RejectedInput]
) -> None:
    """Warn in the run's log and raise an alert for each venue that could not be read."""
    for item in rejected:
        logger().warning("%s not read, the other venues go on: %s", item.location, item.reason)
    alerts = [
        venue_down_alert(current_flow_name(), race_date, item.location, item.reason)
        for item in rejected
    ]
    raise_alerts(settings, alerts, now=datetime.now(), quiet_before=None)


def ingest_by_venue(settings: Settings, start: date, end: date) -> RawDay:
    """The day read venue by venue (call it from a flow): one retried task run per venue, all
    started together (:func:`read_lanes`); a venue still failing is a rejected input, alerted;
    every venue failing fails the stage with the first venue's error, and so does a day whose
    input is only in a part the source set aside (``InputError``: no day without races)."""
    names = venue_names()
    with stage_run(settings, "ingest", end) as record:
        source = configured_source(settings)
        try:
            day = cast(DayLanes, run_coro_as_sync(read_day_by_venue(settings, source, start, end)))
        except Exception as error:  # the venues could not be listed (the lanes do not raise)
            record.attempts = attempts_until_failed(settings, error)
            raise
        outcomes = [
            lane_outcome(settings, venue or "", state)
            for venue, state in zip(day.venues, day.states, strict=True)
        ]
        record.attempts = most_attempts(outcomes)
        record.message = lanes_summary(outcomes, names)
        raw = join_outcomes(outcomes, names)
        record.rows_out = len(raw.nvd_se)
        refuse_lost_days(raw, start, end)  # a day whose input could not be read at all
    down = rejected_lanes(outcomes, names)
    if down:
        alert_venues_down(settings, end, down)
    say_venues_of_no_circuit(raw, start, end)
    logger().info(
        "ingested %d races, %d runners from %s for %s..%s in %d venue lane(s), %d down",
        len(raw.nvd_ra),
        len(raw.nvd_se),
        settings.source,
        start,
        end,
        len(outcomes),
        len(down),
    )
    return raw
