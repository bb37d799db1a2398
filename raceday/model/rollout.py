"""Which races a day's run takes when the day offers more than the rollout stage's cap.

Priority (documented in docs/OPERATIONS.md): every venue first gets its share, round robin
across venues, and within a venue later races first (a card builds toward its main races,
whose pools are deepest, so stakes there move the odds least). Deterministic for a given card.
"""

from __future__ import annotations

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


def select_races(races: pd.DataFrame, cap: int) -> pd.DataFrame:
    """The ``cap`` highest-priority races of each day (all of them when fewer are offered)."""
    if races.empty:
        return races
    parts = []
    for _, day in races.groupby("race_date", sort=True):
        rank = race_priority(day)
        parts.append(day[rank < cap])
    return pd.concat(parts).sort_values("race_id").reset_index(drop=True)
