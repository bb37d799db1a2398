"""How a win model is judged on held-out races: against the winners and against the market.

For each probability column (market, model, blend and, on simulated data, the truth): log loss
per race (mean of ``-ln p(winner)``), Benter's pseudo-R² (``1 - L / L_uniform``), the top pick's
win and top-3 rates; ``delta_r2`` = blend − market; a calibration table of the blend; and all
of it per venue. Only races with a winner among the priced runners count
(:mod:`raceday.model.metrics`).
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import pandas as pd

from raceday.model.calibration import calibration_counts
from raceday.model.metrics import pseudo_r2, top_pick_rates, uniform_log_loss, winner_log_loss

PROBABILITY_COLUMNS: Final = {
    "market": "p_market",
    "model": "p_model",
    "blend": "p_final",
    "truth": "p_truth",
}
EVAL_COLUMNS: Final = ["race_id", "umaban", "keibajo_code", "finish_pos", "p_market", "p_final"]


def _rounded(value: float) -> float | None:
    return None if not np.isfinite(value) else round(float(value), 6)


def probability_scores(frame: pd.DataFrame, column: str) -> dict[str, float | None]:
    """Log loss, pseudo-R², top-1 and top-3 rates of one probability column."""
    hit, top3 = top_pick_rates(frame, column)
    return {
        "log_loss": _rounded(winner_log_loss(frame, column)),
        "pseudo_r2": _rounded(pseudo_r2(frame, column)),
        "top1_hit": _rounded(hit),
        "top3_hit": _rounded(top3),
    }


def scored_races(frame: pd.DataFrame) -> int:
    """Races with a winner among the given runners (the races every metric is over)."""
    winners = frame["finish_pos"].astype("Float64").eq(1).fillna(False).astype(bool)
    return int(frame.loc[winners, "race_id"].nunique())


def calibration_table(frame: pd.DataFrame, column: str = "p_final") -> list[dict[str, Any]]:
    """Predicted vs observed win rate per probability bin, with counts."""
    won = frame["finish_pos"].astype("Float64").eq(1).fillna(False)
    counts = calibration_counts(frame[column], won)
    return [
        {
            "bin": f"{row.bin_lower:.3f}-{row.bin_upper:.3f}",
            "runners": int(row.runners),
            "p_mean": round(float(row.p_sum) / row.runners, 4),
            "win_rate": round(float(row.wins) / row.runners, 4),
            "wins": int(row.wins),
        }
        for row in counts.itertuples()
    ]


def _summary(frame: pd.DataFrame, sources: dict[str, str]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "races": scored_races(frame),
        "runners": len(frame),
        "uniform_log_loss": _rounded(uniform_log_loss(frame)),
    }
    for name, column in sources.items():
        result[name] = probability_scores(frame, column)
    blend, market = result.get("blend", {}), result["market"]
    if blend.get("pseudo_r2") is not None and market.get("pseudo_r2") is not None:
        result["delta_r2"] = round(blend["pseudo_r2"] - market["pseudo_r2"], 6)
    else:
        result["delta_r2"] = None
    return result


def evaluate_predictions(frame: pd.DataFrame) -> dict[str, Any]:
    """The evaluation of held-out predictions: overall, calibration and per venue.

    ``frame``: one row per priced runner with :data:`EVAL_COLUMNS`, optionally ``p_model``
    (the fundamental model) and ``p_truth`` (the simulator's true probability).
    """
    sources = {
        name: column
        for name, column in PROBABILITY_COLUMNS.items()
        if column in frame.columns and frame[column].notna().any()
    }
    result = _summary(frame, sources)
    result["calibration"] = calibration_table(frame, "p_final")
    result["by_venue"] = {
        str(venue): _summary(rows, sources)
        for venue, rows in frame.groupby(frame["keibajo_code"].astype(str), sort=True)
    }
    return result


def truth_probabilities(runners: pd.DataFrame, truth: pd.DataFrame) -> pd.Series:
    """The simulator's true win probabilities of ``runners``, renormalised over them per race
    (runners outside the priced field carry none of the probability)."""
    joined = runners[["race_id", "umaban"]].merge(
        truth[["race_id", "umaban", "true_win_prob"]].astype({"race_id": "string"}),
        on=["race_id", "umaban"],
        how="left",
    )
    p = joined["true_win_prob"].astype("float64").fillna(0.0)
    total = p.groupby(joined["race_id"].to_numpy()).transform("sum")
    return pd.Series((p / total.where(total > 0)).to_numpy(), index=runners.index)
