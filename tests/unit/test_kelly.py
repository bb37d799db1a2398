"""Multi-outcome Kelly (Smoczynski & Tomkins) and the staking limits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize

from raceday.model.win import implied_probabilities
from raceday.staking.kelly import (
    UNIT_YEN,
    StakingPolicy,
    drawdown_scale,
    expected_log_growth,
    horse_pool_yen,
    kelly_fractions,
    odds_after_stake,
    size_stakes,
)

DEEP_POOL_YEN = 1e12  # a pool so deep that the pool cap never binds


def fractions(p: list[float], odds: list[float], min_edge: float = 1.0) -> np.ndarray:
    race = pd.Series(["r"] * len(p))
    return kelly_fractions(race, pd.Series(p), pd.Series(odds), min_edge).to_numpy()


def day(
    race_id: list[str], p: list[float], odds: list[float], pool: float = DEEP_POOL_YEN
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "race_id": race_id,
            "umaban": range(1, len(p) + 1),
            "p_final": p,
            "odds": odds,
            "win_pool_yen": pool,
        }
    )


def test_single_runner_reduces_to_classic_kelly() -> None:
    """One runner with an edge: f = (p d - 1) / (d - 1)."""
    f = fractions([0.5, 0.3, 0.2], [2.4, 2.5, 4.0])
    assert f[0] == pytest.approx((0.5 * 2.4 - 1) / (2.4 - 1))
    assert f[1:].tolist() == [0.0, 0.0]


def test_no_edge_bets_nothing() -> None:
    """With the market's own probabilities (takeout removed) nothing has an edge."""
    odds = pd.Series([2.1, 3.4, 5.8, 9.9, 24.0])
    race = pd.Series(["r"] * 5)
    p = implied_probabilities(race, odds)
    assert kelly_fractions(race, p, odds).sum() == 0.0


def test_two_runners_with_edges_share_the_reserve_rate() -> None:
    """Hand-checked: p = (.5, .3), d = (2.5, 4.5) -> R = (1-.8)/(1-.4-.2222) and f = p - R/d."""
    f = fractions([0.5, 0.3, 0.2], [2.5, 4.5, 3.0])
    reserve = (1 - 0.8) / (1 - 1 / 2.5 - 1 / 4.5)
    assert f[0] == pytest.approx(0.5 - reserve / 2.5)
    assert f[1] == pytest.approx(0.3 - reserve / 4.5)
    assert f[2] == 0.0


def test_negative_expectation_hedges_are_left_out() -> None:
    """Unrestricted S&T would add runner 2 (p d = 0.96 > R = 0.8 after runner 1) as a hedge;
    we bet only runners with an edge, and runner 1 gets its single-horse Kelly stake."""
    p, odds = [0.6, 0.3, 0.1], [2.0, 3.2, 3.0]
    reserve_after_first = (1 - 0.6) / (1 - 1 / 2.0)
    assert reserve_after_first < 0.3 * 3.2 < 1
    f = fractions(p, odds)
    assert f[1] == 0.0 and f[2] == 0.0
    assert f[0] == pytest.approx((0.6 * 2.0 - 1) / (2.0 - 1))


def test_every_runner_with_an_edge_is_in_the_set() -> None:
    """The reserve rate starts at 1 and only falls, so each p d > 1 runner is staked."""
    p, odds = [0.30, 0.25, 0.15, 0.30], [3.6, 4.4, 7.5, 2.0]
    f = fractions(p, odds)
    assert (f[:3] > 0).all() and f[3] == 0.0


def test_min_edge_truncates_the_set() -> None:
    """Runner 1 (p d = 1.25) is below a 1.3 minimum edge; runner 2 (1.35) is then bet alone."""
    full = fractions([0.5, 0.3, 0.2], [2.5, 4.5, 3.0])
    strict = fractions([0.5, 0.3, 0.2], [2.5, 4.5, 3.0], min_edge=1.3)
    assert full[0] > 0 and strict[0] == 0.0
    assert strict[1] == pytest.approx((0.3 * 4.5 - 1) / (4.5 - 1))


