"""The stake stage's pure parts (candidates, bet rows, slip, pools) and the staking evaluation."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from config.reference import load_win_pools
from raceday.errors import InputError
from raceday.staking.bets import (
    BET_COLUMNS,
    bet_slip,
    day_bets,
    single_model_version,
    staking_candidates,
)
from raceday.staking.evaluate import (
    favourite_sizer,
    flat_sizer,
    flat_stake_yen,
    kelly_sizer,
    longest_losing_streak,
    replay,
    summarise,
)
from raceday.staking.kelly import StakingPolicy
from raceday.staking.pools import expected_win_pool_yen


def predictions(version: str = "m1") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "model_version": version,
            "race_id": ["a", "a", "a"],
            "umaban": [1, 2, 3],
            "race_date": pd.Timestamp("2026-11-20"),
            "p_final": [0.5, 0.3, 0.2],
        }
    )


def test_one_model_version_or_a_clear_error() -> None:
    """Stake uses whatever single model produced p_final; two versions are refused."""
    assert single_model_version(predictions("gbm-7")) == "gbm-7"
    assert single_model_version(predictions().iloc[0:0]) is None
    with pytest.raises(InputError, match="2 model versions"):
        single_model_version(pd.concat([predictions("m1"), predictions("m2")]))


def test_candidates_carry_bet_time_odds_their_source_and_the_pool() -> None:
    """Runners without odds drop out; replays on final odds are flagged as such."""
    odds = pd.DataFrame(
        {
            "race_id": ["a", "a", "a"],
            "umaban": [1, 2, 3],
            "win_odds": [2.5, 4.5, np.nan],
            "snapshot_at": ["final", "final", "final"],
        }
    )
    pools = pd.DataFrame({"race_id": ["a"], "win_pool_yen": [3e6]})
    frame = staking_candidates(predictions(), odds, pools)
    assert frame["umaban"].tolist() == [1, 2]
    assert frame["odds_source"].tolist() == ["final", "final"]
    assert frame["win_pool_yen"].tolist() == [3e6, 3e6]


def test_bet_rows_record_how_each_stake_came_about() -> None:
    """Each bet has the model, the odds used, full Kelly, the bankroll and the policy."""
    candidates = predictions().assign(
        odds=[2.5, 4.5, 3.0], win_pool_yen=1e9, odds_source="snapshot"
    )
    policy = StakingPolicy()
    bets = day_bets(candidates, 1_000_000, policy, stake_scale=1.0, drawdown=0.0)
    assert list(bets.columns) == BET_COLUMNS
    assert set(bets["umaban"]) == {1, 2}
    assert (bets["bankroll_at_bet_yen"] == 1_000_000).all()
    assert (bets["policy_params"] == policy.to_json()).all()
    races = pd.DataFrame(
        {"race_id": ["a"], "keibajo_code": ["44"], "race_bango": [11], "post_time": ["2010"]}
    )
    runners = pd.DataFrame({"race_id": ["a", "a"], "umaban": [1, 2], "horse_name": ["X", "Y"]})
    slip = bet_slip(bets, races, runners, {"44": "大井"}, policy.takeout)
    assert slip["venue"].tolist() == ["大井", "大井"]
    assert (slip["odds_after_bet"] <= slip["odds"]).all()


def test_expected_pools_follow_the_reference_table() -> None:
    """大井 pools exceed 金沢's; A-class races get more than C; unknown venues the default."""
    table = load_win_pools()
    races = pd.DataFrame(
        {
            "keibajo_code": ["44", "46", "44", "99"],
            "class_code": pd.array(["C3", "C3", "A1", None], dtype="string"),
        }
    )
    pools = expected_win_pool_yen(races, table)
    assert pools[0] > pools[1] > 0
    assert pools[2] == pytest.approx(pools[0] * 1.4 / 0.8)
    assert pools[3] == pytest.approx(table.default_pool_yen)
    assert 1e6 < table.pool_by_venue_yen["46"] < table.pool_by_venue_yen["44"] < 1e7


