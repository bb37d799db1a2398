"""Who races: jockeys and trainers per venue, and horses by birth-year cohort, from the seed."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, fields
from datetime import date
from typing import Final

import numpy as np

from raceday.simulate.arrays import FloatArray, IntArray, TextArray
from raceday.simulate.calendar import PERIOD, fortnight_calendar, runs_between, schedule
from raceday.simulate.circuits import circuit_of
from raceday.simulate.config import SimulatorConfig
from raceday.simulate.names import person_names
from raceday.simulate.text import zfill

MAX_JOCKEYS: Final = 35  # riders per venue, at most
SKIP_RATE: Final = 0.10  # a due horse is not entered
_POOL_OVERSHOOT: Final = 1.3  # due horses per available place, on average
_CAREER_GAMMA: Final = (2.0, 420.0)  # career length after 150 days: gamma(shape, scale) days
_INTERVALS: Final = (14, 35)  # days between a horse's runs, per horse, inclusive


@functools.lru_cache(maxsize=16)
def _cohort_sizes(config: SimulatorConfig) -> IntArray:
    """Horses born per year per venue, so that enough horses are due on each race day."""
    calendar = fortnight_calendar(config)
    n_venues = circuit_of(config).n_venues
    races = np.zeros(n_venues)
    for ordinal in range(8 * PERIOD):
        for v, n in schedule(config, ordinal):
            races[v] += n
    races_per_race_day = races / np.maximum(8 * calendar.race_days, 1)
    low, high = _INTERVALS
    intervals = np.arange(low, high + 1)
    runs_per_race_day = np.array(
        [
            np.mean(1.0 / runs_between(config, intervals, np.full(intervals.size, v)))
            for v in range(n_venues)
        ]
    ) * (1 - SKIP_RATE)
    pool = races_per_race_day * circuit_of(config).pool_field * _POOL_OVERSHOOT / runs_per_race_day
    career_years = (150 + _CAREER_GAMMA[0] * _CAREER_GAMMA[1]) / 365.25
    return np.ceil(pool / career_years).astype(np.int64)


@dataclass(frozen=True)
class Staff:
    jockey_code: TextArray
    jockey_name: TextArray
    jockey_skill: FloatArray
    jockey_apprentice: IntArray  # kishu_minarai_code: 0, or 1..3 (1-3 kg allowance)
    jockey_table: IntArray  # (venue, slot) -> global jockey index, -1 when the slot is empty
    jockey_log_weight: FloatArray  # (venue, slot) -> log share of rides, -inf when empty
    trainer_code: TextArray
    trainer_name: TextArray
    trainer_skill: FloatArray
    trainer_first: IntArray  # first global trainer index of each venue
    trainer_count: IntArray


@functools.lru_cache(maxsize=16)
def staff_of(config: SimulatorConfig) -> Staff:
    rng = np.random.default_rng([config.seed, 0, 23])
    venues = circuit_of(config).venues
    n_venues = len(venues)
    n_jockeys = rng.integers(25, MAX_JOCKEYS + 1, n_venues)
    n_trainers = rng.integers(30, 51, n_venues)
    total_j = int(n_jockeys.sum())
    jockey_venue = np.repeat(np.arange(n_venues), n_jockeys)
    jockey_slot = np.concatenate([np.arange(n) for n in n_jockeys])
    skill = rng.normal(0.0, 0.25, total_j)
    log_weight = 3.0 * skill + rng.normal(0.0, 0.6, total_j)  # leading riders ride more
    apprentice = np.where(rng.random(total_j) < 0.15, rng.integers(1, 4, total_j), 0)
    table = np.full((n_venues, MAX_JOCKEYS), -1, np.int64)
    table[jockey_venue, jockey_slot] = np.arange(total_j)
    table_weight = np.full((n_venues, MAX_JOCKEYS), -np.inf)
    table_weight[jockey_venue, jockey_slot] = log_weight
    codes = np.array([v.code for v in venues], dtype=object)
    total_t = int(n_trainers.sum())
    trainer_venue = np.repeat(np.arange(n_venues), n_trainers)
    trainer_slot = np.concatenate([np.arange(n) for n in n_trainers])
    return Staff(
        jockey_code=codes[jockey_venue] + zfill(jockey_slot + 1, 3),
        jockey_name=person_names(rng, total_j),
        jockey_skill=skill,
        jockey_apprentice=apprentice.astype(np.int64),
        jockey_table=table,
        jockey_log_weight=table_weight,
        trainer_code=codes[trainer_venue] + zfill(trainer_slot + 101, 3),
        trainer_name=person_names(rng, total_t),
        trainer_skill=rng.normal(0.0, 0.15, total_t),
        trainer_first=np.concatenate([[0], np.cumsum(n_trainers)[:-1]]).astype(np.int64),
        trainer_count=n_trainers.astype(np.int64),
    )


@dataclass(frozen=True)
class Horses:
    venue: IntArray
    number: IntArray  # ketto_toroku_bango as a number: birth year * 10**6 + serial
    sex: IntArray
    coat: IntArray
    birth_year: IntArray
    birth_ordinal: IntArray
    debut_ordinal: IntArray
    retire_ordinal: IntArray
    ability_base: FloatArray
    drift_amp_slow: FloatArray
    drift_period_slow: FloatArray
    drift_phase_slow: FloatArray
    drift_amp_fast: FloatArray
    drift_period_fast: FloatArray
    drift_phase_fast: FloatArray
    early: FloatArray  # テン: early-speed trait, sd 1
    kick: FloatArray  # 上がり: finishing-kick trait, sd 1
    interval: IntArray  # days between runs (nominal)
    cycle: IntArray  # the same in the venue's race days
    phase: IntArray
    trainer: IntArray
    owner: IntArray
    class_offset: FloatArray
    weight_base: FloatArray
    weight_amp: FloatArray
    weight_period: FloatArray
    weight_phase: FloatArray


@functools.lru_cache(maxsize=64)
def _cohort(config: SimulatorConfig, birth_year: int) -> Horses:
    """Every horse born in ``birth_year`` that will race at an NAR venue."""
    sizes = _cohort_sizes(config)
    n = int(sizes.sum())
    if n > 899_999:
        raise ValueError("races_per_day too large: horse ids would overflow")
    rng = np.random.default_rng([config.seed, birth_year, 31])
    venue = np.repeat(np.arange(circuit_of(config).n_venues), sizes)
    birth = date(birth_year, 1, 1).toordinal() + rng.integers(31, 151, n)
    transfer = rng.random(n) < 0.4  # first seen at 3-5 (from JRA or another circuit)
    may_first = date(birth_year + 2, 5, 1).toordinal()
    debut = may_first + np.where(
        transfer, rng.integers(240, 240 + 3 * 365, n), rng.integers(0, 240, n)
    )
    career = 150 + rng.gamma(_CAREER_GAMMA[0], _CAREER_GAMMA[1], n)
    retire = np.minimum(debut + career.astype(np.int64), birth + 11 * 365)
    sex = rng.choice(np.array([1, 2, 3]), n, p=[0.52, 0.40, 0.08])
    early = rng.normal(0.0, 1.0, n)
    kick = -0.3 * early + math.sqrt(1 - 0.09) * rng.normal(0.0, 1.0, n)
    low, high = _INTERVALS
    interval = rng.integers(low, high + 1, n)
    cycle = runs_between(config, interval, venue)
    staff = staff_of(config)
    trainer = staff.trainer_first[venue] + (rng.power(1.6, n) * staff.trainer_count[venue]).astype(
        np.int64
    )
    serial = np.arange(n) + 100_000
    return Horses(
        venue=venue.astype(np.int64),
        number=(birth_year * 1_000_000 + serial).astype(np.int64),
        sex=sex.astype(np.int64),
        coat=rng.choice(np.arange(1, 8), n, p=[0.3, 0.3, 0.15, 0.1, 0.08, 0.04, 0.03]),
        birth_year=np.full(n, birth_year, np.int64),
        birth_ordinal=birth.astype(np.int64),
        debut_ordinal=debut.astype(np.int64),
        retire_ordinal=retire.astype(np.int64),
        ability_base=rng.normal(0.0, config.ability_sd, n),
        drift_amp_slow=rng.uniform(0.2, 0.8, n),
        drift_period_slow=rng.uniform(150.0, 400.0, n),
        drift_phase_slow=rng.uniform(0.0, 2 * np.pi, n),
        drift_amp_fast=rng.uniform(0.0, 0.4, n),
        drift_period_fast=rng.uniform(40.0, 120.0, n),
        drift_phase_fast=rng.uniform(0.0, 2 * np.pi, n),
        early=early,
        kick=kick,
        interval=interval.astype(np.int64),
        cycle=cycle,
        phase=rng.integers(0, cycle).astype(np.int64),
        trainer=trainer.astype(np.int64),
        owner=rng.integers(0, 10_000, n).astype(np.int64),
        class_offset=rng.normal(0.0, config.class_rating_sd, n),
        weight_base=np.where(sex == 2, 452.0, 472.0) + rng.normal(0.0, 22.0, n),
        weight_amp=rng.uniform(2.0, 7.0, n),
        weight_period=rng.uniform(60.0, 200.0, n),
        weight_phase=rng.uniform(0.0, 2 * np.pi, n),
    )


@functools.lru_cache(maxsize=8)
def population_of(config: SimulatorConfig, year: int) -> Horses:
    """Every horse that can race in ``year`` (aged 2 to 11)."""
    cohorts = [_cohort(config, birth_year) for birth_year in range(year - 11, year - 1)]
    return Horses(
        **{f.name: np.concatenate([getattr(c, f.name) for c in cohorts]) for f in fields(Horses)}
    )


def ability_on(horses: Horses, idx: IntArray, ordinal: float) -> FloatArray:
    """Latent ability (logits) on a day: base + age curve + form cycles."""
    age = (ordinal - horses.birth_ordinal[idx]) / 365.25
    curve = np.where(
        age < 4.3,
        -0.55 * np.square(4.3 - age),
        np.where(age > 5.5, -0.18 * np.power(np.maximum(age - 5.5, 0.0), 1.5), 0.0),
    )
    slow = horses.drift_amp_slow[idx] * np.sin(
        2 * np.pi * ordinal / horses.drift_period_slow[idx] + horses.drift_phase_slow[idx]
    )
    fast = horses.drift_amp_fast[idx] * np.sin(
        2 * np.pi * ordinal / horses.drift_period_fast[idx] + horses.drift_phase_fast[idx]
    )
    return horses.ability_base[idx] + curve + slow + fast


def body_weight_on(horses: Horses, idx: IntArray, ordinal: IntArray) -> IntArray:
    """Body weight (kg) on a day: grows until 4, then a slow cycle around the horse's base."""
    age = (ordinal - horses.birth_ordinal[idx]) / 365.25
    growth = -14.0 * np.clip(4.0 - age, 0.0, 2.0)
    cycle = horses.weight_amp[idx] * np.sin(
        2 * np.pi * ordinal / horses.weight_period[idx] + horses.weight_phase[idx]
    )
    return np.rint(horses.weight_base[idx] + growth + cycle).astype(np.int64)