def test_races_are_independent_and_row_order_does_not_matter() -> None:
    """Vectorised over races: shuffled rows of two races give each race its own answer."""
    frame = pd.DataFrame(
        {
            "race_id": ["a", "a", "a", "b", "b", "b"],
            "p": [0.5, 0.3, 0.2, 0.6, 0.3, 0.1],
            "d": [2.5, 4.5, 3.0, 2.4, 2.5, 4.0],
        }
    )
    together = kelly_fractions(frame["race_id"], frame["p"], frame["d"])
    shuffled = frame.sample(frac=1.0, random_state=3)
    again = kelly_fractions(shuffled["race_id"], shuffled["p"], shuffled["d"]).sort_index()
    alone = pd.concat(
        [kelly_fractions(g["race_id"], g["p"], g["d"]) for _, g in frame.groupby("race_id")]
    )
    pd.testing.assert_series_equal(together, again)
    pd.testing.assert_series_equal(together, alone)


race_strategy = st.integers(min_value=2, max_value=10).flatmap(
    lambda n: st.tuples(
        st.lists(st.floats(0.05, 5.0), min_size=n, max_size=n),
        st.lists(st.floats(1.1, 60.0), min_size=n, max_size=n),
    )
)


@settings(max_examples=200, deadline=None)
@given(race_strategy)
def test_kelly_set_properties(race: tuple[list[float], list[float]]) -> None:
    """Stakes >= 0; only p d > 1 is bet; growth beats every single-horse Kelly bet and small
    random perturbations of the stakes on every runner with an edge (chosen or not)."""
    weights, odds_list = race
    p = np.array(weights) / np.sum(weights)
    odds = np.array(odds_list)
    f = fractions(p.tolist(), odds.tolist())
    assert (f >= 0).all()
    assert (f[p * odds <= 1] == 0).all()
    assert f.sum() <= 1 + 1e-12  # all of it only when the odds are an arbitrage
    best = expected_log_growth(p, odds, f)
    for i in range(len(p)):
        single = np.zeros_like(f)
        edge = p[i] * odds[i]
        if edge > 1:
            single[i] = (edge - 1) / (odds[i] - 1)
            assert best >= expected_log_growth(p, odds, single) - 1e-9
    rng = np.random.default_rng(0)
    with_edge = p * odds > 1
    for scale in (0.001, 0.01):
        for _ in range(20):
            nudged = np.clip(f + rng.normal(0, scale, len(f)) * with_edge, 0, None)
            if nudged.sum() < 1:
                assert best >= expected_log_growth(p, odds, nudged) - 1e-9


@settings(max_examples=40, deadline=None)
@given(race_strategy)
def test_kelly_set_matches_a_numerical_optimum(race: tuple[list[float], list[float]]) -> None:
    """No stake vector on the runners with an edge found by a general optimiser grows faster
    than the S&T closed form."""
    weights, odds_list = race
    p = np.array(weights) / np.sum(weights)
    odds = np.array(odds_list)
    best = expected_log_growth(p, odds, fractions(p.tolist(), odds.tolist()))
    upper = np.where(p * odds > 1, 0.99, 0.0)
    found = minimize(
        lambda f: -expected_log_growth(p, odds, f),
        x0=np.full(len(p), 0.0),
        bounds=list(zip(np.zeros(len(p)), upper, strict=True)),
        constraints=[{"type": "ineq", "fun": lambda f: 0.999 - f.sum()}],
        method="SLSQP",
    )
    if found.success:
        assert best >= -found.fun - 1e-7


day_strategy = st.integers(min_value=1, max_value=6).flatmap(
    lambda races: st.lists(
        st.tuples(
            st.lists(st.floats(0.05, 5.0), min_size=5, max_size=5),
            st.lists(st.floats(1.1, 60.0), min_size=5, max_size=5),
        ),
        min_size=races,
        max_size=races,
    )
)


