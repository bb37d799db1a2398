"""The boat suites quarantine a hand-broken frame race by race, and garbage boat frames never
crash validation or the feature stage (hypothesis)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data_checks.boat import start_timing_consistent, validate_card, validate_results
from raceday.boat.course import course_features
from raceday.boat.features import card_features
from raceday.boat.simulate.config import BoatSimulatorConfig
from raceday.boat.simulate.days import simulate_boat_days

DAY = pd.Timestamp("2026-04-01")


@pytest.fixture(scope="module")
def day() -> dict[str, pd.DataFrame]:
    simulated = simulate_boat_days(date(2026, 4, 1), date(2026, 4, 1),
                                   BoatSimulatorConfig(venues_per_day=1, seed=3))  # fmt: skip
    return {"races": simulated.program_races, "entries": simulated.entries,
            "odds": simulated.odds, "result_races": simulated.result_races,
            "results": simulated.results, "payouts": simulated.payouts}  # fmt: skip


def test_a_clean_day_passes_whole(day) -> None:  # type: ignore[no-untyped-def]
    card = validate_card(day["races"], day["entries"], day["odds"], DAY)
    night = validate_results(day["result_races"], day["results"], day["payouts"], DAY)
    assert card.quarantine.empty and night.quarantine.empty and not night.set_aside
    assert len(card.races) == 12 and len(card.entries) == len(day["entries"])


def test_a_broken_boat_takes_its_race_out_and_only_its_race(day) -> None:  # type: ignore[no-untyped-def]
    """Lane 7, a duplicated lane, an unknown class, a rate of 55: each race with one is left
    out; a broken result line sets its race aside; a broken odds row drops its race's odds."""
    entries = day["entries"].copy()
    ids = sorted(entries["race_id"].unique())
    entries.loc[entries.index[0], "boat"] = 7  # race 1
    entries.loc[entries.index[7], "boat"] = 1  # race 2: lane 1 twice
    entries.loc[entries.index[12], "racer_class"] = "C9"  # race 3
    entries.loc[entries.index[18], "national_win_rate"] = 55.0  # race 4
    odds = day["odds"].copy()
    odds.loc[odds["race_id"] == ids[5], "win_odds"] = 0.3
    card = validate_card(day["races"], entries, odds, DAY)
    assert set(card.quarantine["race_id"]) == set(ids[:4]) | {ids[5]}
    assert set(card.races["race_id"]) == set(ids[4:])
    assert ids[5] not in set(card.odds["race_id"]) and ids[5] in set(card.entries["race_id"])
    results = day["results"].copy()
    flying_without_flag = results.index[results["race_id"] == ids[6]][0]
    results.loc[flying_without_flag, "start_timing_s"] = -0.05
    results.loc[results.index[results["race_id"] == ids[7]][0], "exhibition_s"] = 12.0
    night = validate_results(day["result_races"], results, day["payouts"], DAY)
    assert night.set_aside == frozenset({ids[6], ids[7]})
    assert not night.results["race_id"].isin(night.set_aside).any()
    assert night.results["started"].notna().all() and night.results["refunded"].notna().all()


def test_start_timing_flags() -> None:
    codes = pd.Series(["01", "F", "F", "02", "L0", "K1"])
    st_s = pd.Series([0.12, -0.02, 0.10, -0.01, np.nan, np.nan])
    assert start_timing_consistent(codes, st_s).tolist() == [True, True, False, False, True, True]


garbage_text = st.one_of(st.none(), st.text(max_size=6), st.sampled_from(["A1", "B2", "01", "F"]))
garbage_number = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True),
                           st.integers(-10, 200), st.text(max_size=4))  # fmt: skip


