"""One simulated day: which venues race, the card (B), what happens (K), and the truth.

A boat's strength is its course's base (log of the venue's course win share) plus its racer's
national win rate and its motor's 2連率 above the race's mean; the finishing order is drawn from
those strengths (Plackett-Luce, by Gumbel noise), so the win shares by course follow the venue's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any, Final

import numpy as np
import pandas as pd

from raceday.boat.codes import KIMARITE, VENUES
from raceday.boat.files import race_id
from raceday.boat.simulate.config import (
    NIGHT_VENUES,
    OUTER_COURSE_WEIGHTS,
    VENUE_COURSE1_WIN_SHARE,
    BoatSimulatorConfig,
)
from raceday.boat.simulate.payouts import race_payouts, softmax

RACE_NAMES: Final = ("一般", "一般", "一般", "一般", "予選", "予選", "予選", "予選", "予選",
                     "予選", "特選", "選抜")  # fmt: skip
WEATHERS: Final = ("晴", "曇り", "雨")
WIND_DIRECTIONS: Final = ("北", "北東", "東", "南東", "南", "南西", "西", "北西")
RACERS_PER_VENUE: Final = 48


@dataclass(frozen=True)
class SimulatedRace:
    """What the simulator decided for one race, before it is written as text."""

    card: list[dict[str, Any]]  # six entries, boat 1 first, names split (surname, given_name)
    race: dict[str, Any]  # the race's K fields
    results: list[dict[str, Any]]
    payouts: list[dict[str, Any]]
    final_q: dict[int, float]  # the public's final win probabilities (boats with odds)
    p_true: dict[int, float]


def course_win_shares(venue_code: str) -> np.ndarray:
    """The venue's win share by course (1..6): its course 1, the rest as nationwide."""
    first = VENUE_COURSE1_WIN_SHARE[venue_code]
    outer = np.asarray(OUTER_COURSE_WEIGHTS) / sum(OUTER_COURSE_WEIGHTS) * (1 - first)
    return np.concatenate([[first], outer])


@cache
def course_log_weights(
    venue_code: str, skill_weight: float, motor_weight: float, start_spread: float = 0.0
) -> np.ndarray:
    """Course bases whose win shares, over races of racers and motors drawn as the population's,
    come out at the venue's: the racers' spread alone would pull course 1 below its share, so
    the bases are solved for (fixed-point on 4,000 fixed draws). ``start_spread``: the logit sd
    of the racers' start skill (its draws a stream of their own; 0 adds nothing)."""
    target = course_win_shares(venue_code)
    rng = np.random.default_rng(0)
    spread = skill_weight * rng.normal(0, 1.35, (4000, 6)) + motor_weight * rng.normal(
        0, 8, (4000, 6)
    )
    if start_spread > 0:
        spread = spread + start_spread * np.random.default_rng(3).normal(0, 1, (4000, 6))
    spread -= spread.mean(axis=1, keepdims=True)
    weights = np.log(target)
    for _ in range(50):
        strength = weights + spread
        p = np.exp(strength - strength.max(axis=1, keepdims=True))
        shares = (p / p.sum(axis=1, keepdims=True)).mean(axis=0)
        weights = weights + np.log(target / shares)
    return np.asarray(weights - weights.max())


def day_venues(config: BoatSimulatorConfig, rng: np.random.Generator) -> list[str]:
    """The venues racing on the day, in code order."""
    codes = [venue.code for venue in VENUES]
    return sorted(rng.choice(codes, config.venues_per_day, replace=False).tolist())


def deadline(day: date, venue_code: str, race_number: int) -> datetime:
    """The betting deadline (締切予定): day races from 10:30, night races from 15:00."""
    first = datetime(day.year, day.month, day.day, 15 if venue_code in NIGHT_VENUES else 10, 30)
    return first + timedelta(minutes=29 * (race_number - 1))


def venue_card_pool(
    racers: pd.DataFrame, equipment: pd.DataFrame, venue_code: str, rng: np.random.Generator
) -> pd.DataFrame:
    """The racers at a venue for the day, each with its local rates, motor and boat."""
    pool = racers.iloc[rng.choice(len(racers), RACERS_PER_VENUE, replace=False)].copy()
    local = np.clip(pool["national_win_rate"] + rng.normal(0, 0.6, len(pool)), 0, 9.9)
    no_local = rng.random(len(pool)) < 0.05
    pool["local_win_rate"] = np.where(no_local, 0.0, local).round(2)
    local_top2 = np.clip(9.0 * local - 18 + rng.normal(0, 6, len(pool)), 0, 100)
    few_races_all_top2 = rng.random(len(pool)) < 0.02
    pool["local_top2_pct"] = np.where(
        no_local, 0.0, np.where(few_races_all_top2, 100.0, local_top2)
    ).round(2)
    kit = equipment[equipment["venue_code"] == venue_code]
    motors = kit.iloc[rng.choice(len(kit), len(pool), replace=False)]
    boats = kit.iloc[rng.choice(len(kit), len(pool), replace=False)]
    for column, source in (("motor_no", motors), ("motor_top2_pct", motors),
                           ("boat_no", boats), ("boat_top2_pct", boats)):  # fmt: skip
        pool[column] = source[column].to_numpy()
    return pool.reset_index(drop=True)


