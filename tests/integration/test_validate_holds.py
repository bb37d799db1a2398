"""The input suites' pandas pass (``validate_day(..., gx_result=False)``, a backfill's case)
against Great Expectations itself: on every case of the bad-input corpus, and on hostile frames
for each expectation kind the pass decides, what is kept, quarantined and recorded is what GX's
run gives, and a refused input is refused with the same line."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

import data_checks.derived as derived
from data_checks.gx_runner import Check, SuiteOutcome, run_suite
from data_checks.holds import all_hold
from data_checks.records import validation_rows
from data_checks.suites import SOHA_TIME_PATTERN, venue_codes_for, venue_in_scope_pattern
from data_checks.validate import (
    DayFrames,
    Phase,
    ValidatedDay,
    day_frames,
    judge_day,
    validate_day,
)
from raceday.errors import RacedayError
from raceday.sources.base import RawDay
from raceday.sources.files import FilesSource
from tasks.validate import card_view
from tests.data.make_bad_inputs import CASES, DAY, Case, make_corpus, simulated

HYPOTHESIS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@contextmanager
def gx_always() -> Iterator[None]:
    """The suites as before the pandas pass: GX runs on every frame."""
    with patch.object(derived, "all_hold", lambda _frame, _checks: False):
        yield


@contextmanager
def gx_run_once_per_frame() -> Iterator[None]:
    """GX's outcome of a suite on a frame, kept for a second judgement of the same frames (the
    same objects): where the pandas pass defers to GX, the second run would be the first again
    (``run_suite`` is deterministic); where it decides, GX's outcome is what it is judged on."""
    kept: dict[tuple[str, int, int], tuple[pd.DataFrame, list[Check], SuiteOutcome]] = {}

    def run_once(suite_name: str, frame: pd.DataFrame, checks: list[Check]) -> SuiteOutcome:
        key = (suite_name, id(frame), id(checks))
        run = kept.get(key)
        if run is None or run[0] is not frame or run[1] is not checks:
            run = (frame, checks, run_suite(suite_name, frame, checks))  # held: ids stay unique
            kept[key] = run
        return run[2]

    with patch.object(derived, "run_suite", run_once):
        yield


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Case]:
    return make_corpus(tmp_path_factory.mktemp("bad_inputs_holds"))


def judged(raw: RawDay, phase: Phase) -> RawDay:
    """What the phase validates as the validate stage hands it over: the card's view of
    ``raw`` (``tasks.validate.card_view``), or ``raw`` itself for results."""
    from config import load_settings

    return card_view(raw, load_settings().live.card_timing()) if phase == "card" else raw


def validated(raw: RawDay, phase: Phase) -> ValidatedDay | str:
    """The phase's validation as the validate stage runs it, or the line of its refusal."""
    from config.reference import circuits

    try:
        return validate_day(
            judged(raw, phase),
            phase=phase,
            venue_codes=venue_codes_for(circuits()),
            as_of=DAY,
            results=raw if phase == "card" else None,
            gx_result=False,
        )
    except RacedayError as error:
        return str(error)


def frames_of(raw: RawDay, phase: Phase) -> DayFrames | str:
    """What the phase's suites judge, built as :func:`validated` builds it (``day_frames``), or
    the line of its refusal."""
    from config.reference import circuits

    try:
        return day_frames(
            judged(raw, phase),
            phase=phase,
            venue_codes=venue_codes_for(circuits()),
            as_of=DAY,
            results=raw if phase == "card" else None,
        )
    except RacedayError as error:
        return str(error)


def judgement(frames: DayFrames) -> ValidatedDay | str:
    """``judge_day`` as ``validated`` runs it (``gx_result=False``), or the line of its refusal."""
    try:
        return judge_day(frames, gx_result=False)
    except RacedayError as error:
        return str(error)


def assert_same(after: ValidatedDay | str, before: ValidatedDay | str) -> None:
    if isinstance(before, str) or isinstance(after, str):
        assert after == before
        return
    for name in ("races", "runners", "odds", "quarantine"):
        assert_frame_equal(getattr(after, name), getattr(before, name), obj=name)
    results = [
        validation_rows(day.outcomes, "run", DAY).drop(columns="validated_at")
        for day in (after, before)
    ]
    assert_frame_equal(results[0], results[1], obj="validation results")
    assert [o.failed_checks for o in after.outcomes] == [o.failed_checks for o in before.outcomes]


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_validated_without_gx_as_with_gx(name: str, corpus: dict[str, Case]) -> None:
    """Each corpus case, card and results: the same rows, quarantine, results and refusals.
    Both judgements of a phase judge the same frames (``validate_day`` is ``judge_day`` of
    ``day_frames``: built once, never changed), as GX's run of a suite the pass defers to is
    the same run in both (:func:`gx_run_once_per_frame`); an input refused before any suite
    runs (``day_frames``) is refused alike by both."""
    case = corpus[name]
    try:
        raw = FilesSource(case.directory).read_days(case.expected.start, case.expected.end)
    except RacedayError:
        return  # refused by the source: validation never runs
    for phase in ("card", "results"):
        frames = frames_of(raw, phase)
        if isinstance(frames, str):
            continue  # refused before any suite ran: no judgement to compare
        with gx_run_once_per_frame():
            with gx_always():
                before = judgement(frames)
            after = judgement(frames)
        assert_same(after, before)


