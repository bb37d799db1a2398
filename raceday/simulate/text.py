"""Fixed-width PC-KEIBA text for whole arrays: padding, joining, the codec's encoders, and the
frames' Arrow text columns.

A column is text (an array of ``str``), or ASCII bytes of one width (``ascii_*``, ``as_ascii``,
``pack_groups``, ``join_rows``), which :func:`text_array` turns into Arrow text without a Python
object a value; either way the frame holds the same ``string`` column."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from typing import Final, cast

import numpy as np
import pandas as pd
import pyarrow as pa
from numpy.typing import NDArray

from raceday.codec import encode_count, encode_soha_time, encode_tenths
from raceday.simulate.arrays import AsciiArray, Column, FloatArray, IntArray, TextArray

FULL_SPACE: Final = "\u3000"


def fullwidth(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


# pad and clip_text: str methods in a plain loop (a third of the time of pandas' .str, which
# checks every value for a missing one; the values here are all text).
def pad(values: TextArray, width: int, fill: str = " ") -> TextArray:
    return np.array([text.ljust(width, fill) for text in values.tolist()], dtype=object)


def clip_text(values: NDArray[np.object_] | NDArray[np.str_], width: int) -> TextArray:
    return np.array([text[:width] for text in values.tolist()], dtype=object)


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
    if whole.size and whole.min() < 0:
        return encode_count(pd.Series(whole, dtype="int64"), width).to_numpy(dtype=object)
    if whole.size and whole.max() >= table.size:  # f"{v:0{width}d}" of v >= 0, in one pass
        return np.strings.zfill(whole.astype(np.str_), width).astype(object)
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


# The same text as bytes, for columns written as they are: a frame takes fixed-width bytes
# whole (text_array), where it converts an array of text value by value.
@functools.lru_cache(maxsize=16)
def _ascii_count_table(width: int) -> AsciiArray:
    return _count_table(width).astype(np.bytes_)


@functools.lru_cache(maxsize=8)
def _ascii_tenths_table(width: int) -> AsciiArray:
    return _tenths_table(width).astype(np.bytes_)


@functools.lru_cache(maxsize=1)
def _ascii_soha_table() -> AsciiArray:
    return _soha_table().astype(np.bytes_)


def ascii_int(values: NDArray[np.integer], width: int) -> AsciiArray:
    """:func:`encode_int` as ASCII bytes."""
    whole = np.asarray(values, dtype=np.int64)
    table = _ascii_count_table(width)
    if not whole.size or (whole.min() >= 0 and whole.max() < table.size):
        return table[whole]
    if whole.min() >= 0 and width <= 18 and whole.max() < 10**width:
        return _digits(whole, width)
    return encode_int(whole, width).astype(np.bytes_)


def _digits(whole: IntArray, width: int) -> AsciiArray:
    """Non-negative integers below ``10**width`` as ``width`` ASCII digits each."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    digits = (whole[:, None] // powers[None, :]) % 10 + ord("0")
    return digits.astype(np.uint8).view(f"S{width}").reshape(-1)


def ascii_tenths(values: FloatArray, width: int) -> AsciiArray:
    """:func:`encode_float_tenths` as ASCII bytes."""
    index = _tenths_index(values)
    if index.size and (index.min() < 0 or index.max() >= 10**width):
        return encode_float_tenths(values, width).astype(np.bytes_)
    return _ascii_tenths_table(width)[index]


def ascii_soha(values: FloatArray) -> AsciiArray:
    """:func:`encode_soha` as ASCII bytes."""
    index = _tenths_index(values)
    if index.size and (index.min() < 0 or index.max() >= 6000):
        return encode_soha(values).astype(np.bytes_)
    return _ascii_soha_table()[index]


def as_ascii(values: TextArray) -> TextArray | AsciiArray:
    """``values`` as ASCII bytes when every value is ASCII text (a frame takes those whole,
    the rows that index them included), else as they are. One Python step a value: for the
    short tables (per race, per jockey) that the rows index."""
    try:
        encoded = values.astype(np.bytes_)
    except UnicodeEncodeError:
        return values
    lengths = np.array([len(text) for text in values.tolist()], dtype=np.int64)
    if encoded.size and not (np.strings.str_len(encoded) == lengths).all():
        return values  # a trailing NUL, which bytes cannot hold
    return encoded


def join_groups(values: TextArray, starts: IntArray, separator: str = "") -> list[str]:
    """Concatenate consecutive runs of ``values`` (groups begin at ``starts``)."""
    listed = values.tolist()  # slices of one list: np.split makes an array of every group
    edges = [0, *starts[1:].tolist(), len(listed)]
    return [separator.join(listed[a:b]) for a, b in itertools.pairwise(edges)]


