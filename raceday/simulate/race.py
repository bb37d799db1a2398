"""The races of a day: strengths, scratches, results, sectional times, corners, leading times."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

import numpy as np

from raceday.simulate.arrays import (
    BoolArray,
    FloatArray,
    IntArray,
    TextArray,
    group_count,
    group_max,
    group_min,
    group_sum,
    rank_within,
)
from raceday.simulate.card import Card
from raceday.simulate.circuits import Tracks, circuit_of, tracks_of
from raceday.simulate.config import SimulatorConfig
from raceday.simulate.odds import Market, market
from raceday.simulate.population import (
    MAX_JOCKEYS,
    ability_on,
    body_weight_on,
    population_of,
    staff_of,
)
from raceday.simulate.text import join_groups

# --- calibration constants (figures measured on the simulator's own output) -------------------
_PERF_CENTRE: Final = 3.8  # performance (logits) of the median winner: runs at the par time
_SPREAD_LOGITS: Final = 7.1  # 90th-10th pct of performance over a venue x distance cell
_START_PENALTY_S: Final = 1.3  # the first furlong from the gates is this much slower
_ABILITY_SHARE: Final = 0.9  # share of a runner's time advantage spread pro rata over the distance
_EARLY_TRAIT_S: Final = 0.35  # first-3F effect of one sd of early speed
_KICK_TRAIT_S: Final = 0.35  # last-3F effect of one sd of finishing kick
_OWN_PACE_S: Final = 0.36  # a runner's own first-3F noise
_RACE_PACE_S: Final = 0.28  # the race's shared pace noise (first 3F)
_LAST3F_SHAPE: Final = (0.320, 0.650)  # cumulative share of the last 3F after 200 m and 400 m
_CORNER_NOISE_S: Final = (0.35, 0.35, 0.3, 0.15)  # ground lost wide, traffic: time vs position
LAP_SLOTS: Final = 25  # lap_time: 25 furlong laps of 3 digits (3600 m at most used)
_TURF_GOING_SHIFT: Final = np.array([0.0, 0.35, 0.8, 1.4])  # s per 1000 m: wet turf is slower
_GOING_P: Final = np.array([0.71, 0.15, 0.07, 0.07])  # 良 稍重 重 不良
_GOING_SHIFT: Final = np.array([0.0, -0.25, -0.45, -0.6])  # s per 1000 m: wet dirt is faster
_WEATHER_P: Final = np.array(
    [  # 晴 曇 雨 小雨 given the going
        [0.60, 0.37, 0.00, 0.03],
        [0.30, 0.45, 0.10, 0.15],
        [0.05, 0.30, 0.40, 0.25],
        [0.00, 0.25, 0.50, 0.25],
    ]
)


@dataclass(frozen=True)
class Result:
    """Everything decided on the day, one value per runner (rows as in the card)."""

    age: IntArray
    sex: IntArray
    jockey: IntArray
    weight_carried: FloatArray
    strength: FloatArray
    win_prob: FloatArray
    cancelled: BoolArray
    excluded: BoolArray
    started: BoolArray
    dnf: BoolArray
    disqualified: BoolArray
    finished: BoolArray
    finish_pos: IntArray  # 0 for non-finishers
    finish_time: FloatArray  # NaN for non-finishers
    first3f: FloatArray
    first_part: FloatArray
    last3f: FloatArray
    corners: IntArray  # (runner, corner 1..4) positions, 0 where not run or not passed
    odds: Market  # final odds and popularity, and the morning snapshot's
    body_weight: IntArray
    body_weight_change: FloatArray  # NaN: first run
    track_shift: FloatArray  # s per 1000 m, per runner's venue
    # race level
    going: IntArray  # 1..4, per race
    weather: IntArray  # 1..4, per race
    leader_times: FloatArray  # (race, lap boundary) leading times, NaN past the finish
    leader_first3f: FloatArray
    leader_first4f: FloatArray
    corner_order: TextArray  # (race, slot) passing order text
    corner_number: IntArray  # (race, slot) corner number, 0 for unused slots


def _interp_rows(knot_x: FloatArray, knot_t: FloatArray, query: FloatArray) -> FloatArray:
    """Piecewise-linear t(x) per row: knots (rows, K), queries (rows, J) -> (rows, J)."""
    k = knot_x.shape[1]
    passed = np.zeros(query.shape, np.int64)  # knots at or before each query, knot by knot
    for knot in range(k):
        passed += knot_x[:, knot, None] <= query
    segment = np.clip(passed - 1, 0, k - 2)
    rows = np.arange(knot_x.shape[0])[:, None]
    x0, x1 = knot_x[rows, segment], knot_x[rows, segment + 1]
    t0, t1 = knot_t[rows, segment], knot_t[rows, segment + 1]
    width = x1 - x0
    fraction = np.where(width > 0, (query - x0) / np.where(width > 0, width, 1.0), 0.0)
    return t0 + np.clip(fraction, 0.0, 1.0) * (t1 - t0)


def _corner_points(distance: FloatArray) -> FloatArray:
    """Distance from the start of corners 1..4 (NaN when not run: ≤ 1300 m runs only 3 and 4)."""
    short = distance <= 1300
    c1 = np.where(short, np.nan, 300.0 + 0.1 * (distance - 1400))
    c2 = c1 + 200.0
    c3 = np.where(short, np.maximum(0.3 * distance, distance - 700), distance - 700)
    c4 = distance - 350.0
    return np.stack([c1, c2, c3, c4], axis=1)


TIMELINE_STREAM: Final = 61  # the odds timeline's rng stream: seed, day, 61


def run_races(config: SimulatorConfig, day: date, card: Card, rng: np.random.Generator) -> Result:
    """Strengths, scratches, the Gumbel-max result, sectional times, corners and the market."""
    horses, staff, tracks = (
        population_of(config, day.year),
        staff_of(config),
        tracks_of(config.circuit),
    )
    n_venues = circuit_of(config).n_venues
    ordinal = day.toordinal()
    race, starts, h = card.race, card.starts, card.horse
    n, n_races = h.size, card.race_venue.size
    venue = card.race_venue[race]
    track_row = card.race_track_row[race]
    distance = tracks.distance[track_row].astype(np.float64)
    entries = card.race_entries[race]
    race_class = card.race_class[race]

    # Venue-day conditions: the same number of draws every day, whichever venues race.
    going_v = rng.choice(4, n_venues, p=_GOING_P)
    weather_v = (rng.random(n_venues)[:, None] > np.cumsum(_WEATHER_P[going_v], axis=1)).sum(1)
    noise_v = rng.normal(0.0, 0.4, n_venues)
    shift_v = _GOING_SHIFT[going_v] + noise_v
    turf_shift_v = _TURF_GOING_SHIFT[going_v] + 0.5 * noise_v  # turf: wet is slower
    shift = np.where(tracks.turf[track_row], turf_shift_v[venue], shift_v[venue])

    # Horses and people.
    age = (day.year - horses.birth_year[h]).astype(np.int64)
    sex = horses.sex[h]
    ability = ability_on(horses, h, float(ordinal)) * circuit_of(config).ability_scale
    # Good horses get the leading riders, loosely: ranked by trainer's view vs rider's standing.
    seat = rank_within(race, -(ability + rng.normal(0.0, 0.7, n))) - 1
    jockey_keys = staff.jockey_log_weight[card.race_venue] + 0.6 * rng.gumbel(
        size=(n_races, MAX_JOCKEYS)
    )
    slot = np.argsort(-jockey_keys, axis=1)[race, seat]
    jockey = staff.jockey_table[venue, slot]
    trainer = horses.trainer[h]
    base_weight = (
        np.where(age == 2, 54.0, 56.0)
        - np.where(sex == 2, 2.0, 0.0)
        - staff.jockey_apprentice[jockey]
        + np.where(race_class <= 1, rng.integers(-1, 2, n), 0)
    )
    weight_carried: FloatArray = np.clip(base_weight, 51.0, 57.0).astype(np.float64)
    early, kick = horses.early[h], horses.kick[h]
    sprint = np.clip((1400.0 - distance) / 600.0, -1.0, 1.0)
    draw = -0.03 * (card.umaban - (entries + 1) / 2) * (distance <= 1400)
    strength = (
        ability
        + staff.jockey_skill[jockey]
        + staff.trainer_skill[trainer]
        + 0.15 * early * sprint
        + draw
        - 0.12 * (weight_carried - 55.0)
        + rng.normal(0.0, config.form_noise_sd, n)
    )

    # Scratches (取消 before the race, 除外 at the gate); every race keeps two starters.
    u = rng.random(n)
    cancelled = u < config.cancel_rate
    excluded = (u >= config.cancel_rate) & (u < config.cancel_rate + config.exclusion_rate)
    out = cancelled | excluded
    thin = (group_count(~out, starts) < 2)[race]
    cancelled &= ~thin
    excluded &= ~thin
    started = ~(cancelled | excluded)

    # The result: Gumbel-max, so the true win probability is the softmax of strength.
    logit = np.where(started, strength, -np.inf)
    exp_logit = np.exp(logit - group_max(logit, starts)[race])
    win_prob = exp_logit / group_sum(exp_logit, starts)[race]
    performance = np.where(started, strength + rng.gumbel(size=n), -np.inf)
    order = rank_within(race, -performance)
    u = rng.random(n)
    dnf = started & (order > 1) & (u < config.dnf_rate)
    disqualified = (
        started & (order > 1) & ~dnf & (u < config.dnf_rate + config.disqualification_rate)
    )
    finished = started & ~dnf & ~disqualified
    finish_pos = np.where(finished, rank_within(race, np.where(finished, -performance, np.inf)), 0)

    # Times: the par runner (performance = centre) runs the median winner's time.
    seconds_per_logit = tracks.spread[track_row] / _SPREAD_LOGITS
    advantage = seconds_per_logit * (np.where(started, performance, _PERF_CENTRE) - _PERF_CENTRE)
    race_noise = rng.normal(0.0, 0.1, n_races)[race] * distance / 1000.0
    finish = tracks.win_time[track_row] + shift * distance / 1000.0 + race_noise - advantage
    top_early = started & (rank_within(race, np.where(started, -early, np.inf)) <= 3)
    early_front = group_sum(np.where(top_early, early, 0.0), starts) / np.maximum(
        group_sum(top_early.astype(np.float64), starts), 1.0
    )
    pace = (rng.normal(0.0, _RACE_PACE_S, n_races) - 0.15 * (early_front - 1.0))[race]
    own = rng.normal(0.0, 1.0, n)
    middle_noise = rng.normal(0.0, 1.0, n)
    first_part, first3f, last3f = _sectionals(
        distance, tracks.first_part[track_row], finish, advantage, shift, pace, early, kick,
        own, middle_noise,
    )  # fmt: skip
    knot_x, knot_t = _knots(distance, first3f, first_part, last3f, finish)

    # Corners: positions from the times at each corner point, among runners still running.
    points = _corner_points(distance)
    at_corner = _interp_rows(knot_x, knot_t, np.nan_to_num(points, nan=0.0))
    at_corner += rng.normal(0.0, 1.0, at_corner.shape) * np.array(_CORNER_NOISE_S)
    stop = rng.uniform(0.25, 0.9, n) * distance
    running = (finished | disqualified)[:, None] | (dnf[:, None] & (stop[:, None] > points))
    valid = running & np.isfinite(points)
    corners = np.zeros((n, 4), np.int64)
    for c in range(4):
        key = np.where(valid[:, c], at_corner[:, c], np.inf)
        corners[:, c] = np.where(valid[:, c], rank_within(race, key), 0)

    # Leading times at each 200 m lap boundary (the first lap is the odd remainder).
    n_laps = np.ceil(_race_distance(card, tracks) / 200.0).astype(np.int64)
    lap_index = np.arange(LAP_SLOTS)
    boundaries = _race_distance(card, tracks)[:, None] - 200.0 * (n_laps[:, None] - 1 - lap_index)
    boundaries = np.where(lap_index < n_laps[:, None], boundaries, np.nan)
    at_lap = _interp_rows(knot_x, knot_t, np.nan_to_num(boundaries[race], nan=0.0))
    at_lap = np.where(finished[:, None], at_lap, np.inf)
    leader_times = np.where(np.isfinite(boundaries), group_min(at_lap, starts), np.nan)
    leader_first3f = group_min(np.where(finished, first3f, np.inf), starts)
    at_800 = _interp_rows(knot_x, knot_t, np.full((n, 1), 800.0))[:, 0]
    leader_first4f = np.where(
        _race_distance(card, tracks) > 800,
        group_min(np.where(finished, at_800, np.inf), starts),
        np.nan,
    )
    corner_order, corner_number = _corner_texts(card, corners, points)

    # The market: a noisy public view of strength with a favourite-longshot bias.
    # Its later snapshots draw from a stream of their own: every draw above and below is unmoved.
    timeline_rng = np.random.default_rng([config.seed, ordinal, TIMELINE_STREAM])
    odds = market(config, card, strength, cancelled, excluded, started, rng, timeline_rng)

    body_weight = body_weight_on(horses, h, np.full(n, ordinal, np.int64))
    previous = ordinal - horses.interval[h]
    change = body_weight - body_weight_on(horses, h, previous)
    body_weight_change = np.where(previous < horses.debut_ordinal[h], np.nan, change)
    return Result(
        age=age, sex=sex, jockey=jockey, weight_carried=weight_carried, strength=strength,
        win_prob=win_prob, cancelled=cancelled, excluded=excluded, started=started, dnf=dnf,
        disqualified=disqualified, finished=finished, finish_pos=finish_pos.astype(np.int64),
        finish_time=np.where(finished, finish, np.nan), first3f=first3f, first_part=first_part,
        last3f=last3f, corners=corners, odds=odds, body_weight=body_weight,
        body_weight_change=body_weight_change.astype(np.float64), track_shift=shift,
        going=going_v[card.race_venue] + 1, weather=weather_v[card.race_venue] + 1,
        leader_times=leader_times, leader_first3f=leader_first3f,
        leader_first4f=leader_first4f, corner_order=corner_order, corner_number=corner_number,
    )  # fmt: skip


def _race_distance(card: Card, tracks: Tracks) -> FloatArray:
    """Distance of each race (metres)."""
    return tracks.distance[card.race_track_row].astype(np.float64)


def _sectionals(
    distance: FloatArray,
    par_first_part: FloatArray,
    finish: FloatArray,
    advantage: FloatArray,
    shift: FloatArray,
    pace: FloatArray,
    early: FloatArray,
    kick: FloatArray,
    own: FloatArray,
    middle_noise: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Split each finish time into first part (to the last 600 m), first 3F and last 3F."""
    before_last = distance - 600.0  # the first part: start to the last 600 m
    long = distance > 1200
    cruise = (par_first_part - _START_PENALTY_S) / (before_last / 200.0)
    # > 1200 m: first 3F, then a middle segment, then the last 3F.
    par_first3f = _START_PENALTY_S + 3.0 * cruise - 0.25
    middle_m = np.maximum(before_last - 600.0, 0.0)
    first3f_long = (
        par_first3f
        + 0.6 * shift
        + pace
        - _ABILITY_SHARE * 600.0 / distance * advantage
        - _EARLY_TRAIT_S * early
        + 0.4 * _KICK_TRAIT_S * kick
        + _OWN_PACE_S * own
    )
    middle = (
        (par_first_part - par_first3f)
        + shift * middle_m / 1000.0
        - _ABILITY_SHARE * middle_m / distance * advantage
        + 0.25 * _EARLY_TRAIT_S * early
        + 0.6 * _KICK_TRAIT_S * kick
        + 0.25 * np.sqrt(middle_m / 600.0) * middle_noise
    )
    middle = np.maximum(middle, middle_m / 200.0 * 10.4)
    # <= 1200 m: the first part is shorter than 600 m; the first 3F ends inside the last 3F.
    share = before_last / 600.0
    first_part_short = (
        par_first_part
        + shift * before_last / 1000.0
        + pace * share
        - _ABILITY_SHARE * before_last / distance * advantage
        - _EARLY_TRAIT_S * early * share
        + _KICK_TRAIT_S * kick
        + _OWN_PACE_S * np.sqrt(share) * own
    )
    first_part = np.where(long, first3f_long + middle, first_part_short)
    last3f = finish - first_part
    into_last = np.clip((1200.0 - distance) / 600.0, 0.0, 1.0)
    first3f = np.where(long, first3f_long, first_part + last3f * _last3f_fraction(into_last))
    return first_part, first3f, last3f


