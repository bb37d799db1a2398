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
    return calibration_counts_by_group(p, won, np.zeros(len(p), dtype="int64"), 1, edges)[0]


def calibration_counts_by_group(
    p: pd.Series,
    won: pd.Series,
    group: np.ndarray,
    groups: int,
    edges: tuple[float, ...] = CALIBRATION_EDGES,
) -> list[pd.DataFrame]:
    """:func:`calibration_counts` of each group ``0 .. groups - 1`` of the runners (``group``:
    each runner's), counted in one pass: a group's bins add its runners' p in their order."""
    values = p.astype("float64").to_numpy()
    wins = won.astype(bool).to_numpy()
    keep = np.isfinite(values)
    values, wins, group = values[keep], wins[keep], np.asarray(group)[keep]
    bins = len(edges) - 1
    index = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, bins - 1)
    cell = group * bins + index
    runners = np.bincount(cell, minlength=groups * bins).reshape(groups, bins)
    p_sum = np.bincount(cell, weights=values, minlength=groups * bins).reshape(groups, bins)
    win_count = np.bincount(cell, weights=wins.astype("float64"), minlength=groups * bins).reshape(
        groups, bins
    )
    lower = np.asarray(edges[:-1], dtype="float64")
    upper = np.asarray(edges[1:], dtype="float64")
    counts = []
    for number in range(groups):
        filled = runners[number] > 0
        counts.append(
            pd.DataFrame(
                {
                    "bin_lower": lower[filled],
                    "bin_upper": upper[filled],
                    "runners": runners[number][filled].astype("int64"),
                    "p_sum": p_sum[number][filled],
                    "wins": win_count[number][filled].astype("int64"),
                }
            )
        )
    return counts


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
