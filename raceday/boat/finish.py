"""Whether a race's payout lines agree with its finishing order.

A K file's payouts and its 着 column are printed apart: a payout line naming a boat that did
not finish where the bet needs it (a win line on the third boat, an exacta that is not the
first two) contradicts the result, and settling from it would pay the wrong boat. The rule,
for every bet type and dead heats alike (a dead heat for first prints two ``01`` and no ``02``;
its two boats fill places 1 and 2 in either order):

* a boat finishing at position ``p`` with ``t`` boats tied there can fill places
  ``p`` .. ``p + t - 1``;
* an ordered bet (win, exacta, trifecta) names its boats in places 1, 2, 3;
* an unordered bet names its boats in some order of the places it covers: sorted by position,
  the boat ``s``-th can be at most ``s + slack`` (place: 1 boat in the top 2, wide: 2 in the
  top 3, slack 1; quinella and trio cover exactly their boats, slack 0).

The win lines must also name every boat that finished first (a dead heat prints one line per
winner): a winner without its line would settle as a loss.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

ORDERED: Final = frozenset({"win", "exacta", "trifecta"})
SLACK: Final = {"place": 1, "wide": 1}  # places covered beyond the boats named


def finish_places(results: pd.DataFrame) -> pd.DataFrame:
    """Per finisher (``race_id, boat``): its position and the number of boats tied there."""
    position = pd.to_numeric(results["position"], errors="coerce").astype("float64")
    finished = pd.DataFrame(
        {
            "race_id": results["race_id"].astype("string"),
            "boat": pd.to_numeric(results["boat"], errors="coerce").astype("float64"),
            "position": position,
        }
    ).dropna()
    finished = finished.drop_duplicates(["race_id", "boat"])
    tied = finished.groupby(["race_id", "position"])["boat"].transform("size")
    return finished.assign(tied=tied.astype("float64"))


def _named_boats(payouts: pd.DataFrame) -> pd.DataFrame:
    """One row per boat a paid line names: the line's row number, its bet type, the boat."""
    paid = payouts["kind"].astype("string").eq("paid").fillna(False).to_numpy(dtype=bool)
    lines = pd.DataFrame(
        {
            "line": np.arange(len(payouts)),
            "race_id": payouts["race_id"].astype("string").to_numpy(),
            "bet_type": payouts["bet_type"].astype("string").to_numpy(),
            "boat": payouts["combination"].astype("string").fillna("").str.split("-").to_numpy(),
        }
    )[paid]
    named = lines.explode("boat", ignore_index=True)
    named["boat"] = pd.to_numeric(named["boat"], errors="coerce").astype("float64")
    named["order"] = named.groupby("line").cumcount() + 1
    return named


def payouts_name_the_finish(payouts: pd.DataFrame, results: pd.DataFrame) -> pd.Series:
    """Per payout line (in ``payouts``' order, its index): False where a paid line names a boat
    its race's result does not put where the bet needs it, or where the race's win lines leave
    out a boat that finished first. 特払い and 不成立 lines name no boat: True."""
    named = _named_boats(payouts).merge(finish_places(results), on=["race_id", "boat"], how="left")
    ordered = named["bet_type"].isin(ORDERED).fillna(False).to_numpy(dtype=bool)
    by_position = named.sort_values(["line", "position"], kind="stable")
    sorted_slot = by_position.groupby("line").cumcount() + 1
    slot = np.where(ordered, named["order"], sorted_slot.reindex(named.index))
    slack = named["bet_type"].map(SLACK).fillna(0).to_numpy(dtype="float64")
    position, tied = named["position"].to_numpy(), named["tied"].to_numpy()
    fits = (position <= slot + slack) & (position + tied - 1 >= slot)  # NaN: no place, False
    agrees = pd.Series(fits, index=named.index).groupby(named["line"]).all()
    verdict = np.ones(len(payouts), dtype=bool)
    verdict[agrees.index.to_numpy(dtype=int)] = agrees.to_numpy(dtype=bool)
    verdict &= _every_winner_named(payouts, results)
    return pd.Series(verdict, index=payouts.index)


def _every_winner_named(payouts: pd.DataFrame, results: pd.DataFrame) -> np.ndarray:
    """False on the paid win lines of a race whose win lines name fewer boats than finished
    first (a dead heat printed with one line); True elsewhere."""
    places = finish_places(results)
    winners = places[places["position"] == 1].groupby("race_id")["boat"].nunique()
    race_id = payouts["race_id"].astype("string")
    paid_win = (
        payouts["bet_type"].astype("string").eq("win") & payouts["kind"].astype("string").eq("paid")
    ).fillna(False)
    named = payouts["combination"].astype("string").where(paid_win.to_numpy())
    lines_named = named.groupby(race_id.to_numpy()).nunique()
    short = race_id.map(winners).fillna(0) > race_id.map(lines_named).fillna(0)
    return ~(paid_win & short).to_numpy(dtype=bool)