def _last3f_fraction(covered: FloatArray) -> FloatArray:
    """Share of the last-3F time spent over the first ``covered`` (0..1) of the last 600 m."""
    return np.interp(
        covered, [0.0, 1 / 3, 2 / 3, 1.0], [0.0, _LAST3F_SHAPE[0], _LAST3F_SHAPE[1], 1.0]
    )


def _knots(
    distance: FloatArray,
    first3f: FloatArray,
    first_part: FloatArray,
    last3f: FloatArray,
    finish: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Knots of each runner's cumulative time t(x): slow first furlong, even middle, fading end."""
    before_last = distance - 600.0
    long = distance > 1200
    fast_f, mid_f = _LAST3F_SHAPE
    first_furlong_long = (first3f - _START_PENALTY_S) / 3.0 + _START_PENALTY_S
    first_furlong_short = (first_part - _START_PENALTY_S) / (before_last / 200.0) + _START_PENALTY_S
    zeros = np.zeros_like(distance)
    x = np.where(
        long[:, None],
        np.stack([zeros, zeros + 200, zeros + 600, before_last, before_last + 200,
                  before_last + 400, distance], axis=1),
        np.stack([zeros, zeros + 200, before_last, before_last + 200, before_last + 400,
                  distance, distance], axis=1),
    )  # fmt: skip
    late = [first_part + fast_f * last3f, first_part + mid_f * last3f, finish]
    t = np.where(
        long[:, None],
        np.stack([zeros, first_furlong_long, first3f, first_part, *late], axis=1),
        np.stack([zeros, first_furlong_short, first_part, *late, finish], axis=1),
    )
    return x, t


def _corner_texts(card: Card, corners: IntArray, points: FloatArray) -> tuple[TextArray, IntArray]:
    """Passing order per race and slot, and the corner number in each slot (slots in running order).

    As in JV-Data, slot 1 holds the first corner the race runs: corner 3 in a short race.
    """
    n_races = card.race_venue.size
    run = np.isfinite(points[card.starts])  # (race, corner)
    slot_of_corner = np.cumsum(run, axis=1) - 1
    numbers = np.zeros((n_races, 4), np.int64)
    texts = np.full((n_races, 4), "", dtype=object)
    umaban_text = card.umaban.astype(str).astype(object)
    for c in range(4):
        passed = corners[:, c] > 0
        if not passed.any():
            continue
        order = np.lexsort((corners[passed, c], card.race[passed]))
        race_of = card.race[passed][order]
        first = np.flatnonzero(np.concatenate([[True], race_of[1:] != race_of[:-1]]))
        races_with = race_of[first]
        slots = slot_of_corner[races_with, c]
        texts[races_with, slots] = join_groups(umaban_text[passed][order], first, ",")
        numbers[races_with, slots] = c + 1
    return texts, numbers
