"""The check frames' shortcuts answer what their plain pandas definitions answer."""

from __future__ import annotations

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from data_checks.frames import repeated_rows

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


def test_a_scratched_horses_odds_marks_are_no_odds_not_unparsable() -> None:
    """JV-Data writes a scratched horse's win odds ``----`` (取消 before sale) or ``****`` (after)
    and its popularity ``--`` / ``**``: no odds, as ``0000``, not a corrupt field that sets the
    race aside; other text in the odds field still is."""
    from data_checks.frames import RUNNER_DIGIT_FIELDS, unparsable_fields

    raw = pd.DataFrame(
        {
            "tansho_odds": ["----", "****", "0000", "0216", "12.5", "-*-*"],
            "tansho_ninkijun": ["--", "**", "00", "03", "01", "01"],
        },
        dtype="string",
    )
    found = unparsable_fields(raw, RUNNER_DIGIT_FIELDS).tolist()
    assert found == ["", "", "", "", "tansho_odds", "tansho_odds"]
