"""Calibration: predicted win probability against the observed win rate, per probability bin.

Counts are additive (runners, sum of p, wins per bin), so a day's counts are stored once and
any window's calibration is the sum of its days' counts.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

# Win probabilities are mostly small (a 10-runner field averages 0.1): narrow bins low down.
CALIBRATION_EDGES: Final = (0.0, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.6, 1.0)
COUNT_COLUMNS: Final = ["bin_lower", "bin_upper", "runners", "p_sum", "wins"]


def calibration_counts(
    p: pd.Series, won: pd.Series, edges: tuple[float, ...] = CALIBRATION_EDGES
) -> pd.DataFrame:
    """Per non-empty bin ``[lower, upper)`` (the last one closed): runners, sum of p and wins."""
    values = p.astype("float64").to_numpy()
    wins = won.astype(bool).to_numpy()
    keep = np.isfinite(values)
    values, wins = values[keep], wins[keep]
    index = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(edges) - 2)
    runners = np.bincount(index, minlength=len(edges) - 1)
    p_sum = np.bincount(index, weights=values, minlength=len(edges) - 1)
    win_count = np.bincount(index, weights=wins.astype("float64"), minlength=len(edges) - 1)
    frame = pd.DataFrame(
        {
            "bin_lower": np.asarray(edges[:-1], dtype="float64"),
            "bin_upper": np.asarray(edges[1:], dtype="float64"),
            "runners": runners.astype("int64"),
            "p_sum": p_sum,
            "wins": win_count.astype("int64"),
        }
    )
    return frame[frame["runners"] > 0].reset_index(drop=True)


def calibration_table(counts: pd.DataFrame) -> pd.DataFrame:
    """Combine bin counts (of one day or many) into mean predicted p vs observed win rate.

    ``stderr`` is the binomial standard error of the win rate at the predicted p: a bin whose
    win rate is more than two of them from ``mean_p`` is miscalibrated beyond noise.
    """
    if counts.empty:
        return pd.DataFrame(
            columns=[*COUNT_COLUMNS, "mean_p", "win_rate", "stderr"], dtype="float64"
        )
    summed = (
        counts.groupby(["bin_lower", "bin_upper"], as_index=False)[["runners", "p_sum", "wins"]]
        .sum()
        .sort_values("bin_lower")
        .reset_index(drop=True)
    )
    runners = summed["runners"].astype("float64")
    summed["mean_p"] = summed["p_sum"] / runners
    summed["win_rate"] = summed["wins"] / runners
    summed["stderr"] = np.sqrt(summed["mean_p"] * (1 - summed["mean_p"]) / runners)
    return summed


def calibration_error(counts: pd.DataFrame) -> float:
    """Expected calibration error: the runner-weighted mean of ``|mean_p - win_rate|``."""
    table = calibration_table(counts)
    total = float(table["runners"].sum()) if not table.empty else 0.0
    if total == 0:
        return float("nan")
    gap = (table["mean_p"] - table["win_rate"]).abs()
    return float((gap * table["runners"]).sum() / total)
