"""Calibration counts per probability bin: edges, additivity and the calibration error."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from raceday.model.calibration import calibration_counts, calibration_error, calibration_table


def test_bins_are_closed_below_and_the_last_bin_holds_one() -> None:
    """p on an edge goes to the bin above it; p == 1 stays in the last bin; NaN is ignored."""
    p = pd.Series([0.0, 0.025, 0.024, 1.0, 0.6, np.nan])
    won = pd.Series([False, True, False, True, False, False])
    counts = calibration_counts(p, won).set_index("bin_lower")
    assert counts.loc[0.0, "runners"] == 2 and counts.loc[0.0, "wins"] == 0
    assert counts.loc[0.025, "runners"] == 1 and counts.loc[0.025, "wins"] == 1
    assert counts.loc[0.6, "runners"] == 2 and counts.loc[0.6, "wins"] == 1
    assert counts["runners"].sum() == 5


def test_counts_of_two_days_combine_into_the_counts_of_both() -> None:
    """Summing stored daily counts gives exactly the calibration of the pooled runners."""
    rng = np.random.default_rng(3)
    p = pd.Series(rng.uniform(0, 0.5, 400))
    won = pd.Series(rng.uniform(size=400) < p)
    first = calibration_counts(p[:150], won[:150])
    second = calibration_counts(p[150:], won[150:])
    pooled = calibration_table(calibration_counts(p, won))
    combined = calibration_table(pd.concat([first, second]))
    pd.testing.assert_frame_equal(combined, pooled)


def test_calibration_error_is_zero_when_win_rates_match_and_large_when_not() -> None:
    """ECE is the runner-weighted gap between mean p and the observed win rate."""
    p = pd.Series([0.2] * 10 + [0.5] * 4)
    calibrated = pd.Series([True] * 2 + [False] * 8 + [True] * 2 + [False] * 2)
    assert calibration_error(calibration_counts(p, calibrated)) == pytest.approx(0.0)
    overconfident = pd.Series([False] * 14)
    expected = (10 * 0.2 + 4 * 0.5) / 14
    assert calibration_error(calibration_counts(p, overconfident)) == pytest.approx(expected)


def test_no_runners_gives_an_empty_table_and_no_error() -> None:
    """Nothing to calibrate: an empty table and NaN, never a crash."""
    empty = calibration_counts(pd.Series([], dtype="float64"), pd.Series([], dtype=bool))
    assert empty.empty and calibration_table(empty).empty
    assert np.isnan(calibration_error(empty))
