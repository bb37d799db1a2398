"""Every boat stage on any valid days: small decoded boat days of any shape the boat validation
accepts (withdrawn boats 欠場, flying and late starts, disqualifications, dead heats, races
cancelled 中止 or without a result yet, win bets 不成立 and 特払い, a day without its K file,
races priced in part, not at all or only after the decision, racers, venues, motors and boats
never seen, blank exhibition times and start timings, odd weights, local win rates of 0.00),
with now and then a line the validation refuses (a class blank or unknown, odds below 1.0, an
exhibition time out of range, a win line naming a boat that did not win: exactly its race left
out, its odds row or its result set aside), run through the daily run's chain in process —
validation, history, start and course, the model (the fresh fit the history allows, or a small
fitted scorer with its blends), exotics, stakes, settlement, the day's performance row and the
monitor rules — over a few days, with the invariants each stage promises.

The shapes are hypothesis's; the numbers come from a seed it draws (one numpy generator per
example), so they are plausible and the examples few and small.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config import Settings
from data_checks.boat import ValidCard, ValidResults, validate_card, validate_results
from raceday.boat.codes import CLASSES, FINISH_CODES
from raceday.boat.course import COURSE_COLUMNS, course_features
from raceday.boat.evaluate import day_performance
from raceday.boat.exotics import day_exotics
from raceday.boat.files import (
    B_ENTRY_COLUMNS,
    B_RACE_COLUMNS,
    K_RACE_COLUMNS,
    K_RESULT_COLUMNS,
    PAYOUT_COLUMNS,
)
from raceday.boat.history import day_boats, day_card, results_history, training_rows
from raceday.boat.model import FALLBACK_VERSION, BoatModel, fit_boat_model, predict_boats
from raceday.boat.monitoring import boat_monitor_inputs
from raceday.boat.settle import settle_boat_bets
from raceday.boat.source import ODDS_COLUMNS
from raceday.boat.stake import boat_policy, size_boat_day
from raceday.model.condlogit import BlendParameters
from raceday.monitoring.rules import evaluate
from raceday.staking.kelly import UNIT_YEN
from raceday.staking.ledger import bankroll_yen

FIRST_DAY = date(2026, 5, 1)
MORNING = time(9, 0)
VENUES = ("01", "04", "12", "24")
LANES = (1, 2, 3, 4, 5, 6)
RACERS = 14  # a small pool: the same racer in several races and days, and new ones
# What a boat's 着 can be, by kind: a finisher's position is given by the race's order.
NOT_FINISHING = {
    "flying": ("F",),
    "late": ("L", "L0", "L1"),
    "withdrawn": ("K0", "K1", "欠"),
    "disqualified": ("S0", "S1", "S2", "転", "落", "沈", "妨", "エ", "不"),
}
FINISHES = ("finisher",) * 6 + tuple(NOT_FINISHING)
# What the K file says of a race: run with its win lines; its win bets 不成立 or 特払い; its
# results but no payout line (a misread payout); its header only; cancelled; not in the file.
RESULTS = ("run", "run", "run", "void", "special", "no_payout", "header_only", "cancelled",
           "absent")  # fmt: skip
ODDS = ("all", "all", "some", "none", "late")
# A line the validation refuses, and what it costs: the race left out of the day (a boat's
# line lost), that odds row (a snapshot out of range: set aside alone), the race's result set
# aside (a boat's exhibition time out of range, a win line naming a boat that did not win).
DEFECTS = ("none",) * 6 + ("entry", "odds", "result", "payout")


@dataclass(frozen=True)
class BoatSpec:
    """One boat of a race as hypothesis shapes it."""

    racer: int
    racer_class: str
    finish: str
    priced: bool
    exhibition: bool
    start_timing: bool
    motor_no: int
    weight_kg: int
    new_here: bool  # local win rate 0.00: the racer never raced at the venue


@dataclass(frozen=True)
class RaceSpec:
    """One race: its day and venue, its six boats, its finishing order, what the K file and
    the odds say of it."""

    day: int
    venue: str
    number: int
    boats: tuple[BoatSpec, ...]
    order: tuple[int, ...]  # the finishers' order: boats by this permutation of lanes
    tie_at: int  # a dead heat at this position (0: none; two boats at it, none at the next)
    result: str
    odds: str
    two_laps: bool  # 周回短縮: 1200 m
    defect: str
    substitute: bool  # the K file names another racer in lane 1 (選手変更)


@dataclass(frozen=True)
class BoatWorld:
    """Races over a few days, which days have their K file, the model kind, a numbers seed."""

    races: tuple[RaceSpec, ...]
    days: int
    published: tuple[bool, ...]
    scorer: bool
    seed: int


@st.composite
def boat_specs(draw: st.DrawFn) -> BoatSpec:
    return BoatSpec(
        racer=draw(st.integers(0, RACERS - 1)),
        racer_class=draw(st.sampled_from(CLASSES)),
        finish=draw(st.sampled_from(FINISHES)),
        priced=draw(st.booleans() | st.just(True)),
        exhibition=draw(st.booleans() | st.just(True)),
        start_timing=draw(st.booleans() | st.just(True)),
        motor_no=draw(st.integers(1, 99)),
        weight_kg=draw(st.integers(40, 75)),
        new_here=draw(st.booleans()),
    )


@st.composite
def race_specs(draw: st.DrawFn, day: int, venue: str, number: int) -> RaceSpec:
    return RaceSpec(
        day=day,
        venue=venue,
        number=number,
        # six racers, each in one lane (one racer in two lanes is a defect: racer_once_in_race)
        boats=tuple(
            draw(st.lists(boat_specs(), min_size=6, max_size=6, unique_by=lambda b: b.racer))
        ),
        order=tuple(draw(st.permutations(range(6)))),
        tie_at=draw(st.sampled_from((0, 0, 1, 2, 3))),
        result=draw(st.sampled_from(RESULTS)),
        odds=draw(st.sampled_from(ODDS)),
        two_laps=draw(st.booleans()),
        defect=draw(st.sampled_from(DEFECTS)),
        substitute=draw(st.booleans()),
    )


@st.composite
def boat_worlds(draw: st.DrawFn) -> BoatWorld:
    days = draw(st.integers(1, 3))
    races: list[RaceSpec] = []
    for day in range(days):
        venues = draw(st.lists(st.sampled_from(VENUES), min_size=1, max_size=2, unique=True))
        for venue in sorted(venues):
            for number in range(1, draw(st.integers(1, 2)) + 1):
                races.append(draw(race_specs(day, venue, number)))
    return BoatWorld(
        races=tuple(races),
        days=days,
        published=tuple(
            draw(st.lists(st.booleans() | st.just(True), min_size=days, max_size=days))
        ),
        scorer=draw(st.booleans()),
        seed=draw(st.integers(0, 2**16)),
    )


@dataclass(frozen=True)
class DecodedDay:
    """A day's frames as the parsers and the odds reader give them."""

    race_date: date
    races: pd.DataFrame
    entries: pd.DataFrame
    odds: pd.DataFrame
    result_races: pd.DataFrame
    results: pd.DataFrame
    payouts: pd.DataFrame


