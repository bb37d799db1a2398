"""The simulator's fixed-width text builders give the text of the plain Python (and pandas,
and codec) spellings they replace, value for value."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from raceday.codec import encode_count
from raceday.simulate.text import (
    as_ascii,
    as_text,
    ascii_int,
    ascii_soha,
    ascii_tenths,
    clip_text,
    encode_float_tenths,
    encode_int,
    encode_soha,
    format_distinct,
    join_rows,
    pack_groups,
    pad,
    stack_text,
    text_array,
)

TEXT = st.text(alphabet=st.sampled_from("09 AZ-+\u3000ａ０竜\u00e9"), max_size=6)


@given(st.lists(TEXT, max_size=30))
def test_text_array_is_pandas_string_array(values: list[str]) -> None:
    """An array of text is ``pd.array(values, dtype="string")``: same dtype, same values."""
    built = text_array(np.array(values, dtype=object), len(values))
    expected = pd.array(np.array(values, dtype=object), dtype="string")
    assert built.dtype == expected.dtype
    pd.testing.assert_extension_array_equal(built, expected)


@given(TEXT, st.integers(0, 40))
def test_one_value_fills_its_column(value: str, n_rows: int) -> None:
    """A single value repeated is ``pd.array([value], dtype="string").repeat(n_rows)``."""
    built = text_array(value, n_rows)
    expected = pd.array([value], dtype="string").repeat(n_rows)
    pd.testing.assert_extension_array_equal(built, expected)


@given(st.lists(st.integers(0, 10**12), max_size=30), st.integers(1, 8))
def test_encode_int_is_the_codecs_encode_count(values: list[int], width: int) -> None:
    """Large values (past the lookup table) are zero-padded as the codec pads them."""
    whole = np.array(values, dtype=np.int64)
    expected = encode_count(pd.Series(whole, dtype="int64"), width).to_numpy(dtype=object)
    assert encode_int(whole, width).tolist() == expected.tolist()


@given(st.lists(st.integers(-100, 3000), max_size=30))
def test_format_distinct_formats_every_value(values: list[int]) -> None:
    """Formatting once per distinct value gives each value its own text, in order."""
    minutes = np.array(values, dtype=np.int64)
    text = format_distinct(minutes, lambda m: "{:02d}{:02d}".format(*divmod(m, 60)))
    assert text.tolist() == [f"{m // 60:02d}{m % 60:02d}" for m in values]


@given(st.lists(st.lists(TEXT, min_size=1, max_size=6), max_size=8), st.integers(1, 5))
def test_pack_groups_joins_and_fills_each_group(groups: list[list[str]], n_slots: int) -> None:
    """Each group joined and blank-filled to ``n_slots`` slots of 3, whatever the values (the
    byte matrix for ASCII slots of the width, the join otherwise, groups longer than
    ``n_slots`` included)."""
    for values in (groups, [[value.ljust(3)[:3] for value in group] for group in groups]):
        flat = np.array([value for group in values for value in group], dtype=object)
        starts = np.cumsum([0] + [len(group) for group in values[:-1]]).astype(np.int64)
        if not values:
            starts = np.zeros(0, np.int64)
        for slots in (flat, as_ascii(flat)):
            packed = as_text(pack_groups(slots, starts, width=3, n_slots=n_slots))
            assert packed.tolist() == ["".join(group).ljust(3 * n_slots) for group in values]


@given(st.lists(st.integers(-50, 10**9), max_size=30), st.integers(1, 8))
def test_ascii_int_is_encode_int_as_bytes(values: list[int], width: int) -> None:
    """The bytes variant spells each value as :func:`encode_int` does, and a frame column of
    it is the column of that text."""
    whole = np.array(values, dtype=np.int64)
    text = encode_int(whole, width)
    assert [value.decode("ascii") for value in ascii_int(whole, width).tolist()] == text.tolist()
    pd.testing.assert_extension_array_equal(
        text_array(ascii_int(whole, width), whole.size), text_array(text, whole.size)
    )


@given(st.lists(st.one_of(st.floats(0, 599.9), st.just(float("nan"))), max_size=30))
def test_ascii_tenths_and_soha_are_their_text_as_bytes(values: list[float]) -> None:
    """Tenths and race times as bytes: the text of :func:`encode_float_tenths` and
    :func:`encode_soha` (NaN included)."""
    seconds = np.array(values, dtype=np.float64)
    for as_bytes, spelled in (
        (ascii_tenths(seconds, 4), encode_float_tenths(seconds, 4)),
        (ascii_soha(seconds), encode_soha(seconds)),
    ):
        assert [value.decode("ascii") for value in as_bytes.tolist()] == spelled.tolist()


def test_bytes_of_uneven_widths_make_the_same_column() -> None:
    """Bytes that do not all fill their width (no fixed layout to take whole) still give
    each value's text."""
    uneven = np.array([b"7", b"123", b""], dtype="S3")
    expected = pd.array(["7", "123", ""], dtype="string")
    pd.testing.assert_extension_array_equal(text_array(uneven, 3), expected)


@given(st.lists(st.one_of(TEXT, st.just("ab\x00")), max_size=20))
def test_as_ascii_keeps_every_value(values: list[str]) -> None:
    """Text as ASCII bytes (or as it was, when some value is not ASCII or ends in a NUL) makes
    the same frame column."""
    text = np.array(values, dtype=object)
    pd.testing.assert_extension_array_equal(
        text_array(as_ascii(text), text.size), pd.array(text, dtype="string")
    )


@given(st.lists(TEXT, max_size=20), st.integers(0, 8))
def test_pad_and_clip_are_str_ljust_and_slice(values: list[str], width: int) -> None:
    """Padding and clipping: each value's ``ljust`` (with a full-width blank) and ``[:width]``."""
    text = np.array(values, dtype=object)
    assert pad(text, width, "\u3000").tolist() == [v.ljust(width, "\u3000") for v in values]
    assert clip_text(text, width).tolist() == [v[:width] for v in values]


def test_stacked_rows_are_bytes_only_when_all_are() -> None:
    """Rows of bytes stack as bytes; with a row of text among them, as text."""
    as_bytes = np.array([b"ab", b"cd"])
    as_str = np.array(["ef", "ｇ"], dtype=object)
    assert stack_text([as_bytes, as_bytes]).dtype.kind == "S"
    mixed = stack_text([as_bytes, as_str])
    assert mixed.dtype == object
    assert mixed.tolist() == [["ab", "cd"], ["ef", "ｇ"]]


@given(
    st.lists(st.lists(st.integers(-5, 20_000), min_size=3, max_size=3), min_size=1, max_size=10),
    st.integers(1, 5),
)
def test_join_rows_zero_pads_and_joins_each_row(rows: list[list[int]], width: int) -> None:
    """A row's fields zero-padded to ``width`` (wider values whole) and joined."""
    values = np.array(rows, dtype=np.int64).reshape(len(rows), 3)
    expected = ["".join(str(v).zfill(width) for v in row) for row in rows]
    assert as_text(join_rows(values, width)).tolist() == expected