@settings(max_examples=150, deadline=None)
@given(
    day_strategy,
    st.integers(10_000, 50_000_000),
    st.floats(0.05, 1.0),
    st.floats(0.0, 0.5),
    st.sampled_from([3e5, 3e6, 3e7]),
)
def test_stakes_respect_every_limit(
    races: list[tuple[list[float], list[float]]],
    bankroll: int,
    fraction: float,
    drawdown: float,
    pool: float,
) -> None:
    """Whole 100-yen units, >= 0, within the per-bet, per-race, per-day and pool caps, never
    above the fractional-Kelly stake, only on runners with the minimum edge."""
    ids, p, odds = [], [], []
    for number, (weights, odds_list) in enumerate(races):
        ids += [f"r{number}"] * 5
        p += list(np.array(weights) / np.sum(weights))
        odds += odds_list
    policy = StakingPolicy(fraction=fraction, max_pool_share=0.02)
    candidates = day(ids, p, odds, pool)
    stakes = size_stakes(candidates, bankroll, policy, drawdown=drawdown)
    if stakes.empty:
        return
    yen = stakes["stake_yen"]
    tiny = 1e-6
    assert (yen > 0).all() and (yen % UNIT_YEN == 0).all()
    assert (yen <= policy.max_bet_fraction * bankroll + tiny).all()
    race_totals = stakes.groupby("race_id")["stake_yen"].sum()
    assert (race_totals <= policy.max_race_fraction * bankroll + tiny).all()
    assert yen.sum() <= policy.max_day_fraction * bankroll + tiny
    horse_pool = horse_pool_yen(stakes["win_pool_yen"], stakes["odds"], policy.takeout)
    assert (yen <= policy.max_pool_share * horse_pool + tiny).all()
    kelly_stake = stakes["kelly_fraction"] * fraction * drawdown_scale(drawdown, policy) * bankroll
    assert (yen <= kelly_stake + tiny).all()
    assert (stakes["edge"] >= policy.min_edge).all()
    assert drawdown < policy.drawdown_brake


