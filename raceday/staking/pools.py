"""Expected win-pool sizes per race, for the pool cap (no source here reports real pools)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import pandas as pd


class WinPoolTable(Protocol):
    """Typical win pools: per venue, a default for unknown venues, a factor per class letter."""

    @property
    def pool_by_venue_yen(self) -> Mapping[str, float]:
        """keibajo_code -> a typical race's win pool (yen)."""
        ...

    @property
    def default_pool_yen(self) -> float:
        """The pool of a venue missing from the table."""
        ...

    @property
    def class_factors(self) -> Mapping[str, float]:
        """Class letter (A, B, C) -> multiplier of the venue's pool."""
        ...


def expected_win_pool_yen(races: pd.DataFrame, table: WinPoolTable) -> pd.Series:
    """A race's expected win pool: its venue's typical pool times its class letter's factor.

    ``races`` has ``keibajo_code`` and ``class_code`` (``A1``..``C4`` or missing); unknown
    venues take the table's default, races without a known class letter a factor of 1.
    """
    venue_pool = races["keibajo_code"].astype("string").map(dict(table.pool_by_venue_yen))
    venue_pool = venue_pool.astype("float64").fillna(table.default_pool_yen)
    letter = races["class_code"].astype("string").str[:1]
    factor = letter.map(dict(table.class_factors)).astype("float64").fillna(1.0)
    return (venue_pool * factor).rename("win_pool_yen")


def race_pools(races: pd.DataFrame, table: WinPoolTable) -> pd.DataFrame:
    """``race_id, win_pool_yen`` for each race."""
    return pd.DataFrame(
        {"race_id": races["race_id"], "win_pool_yen": expected_win_pool_yen(races, table)}
    )