def test_a_clean_day_skips_gx() -> None:
    """A clean simulated day's suites are passed by pandas alone, card and results."""
    raw = simulated(DAY)
    with patch.object(derived, "run_suite", side_effect=AssertionError("GX ran")):
        for phase in ("card", "results"):
            day = validated(raw, phase)
            assert isinstance(day, ValidatedDay) and day.quarantine.empty
            assert all(outcome.success for outcome in day.outcomes)


# --- each kind the pass decides, against GX on hostile columns --------------------------------

NUMBERS = st.sampled_from([0, 1, 2, 3, 17, 18, 19, -1, 2**60])
FLOATS = st.sampled_from([0.0, 1.0, 1.5, 18.0, 29.9, 30.0, 54.0, np.nan, np.inf, -np.inf])
TEXT = st.sampled_from(["44", "30", "83", "4", "444", "", " 44", "ab", "0130", "0160", "1O5"])


@st.composite
def numeric_column(draw: st.DrawFn, n_rows: int) -> pd.Series:
    """Integers or floats, in numpy or nullable dtypes, with missing values (and NaN)."""
    kind = draw(st.sampled_from(["int64", "Int64", "float64", "Float64"]))
    if kind == "int64":
        return pd.Series(draw(st.lists(NUMBERS, min_size=n_rows, max_size=n_rows)), dtype=kind)
    if kind == "Int64":
        values = draw(st.lists(st.one_of(NUMBERS, st.none()), min_size=n_rows, max_size=n_rows))
        return pd.Series(pd.array(values, dtype="Int64"))
    floats = draw(st.lists(FLOATS, min_size=n_rows, max_size=n_rows))
    if kind == "float64":
        return pd.Series(floats, dtype="float64")
    column = pd.Series(pd.array(floats, dtype="Float64"))  # NaN becomes missing here...
    if draw(st.booleans()):
        column = column / pd.Series(pd.array([1.0] * (n_rows - 1) + [0.0], dtype="Float64"))
    return column  # ...and x / 0 gives inf, 0 / 0 a NaN that is not missing


@st.composite
def text_column(draw: st.DrawFn, n_rows: int) -> pd.Series:
    values = draw(st.lists(st.one_of(TEXT, st.none()), min_size=n_rows, max_size=n_rows))
    dtype = draw(st.sampled_from(["string", "string[pyarrow]", "object"]))
    return pd.Series(values, dtype=dtype)


def same_verdict(frame: pd.DataFrame, check: Check) -> None:
    """Where the pass says the check holds, GX finds it met (the pass may defer to GX)."""
    frame = frame.assign(row_id=np.arange(len(frame)))
    if all_hold(frame, [check]):
        assert run_suite("holds", frame, [check]).success


@HYPOTHESIS
@given(st.data(), st.integers(1, 6), st.booleans(), st.booleans())
def test_pair_greater_than_holds_only_where_gx_agrees(
    data: st.DataObject, n_rows: int, or_equal: bool, plausible: bool
) -> None:
    import great_expectations.expectations as gxe

    column_b = data.draw(numeric_column(n_rows))
    column_a = column_b + 1 if plausible else data.draw(numeric_column(n_rows))
    check = Check(
        "pair",
        lambda: gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="a", column_B="b", or_equal=or_equal, ignore_row_if="either_value_is_missing"
        ),
        "test",
    )
    same_verdict(pd.DataFrame({"a": column_a, "b": column_b}), check)


@HYPOTHESIS
@given(st.data(), st.integers(1, 6))
def test_between_holds_only_where_gx_agrees(data: st.DataObject, n_rows: int) -> None:
    import great_expectations.expectations as gxe

    check = Check(
        "between",
        lambda: gxe.ExpectColumnValuesToBeBetween(column="a", min_value=1, max_value=18),
        "test",
    )
    same_verdict(pd.DataFrame({"a": data.draw(numeric_column(n_rows))}), check)


@HYPOTHESIS
@given(st.data(), st.integers(1, 6), st.sampled_from(["venue", "soha"]))
def test_unique_and_regex_hold_only_where_gx_agrees(
    data: st.DataObject, n_rows: int, pattern: str
) -> None:
    import great_expectations.expectations as gxe

    regex = venue_in_scope_pattern(["44", "30"]) if pattern == "venue" else SOHA_TIME_PATTERN
    checks = [
        Check("unique", lambda: gxe.ExpectColumnValuesToBeUnique(column="a"), "test"),
        Check("regex", lambda: gxe.ExpectColumnValuesToMatchRegex(column="a", regex=regex), "t"),
    ]
    frame = pd.DataFrame({"a": data.draw(text_column(n_rows))})
    for check in checks:
        same_verdict(frame, check)


def test_clean_columns_are_vouched_for() -> None:
    """The pass does decide the clean case (else it would save nothing)."""
    import great_expectations.expectations as gxe

    frame = pd.DataFrame(
        {
            "a": pd.array([2, 3, None], dtype="Int64"),
            "b": pd.array([1.0, 3.0, 1.0], dtype="Float64"),
            "code": pd.Series(["44", "30", None], dtype="string"),
        }
    )
    checks: list[Any] = [
        Check(
            "pair",
            lambda: gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="a", column_B="b", or_equal=True, ignore_row_if="either_value_is_missing"
            ),
            "test",
        ),
        Check("unique", lambda: gxe.ExpectColumnValuesToBeUnique(column="code"), "test"),
        Check(
            "regex",
            lambda: gxe.ExpectColumnValuesToMatchRegex(column="code", regex=r"^\d{2}$"),
            "test",
        ),
        Check(
            "between",
            lambda: gxe.ExpectColumnValuesToBeBetween(column="a", min_value=1, max_value=18),
            "test",
        ),
    ]
    assert all_hold(frame, checks)
