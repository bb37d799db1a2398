"""Fixed-width PC-KEIBA text for whole arrays: padding, joining, and the codec's encoders."""

from __future__ import annotations

import functools
from typing import Final

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from raceday.codec import encode_count, encode_soha_time, encode_tenths
from raceday.simulate.arrays import FloatArray, IntArray, TextArray

FULL_SPACE: Final = "\u3000"


def fullwidth(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


def pad(values: TextArray, width: int, fill: str = " ") -> TextArray:
    return pd.Series(values, dtype=object).str.ljust(width, fill).to_numpy(dtype=object)


def clip_text(values: NDArray[np.object_] | NDArray[np.str_], width: int) -> TextArray:
    return pd.Series(values, dtype=object).str.slice(0, width).to_numpy(dtype=object)


def zfill(values: NDArray[np.integer], width: int) -> TextArray:
    return encode_int(np.asarray(values, dtype=np.int64), width)


# The codec's encoders format value by value; the day's fields are looked up in tables the codec
# encoded once (same text, a fraction of the time).
_TABLE_SIZE: Final = 10_000


@functools.lru_cache(maxsize=16)
def _count_table(width: int) -> TextArray:
    values = pd.Series(np.arange(min(10**width, _TABLE_SIZE)), dtype="int64")
    return encode_count(values, width).to_numpy(dtype=object)


@functools.lru_cache(maxsize=8)
def _tenths_table(width: int) -> TextArray:
    values = pd.Series(np.arange(10**width) / 10.0, dtype="float64")
    return encode_tenths(values, width).to_numpy(dtype=object)


@functools.lru_cache(maxsize=1)
def _soha_table() -> TextArray:
    values = pd.Series(np.arange(6000) / 10.0, dtype="float64")
    return encode_soha_time(values).to_numpy(dtype=object)


def encode_int(values: NDArray[np.integer], width: int) -> TextArray:
    """codec.encode_count for integer arrays."""
    whole = np.asarray(values, dtype=np.int64)
    table = _count_table(width)
    if whole.size and (whole.min() < 0 or whole.max() >= table.size):
        return encode_count(pd.Series(whole, dtype="int64"), width).to_numpy(dtype=object)
    return table[whole]


def _tenths_index(values: FloatArray) -> IntArray:
    tenths = np.rint(values * 10.0)
    return np.where(np.isfinite(tenths), tenths, 0).astype(np.int64)


def encode_float_tenths(values: FloatArray, width: int) -> TextArray:
    """codec.encode_tenths for float arrays (NaN -> zeros)."""
    index = _tenths_index(values)
    if index.size and (index.min() < 0 or index.max() >= 10**width):
        return encode_tenths(pd.Series(values, dtype="float64"), width).to_numpy(dtype=object)
    return _tenths_table(width)[index]


def encode_soha(values: FloatArray) -> TextArray:
    """codec.encode_soha_time for float arrays (NaN -> 0000)."""
    index = _tenths_index(values)
    if index.size and (index.min() < 0 or index.max() >= 6000):
        return encode_soha_time(pd.Series(values, dtype="float64")).to_numpy(dtype=object)
    return _soha_table()[index]


def join_groups(values: TextArray, starts: IntArray, separator: str = "") -> list[str]:
    """Concatenate consecutive runs of ``values`` (groups begin at ``starts``)."""
    return [separator.join(part) for part in np.split(values, starts[1:])]


def join_rows(values: IntArray, width: int) -> TextArray:
    """Each row's integers as zero-padded fields, concatenated."""
    digits = np.char.zfill(values.astype(str), width)
    return np.array(["".join(row) for row in digits.tolist()], dtype=object)