def _typed(rows: list[dict[str, Any]], columns: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(columns)).astype(columns)


def _positions(spec: RaceSpec) -> dict[int, int]:
    """Lane → position of the race's finishers (a dead heat for first: two 01 and no 02)."""
    finishers = [lane for lane in spec.order if spec.boats[lane].finish == "finisher"]
    positions = {lane + 1: rank + 1 for rank, lane in enumerate(finishers)}
    if 0 < spec.tie_at < len(finishers):
        positions[finishers[spec.tie_at] + 1] = spec.tie_at
    return positions


def _finish_code(boat: BoatSpec, position: int | None, rng: np.random.Generator) -> str:
    if position is not None:
        return f"{position:02d}"
    codes = NOT_FINISHING[boat.finish]
    return codes[int(rng.integers(len(codes)))]


def _start_timing(code: str, boat: BoatSpec, rng: np.random.Generator) -> float | None:
    """An ST as the K file gives it: negative for F, none for a boat withdrawn, a late start's
    either way."""
    if not boat.start_timing or code in NOT_FINISHING["withdrawn"]:
        return None
    if code == "F":
        return -round(float(rng.uniform(0.01, 0.1)), 2)
    if code.startswith("L"):
        return round(float(rng.uniform(1.0, 1.5)), 2) if rng.random() < 0.5 else None
    return round(float(rng.uniform(0.0, 0.3)), 2)