def settled(rows: list[tuple[str, str, str, int, int, int]]) -> pd.DataFrame:
    """(race_date, post_time, race_id, stake, payout, refund) rows of settled bets."""
    return pd.DataFrame(
        {
            "race_date": pd.to_datetime([row[0] for row in rows]),
            "post_time": [row[1] for row in rows],
            "race_id": [row[2] for row in rows],
            "stake_yen": [row[3] for row in rows],
            "payout_yen": [row[4] for row in rows],
            "refund_yen": [row[5] for row in rows],
            "settled": True,
        }
    )


def test_losing_streak_counts_races_in_post_time_order() -> None:
    """A race with any winning bet ends a streak; an all-refunded race is skipped."""
    bets = settled(
        [
            ("2026-11-20", "1500", "c", 100, 0, 0),
            ("2026-11-20", "1400", "b", 100, 0, 0),
            ("2026-11-20", "1300", "a", 100, 500, 0),
            ("2026-11-20", "1300", "a", 100, 0, 0),
            ("2026-11-20", "1600", "d", 100, 0, 100),
            ("2026-11-21", "1000", "e", 100, 0, 0),
            ("2026-11-21", "1100", "f", 100, 300, 0),
        ]
    )
    assert longest_losing_streak(bets) == 3  # b, c, (d void), e


def test_summary_figures_by_hand() -> None:
    """Turnover, return, ROI, hit rate (refunds excluded), drawdown and final bankroll."""
    bets = settled(
        [
            ("2026-11-20", "1300", "a", 1000, 3000, 0),
            ("2026-11-21", "1300", "b", 2000, 0, 0),
            ("2026-11-21", "1400", "c", 500, 0, 500),
        ]
    )
    result = summarise(bets, 10_000, [date(2026, 11, 20), date(2026, 11, 21)])
    assert (result.turnover_yen, result.return_yen, result.profit_yen) == (3500, 3500, 0)
    assert result.roi == 0.0 and result.hit_rate == 0.5
    assert result.final_bankroll_yen == 10_000
    assert result.max_drawdown == pytest.approx(2000 / 12_000)


def replay_world() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two days, one race each: the favourite wins day 1, the second choice day 2."""
    candidates = pd.DataFrame(
        {
            "race_id": ["a", "a", "a", "b", "b", "b"],
            "umaban": [1, 2, 3, 1, 2, 3],
            "race_date": pd.to_datetime(["2026-11-20"] * 3 + ["2026-11-21"] * 3),
            "post_time": "1500",
            "p_final": [0.5, 0.35, 0.15, 0.5, 0.35, 0.15],
            "odds": [1.8, 3.4, 9.0, 1.8, 3.4, 9.0],
            "win_pool_yen": 1e9,
        }
    )
    results = pd.DataFrame(
        {
            "race_id": ["a", "a", "a", "b", "b", "b"],
            "umaban": [1, 2, 3, 1, 2, 3],
            "finish_pos": pd.array([1, 2, 3, 2, 1, 3], dtype="Int64"),
            "abnormal_code": 0,
            "win_odds": [1.8, 3.4, 9.0, 1.8, 3.4, 9.0],
        }
    )
    return candidates, results


def test_replays_size_each_day_on_the_bankroll_reached() -> None:
    """Favourite: flat stake on umaban 1 each day; flat: the model's edges (umaban 2 and 3);
    Kelly on day 2 is sized on day 1's closing bankroll."""
    candidates, results = replay_world()
    favourite = replay(candidates, results, favourite_sizer(1000), 100_000, 0.2)
    assert favourite["umaban"].tolist() == [1, 1]
    assert favourite["payout_yen"].tolist() == [1800, 0]
    flat = replay(candidates, results, flat_sizer(StakingPolicy(), 1000), 100_000, 0.2)
    assert flat["umaban"].tolist() == [2, 3, 2, 3]
    assert flat["payout_yen"].tolist() == [0, 0, 3400, 0]
    policy = StakingPolicy(max_bet_fraction=1, max_race_fraction=1)
    kelly = replay(candidates, results, kelly_sizer(policy, 1.0), 100_000, 0.2)
    per_day = kelly.groupby("race_id")["stake_yen"].sum()
    assert per_day["b"] < per_day["a"]  # day 1 lost: day 2 is a Kelly share of less money
    assert flat_stake_yen(1_000_000) == 10_000 and flat_stake_yen(5_000) == 100
