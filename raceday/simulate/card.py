"""The day's card: which horses run where (venues, races, classes, distances, umaban)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

import numpy as np

from raceday.simulate.arrays import BoolArray, IntArray, rank_within
from raceday.simulate.calendar import fortnight, fortnight_calendar, race_day_number, schedule
from raceday.simulate.circuits import TWO_YEAR_OLD, Circuit, circuit_of, tracks_of
from raceday.simulate.config import SimulatorConfig
from raceday.simulate.population import SKIP_RATE, Horses, ability_on, population_of

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Card:
    """The day's races (one row each, in output order) and runners (sorted by race, umaban)."""

    race_venue: IntArray
    race_bango: IntArray
    race_class: IntArray
    race_division: IntArray  # 0: the only race of its class on the card; else 1 (best), 2, ...
    race_special: BoolArray
    race_track_row: IntArray
    race_entries: IntArray
    starts: IntArray  # first runner row of each race
    race: IntArray  # runner -> race
    horse: IntArray  # runner -> population index
    umaban: IntArray


@dataclass(frozen=True)
class _PlannedRace:
    venue: int
    race_class: int
    track_row: int
    order_key: float
    members: IntArray


def _due_horses(config: SimulatorConfig, horses: Horses, ordinal: int) -> IntArray:
    """Active horses whose cycle (in their venue's race days) brings them out today."""
    calendar = fortnight_calendar(config)
    racing = calendar.racing[:, fortnight(config, ordinal)[1]][horses.venue]
    active = (horses.debut_ordinal <= ordinal) & (ordinal <= horses.retire_ordinal)
    candidates = np.flatnonzero(racing & active)  # the cycle's modulo for these only
    number = race_day_number(config, ordinal)[horses.venue[candidates]]
    return candidates[(number - horses.phase[candidates]) % horses.cycle[candidates] == 0]


