"""Suites on derived frames: first-3F estimates within their method's bounds, probabilities that
sum to 1 per race, stakes within the policy's caps. What breaks a rule is set aside, not stored."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from data_checks.derived import (
    check_first3f,
    check_predictions,
    check_stakes,
    check_stakes_of_days,
    first3f_bounds,
)
from raceday.model.win import market_predictions
from raceday.staking.kelly import StakingPolicy

DAY = pd.Timestamp("2026-11-20")


def estimates(rows: list[tuple[str, float, int]]) -> pd.DataFrame:
    """First-3F rows (method, value, first_segment_m) for runners 1..n of one race."""
    return pd.DataFrame(
        {
            "race_id": "202611204401",
            "umaban": pd.array(range(1, len(rows) + 1), dtype="Int64"),
            "race_date": DAY,
            "first3f_s": [value for _method, value, _segment in rows],
            "first_segment_m": [segment for _method, _value, segment in rows],
            "method": pd.array([method for method, _value, _segment in rows], dtype="string"),
        }
    )


def test_first3f_bounds_follow_each_method() -> None:
    """400 m baseline at 50-90 s/km; ratio is half a 50-90 s/km finish; long rules 30-45 s."""
    method = pd.Series(["baseline", "ratio", "adjusted", "actual", "unavailable"])
    lower, upper = first3f_bounds(method, pd.Series([400, 400, 600, 600, 600]))
    assert lower.round(6).tolist()[:4] == [20.0, 25.0, 30.0, 30.0]
    assert upper.round(6).tolist()[:4] == [36.0, 45.0, 45.0, 48.0]
    assert np.isnan(lower.iloc[4]) and np.isnan(upper.iloc[4])


def test_a_missing_method_has_no_bounds() -> None:
    """An NA method is an unknown one (no value allowed), not a crash of the stage."""
    method = pd.Series(["baseline", None, "unknown"], dtype="string")
    lower, upper = first3f_bounds(method, pd.Series([400, 400, 400]))
    assert lower.round(6).tolist()[0] == 20.0 and upper.round(6).tolist()[0] == 36.0
    assert lower.iloc[1:].isna().all() and upper.iloc[1:].isna().all()


def test_an_estimate_without_a_method_is_set_aside_as_unknown() -> None:
    """A missing method (which GX leaves untested) is quarantined as an unknown method, with
    or without a value, and the other estimates are kept."""
    frame = estimates([("adjusted", 36.4, 600), ("adjusted", 36.0, 600), ("adjusted", np.nan, 600)])
    frame["method"] = pd.array(["adjusted", None, None], dtype="string")
    for gx_result in (True, False):
        checked = check_first3f(frame, gx_result=gx_result)
        assert checked.valid["umaban"].tolist() == [1]
        assert set(checked.quarantine["umaban"]) == {2, 3}
        assert "first3f_method_known" in set(checked.quarantine["check_name"])


def test_estimates_outside_their_bounds_are_set_aside() -> None:
    """A 600 m 'adjusted' value of 29 s and an 'unavailable' row with a value are quarantined."""
    frame = estimates(
        [
            ("adjusted", 36.4, 600),
            ("adjusted", 29.0, 600),
            ("baseline", 24.1, 400),
            ("unavailable", 35.0, 600),
            ("unavailable", np.nan, 600),
        ]
    )
    checked = check_first3f(frame)
    assert checked.valid["umaban"].tolist() == [1, 3, 5]
    assert dict(
        zip(checked.quarantine["umaban"], checked.quarantine["check_name"], strict=True)
    ) == {
        2: "first3f_within_method_bounds",
        4: "first3f_value_matches_method",
    }
    assert set(checked.quarantine["table_name"]) == {"first3f"}


def predictions(p: list[float], race: str = "202611204401") -> pd.DataFrame:
    """market-v1-shaped predictions for one race."""
    return pd.DataFrame(
        {
            "model_version": "market-v1",
            "race_id": race,
            "umaban": pd.array(range(1, len(p) + 1), dtype="Int64"),
            "race_date": DAY,
            "p_market": p,
            "p_model": np.nan,
            "p_final": p,
        }
    )


def test_a_race_whose_probabilities_do_not_sum_to_1_is_not_predicted() -> None:
    """Off by 1e-6 in one race: that race is set aside whole, the other kept."""
    good = predictions([0.5, 0.3, 0.2], "202611204401")
    bad = predictions([0.5, 0.3, 0.200001], "202611204402")
    checked = check_predictions(pd.concat([good, bad], ignore_index=True))
    assert set(checked.valid["race_id"]) == {"202611204401"}
    assert set(checked.quarantine["check_name"]) == {"p_final_sums_to_1_per_race"}
    assert len(checked.quarantine) == 3


def test_a_certainty_is_not_a_probability_to_bet_on() -> None:
    """p = 1 (one priced runner) lies outside (0, 1): the race is set aside."""
    checked = check_predictions(predictions([1.0]))
    assert checked.valid.empty
    assert "p_final_in_open_unit_interval" in set(checked.quarantine["check_name"])


@settings(max_examples=8, deadline=None)
@given(
    st.lists(
        st.lists(st.floats(1.1, 300.0), min_size=2, max_size=16),
        min_size=1,
        max_size=4,
    )
)
def test_market_predictions_always_pass_their_suite(odds_by_race: list[list[float]]) -> None:
    """Whatever the odds, market-v1's probabilities sum to 1 per race and lie in (0, 1)."""
    card = pd.DataFrame(
        [
            {"race_id": f"2026112044{r:02d}", "umaban": u + 1, "race_date": DAY}
            for r, odds in enumerate(odds_by_race)
            for u in range(len(odds))
        ]
    ).astype({"umaban": "Int64"})
    odds = card[["race_id", "umaban"]].assign(
        win_odds=[value for odds in odds_by_race for value in odds]
    )
    checked = check_predictions(market_predictions(card, odds))
    assert checked.quarantine.empty
    assert len(checked.valid) == len(card)


