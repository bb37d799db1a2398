"""The simulator's array types, and helpers over runners grouped by race (consecutive rows)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]
TextArray = NDArray[np.object_]
AsciiArray = NDArray[np.bytes_]  # fixed-width ASCII text, one value a row
Column = TextArray | AsciiArray | str  # a column of text, or one value for every row


def rank_within(group: IntArray, key: FloatArray) -> IntArray:
    """1-based rank of ``key`` (ascending, ties in row order) within each group."""
    n = group.size
    order = np.lexsort((key, group))
    sorted_group = group[order]
    first = np.ones(n, bool)
    first[1:] = sorted_group[1:] != sorted_group[:-1]
    group_start = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n) - group_start + 1
    return rank


def group_sum(values: FloatArray, starts: IntArray) -> FloatArray:
    return np.asarray(np.add.reduceat(values, starts, axis=0), dtype=np.float64)


def group_count(mask: BoolArray, starts: IntArray) -> IntArray:
    return np.asarray(np.add.reduceat(mask.astype(np.int64), starts), dtype=np.int64)


def group_max(values: FloatArray, starts: IntArray) -> FloatArray:
    return np.maximum.reduceat(values, starts, axis=0)


def group_min(values: FloatArray, starts: IntArray) -> FloatArray:
    return np.minimum.reduceat(values, starts, axis=0)