def _race_rows(
    spec: RaceSpec, race_date: date, rng: np.random.Generator
) -> dict[str, list[dict[str, Any]]]:
    race_id = f"{race_date:%Y%m%d}{spec.venue}{spec.number:02d}"
    distance = 1200 if spec.two_laps else 1800
    deadline = datetime.combine(race_date, time(10 + spec.number, 30))
    rows: dict[str, list[dict[str, Any]]] = {key: [] for key in
                                             ("races", "entries", "odds", "k_races", "results",
                                              "payouts")}  # fmt: skip
    rows["races"].append(
        {"race_id": race_id, "race_date": pd.Timestamp(race_date), "venue_code": spec.venue,
         "race_number": spec.number, "race_name": "一般", "distance_m": distance,
         "deadline_at": deadline, "meeting_day": spec.day + 1}
    )  # fmt: skip
    positions = _positions(spec)
    started = [lane for lane in LANES if spec.boats[lane - 1].finish not in ("withdrawn",)]
    courses = dict(zip(sorted(started, key=lambda lane: spec.order[lane - 1]),
                       range(1, len(started) + 1), strict=True))  # fmt: skip
    for lane, boat in zip(LANES, spec.boats, strict=True):
        racer_class = boat.racer_class
        if spec.defect == "entry" and lane == 6:  # a racer without a class, or an unknown one
            racer_class = None if rng.random() < 0.5 else "C1"
        rows["entries"].append(
            {"race_id": race_id, "boat": lane, "racer_id": f"{4001 + boat.racer:04d}",
             "racer_name": f"選手{boat.racer}", "age": int(rng.integers(18, 60)),
             "branch": "東京", "weight_kg": boat.weight_kg, "racer_class": racer_class,
             "national_win_rate": round(float(rng.uniform(0, 10)), 2),
             "national_top2_pct": round(float(rng.uniform(0, 80)), 2),
             "local_win_rate": 0.0 if boat.new_here else round(float(rng.uniform(0, 10)), 2),
             "local_top2_pct": 0.0 if boat.new_here else round(float(rng.uniform(0, 80)), 2),
             "motor_no": boat.motor_no, "motor_top2_pct": round(float(rng.uniform(0, 70)), 2),
             "boat_no": boat.motor_no + 1, "boat_top2_pct": round(float(rng.uniform(0, 70)), 2)}
        )  # fmt: skip
        if _priced(spec, boat):
            published = datetime.combine(race_date, time(10 if spec.odds == "late" else 8))
            broken = spec.defect == "odds" and lane == 1
            rows["odds"].append(
                {"race_id": race_id, "boat": lane, "snapshot": "morning",
                 "published_at": published, "win_odds": 0.5 if broken else _win_odds(rng)}
            )  # fmt: skip
            rows["odds"].append(  # a later snapshot the morning decision must not see
                {"race_id": race_id, "boat": lane, "snapshot": "T-5",
                 "published_at": deadline - timedelta(minutes=5), "win_odds": _win_odds(rng)}
            )  # fmt: skip
        if spec.result in ("run", "void", "special", "no_payout"):
            position = positions.get(lane)
            code = _finish_code(boat, position, rng)
            known = FINISH_CODES[code]
            racer = RACERS if spec.substitute and lane == 1 else boat.racer
            exhibition = round(float(rng.uniform(6.5, 7.0)), 2) if boat.exhibition else None
            rows["results"].append(
                {"race_id": race_id, "boat": lane, "finish_code": code, "position": position,
                 "started": known.started, "refunded": known.refunded,
                 "racer_id": f"{4001 + racer:04d}", "racer_name": f"選手{racer}",
                 "motor_no": boat.motor_no, "boat_no": boat.motor_no + 1,
                 "exhibition_s": 9.99 if spec.defect == "result" and lane == 1 else exhibition,
                 "course": courses.get(lane), "start_timing_s": _start_timing(code, boat, rng),
                 "race_time_s": round(float(rng.uniform(105, 125)) * distance / 1800, 1)
                 if position is not None else None}
            )  # fmt: skip
    if spec.result != "absent":
        rows["k_races"].append(
            {"race_id": race_id, "race_date": pd.Timestamp(race_date), "venue_code": spec.venue,
             "race_number": spec.number, "race_name": "一般", "distance_m": distance,
             "weather": "晴", "wind_direction": "北", "wind_speed_m": 2, "wave_cm": 2,
             "kimarite": "逃げ" if positions else None,
             "status": "cancelled" if spec.result == "cancelled" else "run"}
        )  # fmt: skip
    rows["payouts"] = _payout_lines(race_id, spec, positions, rng)
    return rows


