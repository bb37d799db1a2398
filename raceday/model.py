"""Win probabilities per race. The honest baseline: the market's own implied probabilities."""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

MARKET_MODEL_VERSION: Final = "market-v1"
PREDICTION_COLUMNS: Final = [
    "model_version", "race_id", "umaban", "race_date", "p_market", "p_model", "p_final",
]  # fmt: skip


def normalise_per_race(race_id: pd.Series, weights: pd.Series) -> pd.Series:
    """``weights / sum(weights)`` within each race (a per-race softmax when weights = exp(s))."""
    totals = weights.groupby(race_id.to_numpy()).transform("sum")
    return (weights / totals.to_numpy()).astype("float64")


def implied_probabilities(race_id: pd.Series, win_odds: pd.Series) -> pd.Series:
    """Odds-implied win probabilities with the takeout removed: ``(1/odds)`` normalised per race."""
    inverse = 1.0 / win_odds.astype("float64")
    return normalise_per_race(race_id, inverse)


def market_predictions(card: pd.DataFrame, odds: pd.DataFrame) -> pd.DataFrame:
    """``market-v1`` predictions: runners of the card with bet-time odds, p = implied prob.

    Runners without odds (scratched, not on sale) get no row: they cannot win a bet.
    """
    priced = card[["race_id", "umaban", "race_date"]].merge(
        odds[["race_id", "umaban", "win_odds"]], on=["race_id", "umaban"], how="inner"
    )
    priced = priced[priced["win_odds"].notna() & (priced["win_odds"] >= 1.0)]
    p_market = implied_probabilities(priced["race_id"], priced["win_odds"])
    return pd.DataFrame(
        {
            "model_version": MARKET_MODEL_VERSION,
            "race_id": priced["race_id"],
            "umaban": priced["umaban"],
            "race_date": priced["race_date"],
            "p_market": p_market,
            "p_model": np.nan,
            "p_final": p_market,
        }
    ).reset_index(drop=True)
