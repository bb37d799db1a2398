"""A run of days' rows split by day once (a chunk's frames), instead of filtered per day."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd


def day_codes(dates: pd.Series, days: list[date]) -> np.ndarray:
    """Each row's position in ``days`` by its date (-1: none of them)."""
    day_index = pd.DatetimeIndex([pd.Timestamp(day) for day in days])
    return np.asarray(day_index.get_indexer(pd.to_datetime(dates).dt.normalize()), dtype="int64")


def rows_by_day(codes: np.ndarray, days: int) -> list[np.ndarray]:
    """The positions of each day's rows (``codes``: :func:`day_codes`), in their order."""
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(days + 1))
    return [order[bounds[number] : bounds[number + 1]] for number in range(days)]