def join_rows(values: IntArray, width: int) -> TextArray | AsciiArray:
    """Each row's integers as zero-padded fields, concatenated (as ASCII bytes when every
    value is non-negative and fits ``width`` digits)."""
    n_rows, n_fields = values.shape
    if values.size and values.min() >= 0 and width <= 18 and values.max() < 10**width:
        fields = _digits(values.reshape(-1).astype(np.int64), width)
        return fields.view(f"S{width * n_fields}").reshape(n_rows)
    digits = np.char.zfill(values.astype(str), width)
    return np.array(["".join(row) for row in digits.tolist()], dtype=object)


def text_array(values: Column, n_rows: int) -> pd.api.extensions.ExtensionArray:
    """``pd.array(values, dtype="string")`` (a single value repeated ``n_rows`` times), built
    as Arrow ``large_string`` directly: pandas checks and converts value by value first."""
    if pd.StringDtype().storage != "pyarrow":  # pandas' own choice of storage decides
        if isinstance(values, str):
            return pd.array([values], dtype="string").repeat(n_rows)
        return pd.array(values.astype(np.str_) if values.dtype.kind == "S" else values, "string")
    if isinstance(values, str):
        encoded = values.encode("utf-8")
        offsets = np.arange(n_rows + 1, dtype=np.int64) * len(encoded)
        text = pa.LargeStringArray.from_buffers(
            n_rows, pa.py_buffer(offsets), pa.py_buffer(encoded * n_rows)
        )
    elif values.dtype.kind == "S":
        text = _ascii_text(cast(AsciiArray, values))
    else:
        text = pa.array(values, type=pa.large_string())
    return pd.arrays.ArrowStringArray(pa.chunked_array([text]))


def _ascii_text(values: AsciiArray) -> pa.LargeStringArray:
    """ASCII bytes as Arrow text: the array's own bytes when every value fills its width."""
    width = values.dtype.itemsize
    if values.size and not (np.strings.str_len(values) == width).all():
        return pa.array(values.astype(np.str_), type=pa.large_string())
    offsets = np.arange(values.size + 1, dtype=np.int64) * width
    return pa.LargeStringArray.from_buffers(
        values.size, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(values).tobytes())
    )


def format_distinct(values: IntArray, text_of: Callable[[int], str]) -> TextArray:
    """``text_of`` of every value, called once per distinct value."""
    distinct, where = np.unique(values, return_inverse=True)
    return np.array([text_of(value) for value in distinct.tolist()], dtype=object)[where]


def pack_groups(
    slots: TextArray | AsciiArray, starts: IntArray, width: int, n_slots: int
) -> TextArray | AsciiArray:
    """Each group's ``slots`` concatenated and blank-filled to ``n_slots`` slots of ``width``
    characters: ``"".join(group).ljust(n_slots * width)`` for every group. As ASCII bytes,
    from one byte matrix, when every slot is ``width`` ASCII characters and no group has
    more than ``n_slots``; as text otherwise."""
    n_groups, n_values = starts.size, slots.size
    group = np.repeat(np.arange(n_groups), np.diff(np.append(starts, n_values)))
    position = np.arange(n_values) - starts[group]
    fixed = _ascii_of_width(slots, width)
    if fixed is None or (n_values and position.max() >= n_slots):
        joined = join_groups(as_text(slots), starts)
        return np.array([text.ljust(n_slots * width) for text in joined], dtype=object)
    packed = np.full((n_groups, n_slots), b" " * width, dtype=f"S{width}")
    packed[group, position] = fixed
    return packed.view(f"S{n_slots * width}").ravel()


def _ascii_of_width(values: TextArray | AsciiArray, width: int) -> AsciiArray | None:
    """``values`` as ``width``-byte strings, or None unless each is ``width`` ASCII
    characters."""
    try:
        fixed = values.astype(f"S{width + 1}")  # one byte more: a longer value shows
    except UnicodeEncodeError:
        return None
    if fixed.size and not (np.strings.str_len(fixed) == width).all():
        return None
    return fixed.astype(f"S{width}")


def as_text(values: TextArray | AsciiArray) -> TextArray:
    """ASCII bytes (or text) as text."""
    if values.dtype.kind == "S":
        return cast(TextArray, values.astype(np.str_).astype(object))
    return cast(TextArray, values)


def stack_text(rows: list[TextArray | AsciiArray]) -> TextArray | AsciiArray:
    """``np.stack(rows)``: as bytes if every row is bytes, else as text."""
    if all(row.dtype.kind == "S" for row in rows):
        return cast(AsciiArray, np.stack(rows))
    return cast(TextArray, np.stack([as_text(row) for row in rows]))