def _field_sizes(
    rng: np.random.Generator,
    n_races: int,
    n_horses: int,
    max_field: int,
    field_mean: tuple[float, float] = (10.2, 10.8),
) -> IntArray:
    """Entries per race, shrunk to the horses available (at least 5 a race)."""
    n_races = min(n_races, n_horses // 5)
    if n_races <= 0:
        return np.zeros(0, np.int64)
    mean = field_mean[0] if max_field <= 12 else field_mean[1]
    sizes = np.clip(np.rint(rng.normal(mean, 2.3, n_races)), 5, max_field).astype(np.int64)
    if sizes.sum() > n_horses:
        sizes = np.maximum(5, np.floor(sizes * n_horses / sizes.sum())).astype(np.int64)
        while sizes.sum() > n_horses:
            sizes[int(np.argmax(sizes))] -= 1
    return sizes


def _venue_races(
    rng: np.random.Generator,
    horses: Horses,
    pool: IntArray,
    v: int,
    n_races: int,
    day: date,
    circuit: Circuit,
    messy: bool = False,
    one_distance: bool = False,
) -> list[_PlannedRace]:
    """One venue's card: 2-year-old races apart, the others cut by class rating, card order.

    ``messy``: a venue whose gates take 16 fills its largest field to 16; ``one_distance``: the
    venue cards its main distance only (the same draws, so nothing else moves).
    """
    tracks = tracks_of(circuit.name)
    age = day.year - horses.birth_year[pool]
    young, older = pool[age == 2], pool[age > 2]
    n_young = min(round(young.size / 14), n_races // 6) if young.size >= 6 else 0
    max_field = circuit.venues[v].max_field
    young_sizes = _field_sizes(rng, n_young, young.size, max_field, circuit.field_mean)
    older_sizes = _field_sizes(
        rng, n_races - young_sizes.size, older.size, max_field, circuit.field_mean
    )
    if messy and max_field >= 16 and older_sizes.size:
        largest = int(np.argmax(older_sizes))
        if int(older_sizes.sum()) - int(older_sizes[largest]) + max_field <= older.size:
            older_sizes = older_sizes.copy()
            older_sizes[largest] = max_field
    if young_sizes.size + older_sizes.size < n_races:
        logger.debug(
            "venue %s on %s: %d of %d races filled",
            circuit.venues[v].code, day, young_sizes.size + older_sizes.size, n_races,
        )  # fmt: skip
    planned: list[_PlannedRace] = []
    for group, sizes, is_young in ((older, older_sizes, False), (young, young_sizes, True)):
        if sizes.size == 0:
            continue
        chosen = group[rng.permutation(group.size)[: int(sizes.sum())]]
        # The class follows a lagged, noisy rating (earnings in real NAR), not today's ability.
        rating = (
            ability_on(horses, chosen, float(day.toordinal() - 60))
            + horses.class_offset[chosen]
            + rng.normal(0.0, 0.3, chosen.size)
        )
        chosen = chosen[np.argsort(-rating, kind="stable")]
        bounds = np.concatenate([[0], np.cumsum(sizes)])
        centre = (bounds[:-1] + sizes / 2) / bounds[-1]
        classes = (
            np.full(sizes.size, TWO_YEAR_OLD)
            if is_young
            else np.searchsorted(circuit.class_top_share, centre)
        )
        if circuit.top_race_grades.size and not is_young and classes[0] == 3:
            grades = circuit.top_race_grades
            classes[0] = int(rng.choice(grades.size, p=grades / grades.sum()))
        rows = tracks.rows_by_venue[v]
        share = tracks.share[rows] * ((tracks.distance[rows] <= 1600) if is_young else 1.0)
        if one_distance:
            main = tracks.distance[rows] == tracks.distance[rows][np.argmax(tracks.share[rows])]
            share = share * main if (share * main).sum() > 0 else main.astype(np.float64)
        track_rows = rng.choice(rows, sizes.size, p=share / share.sum())
        # Card order: lower classes first, better races later, 2-year-olds early.
        order_key = 0.3 + 0.1 * np.arange(sizes.size) if is_young else 1.0 - centre
        planned.extend(
            _PlannedRace(v, int(classes[j]), int(track_rows[j]), float(order_key[j]),
                         chosen[bounds[j] : bounds[j + 1]])
            for j in range(sizes.size)
        )  # fmt: skip
    return sorted(planned, key=lambda race: race.order_key)


def _one_distance_venue(seed: int, n_venues: int) -> int:
    """The venue that races one distance only in the messy profile."""
    return int(np.random.default_rng([seed, 0, 71]).integers(0, n_venues))


def plan_day(
    config: SimulatorConfig, day: date, rng: np.random.Generator, messy: bool = False
) -> Card | None:
    """Which horses run where: venues, races, classes, distances, entries and umaban."""
    horses = population_of(config, day.year)
    due = _due_horses(config, horses, day.toordinal())
    due = due[rng.random(due.size) >= SKIP_RATE]
    due = due[np.argsort(horses.venue[due], kind="stable")]
    venue_of_due = horses.venue[due]
    races: list[_PlannedRace] = []
    for v, n_races in schedule(config, day.toordinal()):
        lo, hi = np.searchsorted(venue_of_due, [v, v + 1])
        circuit = circuit_of(config)
        one_distance = messy and v == _one_distance_venue(config.seed, circuit.n_venues)
        races.extend(
            _venue_races(rng, horses, due[lo:hi], v, n_races, day, circuit, messy, one_distance)
        )
    if not races:
        return None
    race_venue = np.array([r.venue for r in races], np.int64)
    race_class = np.array([r.race_class for r in races], np.int64)
    entries = np.array([r.members.size for r in races], np.int64)
    race_bango = rank_within(race_venue, np.arange(race_venue.size, dtype=np.float64))
    n_runners = int(entries.sum())
    race = np.repeat(np.arange(race_venue.size), entries)
    draw = np.lexsort((rng.random(n_runners), race))  # umaban: a random draw within each race
    horse = np.concatenate([r.members for r in races])[draw]
    starts = np.concatenate([[0], np.cumsum(entries)[:-1]]).astype(np.int64)
    return Card(
        race_venue=race_venue,
        race_bango=race_bango,
        race_class=race_class,
        race_division=_divisions(race_venue, race_class, race_bango),
        race_special=_special_races(race_venue, race_class, race_bango),
        race_track_row=np.array([r.track_row for r in races], np.int64),
        race_entries=entries,
        starts=starts,
        race=race,
        horse=horse,
        umaban=(np.arange(n_runners) - starts[race] + 1).astype(np.int64),
    )


def _divisions(race_venue: IntArray, race_class: IntArray, race_bango: IntArray) -> IntArray:
    """Division of each race within its venue and class: 1 is the best (the later one)."""
    key = race_venue * 100 + race_class
    _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    position = rank_within(key, -race_bango.astype(np.float64))
    return np.where(counts[inverse] > 1, position, 0).astype(np.int64)


def _special_races(race_venue: IntArray, race_class: IntArray, race_bango: IntArray) -> BoolArray:
    """The best older race of each venue's card carries a name (○○特別)."""
    best = np.where(race_class == TWO_YEAR_OLD, 99, race_class) * 100 - race_bango
    return rank_within(race_venue, best.astype(np.float64)) == 1