def test_size_stakes_applies_fraction_caps_and_units() -> None:
    """Quarter Kelly, per-bet cap, whole 100-yen units."""
    candidates = day(["a", "a", "b"], [0.5, 0.1, 0.6], [2.4, 5.0, 1.2])
    policy = StakingPolicy(fraction=0.25, max_bet_fraction=0.02, max_race_fraction=0.05)
    stakes = size_stakes(candidates, 1_000_000, policy)
    assert stakes["umaban"].tolist() == [1]
    full = (0.5 * 2.4 - 1) / 1.4
    assert stakes["stake_yen"].iloc[0] == min(int(full * 0.25 * 1_000_000) // 100 * 100, 20_000)
    loose = StakingPolicy(fraction=0.25, max_bet_fraction=0.05, max_race_fraction=0.05)
    small = size_stakes(candidates, 100_000, loose)
    assert small["stake_yen"].iloc[0] == int(full * 0.25 * 100_000) // 100 * 100 == 3_500


def test_race_and_day_caps_scale_stakes_down_proportionally() -> None:
    """Two edges in a race: their total is cut to the race cap keeping their ratio; then the
    day's total to the day cap."""
    candidates = day(["a", "a", "a"], [0.5, 0.3, 0.2], [2.5, 4.5, 3.0])
    loose = StakingPolicy(fraction=1.0, max_bet_fraction=1.0, max_race_fraction=1.0)
    tight = StakingPolicy(fraction=1.0, max_bet_fraction=1.0, max_race_fraction=0.05)
    free = size_stakes(candidates, 10_000_000, loose)
    capped = size_stakes(candidates, 10_000_000, tight)
    assert capped["stake_yen"].sum() <= 500_000 < free["stake_yen"].sum()
    ratio = free["stake_yen"].iloc[0] / free["stake_yen"].iloc[1]
    assert capped["stake_yen"].iloc[0] / capped["stake_yen"].iloc[1] == pytest.approx(ratio, 1e-3)
    day_capped = size_stakes(
        candidates,
        10_000_000,
        StakingPolicy(
            fraction=1.0, max_bet_fraction=1.0, max_race_fraction=1, max_day_fraction=0.01
        ),
    )
    assert day_capped["stake_yen"].sum() <= 100_000


def test_drawdown_brake_scales_then_stops() -> None:
    """Full stakes up to the soft drawdown, linearly smaller up to the brake, nothing beyond."""
    policy = StakingPolicy(
        drawdown_soft=0.10, drawdown_brake=0.30, max_bet_fraction=1, max_race_fraction=1
    )
    assert drawdown_scale(0.05, policy) == 1.0
    assert drawdown_scale(0.20, policy) == pytest.approx(0.5)
    assert drawdown_scale(0.30, policy) == 0.0
    candidates = day(["a"], [0.5], [3.0])
    full = size_stakes(candidates, 1_000_000, policy, drawdown=0.0)["stake_yen"].iloc[0]
    half = size_stakes(candidates, 1_000_000, policy, drawdown=0.20)["stake_yen"].iloc[0]
    assert half == pytest.approx(full / 2, abs=UNIT_YEN)
    assert size_stakes(candidates, 1_000_000, policy, drawdown=0.31).empty
    hard = StakingPolicy(
        drawdown_soft=0.30, drawdown_brake=0.30, max_bet_fraction=1, max_race_fraction=1
    )
    assert size_stakes(candidates, 1_000_000, hard, drawdown=0.29)["stake_yen"].iloc[0] == full


def test_pool_cap_keeps_a_bet_small_against_its_horse_pool() -> None:
    """A 20/1 shot in a 1.4M-yen pool has ~56,000 yen on it: 2% of that is 1,100 yen."""
    candidates = day(["a", "a"], [0.08, 0.92], [20.0, 1.05], pool=1_400_000)
    stakes = size_stakes(candidates, 10_000_000, StakingPolicy(max_pool_share=0.02))
    horse_pool = 1_400_000 * 0.8 / 20.0
    assert stakes["stake_yen"].tolist() == [int(0.02 * horse_pool) // 100 * 100]
    assert stakes["odds_after_bet"].iloc[0] == pytest.approx(
        0.8 * (1_400_000 + 1_100) / (horse_pool + 1_100)
    )
    assert 1 - stakes["odds_after_bet"].iloc[0] / 20.0 < 0.02


def test_odds_after_stake_follows_the_pool_arithmetic() -> None:
    """No stake: the odds as quoted; the fall is about s / P_i for a small stake."""
    odds, pool = pd.Series([4.0]), pd.Series([2_000_000.0])
    assert odds_after_stake(odds, pool, pd.Series([0]), 0.2).iloc[0] == pytest.approx(4.0)
    horse = 2_000_000 * 0.8 / 4.0
    after = odds_after_stake(odds, pool, pd.Series([4_000]), 0.2).iloc[0]
    assert 1 - after / 4.0 == pytest.approx(4_000 / horse * (1 - horse / 2_000_000), rel=0.05)


def test_nothing_is_staked_without_a_bankroll() -> None:
    """A bankroll at or below zero stakes nothing."""
    candidates = day(["a"], [0.5], [3.0])
    assert size_stakes(candidates, 0, StakingPolicy()).empty


@pytest.mark.parametrize(
    "bad",
    [
        {"fraction": 0.0},
        {"min_edge": 0.9},
        {"drawdown_soft": 0.4, "drawdown_brake": 0.3},
        {"max_pool_share": 0.0},
        {"takeout": 1.0},
        {"name": "x" * 25},
    ],
)
def test_invalid_policies_are_refused(bad: dict[str, float]) -> None:
    """A policy outside its valid ranges raises with the parameter's name."""
    with pytest.raises(ValueError, match=next(iter(bad))):
        StakingPolicy(**bad)  # type: ignore[arg-type]


def test_an_overestimated_edge_turns_full_kelly_negative_but_not_quarter_kelly() -> None:
    """Why a fraction: true p = 0.20 at 5.5 (edge 1.10), the model says 0.24 (edge 1.32). Full
    Kelly on the model stakes 3.2x the true optimum and shrinks the bankroll; 1/4 of it keeps
    over 95% of the best growth."""
    p_true, p_model, odds = np.array([0.20, 0.80]), np.array([0.24, 0.76]), np.array([5.5, 1.2])
    best = expected_log_growth(p_true, odds, fractions(p_true.tolist(), odds.tolist()))
    full = fractions(p_model.tolist(), odds.tolist())
    assert full[0] / fractions(p_true.tolist(), odds.tolist())[0] == pytest.approx(3.2)
    assert expected_log_growth(p_true, odds, full) < 0 < best
    assert expected_log_growth(p_true, odds, 0.25 * full) > 0.95 * best
    assert expected_log_growth(p_true, odds, 0.5 * full) < expected_log_growth(
        p_true, odds, 0.25 * full
    )