def bets(stakes: list[int], race: str = "202611204401") -> pd.DataFrame:
    """Bets of one race with an edge of 1.2 at odds 6.0."""
    return pd.DataFrame(
        {
            "race_id": race,
            "umaban": pd.array(range(1, len(stakes) + 1), dtype="Int64"),
            "race_date": DAY,
            "model_version": "m",
            "p_final": 0.2,
            "odds_at_bet": 6.0,
            "edge": 1.2,
            "stake_yen": stakes,
            "policy_params": "{}",
        }
    )


def test_stakes_beyond_a_cap_take_their_race_out() -> None:
    """Bankroll 1,000,000: 20,100 yen on one horse breaks the 2% cap; 150 yen is no ticket."""
    policy = StakingPolicy()
    frame = pd.concat(
        [
            bets([10_000, 5_000], "202611204401"),
            bets([20_100], "202611204402"),
            bets([150], "202611204403"),
        ],
        ignore_index=True,
    )
    checked = check_stakes(frame, policy, 1_000_000)
    assert set(checked.valid["race_id"]) == {"202611204401"}
    assert set(checked.quarantine["check_name"]) == {"stake_within_bet_cap", "stake_in_whole_units"}


def test_a_day_over_its_cap_stakes_nothing() -> None:
    """More than 25% of the bankroll in a day: every bet of the day is set aside."""
    frame = pd.concat(
        [bets([20_000, 20_000], f"2026112044{race:02d}") for race in range(1, 8)],
        ignore_index=True,
    )
    checked = check_stakes(frame, StakingPolicy(max_race_fraction=0.05), 1_000_000)
    assert checked.valid.empty
    assert "day_stakes_within_day_cap" in set(checked.quarantine["check_name"])


def test_a_bet_sized_on_odds_above_999_9_takes_its_race_out() -> None:
    """Odds no real pool shows (9999.9, a 5-digit field) never carry a stake (issue 19)."""
    frame = pd.concat(
        [bets([1_000], "202611204401"), bets([1_000], "202611204402")], ignore_index=True
    )
    frame.loc[1, "odds_at_bet"] = 9999.9
    checked = check_stakes(frame, StakingPolicy(), 1_000_000)
    assert set(checked.valid["race_id"]) == {"202611204401"}
    assert set(checked.quarantine["check_name"]) == {"odds_at_bet_at_most_999_9"}


def test_stakes_of_several_days_are_checked_against_each_days_own_bankroll() -> None:
    """15,000 yen on a horse is within the 2% cap of 1,000,000 but not of 500,000: checked in
    one run, two days pass or fail as each does alone, and a passing run gives each day what
    its own check gives."""
    policy = StakingPolicy()
    day_one = bets([15_000, 5_000], "202611204401")
    day_two = bets([15_000], "202611214401").assign(race_date=DAY + pd.Timedelta(days=1))

    passing = check_stakes_of_days([(day_one, 1_000_000), (day_two, 1_000_000)], policy)
    failing = check_stakes_of_days([(day_one, 1_000_000), (day_two, 500_000)], policy)

    assert not check_stakes(day_two, policy, 500_000).quarantine.empty
    assert failing is None
    assert passing is not None
    for (day, bankroll), checked in zip(
        [(day_one, 1_000_000), (day_two, 1_000_000)], passing, strict=True
    ):
        alone = check_stakes(day, policy, bankroll)
        pd.testing.assert_frame_equal(checked.valid, alone.valid)
        assert checked.quarantine.empty and alone.quarantine.empty
        assert (checked.outcome.rows_evaluated, checked.outcome.expectations) == (
            alone.outcome.rows_evaluated,
            alone.outcome.expectations,
        )
        pd.testing.assert_series_equal(checked.outcome.row_dates, alone.outcome.row_dates)