def _priced(spec: RaceSpec, boat: BoatSpec) -> bool:
    """Whether the boat has odds snapshots (published before the decision or not)."""
    return spec.odds in ("all", "late") or (spec.odds == "some" and boat.priced)


def _win_odds(rng: np.random.Generator) -> float:
    """Mostly ordinary odds, now and then the display's floor (1.0) or its ceiling."""
    extreme = rng.random()
    if extreme < 0.05:
        return 1.0
    if extreme < 0.08:
        return 9999.9
    return round(float(rng.uniform(1.0, 60)), 1)


def _payout_lines(
    race_id: str, spec: RaceSpec, positions: dict[int, int], rng: np.random.Generator
) -> list[dict[str, Any]]:
    """The race's 単勝 lines (one per winner: a dead heat has two; 不成立 when nobody finished)
    and its 2連単 line where the first two are clear."""
    line = {"race_id": race_id, "bet_type": "win", "popularity": None}
    by_position = sorted(positions, key=lambda lane: positions[lane])
    winners = sorted(lane for lane in by_position if positions[lane] == 1)
    if spec.result == "special":
        return [line | {"combination": None, "payout_yen": 70, "kind": "special"}]
    if spec.result == "void" or (spec.result == "run" and not winners):
        return [line | {"combination": None, "payout_yen": None, "kind": "void"}]
    if spec.result != "run":
        return []
    if spec.defect == "payout":  # a win line naming a boat that did not win
        winners = [next(lane for lane in LANES if lane not in winners)]
    lines = [
        line | {"combination": str(lane), "kind": "paid", "payout_yen": _yen(rng, 100)}
        for lane in winners
    ]
    if len(by_position) > 2 and sorted(positions.values())[:3] == [1, 2, 3]:
        exacta = f"{by_position[0]}-{by_position[1]}"
        lines.append(line | {"bet_type": "exacta", "combination": exacta, "kind": "paid",
                             "payout_yen": _yen(rng, 200)})  # fmt: skip
    return lines


def _yen(rng: np.random.Generator, least: int) -> int:
    """A payout per 100-yen ticket: ``least`` (元返し for a win) and up, in 10-yen steps."""
    return least + 10 * int(rng.integers(0, 60))


def decoded_days(world: BoatWorld) -> list[DecodedDay]:
    """Each day's decoded frames (a day without its K file: empty result frames)."""
    rng = np.random.default_rng(world.seed)
    days = []
    for day in range(world.days):
        race_date = FIRST_DAY + timedelta(days=day)
        rows: dict[str, list[dict[str, Any]]] = {}
        for spec in (race for race in world.races if race.day == day):
            for key, values in _race_rows(spec, race_date, rng).items():
                rows.setdefault(key, []).extend(values)
        published = world.published[day]
        days.append(
            DecodedDay(
                race_date,
                _typed(rows.get("races", []), B_RACE_COLUMNS),
                _typed(rows.get("entries", []), B_ENTRY_COLUMNS),
                _typed(rows.get("odds", []), ODDS_COLUMNS),
                _typed(rows.get("k_races", []) if published else [], K_RACE_COLUMNS),
                _typed(rows.get("results", []) if published else [], K_RESULT_COLUMNS),
                _typed(rows.get("payouts", []) if published else [], PAYOUT_COLUMNS),
            )
        )
    return days


def tiny_scorer() -> BoatModel:
    """A fitted-looking boat model: a scorer and both blends (what matters is that any day can
    be scored with them, not how well)."""
    coefficients = (0.9, 0.3, 0.1, 0.4, 0.2, -0.3, 0.01, 0.005, -2.0, -1.0, 0.05, 0.5)
    return BoatModel(
        "boat-clogit-20260430", coefficients, BlendParameters(0.5, 0.9, 150),
        BlendParameters(0.8, 0.6, 150), 400,
    )  # fmt: skip


