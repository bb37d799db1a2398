"""The market's log loss at bet time: the stored bet-time odds as probabilities, on the winners."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from raceday.staking.evaluate import market_log_loss_at_bet_time


def _odds(rows: list[tuple[str, int, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["race_id", "umaban", "win_odds"])


def _results(rows: list[tuple[str, int, int | None]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["race_id", "umaban", "finish_pos"]).astype(
        {"finish_pos": "Int64"}
    )


def test_implied_probabilities_are_normalised_per_race() -> None:
    """Odds 2.0 and 2.0 (Σ 1/odds = 1) and 1.6 / 4.0 (overround 0.875): -log of each winner's
    normalised share, averaged over winners."""
    odds = _odds([("A", 1, 2.0), ("A", 2, 2.0), ("B", 1, 1.6), ("B", 2, 4.0)])
    results = _results([("A", 1, 1), ("A", 2, 2), ("B", 1, 2), ("B", 2, 1)])
    p_b2 = (1 / 4.0) / (1 / 1.6 + 1 / 4.0)
    figure = market_log_loss_at_bet_time(odds, results)
    assert figure["scored_races"] == 2
    assert figure["market_log_loss"] == pytest.approx((-math.log(0.5) - math.log(p_b2)) / 2)


def test_unpriced_winners_and_no_races_give_no_figure_rather_than_a_crash() -> None:
    """A winner without odds (0000 or absent) leaves its race out; nothing scored gives None."""
    odds = _odds([("A", 1, 0.0), ("A", 2, 3.0)])
    results = _results([("A", 1, 1), ("A", 2, None)])
    assert market_log_loss_at_bet_time(odds, results) == {
        "market_log_loss": None,
        "scored_races": 0,
    }
    assert market_log_loss_at_bet_time(odds.iloc[:0], results.iloc[:0])["scored_races"] == 0
