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


def test_a_long_shots_capped_odds_are_not_unparsable() -> None:
    """``99+`` (Hong Kong's display of odds of 99 or more) is a price, not a corrupt field: it set
    7 of a Hong Kong day's 10 races aside (fields_parse, then finisher_has_final_odds)."""
    from data_checks.frames import RUNNER_DIGIT_FIELDS, unparsable_fields

    raw = pd.DataFrame(
        {"tansho_odds": ["99+", "0990", "9+"], "tansho_ninkijun": ["14", "13", "12"]}
    )
    assert unparsable_fields(raw.astype("string"), RUNNER_DIGIT_FIELDS).tolist() == ["", "", ""]


def test_capped_final_odds_a_replay_stakes_on_are_not_malformed() -> None:
    """A replay without a snapshot sizes on the final odds: a ``99+`` there is 99.0 and a price,
    not a malformed field (``odds_malformed``), as ``12.5`` still is."""
    from data_checks.validate import ODDS_COLUMNS, betting_snapshot
    from raceday.sources.base import RawDay

    key = {"kaisai_nen": "2026", "kaisai_tsukihi": "0902", "keibajo_code": "G0", "race_bango": "01"}
    nvd_se = pd.DataFrame(
        [
            {**key, "umaban": "01", "tansho_odds": "99+", "tansho_ninkijun": "02"},
            {**key, "umaban": "02", "tansho_odds": "0012", "tansho_ninkijun": "01"},
        ],
        dtype="string",
    )
    results = RawDay(pd.DataFrame(), nvd_se, pd.DataFrame())
    odds = betting_snapshot(pd.DataFrame(columns=ODDS_COLUMNS), results)
    assert odds["win_odds"].tolist() == [99.0, 1.2]
    assert odds["odds_malformed"].tolist() == [False, False]