@st.composite
def garbage_entries(draw: st.DrawFn) -> pd.DataFrame:
    rows = draw(st.integers(0, 14))
    column = lambda values: [draw(values) for _ in range(rows)]  # noqa: E731
    return pd.DataFrame(
        {
            "race_id": column(st.sampled_from(["202604010101", "202604010102", "x", ""])),
            "boat": column(garbage_number),
            "racer_id": column(st.one_of(garbage_text, st.sampled_from(["4012", "5011"]))),
            "racer_class": column(garbage_text),
            "national_win_rate": column(garbage_number),
            "national_top2_pct": column(garbage_number),
            "local_win_rate": column(garbage_number),
            "local_top2_pct": column(garbage_number),
            "motor_top2_pct": column(garbage_number),
            "boat_top2_pct": column(garbage_number),
        }
    )


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entries=garbage_entries())
def test_garbage_entries_never_crash_validation_or_features(entries: pd.DataFrame) -> None:
    """Whatever a frame holds, validation splits it and the features of what passes compute."""
    races = pd.DataFrame({"race_id": entries["race_id"].drop_duplicates()})
    card = validate_card(races, entries, entries.iloc[0:0].assign(
        snapshot=[], published_at=[], win_odds=[]), DAY)  # fmt: skip
    valid = card.entries.assign(
        race_date=DAY, venue_code=card.entries["race_id"].astype("string").str[8:10]
    )
    history = pd.DataFrame(
        {"race_id": ["202603310101"], "race_date": [pd.Timestamp("2026-03-31")],
         "venue_code": ["01"], "racer_id": ["4012"], "boat": [1], "won": [1.0],
         "start_timing_s": [0.1], "exhibition_s": [6.7]}
    )  # fmt: skip
    features = card_features(valid, history, course_features(valid, history))
    assert len(features) == len(valid)
    if len(valid):
        sums = features["p_prior"].groupby(valid["race_id"].to_numpy()).sum()
        np.testing.assert_allclose(sums, 1.0)


@st.composite
def garbage_results(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    rows = draw(st.integers(0, 12))
    column = lambda values: [draw(values) for _ in range(rows)]  # noqa: E731
    race_ids = st.sampled_from(["202604010101", "202604010102", "junk", ""])
    results = pd.DataFrame(
        {
            "race_id": column(race_ids),
            "boat": column(garbage_number),
            "finish_code": column(st.one_of(garbage_text, st.sampled_from(["01", "F", "K0"]))),
            "position": column(garbage_number),
            "exhibition_s": column(garbage_number),
            "course": column(garbage_number),
            "start_timing_s": column(garbage_number),
            "race_time_s": column(garbage_number),
        }
    )
    payouts = pd.DataFrame(
        {
            "race_id": column(race_ids),
            "bet_type": column(st.one_of(garbage_text, st.just("win"))),
            "combination": column(garbage_text),
            "payout_yen": column(garbage_number),
            "popularity": column(garbage_number),
            "kind": column(st.one_of(garbage_text, st.sampled_from(["paid", "special"]))),
        }
    )
    odds = pd.DataFrame(
        {
            "race_id": column(race_ids),
            "boat": column(garbage_number),
            "snapshot": column(garbage_text),
            "published_at": column(
                st.one_of(st.none(), st.text(max_size=5), st.just("2026-04-01T08:00:00"))
            ),
            "win_odds": column(garbage_number),
        }
    )
    return results, payouts, odds


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames=garbage_results())
def test_garbage_results_payouts_and_odds_never_crash(
    frames: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
) -> None:
    """Results, payouts and odds of any shape validate (and settle what passes) without an
    exception; what passes has whole lanes 1-6 and known codes."""
    from raceday.boat.settle import settle_boat_bets

    results, payouts, odds = frames
    races = pd.DataFrame({"race_id": results["race_id"].drop_duplicates(), "status": "run"})
    night = validate_results(races, results, payouts, DAY)
    assert night.results["boat"].dropna().isin(range(1, 7)).all()
    validate_card(races.assign(), results.iloc[0:0].assign(
        racer_id=[], racer_class=[], national_win_rate=[]), odds, DAY)  # fmt: skip
    bets = pd.DataFrame({"race_id": ["202604010101"], "boat": pd.array([1], dtype="Int64"),
                         "stake_yen": [100]})  # fmt: skip
    settled = settle_boat_bets(bets, night.races, night.results, night.payouts, night.set_aside)
    assert len(settled) == 1


