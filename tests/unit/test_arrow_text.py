"""Arrow's answers for pandas text are pandas' own, on any text a stage may be handed."""

from __future__ import annotations

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from raceday.arrow_text import as_chunked_text, is_arrow_text, text_contains, text_isin

# Few distinct values (so that values repeat), missing and blank among them, full-width and
# Japanese text, and any short text now and then.
_CELL = st.one_of(
    st.sampled_from(["202611204401", "1", "01", "", " ", "ａ", "ウマ", "馬", None]),
    st.text(max_size=3),
)
# How pandas may hold text: Arrow text with <NA> or with NaN for missing, Python text, objects.
_DTYPES = ("string", "str", "string[python]", "object")


@st.composite
def texts(draw: st.DrawFn) -> pd.Series:
    """Text of any of :data:`_DTYPES`, concatenated from up to 3 frames' columns (Arrow text
    is then several chunks, empty ones included), in an index out of order."""
    dtype = draw(st.sampled_from(_DTYPES))
    parts = draw(st.lists(st.lists(_CELL, max_size=6), min_size=1, max_size=3))
    text = pd.concat([pd.Series(part, dtype=dtype) for part in parts], ignore_index=True)
    text.index = draw(st.permutations(range(len(text))))
    return text.rename("horse_id")


@given(texts(), texts(), st.booleans())
def test_text_isin_is_pandas_isin(text: pd.Series, values: pd.Series, as_index: bool) -> None:
    """Membership is pandas' answer, its index, name and dtype included: missing values found
    where the values have one, empty sets, repeats, chunks, any dtype on either side, the
    values a column or an index."""
    given_values = pd.Index(values) if as_index else values
    pd.testing.assert_series_equal(text_isin(text, given_values), text.isin(given_values))


def test_concatenated_arrow_text_is_taken_as_its_chunks() -> None:
    """Text concatenated from several columns is Arrow text of several chunks (what the
    properties above are handed), taken as those chunks (no value-by-value copy)."""
    for dtype in ("string", "str"):
        parts = [pd.Series(part, dtype=dtype) for part in (["01", "2"], [None], [], ["x", " 3"])]
        text = pd.concat(parts, ignore_index=True)
        assert is_arrow_text(text) and is_arrow_text(pd.Index(text))
        chunked = as_chunked_text(text)
        assert chunked.num_chunks == 4
        assert chunked.to_pylist() == ["01", "2", None, "x", " 3"]
    assert as_chunked_text(pd.Series(["a", None], dtype="string")).to_pylist() == ["a", None]
    assert not is_arrow_text(pd.Series(["a"], dtype="string[python]"))
    assert not is_arrow_text(pd.Series(["a"], dtype=object))


def test_text_isin_answers_for_a_value_missing_from_the_set() -> None:
    """A missing value is in a set only when the set has one (``<NA>`` and NaN alike)."""
    text = pd.Series(["ウマ", None, ""], dtype="string")
    twice = pd.Series(["ウマ", "ウマ"], dtype="str")
    assert text_isin(text, twice).tolist() == [True, False, False]
    assert text_isin(text, pd.Index([None, ""], dtype="str")).tolist() == [False, True, True]
    assert text_isin(text, pd.Series([], dtype="string")).tolist() == [False, False, False]


@given(texts(), st.sampled_from(["\x00", "馬", " ", "01", "a"]))
def test_text_contains_is_pandas_contains(text: pd.Series, part: str) -> None:
    """Whether a part is held anywhere is pandas' answer (missing values hold nothing)."""
    expected = bool(text.astype("string").str.contains(part, regex=False).any())
    assert text_contains(text, part) is expected
