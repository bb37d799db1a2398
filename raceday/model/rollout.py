"""Which races a day's run takes when the day offers more than the rollout stage's cap.

Priority (documented in docs/OPERATIONS.md): every venue first gets its share, round robin
across venues, and within a venue later races first (a card builds toward its main races,
whose pools are deepest, so stakes there move the odds least). Deterministic for a given card.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def race_priority(races: pd.DataFrame) -> pd.Series:
    """Rank of each race (0 = taken first): round robin over venues, later races first."""
    within_venue = (
        races.groupby("keibajo_code")["race_bango"].rank(method="first", ascending=False) - 1
    )
    order = pd.DataFrame(
        {"round": within_venue, "venue": races["keibajo_code"], "race_id": races["race_id"]}
    ).sort_values(["round", "venue", "race_id"])
    rank = pd.Series(range(len(order)), index=order.index)
    return rank.reindex(races.index).astype("int64")


def priority_within_day(races: pd.DataFrame) -> pd.Series:
    """:func:`race_priority` of every day's races at once (NaN for a race without a date): the
    races sorted by day, then as :func:`race_priority` sorts a day; a race's rank is its place
    in its day."""
    dated = races["race_date"]
    within_venue = (
        races.groupby([dated, races["keibajo_code"]])["race_bango"].rank(
            method="first", ascending=False
        )
        - 1
    )
    order = pd.DataFrame(
        {
            "day": dated.to_numpy(),
            "round": within_venue.to_numpy(),
            "venue": races["keibajo_code"].to_numpy(),
            "race_id": races["race_id"].to_numpy(),
        }
    ).sort_values(["day", "round", "venue", "race_id"])
    place = order.groupby("day", dropna=True).cumcount()  # missing dates: no place
    rank = np.full(len(races), np.nan)
    rank[place.index.to_numpy()] = place.to_numpy()
    return pd.Series(rank, index=races.index)


def select_races(races: pd.DataFrame, cap: int) -> pd.DataFrame:
    """The ``cap`` highest-priority races of each day (all of them when fewer are offered)."""
    if races.empty:
        return races
    taken = races[(priority_within_day(races) < cap).to_numpy()]
    # Day by day (a stable sort by date), then by race id: the order a day-by-day pick gave.
    by_day = taken.sort_values("race_date", kind="stable")
    return by_day.sort_values("race_id").reset_index(drop=True)
