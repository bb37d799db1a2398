"""The market consistency columns the odds checks read (issue 19: a favourite at 999.9)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from data_checks.frames import odds_above_a_less_popular, race_overround


def _odds(race: list[str], odds: list[float], rank: list[int | None]) -> pd.DataFrame:
    return pd.DataFrame(
        {"race_id": race, "win_odds": odds, "popularity": pd.array(rank, dtype="Int64")}
    )


def test_a_favourite_paying_more_than_an_outsider_is_flagged_alone() -> None:
    """Only the horse whose odds exceed a less popular horse's is flagged."""
    frame = _odds(["a"] * 4, [999.9, 2.0, 3.0, 9.0], [1, 2, 3, 4])
    assert odds_above_a_less_popular(frame).tolist() == [True, False, False, False]


def test_equal_odds_tied_ranks_and_unranked_rows_are_consistent() -> None:
    """Rounded-equal odds at different ranks, a shared rank, an unranked (excluded) horse."""
    frame = _odds(
        ["a"] * 5 + ["b"] * 3, [1.5, 1.5, 4.0, 4.0, 2.0, 2.2, 2.1, 8.0], [1, 2, 3, 3, None, 1, 1, 3]
    )
    assert not odds_above_a_less_popular(frame).any()


def test_overround_sits_on_the_favourite_and_skips_unranked_rows() -> None:
    """Σ 1/odds of the ranked field, once per race, on its most popular row."""
    frame = _odds(["a", "a", "a", "b", "b"], [4.0, 2.0, 3.3, 2.0, 2.0], [2, 1, None, 1, 2])
    overround = race_overround(frame)
    assert np.isnan(overround.iloc[0]) and np.isnan(overround.iloc[2])
    assert overround.iloc[1] == 0.75 and overround.iloc[3] == 1.0