def courses_taken(rng: np.random.Generator, config: BoatSimulatorConfig) -> np.ndarray:
    """The course each boat (1..6) starts from: its own, unless an outside boat moves in."""
    by_course = [1, 2, 3, 4, 5, 6]
    if rng.random() < config.front_taking_rate:
        mover = int(rng.integers(4, 7))
        by_course.remove(mover)
        by_course.insert(int(rng.integers(1, 3)), mover)
    courses = np.empty(6, dtype=int)
    for course, boat in enumerate(by_course, start=1):
        courses[boat - 1] = course
    return courses


def racer_front_taking(
    courses: np.ndarray, front_takers: np.ndarray, rng: np.random.Generator, rate: float
) -> np.ndarray:
    """The courses once the racers' own 前付け is drawn (``rng``: the race's tendency stream):
    where nobody moved in already, the innermost front taker drawn in lane 3-6 who moves (each
    with ``rate``) takes a course from 2 to its lane - 1; the boats between move out by one."""
    if not np.array_equal(courses, np.arange(1, 7)):
        return courses
    moves = rng.random(6) < rate
    movers = [lane for lane in range(3, 7) if front_takers[lane - 1] and moves[lane - 1]]
    if not movers:
        return courses
    mover = movers[0]
    target = int(rng.integers(2, mover))
    moved = courses.copy()
    between = (courses >= target) & (courses < mover)
    moved[between] += 1
    moved[mover - 1] = target
    return moved


def _incidents(rng: np.random.Generator, config: BoatSimulatorConfig) -> dict[int, str]:
    """Boat -> non-finish code for the race's incidents (none in most races)."""
    codes: dict[int, str] = {}
    draws = (
        (config.withdrawal_rate, ("K0", "K1")), (config.flying_rate, ("F",)),
        (config.late_rate, ("L0", "L1")), (config.disqualification_rate, ("S0", "S1", "S2")),
    )  # fmt: skip
    for rate, options in draws:
        if rng.random() < rate:
            boat = int(rng.integers(1, 7))
            codes.setdefault(boat, str(rng.choice(options)))
    return codes


def simulate_race(
    config: BoatSimulatorConfig, rng: np.random.Generator, card: list[dict[str, Any]],
    race: dict[str, Any],
) -> SimulatedRace:  # fmt: skip
    """Draw a race's start, finish, times and payouts from its card."""
    courses = courses_taken(rng, config)
    if config.front_taker_share > 0:
        tendency_rng = np.random.default_rng([config.seed, 3, int(race["race_id"])])
        front_takers = np.array([bool(entry.get("front_taker", False)) for entry in card])
        courses = racer_front_taking(courses, front_takers, tendency_rng, config.front_taker_rate)
    win_rate = np.array([entry["national_win_rate"] for entry in card])
    motor = np.array([entry["motor_top2_pct"] for entry in card])
    start = np.array([float(entry.get("start_offset", 0.0)) for entry in card])
    bases = course_log_weights(race["venue_code"], config.skill_weight, config.motor_weight,
                               config.start_weight * config.start_skill_sd)  # fmt: skip
    strength = (
        bases[courses - 1]
        + config.skill_weight * (win_rate - win_rate.mean())
        + config.motor_weight * (motor - motor.mean())
    )
    if config.start_skill_sd > 0:  # an earlier starter than the race's mean is stronger
        strength = strength - config.start_weight * (start - start.mean())
    p_true = softmax(strength)
    incidents = _incidents(rng, config)
    withdrawn = {boat for boat, code in incidents.items() if code.startswith("K")}
    voided = {boat for boat, code in incidents.items() if code[0] in "KFL"}
    with_odds = [boat for boat in range(1, 7) if boat not in withdrawn]
    public = strength + rng.normal(0, config.market_noise_sd, 6)
    final_q = dict(zip(with_odds, softmax(public[[b - 1 for b in with_odds]]), strict=True))
    cancelled = rng.random() < config.cancel_rate
    order = [int(b) + 1 for b in np.argsort(-(strength + rng.gumbel(size=6)))]
    finishers = [b for b in order if b not in incidents]
    tiers = [[b] for b in finishers]
    if len(tiers) >= 2 and rng.random() < config.dead_heat_rate:
        tiers = [tiers[0] + tiers[1], *tiers[2:]]
    race = {**race, "status": "cancelled" if cancelled else "run"}
    race["kimarite"] = None if cancelled else _kimarite(rng, courses[finishers[0] - 1])
    results = [] if cancelled else _results(rng, card, courses, tiers, incidents)
    active = [b for b in range(1, 7) if b not in voided]
    q_active = softmax(public[[b - 1 for b in active]])
    payouts = [] if cancelled else race_payouts(dict(zip(active, q_active, strict=True)), tiers,
                                                config.takeout)  # fmt: skip
    p_by_boat = dict(zip(range(1, 7), p_true.tolist(), strict=True))
    return SimulatedRace(card, race, results, payouts, final_q, p_by_boat)