def _dated(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows dated by their race id, as the stages store them."""
    day = pd.to_datetime(frame["race_id"].astype("string").str[:8], format="%Y%m%d")
    return frame.assign(race_date=day)


@dataclass
class Store:
    """What the stages stored on the days before: the card, the results, the settled bets and
    the performance rows."""

    entries: list[pd.DataFrame]
    results: list[pd.DataFrame]
    odds: list[pd.DataFrame]
    bets: list[pd.DataFrame]
    performance: list[dict[str, Any]]

    def history(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        def joined(frames: list[pd.DataFrame], columns: dict[str, str]) -> pd.DataFrame:
            empty = _typed([], columns).assign(race_date=pd.Series(dtype="datetime64[ns]"))
            return pd.concat([empty, *frames], ignore_index=True) if frames else empty

        return (
            joined(self.entries, B_ENTRY_COLUMNS),
            joined(self.results, K_RESULT_COLUMNS),
            joined(self.odds, ODDS_COLUMNS),
        )

    def _bets(self) -> pd.DataFrame | None:
        bets = pd.concat(self.bets, ignore_index=True) if self.bets else None
        return None if bets is None or bets.empty else bets

    def daily_pnl(self) -> pd.Series:
        """The settled bets' P&L per day (an open bet's stake is committed, not lost)."""
        bets = self._bets()
        if bets is None:
            return pd.Series(dtype="int64", index=pd.DatetimeIndex([]))
        done = bets["settled"].astype(bool)
        flow = (bets["payout_yen"].fillna(0).astype("int64")
                + bets["refund_yen"].fillna(0).astype("int64") - bets["stake_yen"])  # fmt: skip
        flow = flow.where(done, 0)
        return flow.groupby(pd.to_datetime(bets["race_date"]).to_numpy()).sum().astype("int64")

    def committed_yen(self) -> int:
        """The stakes of the bets still open: out of the cash, not yet won or lost."""
        bets = self._bets()
        if bets is None:
            return 0
        return int(bets.loc[~bets["settled"].astype(bool), "stake_yen"].astype("int64").sum())


def _assert_probabilities(predicted: pd.DataFrame, races: pd.DataFrame) -> None:
    """Win probabilities in [0, 1], summing to 1 per race over the boats that run for the
    bettor, every race of the card predicted."""
    assert set(predicted["race_id"]) == set(races["race_id"].astype(str))
    assert not predicted.duplicated(["race_id", "boat"]).any()
    p_final = predicted["p_final"].to_numpy(dtype="float64")
    assert np.isfinite(p_final).all() and (p_final >= 0).all() and (p_final <= 1).all()
    sums = predicted.groupby("race_id")["p_final"].sum().to_numpy(dtype="float64")
    np.testing.assert_allclose(sums, 1.0, rtol=1e-9)


def _assert_settled(settled: pd.DataFrame, night: Night, start_yen: int) -> None:
    """Stakes in 100-yen units, the ledger identity, and a bet open only where its race's result
    is absent (no K row, or no win line to settle it from)."""
    stake = settled["stake_yen"].astype("int64")
    assert (stake >= 0).all() and (stake % UNIT_YEN == 0).all()
    done = settled[settled["settled"].astype(bool)]
    assert (done["payout_yen"] >= 0).all() and (done["refund_yen"] >= 0).all()
    assert (done["pnl_yen"] == done["payout_yen"] + done["refund_yen"] - done["stake_yen"]).all()
    paid = int(done["payout_yen"].sum()) + int(done["refund_yen"].sum())
    assert bankroll_yen(start_yen, settled) == start_yen + paid - int(stake.sum())
    open_races = set(settled.loc[~settled["settled"].astype(bool), "race_id"].astype(str))
    run = set(night.races.loc[night.races["status"] == "run", "race_id"].astype(str))
    win_lines = set(night.payouts.loc[night.payouts["bet_type"] == "win", "race_id"].astype(str))
    cancelled = set(night.races["race_id"].astype(str)) - run
    decided = (run & win_lines) | cancelled | night.set_aside
    assert not open_races & decided, open_races & decided


def _settled_pnl(settled: pd.DataFrame) -> int:
    """The day's settled bets' P&L: what moves the settled bankroll the drawdown judges."""
    done = settled[settled["settled"].astype(bool)]
    return int(done["payout_yen"].sum() + done["refund_yen"].sum() - done["stake_yen"].sum())


def _assert_morning_odds(
    predicted: pd.DataFrame, bets: pd.DataFrame, odds: pd.DataFrame, race_date: date
) -> None:
    """The decision's odds are each boat's snapshot published by the morning decision (09:00),
    never a later one: the predicted boats' and the bets'."""
    cutoff = pd.Timestamp(datetime.combine(race_date, MORNING))
    morning = odds[pd.to_datetime(odds["published_at"]) <= cutoff]
    known = {(str(r.race_id), int(r.boat)): float(r.win_odds) for r in morning.itertuples()}
    for row in predicted[predicted["win_odds"].notna()].itertuples():
        assert known[(str(row.race_id), int(row.boat))] == row.win_odds
    for bet in bets.itertuples():
        assert known[(str(bet.race_id), int(bet.boat))] == float(bet.odds_at_bet)


def _assert_outcomes(settled: pd.DataFrame, night: Night) -> None:
    """Each settled bet as its boat's result says: won only on a boat first with a win line
    (its yen per 100-yen ticket), lost only on a boat that did not finish first, a boat F, L
    or K refunded."""
    result = night.results.assign(race_id=night.results["race_id"].astype(str))
    by_boat = {(r.race_id, int(r.boat)): r for r in result.itertuples()}
    win = night.payouts[(night.payouts["bet_type"] == "win") & (night.payouts["kind"] == "paid")]
    lines = {(str(r.race_id), int(r.combination)): int(r.payout_yen) for r in win.itertuples()}
    for bet in settled[settled["settled"].astype(bool)].itertuples():
        key = (str(bet.race_id), int(bet.boat))
        boat = by_boat.get(key)
        first = boat is not None and pd.notna(boat.position) and boat.position == 1
        if bet.outcome == "won":
            assert first and bet.payout_yen == bet.stake_yen // UNIT_YEN * lines[key]
        if bet.outcome == "lost":
            assert boat is not None and not first and not boat.refunded
        if boat is not None and boat.refunded:
            assert bet.outcome in ("refunded", "cancelled", "set aside")
            assert bet.refund_yen == bet.stake_yen and bet.payout_yen == 0


@dataclass(frozen=True)
class Night:
    """A day's valid results: K races, boats' results, payouts, races set aside."""

    races: pd.DataFrame
    results: pd.DataFrame
    payouts: pd.DataFrame
    set_aside: frozenset[str]


def _of_day(frame: pd.DataFrame, race_date: date) -> pd.DataFrame:
    day = frame["race_id"].astype("string").str[:8] == f"{race_date:%Y%m%d}"
    return frame[day.fillna(False).to_numpy(dtype=bool)].reset_index(drop=True)


def validated(days: list[DecodedDay]) -> tuple[ValidCard, ValidResults]:
    """The days' card and results through the boat validation (race by race: the same as day
    by day, at one suite run each)."""

    def joined(name: str) -> pd.DataFrame:
        return pd.concat([getattr(day, name) for day in days], ignore_index=True)

    stamp = pd.Timestamp(days[0].race_date)
    card = validate_card(joined("races"), _dated(joined("entries")), joined("odds"), stamp)
    night = validate_results(
        joined("result_races"), _dated(joined("results")), joined("payouts"), stamp
    )
    return card, night


def _expected_refusals(world: BoatWorld) -> tuple[set[str], set[str], set[str]]:
    """The races the drawn defects must cost: left out of the card, without odds, set aside."""
    left_out, unpriced, set_aside = set(), set(), set()
    for spec in world.races:
        race_id = f"{FIRST_DAY + timedelta(days=spec.day):%Y%m%d}{spec.venue}{spec.number:02d}"
        published = world.published[spec.day]
        has_results = published and spec.result in ("run", "void", "special", "no_payout")
        paid = published and spec.result == "run" and bool(_positions(spec))
        left_out |= {race_id} if spec.defect == "entry" else set()
        unpriced |= {race_id} if spec.defect == "odds" and _priced(spec, spec.boats[0]) else set()
        broken = (spec.defect == "result" and has_results) or (spec.defect == "payout" and paid)
        set_aside |= {race_id} if broken else set()
    return left_out, unpriced, set_aside


def run_boat_days(world: BoatWorld) -> None:
    """The daily chain on each day in order, on what the days before stored."""
    config = Settings()
    policy = boat_policy(config.kelly.policy())
    days = decoded_days(world)
    card, night = validated(days)
    left_out, unpriced, set_aside = _expected_refusals(world)
    refused = set(card.quarantine["race_id"].dropna())  # nothing but the defects drawn
    assert refused == left_out | unpriced, card.quarantine[["race_id", "check_name"]]
    assert night.set_aside == set_aside, night.quarantine[["race_id", "check_name"]]

    store = Store([], [], [], [], [])
    for day in days:
        race_date = day.race_date
        races, entries_today, odds_today = (
            _of_day(frame, race_date) for frame in (card.races, card.entries, card.odds)
        )
        today = Night(
            *(_of_day(frame, race_date) for frame in (night.races, night.results, night.payouts)),
            frozenset(race for race in night.set_aside if race.startswith(f"{race_date:%Y%m%d}")),
        )

        entries, results, odds = store.history()
        history = results_history(entries, results)
        boats = day_card(entries_today, odds_today, MORNING)
        course = course_features(boats, history)
        assert list(course.columns) == COURSE_COLUMNS and len(course) == len(boats)
        numbers = course.drop(columns=["race_id", "boat", "race_date", "racer_id"])
        assert np.isfinite(numbers.to_numpy(dtype="float64")).all()

        if world.scorer:
            model = tiny_scorer()
        else:
            training = training_rows(entries, results, odds, MORNING)
            model = fit_boat_model(training, race_date - timedelta(days=1))
            assert model.version == FALLBACK_VERSION  # a few small days: too few races
        features = day_boats(entries_today, odds_today, history, MORNING, course)
        predicted = predict_boats(model, features)
        _assert_probabilities(predicted, races)

        exotics = day_exotics(predicted)
        assert exotics["probability"].between(0, 1).all()

        earlier, committed = store.daily_pnl(), store.committed_yen()
        settled_before = config.bankroll_yen + int(earlier.sum())
        start_yen = settled_before - committed  # the cash: sized on what is free
        sized = size_boat_day(
            policy, predicted, earlier, committed_yen=committed,
            initial_bankroll_yen=config.bankroll_yen, stake_scale=1.0,
            decided_at=datetime.combine(race_date, MORNING),
        )  # fmt: skip
        assert sized.bankroll_yen == start_yen
        settled = settle_boat_bets(
            sized.bets, today.races, today.results, today.payouts, today.set_aside
        )
        _assert_settled(settled, today, start_yen)
        _assert_outcomes(settled, today)
        _assert_morning_odds(predicted, sized.bets, odds_today, race_date)

        row = day_performance(
            race_date, predicted, today.results, settled,
            bankroll_yen=settled_before + _settled_pnl(settled), quarantined=0,
            races_left_out=len(today.set_aside) + len(day.races) - len(races),
        )  # fmt: skip
        store.performance.append(row)
        inputs = boat_monitor_inputs(
            race_date, pd.DataFrame(store.performance), span="30d",
            initial_bankroll_yen=config.bankroll_yen, runs=pd.DataFrame(),
            races_by_venue={"boat": len(races)}, racing_expected=True,
        )  # fmt: skip
        evaluate(inputs, config.monitor_thresholds())

        store.entries.append(entries_today)
        store.results.append(_dated(today.results))
        store.odds.append(odds_today)
        store.bets.append(settled)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(boat_worlds())
def test_every_boat_stage_runs_on_any_valid_days(world: BoatWorld) -> None:
    """Any valid boat days run through every stage of the daily chain without an exception,
    with probabilities summing to 1 per race, stakes in 100-yen units and the ledger's
    identity; a bet stays open only where its race's result is absent."""
    run_boat_days(world)
