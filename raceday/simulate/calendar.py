"""The racing calendar: a fortnight of meetings per venue, and each day's schedule of races."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Final

import numpy as np

from raceday.simulate.arrays import BoolArray, IntArray
from raceday.simulate.circuits import circuit_of
from raceday.simulate.config import SimulatorConfig

PERIOD: Final = 14  # the racing calendar repeats every fortnight


@dataclass(frozen=True)
class Calendar:
    """Which venues race on which day of the fortnight: meetings of consecutive days."""

    racing: BoolArray  # (venue, day of the fortnight)
    race_days: IntArray  # race days per fortnight, per venue
    through: IntArray  # (venue, day): race days from the fortnight's start through that day
    meeting_day: IntArray  # (venue, day): day number within the current meeting (開催日目)
    phase: int


@functools.lru_cache(maxsize=16)
def fortnight_calendar(config: SimulatorConfig) -> Calendar:
    """A fixed fortnightly calendar: the same number of venues every day, each in meetings."""
    rng = np.random.default_rng([config.seed, 0, 11])
    n_venues, weights = circuit_of(config).n_venues, circuit_of(config).weights
    racing = np.zeros((n_venues, PERIOD), bool)
    race_days = np.zeros(n_venues, np.int64)
    if config.races_per_day > 0:
        per_day = int(np.clip(round(config.races_per_day / config.races_per_venue), 1, n_venues))
        total = per_day * PERIOD
        wanted = total * weights / weights.sum()
        race_days = np.clip(np.floor(wanted).astype(np.int64), 1, PERIOD)
        while race_days.sum() != total:
            if race_days.sum() < total:
                room = np.where(race_days < PERIOD, wanted - race_days, -np.inf)
                race_days[int(np.argmax(room))] += 1
            else:
                room = np.where(race_days > 1, race_days - wanted, -np.inf)
                race_days[int(np.argmax(room))] -= 1
        # Venues' meetings laid end to end on ``per_day`` lanes of a fortnight each: every day
        # has ``per_day`` venues and a venue's race days are consecutive (modulo the fortnight).
        slot = 0
        for v in rng.permutation(n_venues).tolist():
            for _ in range(int(race_days[v])):
                racing[v, slot % PERIOD] = True
                slot += 1
    through = np.cumsum(racing, axis=1).astype(np.int64)
    meeting_day = np.zeros((n_venues, PERIOD), np.int64)
    for day in range(2 * PERIOD):  # twice round, so meetings that wrap are counted right
        d = day % PERIOD
        meeting_day[:, d] = np.where(racing[:, d], meeting_day[:, d - 1] + 1, 0)
    meeting_day = np.where(race_days[:, None] == PERIOD, through, meeting_day)
    return Calendar(racing, race_days, through, meeting_day, int(rng.integers(0, PERIOD)))


def fortnight(config: SimulatorConfig, ordinal: int) -> tuple[int, int]:
    """(fortnights since day 0, day of the fortnight) of a date's ordinal."""
    return divmod(ordinal + fortnight_calendar(config).phase, PERIOD)


@functools.lru_cache(maxsize=4096)
def schedule(config: SimulatorConfig, ordinal: int) -> tuple[tuple[int, int], ...]:
    """(venue index, races) for each venue racing on the day, by venue."""
    calendar = fortnight_calendar(config)
    venues = np.flatnonzero(calendar.racing[:, fortnight(config, ordinal)[1]])
    if venues.size == 0:
        return ()
    rng = np.random.default_rng([config.seed, ordinal, 11])
    target = config.races_per_day
    cap = max(config.max_races_per_venue, math.ceil(target / venues.size))
    # Big venues card a few more races, but every venue cards a full-looking day.
    weights = np.sqrt(circuit_of(config).weights[venues]) * np.exp(
        rng.normal(0.0, 0.1, venues.size)
    )
    wanted = target * weights / weights.sum()
    counts = np.minimum(np.floor(wanted).astype(np.int64), cap)
    while counts.sum() < target:
        room = np.where(counts < cap, wanted - counts, -np.inf)
        counts[int(np.argmax(room))] += 1
    return tuple((int(v), int(n)) for v, n in zip(venues, counts, strict=True) if n > 0)


def race_day_number(config: SimulatorConfig, ordinal: int) -> IntArray:
    """Per venue: how many race days it has had since day 0, through this day."""
    calendar = fortnight_calendar(config)
    periods, day = fortnight(config, ordinal)
    return periods * calendar.race_days + calendar.through[:, day]


def runs_between(config: SimulatorConfig, interval_days: IntArray, venue: IntArray) -> IntArray:
    """A horse's interval in its venue's race days (at least 1)."""
    race_days = fortnight_calendar(config).race_days[venue]
    return np.maximum(1, np.rint(interval_days * race_days / PERIOD)).astype(np.int64)
