"""As-of joins and running sums on integer key codes: what ``pd.merge_asof`` and a group-by
``cumsum`` give, without their fixed cost on the small frames of a day's build (a day's cards,
a property test's careers) and with one sort at any size."""

from __future__ import annotations

import numpy as np
import pandas as pd


def key_codes(keys: list[pd.Series]) -> np.ndarray:
    """Each row as an integer, the same for the same values of ``keys`` (NA one value)."""
    codes = np.zeros(len(keys[0]), dtype=np.int64)
    for key in keys:
        column, uniques = pd.factorize(key, use_na_sentinel=False)
        codes = codes * (len(uniques) + 1) + column.astype(np.int64)
    return codes


def running_sums(values: np.ndarray, group: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Each row's ``values`` (a column each) summed with those of the rows of its ``group``
    before it in ``order`` (positions with each group's rows together)."""
    running = np.cumsum(values[order], axis=0)
    first = np.ones(order.size, dtype=bool)  # the first row of its group
    first[1:] = group[order][1:] != group[order][:-1]
    start = np.maximum.accumulate(np.where(first, np.arange(order.size), 0))
    before_start = np.vstack([np.zeros((1, values.shape[1]), dtype=running.dtype), running])
    summed = np.empty_like(running)
    summed[order] = running - before_start[start]
    return summed


def latest_before(
    target_keys: list[pd.Series],
    target_days: pd.Series,
    table_keys: list[pd.Series],
    table_days: pd.Series,
) -> np.ndarray:
    """The position in the table of the latest row with each target's keys strictly before
    its day (of rows on one day, the last in table order); -1 where there is none. What
    ``pd.merge_asof(..., allow_exact_matches=False)`` joins, found by one sort and one binary
    search on integers: merge_asof's fixed cost is most of a small build (a day's cards)."""
    if target_days.isna().any() or table_days.isna().any():
        raise ValueError("an as-of join on a missing race_date")
    targets = len(target_days)
    group = key_codes(  # NA is one key, as merge's
        [
            pd.concat([target_key, table_key], ignore_index=True)
            for target_key, table_key in zip(target_keys, table_keys, strict=True)
        ]
    )
    days = [days.to_numpy("datetime64[ns]").view(np.int64) for days in (target_days, table_days)]
    day = np.unique(np.concatenate(days), return_inverse=True)[1].astype(np.int64).ravel()
    key = group * (int(day.max(initial=0)) + 1) + day  # (keys, day) in lexicographic order
    table_key = key[targets:]
    order = np.argsort(table_key, kind="stable")  # a day's rows in table order
    before = np.searchsorted(table_key[order], key[:targets], side="left") - 1
    found = before >= 0
    found[found] = group[targets:][order[before[found]]] == group[:targets][found]
    picked = np.full(targets, -1, dtype=np.int64)
    picked[found] = order[before[found]]
    return picked


def as_of(targets: pd.DataFrame, table: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Each target row joined with the latest ``table`` row of its ``by`` keys strictly before
    its ``race_date`` (:func:`latest_before`; no row: missing values, as merge_asof's)."""
    picked = latest_before(
        [targets[name] for name in by],
        targets["race_date"],
        [table[name] for name in by],
        table["race_date"],
    )
    values = table.drop(columns=[*by, "race_date"]).reset_index(drop=True)
    joined = values.reindex(picked) if len(picked) else values.iloc[:0]
    joined.index = targets.index
    return joined