def _kimarite(rng: np.random.Generator, winner_course: int) -> str:
    if winner_course == 1:
        return "逃げ" if rng.random() < 0.97 else "抜き"
    return str(rng.choice(KIMARITE[1:5], p=[0.4, 0.3, 0.2, 0.1]))


def _results(
    rng: np.random.Generator, card: list[dict[str, Any]], courses: np.ndarray,
    tiers: list[list[int]], incidents: dict[int, str],
) -> list[dict[str, Any]]:  # fmt: skip
    rows: list[dict[str, Any]] = []
    winner_time = round(float(rng.normal(110.0, 1.5)), 1)
    position, elapsed = 1, winner_time
    for tier in tiers:
        for boat in tier:
            rows.append(_result_row(rng, card, courses, boat, f"{position:02d}", elapsed))
        position += len(tier)
        elapsed = round(elapsed + float(rng.uniform(0.3, 3.0)), 1)
    for boat in sorted(incidents):
        rows.append(_result_row(rng, card, courses, boat, incidents[boat], None))
    return rows


def _result_row(
    rng: np.random.Generator, card: list[dict[str, Any]], courses: np.ndarray, boat: int,
    code: str, race_time_s: float | None,
) -> dict[str, Any]:  # fmt: skip
    entry = card[boat - 1]
    withdrawn = code.startswith("K")
    exhibition = 6.75 - 0.004 * (entry["motor_top2_pct"] - 33) + float(rng.normal(0, 0.05))
    timing = float(np.clip(rng.normal(0.15, 0.05) + entry.get("start_offset", 0.0), 0.01, 0.40))
    if code == "F":
        timing = -float(rng.integers(1, 6)) / 100
    return {
        "boat": boat, "finish_code": code,
        "position": int(code) if code.isdigit() else None,
        "started": not (withdrawn or code == "F" or code.startswith("L")),
        "refunded": withdrawn or code == "F" or code.startswith("L"),
        "racer_id": entry["racer_id"], "racer_name": entry["surname"] + entry["given_name"],
        "motor_no": int(entry["motor_no"]), "boat_no": int(entry["boat_no"]),
        "exhibition_s": None if withdrawn else round(exhibition, 2),
        "course": None if withdrawn else int(courses[boat - 1]),
        "start_timing_s": None if withdrawn or code.startswith("L") else round(timing, 2),
        "race_time_s": race_time_s,
    }  # fmt: skip


def race_fields(day: date, venue_code: str, race_number: int, meeting_day: int,
                rng: np.random.Generator) -> dict[str, Any]:  # fmt: skip
    """A race's card and weather fields."""
    return {
        "race_id": race_id(day, venue_code, race_number), "race_date": pd.Timestamp(day),
        "venue_code": venue_code, "race_number": race_number,
        "race_name": RACE_NAMES[race_number - 1], "distance_m": 1800,
        "deadline_at": deadline(day, venue_code, race_number), "meeting_day": meeting_day,
        "weather": str(rng.choice(WEATHERS, p=[0.6, 0.3, 0.1])),
        "wind_direction": str(rng.choice(WIND_DIRECTIONS)),
        "wind_speed_m": int(rng.integers(0, 8)), "wave_cm": int(rng.integers(0, 11)),
    }  # fmt: skip


def simulate_venue_day(
    config: BoatSimulatorConfig, day: date, venue_code: str, pool: pd.DataFrame,
    rng: np.random.Generator,
) -> list[SimulatedRace]:  # fmt: skip
    """A venue's races of the day."""
    meeting_day = day.toordinal() % 6 + 1
    records = pool.to_dict("records")
    races = []
    for race_number in range(1, config.races_per_venue + 1):
        picks = rng.choice(len(records), 6, replace=False)
        card = [{**records[int(pick)], "boat": boat} for boat, pick in enumerate(picks, start=1)]
        fields = race_fields(day, venue_code, race_number, meeting_day, rng)
        races.append(simulate_race(config, rng, card, fields))
    return races
