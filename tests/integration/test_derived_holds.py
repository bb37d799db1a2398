"""The derived suites' pandas pass (``data_checks.holds``) against Great Expectations itself: on
hostile frames a suite checked without GX's result stores exactly what GX's run stores (the
rows kept, the quarantine, the validation results), and clean frames skip GX."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

import data_checks.derived as derived
from data_checks.derived import CheckedFrame, check_first3f, check_predictions
from data_checks.gx_runner import Check
from data_checks.holds import all_hold
from data_checks.records import validation_rows
from raceday.staking.kelly import StakingPolicy

DAY = pd.Timestamp("2026-11-20")
HOSTILE_FLOATS = st.sampled_from(
    [
        *(0.0, 1e-12, 0.05, 0.3, 0.5, 0.999, 1.0, 1.5, -0.1, np.nan, np.inf, -np.inf),
        *(20.0, 29.99, 30.0, 36.5, 45.0, 45.01, 48.0, 60.0, 100.0, 1e6),
    ]
)
METHODS = st.sampled_from(
    [
        *("actual", "baseline", "leader", "ml", "pace", "adjusted", "ratio", "base"),
        *("distance_ratio", "unavailable", "not_started", "guess"),
    ]
)
PLAUSIBLE_PROBABILITIES = st.floats(0.01, 0.99)
PLAUSIBLE_FIRST3F = st.floats(30.0, 36.0)  # within every method's bounds at 600 m
HYPOTHESIS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@contextmanager
def gx_always() -> Iterator[None]:
    """The suites as before the pandas pass: GX runs on every frame."""
    with patch.object(derived, "all_hold", lambda _frame, _checks: False):
        yield


def stored(checked: CheckedFrame) -> dict[str, Any]:
    """What a stage stores of a checked frame: its rows, quarantine and validation results."""
    results = validation_rows([checked.outcome], "run", DAY.date()).drop(columns="validated_at")
    return {
        "valid": checked.valid,
        "quarantine": checked.quarantine,
        "results": results,
        "failed": checked.outcome.failed_checks,
    }


def assert_same_stored(check: Callable[[], CheckedFrame]) -> None:
    with gx_always():
        before = stored(check())
    after = stored(check())
    for name in ("valid", "quarantine", "results"):
        assert_frame_equal(after[name], before[name], check_index_type=False, obj=name)
    assert after["failed"] == before["failed"]


@st.composite
def runner_keys(draw: st.DrawFn, n_rows: int) -> tuple[list[Any], list[Any]]:
    """Race ids and horse numbers: unique, or with duplicates and missing parts."""
    if draw(st.booleans()):
        races = 1 if n_rows < 4 else 2  # two runners a race at least
        return [f"r{row % races}" for row in range(n_rows)], list(range(1, n_rows + 1))
    race_ids = st.lists(st.sampled_from(["r1", "r2", "r3", None]), min_size=n_rows,
                        max_size=n_rows)  # fmt: skip
    umaban = st.lists(st.sampled_from([1, 2, 3, 4, None]), min_size=n_rows, max_size=n_rows)
    return draw(race_ids), draw(umaban)


@st.composite
def hostile_estimates(draw: st.DrawFn) -> pd.DataFrame:
    n_rows = draw(st.integers(1, 8))
    race_ids, umaban = draw(runner_keys(n_rows))
    hostile = draw(st.booleans())  # else every value plausible (the fast path's case)
    values = HOSTILE_FLOATS if hostile else PLAUSIBLE_FIRST3F
    segments = st.sampled_from([400, 600, 800]) if hostile else st.just(600)
    methods = METHODS if hostile else st.sampled_from(["actual", "adjusted", "pace", "leader"])
    return pd.DataFrame(
        {
            "race_id": pd.array(race_ids, dtype="string"),
            "umaban": pd.array(umaban, dtype="Int64"),
            "race_date": DAY,
            "first3f_s": draw(st.lists(values, min_size=n_rows, max_size=n_rows)),
            "first_segment_m": draw(st.lists(segments, min_size=n_rows, max_size=n_rows)),
            "method": pd.array(
                draw(st.lists(methods, min_size=n_rows, max_size=n_rows)), dtype="string"
            ),
        }
    )


@st.composite
def hostile_predictions(draw: st.DrawFn) -> pd.DataFrame:
    n_rows = draw(st.integers(2, 8))
    race_ids, umaban = draw(runner_keys(n_rows))
    hostile = draw(st.booleans())  # else plausible values, most races summing to 1
    versions = st.sampled_from(["gbm-1", "gbm-2"]) if hostile else st.just("gbm-1")
    market, final = (HOSTILE_FLOATS if hostile and draw(st.booleans()) else
                     PLAUSIBLE_PROBABILITIES for _ in range(2))  # fmt: skip
    predictions = pd.DataFrame(
        {
            "model_version": draw(st.lists(versions, min_size=n_rows, max_size=n_rows)),
            "race_id": race_ids,
            "umaban": pd.array(umaban, dtype="Int64"),
            "race_date": DAY,
            "p_market": draw(st.lists(market, min_size=n_rows, max_size=n_rows)),
            "p_model": np.nan,
            "p_final": draw(st.lists(final, min_size=n_rows, max_size=n_rows)),
        }
    )
    if not hostile:
        keys = [predictions["model_version"], predictions["race_id"].fillna("none")]
        sums = predictions.groupby(keys)["p_final"].transform("sum")
        predictions["p_final"] = predictions["p_final"] / sums
    return predictions


def clean_predictions() -> pd.DataFrame:
    """Two races whose probabilities sum to 1."""
    return pd.DataFrame(
        {
            "model_version": "gbm-1",
            "race_id": ["r1", "r1", "r2", "r2", "r2"],
            "umaban": [1, 2, 1, 2, 3],
            "race_date": DAY,
            "p_market": [0.5, 0.5, 0.2, 0.3, 0.5],
            "p_model": np.nan,
            "p_final": [0.25, 0.75, 0.2, 0.3, 0.5],
        }
    )


@HYPOTHESIS
@given(hostile_estimates())
def test_first3f_checked_without_gx_stores_what_gx_does(estimates: pd.DataFrame) -> None:
    """Estimates of every method, value and key: the same rows kept and set aside."""
    assert_same_stored(lambda: check_first3f(estimates, gx_result=False))


@HYPOTHESIS
@given(hostile_predictions())
def test_predictions_checked_without_gx_store_what_gx_does(predictions: pd.DataFrame) -> None:
    """Probabilities out of (0, 1), missing, infinite, not summing to 1, duplicated runners."""
    assert_same_stored(lambda: check_predictions(predictions, gx_result=False))


@HYPOTHESIS
@given(
    st.lists(st.sampled_from([0, 100, 150, 1_000, 50_000, 10**7, -100]), min_size=1, max_size=6),
    st.lists(HOSTILE_FLOATS, min_size=6, max_size=6),
)
def test_stakes_of_days_checked_without_gx_as_with_gx(stakes: list[int], odds: list[float]) -> None:
    """Stakes negative, off the 100-yen unit, over a cap, at odds below 1 or missing: the same
    verdict (a day-by-day check is needed or not) and the same outcome when none is."""
    n_rows = len(stakes)
    bets = pd.DataFrame(
        {
            "race_id": [f"r{i % 2}" for i in range(n_rows)],
            "umaban": range(1, n_rows + 1),
            "race_date": DAY,
            "stake_yen": stakes,
            "odds_at_bet": odds[:n_rows],
            "edge": [odd * 0.5 if np.isfinite(odd) else odd for odd in odds[:n_rows]],
        }
    )
    policy = StakingPolicy()
    with gx_always():
        before = derived.check_stakes_of_days([(bets, 1_000_000)], policy)
    after = derived.check_stakes_of_days([(bets, 1_000_000)], policy)
    assert (after is None) == (before is None)
    if after is not None and before is not None:
        assert_frame_equal(after[0].valid, before[0].valid)
        assert_frame_equal(
            validation_rows([after[0].outcome], "run", DAY.date()).drop(columns="validated_at"),
            validation_rows([before[0].outcome], "run", DAY.date()).drop(columns="validated_at"),
        )


def test_clean_predictions_skip_gx() -> None:
    """A clean frame is passed by pandas alone: GX is not run, nothing is set aside."""
    with patch.object(derived, "run_suite", side_effect=AssertionError("GX ran")):
        checked = check_predictions(clean_predictions(), gx_result=False)
    assert checked.quarantine.empty
    assert len(checked.valid) == 5
    assert checked.outcome.success and checked.outcome.expectations == 5


def test_a_failing_frame_runs_gx() -> None:
    """One probability of 1.0 fails a check: GX runs and names the race."""
    predictions = clean_predictions()
    predictions.loc[0, "p_final"] = 1.0
    checked = check_predictions(predictions, gx_result=False)
    assert "p_final_in_open_unit_interval" in checked.outcome.failed_checks
    assert checked.outcome.gx_result is not None


def test_gx_result_wanted_runs_gx() -> None:
    """With Data Docs (``gx_result``) a clean frame still gets GX's result."""
    assert check_predictions(clean_predictions()).outcome.gx_result is not None


def test_unknown_expectation_kinds_are_not_vouched_for() -> None:
    """An expectation kind the pandas pass does not know: not said to hold."""
    import great_expectations.expectations as gxe

    check = Check(
        "increasing", lambda: gxe.ExpectColumnValuesToBeIncreasing(column="umaban"), "test", "row"
    )
    assert not all_hold(clean_predictions(), [check])


def test_mostly_is_not_vouched_for() -> None:
    """An expectation that tolerates some failing rows (``mostly``): left to GX."""
    import great_expectations.expectations as gxe

    check = Check(
        "mostly",
        lambda: gxe.ExpectColumnValuesToNotBeNull(column="p_model", mostly=0.5),
        "test",
        "row",
    )
    assert not all_hold(clean_predictions(), [check])
