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
    figure = market_log_loss_at_bet_time(odds, results)
    assert (figure["market_log_loss"], figure["scored_races"]) == (None, 0)
    assert market_log_loss_at_bet_time(odds.iloc[:0], results.iloc[:0])["scored_races"] == 0


def test_races_sized_on_final_odds_are_scored_apart_from_the_bet_time_snapshots() -> None:
    """`eval staking` said "market log loss at bet time" over every race, those sized on FINAL
    odds (no snapshot; `snapshot_at` "final") among them: the figure is split by what the odds
    were, and the line says so for each."""
    from cli.staking import market_lines

    odds = _odds([("A", 1, 2.0), ("A", 2, 2.0), ("B", 1, 1.6), ("B", 2, 4.0)]).assign(
        snapshot_at=["09000000", "09000000", "final", "final"]
    )
    results = _results([("A", 1, 1), ("A", 2, 2), ("B", 1, 1), ("B", 2, 2)])
    figure = market_log_loss_at_bet_time(odds, results)
    p_b1 = (1 / 1.6) / (1 / 1.6 + 1 / 4.0)
    assert figure["scored_races"] == 2
    assert figure["by_odds"]["snapshot"]["scored_races"] == 1
    assert figure["by_odds"]["snapshot"]["market_log_loss"] == pytest.approx(-math.log(0.5))
    assert figure["by_odds"]["final"]["scored_races"] == 1
    assert figure["by_odds"]["final"]["market_log_loss"] == pytest.approx(-math.log(p_b1))
    at_bet_time, on_final = market_lines(figure)
    assert at_bet_time.startswith("market log loss at bet time: 0.6931 (1 races")
    assert on_final.startswith("market log loss on FINAL odds: ") and "(1 races" in on_final
    only_final = market_lines(market_log_loss_at_bet_time(odds[odds["race_id"] == "B"], results))
    assert len(only_final) == 1 and "at bet time:" not in only_final[0]
