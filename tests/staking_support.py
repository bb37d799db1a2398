"""Test-only probabilities with an edge: the simulator's truth, blurred, as a stand-in model.

The pipeline never reads the truth; tests inject these predictions where a promoted model's
would come from, so that the stake, settle and record stages have bets to work on.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from raceday.model import PREDICTION_COLUMNS, implied_probabilities, normalise_per_race

NOISY_ORACLE_VERSION = "noisy-oracle-test"


def noisy_truth_predictions(
    runners: pd.DataFrame,
    odds: pd.DataFrame,
    truth: pd.DataFrame,
    *,
    noise_sd: float = 0.25,
    seed: int = 7,
    model_version: str = NOISY_ORACLE_VERSION,
) -> pd.DataFrame:
    """Predictions (``PREDICTION_COLUMNS``) whose p_final is the true win probability with
    log-normal noise, renormalised per race, for the runners that have bet-time odds (a runner
    that will not start is priced at its market probability)."""
    priced = runners[["race_id", "umaban", "race_date"]].merge(
        odds[["race_id", "umaban", "win_odds"]], on=["race_id", "umaban"]
    )
    priced = priced[priced["win_odds"].notna() & (priced["win_odds"] >= 1.0)]
    priced = priced.merge(
        truth[["race_id", "umaban", "true_win_prob", "started"]].astype({"race_id": "string"}),
        on=["race_id", "umaban"],
        how="left",
    ).reset_index(drop=True)
    p_market = implied_probabilities(priced["race_id"], priced["win_odds"])
    rng = np.random.default_rng(seed)
    # Nobody knows in the morning who will be excluded at the gate: a non-starter's truth (0)
    # would be a leak, so the stand-in model prices it like the market does.
    started = priced["started"].astype("boolean").fillna(False).astype(bool)
    true_p = priced["true_win_prob"].where(started, p_market).fillna(0.0).clip(lower=1e-6)
    blurred = np.exp(np.log(true_p) + rng.normal(0.0, noise_sd, len(priced)))
    p_model = normalise_per_race(priced["race_id"], pd.Series(blurred, index=priced.index))
    return pd.DataFrame(
        {
            "model_version": model_version,
            "race_id": priced["race_id"],
            "umaban": priced["umaban"],
            "race_date": priced["race_date"],
            "p_market": p_market,
            "p_model": p_model,
            "p_final": p_model,
        }
    )[PREDICTION_COLUMNS]
