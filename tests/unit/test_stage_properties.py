"""Every stage on any valid input: small decoded race/runner frames of any shape the validation
suites accept (NAR, JRA and unknown venues, blank codes, 1-16 runners, scratched and dead-heat
runners, no leader times, no odds, one distance per venue, turf and dirt) run through first 3F,
indexes, features, predict, stake and settle without an exception, with probabilities that sum
to 1 per race.

Times are drawn from a seed hypothesis chooses (one numpy generator per example), so the shapes
are hypothesis's and the numbers plausible; examples are small and few so the file stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config import Settings
from raceday.codec import UNKNOWN_CLASS, UNKNOWN_CODE, UNKNOWN_TRACK
from raceday.first3f.layers import METHOD_PRIORITY, estimate_first3f
from raceday.first3f.model import FitOptions, fit_first3f_model
from raceday.model.condlogit import BlendParameters
from raceday.model.win import (
    ModelInputs,
    ScorerOptions,
    WinModel,
    market_predictions,
    predict_card,
    scorer_pipeline,
)
from raceday.pipeline import runner_view
from raceday.ratings.features import (
    FEATURE_COLUMNS,
    FEATURE_DTYPES,
    HISTORY_COLUMNS,
    build_features,
)
from raceday.ratings.indexes import compute_indexes
from raceday.ratings.standards import learn_reference_times
from raceday.schema import RACE_COLUMNS, RUNNER_COLUMNS
from raceday.staking.bets import day_bets, staking_candidates
from raceday.staking.kelly import UNIT_YEN, policy_from_settings
from raceday.staking.ledger import settle_bets
from raceday.staking.pools import race_pools

NAR_VENUES = ("44", "30", "35")
JRA_VENUES = ("05", "09")
UNKNOWN_VENUES = ("99", "G0")  # neither circuit's, G0 a race abroad (Hong Kong): kept as venues
TRACKS = ("24", "23", "11", "17", "53", UNKNOWN_TRACK)
CLASSES: tuple[str | None, ...] = ("C3", "A1", "B2", "MDN", "OP", "1W", UNKNOWN_CLASS, None)
DISTANCES = (800, 1000, 1200, 1400, 1600, 2000, 2400)
STATUSES = ("ran", "ran", "ran", "ran", "scratched", "excluded", "pulled_up", "no_last3f")
FIRST_DAY = date(2026, 7, 1)
METHODS = {*METHOD_PRIORITY, "unavailable", "not_started"}


@dataclass(frozen=True)
class RaceSpec:
    """One race as hypothesis shapes it."""

    venue: str
    day: int
    runners: int
    going: int
    weather: int
    class_code: str | None
    leader_time: bool
    odds: str  # "all", "some", "none"
    dead_heat: bool
    statuses: tuple[str, ...]
    horses: tuple[int, ...]


@dataclass(frozen=True)
class World:
    """Races over a few days, each venue at one distance on one track, and a numbers seed."""

    races: tuple[RaceSpec, ...]
    distance: dict[str, int]
    track: dict[str, str]
    seed: int


@st.composite
def race_specs(draw: st.DrawFn, venue: str, day: int) -> RaceSpec:
    runners = draw(st.integers(1, 16))
    return RaceSpec(
        venue=venue,
        day=day,
        runners=runners,
        going=draw(st.integers(UNKNOWN_CODE, 4)),
        weather=draw(st.integers(UNKNOWN_CODE, 6)),
        class_code=draw(st.sampled_from(CLASSES)),
        leader_time=draw(st.booleans()),
        odds=draw(st.sampled_from(("all", "all", "some", "none"))),
        dead_heat=draw(st.booleans()),
        statuses=tuple(
            draw(st.lists(st.sampled_from(STATUSES), min_size=runners, max_size=runners))
        ),
        horses=tuple(
            draw(st.lists(st.integers(0, 24), min_size=runners, max_size=runners, unique=True))
        ),
    )


@st.composite
def worlds(draw: st.DrawFn) -> World:
    venues = draw(
        st.lists(
            st.sampled_from(NAR_VENUES + JRA_VENUES + UNKNOWN_VENUES),
            min_size=1,
            max_size=3,
            unique=True,
        )
    )
    days = draw(st.integers(1, 3))
    races = []
    for day in range(days):
        for venue in venues:
            for _ in range(draw(st.integers(0, 2))):
                races.append(draw(race_specs(venue, day)))
    if not races:  # a world of no races at all is tested on its own below
        races.append(draw(race_specs(venues[0], 0)))
    return World(
        races=tuple(races),
        distance={venue: draw(st.sampled_from(DISTANCES)) for venue in venues},
        track={venue: draw(st.sampled_from(TRACKS)) for venue in venues},
        seed=draw(st.integers(0, 2**16)),
    )


def decoded_frames(world: World) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The decoded race and runner frames (RACE_COLUMNS, RUNNER_COLUMNS) of a world."""
    rng = np.random.default_rng(world.seed)
    race_rows, runner_rows = [], []
    numbers: dict[tuple[int, str], int] = {}
    for spec in world.races:
        day = FIRST_DAY + timedelta(days=spec.day)
        bango = numbers[(spec.day, spec.venue)] = numbers.get((spec.day, spec.venue), 0) + 1
        race_id = f"{day:%Y%m%d}{spec.venue}{bango:02d}"
        distance = world.distance[spec.venue]
        pace = rng.uniform(58, 68)  # s per 1000 m
        starters = sum(status not in ("scratched", "excluded") for status in spec.statuses)
        race_rows.append(
            {
                "race_id": race_id, "race_date": pd.Timestamp(day), "keibajo_code": spec.venue,
                "race_bango": bango, "race_name": "", "class_code": spec.class_code,
                "grade_code": "", "distance_m": distance, "track_code": world.track[spec.venue],
                "going_code": spec.going, "weather_code": spec.weather,
                "entries": spec.runners, "field_size": max(starters, 1), "post_time": "1500",
                "leader_first3f_s": rng.uniform(34, 38) if spec.leader_time else np.nan,
                "race_last3f_s": rng.uniform(36, 40),
            }
        )  # fmt: skip
        times = np.sort(distance * pace / 1000 + rng.exponential(1.5, spec.runners))
        if spec.dead_heat and spec.runners > 1:
            times[1] = times[0]
        position = 0
        for slot, status in enumerate(spec.statuses):
            ran = status in ("ran", "no_last3f")
            if ran:
                position += 1
            finish = (
                (1 if spec.dead_heat and slot == 1 and position == 2 else position) if ran else 0
            )
            odds = round(float(rng.uniform(1.5, 80)), 1)
            priced = spec.odds == "all" or (spec.odds == "some" and slot % 2 == 0)
            started = status not in ("scratched", "excluded")
            corner = int(rng.integers(1, spec.runners + 1)) if started else pd.NA
            runner_rows.append(
                {
                    "race_id": race_id, "umaban": slot + 1, "race_date": pd.Timestamp(day),
                    "keibajo_code": spec.venue, "wakuban": slot // 2 + 1,
                    "horse_id": f"H{spec.horses[slot]:09d}", "horse_name": "",
                    "sex_code": int(rng.integers(0, 4)), "age": int(rng.integers(2, 9)),
                    "jockey_id": f"J{slot % 5:04d}", "trainer_id": f"T{slot % 3:04d}",
                    "weight_carried_kg": 55.0, "body_weight_kg": 460, "body_weight_diff_kg": 0,
                    "abnormal_code": {"scratched": 1, "excluded": 2, "pulled_up": 4}.get(status, 0),
                    "finish_pos": finish if ran else pd.NA,
                    "finish_time_s": times[slot] if ran else np.nan,
                    "last3f_s": rng.uniform(36, 41) if status == "ran" else np.nan,
                    "corner_1": pd.NA, "corner_2": pd.NA, "corner_3": corner, "corner_4": corner,
                    "win_odds": odds if priced and started else np.nan,
                    "popularity": slot + 1 if priced and started else pd.NA,
                    "time_behind_s": times[slot] - times[0] if ran else np.nan,
                }
            )  # fmt: skip
    races = pd.DataFrame(race_rows, columns=list(RACE_COLUMNS))
    runners = pd.DataFrame(runner_rows, columns=list(RUNNER_COLUMNS))
    integer = [
        "race_bango", "distance_m", "going_code", "weather_code", "entries", "field_size",
    ]  # fmt: skip
    races = races.astype({name: "Int64" for name in integer} | {"class_code": "string"})
    runner_integer = [
        "umaban", "wakuban", "sex_code", "age", "body_weight_kg", "body_weight_diff_kg",
        "abnormal_code", "finish_pos", "corner_1", "corner_2", "corner_3", "corner_4",
        "popularity",
    ]  # fmt: skip
    runners = runners.astype({name: "Int64" for name in runner_integer})
    return races, runners