def test_an_unreadable_odds_value_sets_aside_its_row_not_its_races_odds(day) -> None:  # type: ignore[no-untyped-def]
    """Boat 6 shown 欠場 in every snapshot, and one row blank, 0.0, '-' or 'nan': those rows
    are quarantined, every other odds row of their races is kept (the race's whole timeline
    went, so a race with one withdrawn boat was unpriced and unbet)."""
    odds = day["odds"].astype({"win_odds": "object"})
    ids = sorted(odds["race_id"].unique())
    withdrawn = (odds["race_id"] == ids[0]) & (odds["boat"] == 6)
    odds.loc[withdrawn, "win_odds"] = "欠場"
    broken = [odds.index[odds["race_id"] == race][1] for race in ids[1:5]]
    odds.loc[broken, "win_odds"] = [None, "0.0", "-", "nan"]
    card = validate_card(day["races"], day["entries"], odds, DAY)
    assert len(card.odds) == len(odds) - int(withdrawn.sum()) - 4
    assert set(card.quarantine["race_id"]) == set(ids[:5])
    kept = card.odds[card.odds["race_id"] == ids[0]]
    assert set(kept["boat"]) == {1, 2, 3, 4, 5} and len(card.races) == 12


def test_a_day_dated_ahead_of_today_is_set_aside(day) -> None:  # type: ignore[no-untyped-def]
    """Results dated after today are a mis-dated file (K311120.TXT for 2031), and a program more
    than a week ahead cannot be bet on: each race set aside with the check that says so, as the
    horse suites' ``results_not_in_future`` and ``card_not_too_far_ahead`` do. Before, the
    hostile probe's B/K files dated 2031 ran as a day: 156 races stored with their results."""
    checks_of = lambda frame: set(frame["check_name"])  # noqa: E731
    today = date(2026, 3, 31)  # the simulated day is tomorrow
    card = validate_card(day["races"], day["entries"], day["odds"], DAY, as_of=today)
    night = validate_results(day["result_races"], day["results"], day["payouts"], DAY, as_of=today)
    assert len(card.races) == 12  # a card for tomorrow is fine
    assert night.results.empty and len(night.set_aside) == 12
    assert "results_not_in_future" in checks_of(night.quarantine)
    far = date(2026, 3, 1)  # a month before the day: its program too far ahead
    card = validate_card(day["races"], day["entries"], day["odds"], DAY, as_of=far)
    assert card.races.empty and card.entries.empty
    assert "card_not_too_far_ahead" in checks_of(card.quarantine)
    on_the_day = validate_results(
        day["result_races"], day["results"], day["payouts"], DAY, as_of=date(2026, 4, 1)
    )
    assert on_the_day.quarantine.empty and not on_the_day.set_aside


def test_a_racer_listed_in_two_lanes_of_a_race_takes_that_race_out(day) -> None:  # type: ignore[no-untyped-def]
    """One racer id in two lanes of one race (a line copied over the next) cannot be a field:
    the race is left out of the day (`racer_once_in_race`), the same racer in two races of the
    day (as racers race twice a day) is fine. Before, the hostile probe's B file with racer 4557
    in lanes 1 and 2 ran as a day: both boats priced on one racer's rates, and the racer
    credited with two results of the race in its history."""
    entries = day["entries"].copy()
    ids = sorted(entries["race_id"].unique())
    copied = entries.index[entries["race_id"] == ids[2]][:2]
    entries.loc[copied[1], "racer_id"] = entries.loc[copied[0], "racer_id"]  # race 3: twice
    of_race = {race: entries.index[entries["race_id"] == race] for race in ids[:2]}
    racers_2 = set(entries.loc[of_race[ids[1]], "racer_id"])
    also = next(i for i in of_race[ids[0]] if entries.loc[i, "racer_id"] not in racers_2)
    entries.loc[of_race[ids[1]][0], "racer_id"] = entries.loc[also, "racer_id"]  # races 1, 2
    card = validate_card(day["races"], entries, day["odds"], DAY)
    assert set(card.quarantine["race_id"]) == {ids[2]}
    assert "racer_once_in_race" in set(card.quarantine["check_name"])
    assert set(card.races["race_id"]) == set(ids) - {ids[2]}
