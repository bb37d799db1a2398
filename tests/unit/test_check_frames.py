"""The check frames' shortcuts answer what their plain pandas definitions answer."""

from __future__ import annotations

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from data_checks.frames import repeated_rows, text_isin

# Few distinct values (blank and missing among them), so that rows and keys repeat.
_CELL = st.sampled_from(["01", "1", "", " ", None, "ａ"])
_ROWS = st.lists(st.tuples(_CELL, _CELL, _CELL), max_size=15)


def _table(rows: list[tuple[str | None, ...]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["race", "umaban", "odds"], dtype="string")


@given(_ROWS)
def test_repeated_rows_are_the_exact_copies(rows: list[tuple[str | None, ...]]) -> None:
    """Comparing whole rows only where the key repeats finds every copy of an earlier row."""
    table = _table(rows)
    expected = pd.Series(table.duplicated(keep="first").to_numpy(), index=table.index)
    pd.testing.assert_series_equal(repeated_rows(table, ["race", "umaban"]), expected)


@given(st.lists(_CELL, max_size=12), st.lists(_CELL, max_size=12))
def test_text_isin_is_pandas_isin(column: list[str | None], values: list[str | None]) -> None:
    """Membership of text, missing values included, is pandas' answer."""
    text = pd.Series(column, dtype="string", name="race_id")
    for given_values in (pd.Series(values, dtype="string"), pd.Index(values, dtype="string")):
        pd.testing.assert_series_equal(text_isin(text, given_values), text.isin(given_values))