@cache
def tiny_win_model() -> WinModel:
    """A scorer fitted on random features (every feature column, a few venues): what matters
    here is that any frame can be scored, not how well."""
    rng = np.random.default_rng(0)
    n = 400
    frame = pd.DataFrame(rng.normal(size=(n, len(FEATURE_COLUMNS))), columns=FEATURE_COLUMNS)
    frame["race_id"] = [f"R{i // 10}" for i in range(n)]
    frame["keibajo_code"] = rng.choice(["44", "30", "05"], n)
    inputs = ModelInputs()
    scorer = scorer_pipeline(inputs, ScorerOptions(max_iter=5, min_samples_leaf=20))
    scorer.fit(inputs.frame(frame), (np.arange(n) % 10 == 0).astype(int))
    return WinModel("tiny-v1", scorer, 1.0, BlendParameters(0.6, 0.8, 40), inputs)


def run_every_stage(races: pd.DataFrame, runners: pd.DataFrame) -> None:
    """First 3F, indexes, features, predict, stake and settle on the frames, with the invariants
    every stage promises."""
    view = runner_view(races, runners)
    last_day = view["race_date"].max() if len(view) else pd.Timestamp(FIRST_DAY)
    history = view[view["race_date"] < last_day]
    today = view[view["race_date"] == last_day]

    references = learn_reference_times(history)
    options = FitOptions(min_rows=5, ml_max_iter=3, holdout_fraction=0.5)
    first3f_model = fit_first3f_model(history, references, "f3f-test", options)
    estimates = estimate_first3f(view, references, first3f_model)
    assert len(estimates) == len(view)
    assert set(estimates["method"]) <= METHODS
    not_started = view["abnormal_code"].isin([1, 2]).to_numpy()
    assert (estimates["method"].to_numpy()[not_started] == "not_started").all()

    indexes = compute_indexes(view, estimates, references)
    values = indexes[["speed_index", "ten_index", "agari_index", "composite_index"]]
    assert not np.isinf(values.to_numpy(dtype="float64")).any()

    runs = view.merge(indexes.drop(columns="race_date"), on=["race_id", "umaban"], how="left")
    features = build_features(runs[HISTORY_COLUMNS], today)
    assert len(features) == len(today)
    for name, dtype in FEATURE_DTYPES.items():
        assert str(features[name].dtype) == dtype, name

    odds = today[["race_id", "umaban", "win_odds", "popularity"]].assign(snapshot_at="0930")
    card = today[["race_id", "umaban", "race_date"]]
    for predictions in (
        market_predictions(card, odds),
        predict_card(tiny_win_model(), card, odds, features),
    ):
        priced_races = set(odds.loc[odds["win_odds"].notna(), "race_id"])
        assert set(predictions["race_id"]) == priced_races
        for column in ("p_market", "p_final"):
            sums = predictions.groupby("race_id")[column].sum()
            np.testing.assert_allclose(sums.to_numpy(dtype="float64"), 1.0, rtol=1e-9)
        assert predictions["p_final"].between(0, 1).all()

        kelly = Settings().kelly
        candidates = staking_candidates(predictions, odds, race_pools(races, kelly.win_pools()))
        policy = policy_from_settings(kelly.policy_name, kelly.model_dump())
        bets = day_bets(candidates, 1_000_000, policy, stake_scale=1.0, drawdown=0.0)
        assert (bets["stake_yen"] >= 0).all()
        assert (bets["stake_yen"] % UNIT_YEN == 0).all()

        settled = settle_bets(bets, today)
        done = settled[settled["settled"]]
        assert (done["payout_yen"] >= 0).all()
        assert (
            done["pnl_yen"] == done["payout_yen"] + done["refund_yen"] - done["stake_yen"]
        ).all()


@settings(max_examples=20, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(worlds())
def test_every_stage_runs_on_any_valid_frames(world: World) -> None:
    """Any shape of valid decoded frames runs through every stage without an exception."""
    run_every_stage(*decoded_frames(world))


def test_every_stage_runs_on_no_races_at_all() -> None:
    """An empty window (no race on any day) runs through every stage too."""
    world = World(races=(), distance={}, track={}, seed=0)
    run_every_stage(*decoded_frames(world))


def test_unknown_codes_from_the_store_are_not_crashes() -> None:
    """Rows stored before unknown codes were explicit hold NA going, sex and class: the stages
    read them as unknown as well."""
    world = World(
        races=tuple(
            RaceSpec("44", day, 8, 1, 1, "C3", True, "all", False, ("ran",) * 8, tuple(range(8)))
            for day in range(2)
        ),
        distance={"44": 1400},
        track={"44": "24"},
        seed=1,
    )
    races, runners = decoded_frames(world)
    races["going_code"] = pd.array([pd.NA] * len(races), dtype="Int64")
    races["class_code"] = pd.array([pd.NA] * len(races), dtype="string")
    runners["sex_code"] = pd.array([pd.NA] * len(runners), dtype="Int64")
    run_every_stage(races, runners)
