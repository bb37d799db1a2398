"""How win probabilities are judged: against the winners and against the market.

All per-race metrics use the winner (finish_pos == 1; dead heats count each winner). Races
without a winner among the priced runners (all scratched, void) are left out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from raceday.arrow_text import text_isin

EPSILON = 1e-12


def _with_winner(frame: pd.DataFrame) -> pd.DataFrame:
    won = frame["finish_pos"].astype("Float64").eq(1).fillna(False).astype(bool)
    return frame[text_isin(frame["race_id"], frame.loc[won, "race_id"])].assign(won=won)


def winner_log_loss(frame: pd.DataFrame, probability_column: str) -> float:
    """Mean over races of ``-ln p(winner)``; NaN when no race has a winner."""
    scored = _with_winner(frame)
    if scored.empty:
        return float("nan")
    p = scored.loc[scored["won"], probability_column].astype("float64").clip(EPSILON, 1.0)
    return float(-np.log(p).mean())


def uniform_log_loss(frame: pd.DataFrame) -> float:
    """The log loss of 1/field size (the no-information baseline) over the same races."""
    scored = _with_winner(frame)
    if scored.empty:
        return float("nan")
    field = scored.groupby("race_id")["umaban"].transform("size")
    return float(np.log(field[scored["won"]].astype("float64")).mean())


def pseudo_r2(frame: pd.DataFrame, probability_column: str) -> float:
    """Benter's pseudo-R²: ``1 - L_model / L_uniform`` over winners."""
    return 1.0 - winner_log_loss(frame, probability_column) / uniform_log_loss(frame)


def top_pick_rates(frame: pd.DataFrame, probability_column: str) -> tuple[float, float]:
    """(hit rate, top-3 rate): share of races whose most probable runner won / ran top 3."""
    scored = _with_winner(frame)
    if scored.empty:
        return float("nan"), float("nan")
    order = scored.sort_values([probability_column, "umaban"], ascending=[False, True])
    top = order.drop_duplicates("race_id")
    finish = top["finish_pos"].astype("Float64")
    return float(finish.eq(1).mean()), float(finish.le(3).mean())
