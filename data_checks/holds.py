"""Whether every check of a suite holds on a frame, decided with pandas alone.

Great Expectations costs ≈ 0.3–0.5 s a suite run even on a clean frame (a chunk's 57,000
predictions or first-3F estimates, or its runners' input checks), almost all of it its own
machinery. A derived frame is nearly always clean, and so is most input (a backfill's days);
:func:`all_hold` answers that case with a few vectorised comparisons, and
says ``False`` (run GX) for anything it cannot vouch for: a failing row, an expectation kind
or option it does not know, a tested column that is missing or not plainly typed. So a
``True`` is only ever given where GX finds every expectation met (each kind below follows GX's
own rule: missing values are not tested, except by ``ExpectColumnValuesToNotBeNull``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_float_dtype, is_integer_dtype

from data_checks.gx_runner import Check

_PLAIN_OPTIONS = {"row_condition": None, "condition_parser": None}


def _plain(expectation: Any) -> bool:
    """True when the expectation tests every row in full (no ``mostly``, no row condition)."""
    if getattr(expectation, "mostly", 1) not in (None, 1, 1.0):
        return False
    return all(getattr(expectation, name, None) == value for name, value in _PLAIN_OPTIONS.items())


def _column(frame: pd.DataFrame, column: Any) -> pd.Series | None:
    """The tested column, when the expectation names one the frame has."""
    if not isinstance(column, str) or column not in frame.columns:
        return None
    return frame[column]


def _present_plain(values: pd.Series) -> pd.Series | None:
    """The present values, or None when they are mixed Python objects (GX's comparison of
    them is not ours to guess)."""
    present = values[values.notna()]
    if present.dtype == object and not all(isinstance(value, str) for value in present):
        return None
    return present


def _numeric(frame: pd.DataFrame, column: Any) -> pd.Series | None:
    """The column when it is numeric or boolean in a numpy dtype, or integer or float in a
    pandas nullable one (``Int64``, ``Float64``): what is compared exactly."""
    values = _column(frame, column)
    if values is None:
        return None
    if not isinstance(values.dtype, np.dtype):
        nullable = isinstance(values.dtype, pd.Int64Dtype | pd.Float64Dtype)
        return values if nullable else None
    if is_float_dtype(values.dtype) or is_integer_dtype(values.dtype) or is_bool_dtype(values):
        return values
    return None


def _present_floats(values: pd.Series) -> np.ndarray | None:
    """The present values as float64, or None when one of them is NaN all the same (a
    ``Float64`` column can hold NaN beside its missing values: GX would test it and fail it) or
    an integer too large to be compared exactly as a float."""
    present = values[values.notna()]
    floats: np.ndarray = present.to_numpy(dtype="float64")
    if np.isnan(floats).any():
        return None
    if is_integer_dtype(present.dtype) and len(present) and np.abs(floats).max() > 2**53:
        return None
    return floats


def _between_holds(frame: pd.DataFrame, expectation: Any) -> bool:
    values = _numeric(frame, expectation.column)
    low, high = expectation.min_value, expectation.max_value
    if values is None or (low is None and high is None):
        return False
    if any(bound is not None and not isinstance(bound, int | float) for bound in (low, high)):
        return False
    present = _present_floats(values)
    if present is None:
        return False
    within = np.ones(len(present), dtype=bool)
    if low is not None:
        within &= present > low if expectation.strict_min else present >= low
    if high is not None:
        within &= present < high if expectation.strict_max else present <= high
    return bool(within.all())


def _in_set_holds(frame: pd.DataFrame, expectation: Any) -> bool:
    values, value_set = _column(frame, expectation.column), expectation.value_set
    if values is None or not isinstance(value_set, list | tuple | set):
        return False
    present = _present_plain(values)
    if present is None:
        return False
    if any(isinstance(value, float) and np.isnan(value) for value in value_set):
        return False
    return bool(present.isin(list(value_set)).all())


def _not_null_holds(frame: pd.DataFrame, expectation: Any) -> bool:
    values = _column(frame, expectation.column)
    return values is not None and bool(values.notna().all())


def _compound_unique_holds(frame: pd.DataFrame, expectation: Any) -> bool:
    columns = list(expectation.column_list or [])
    if not columns or any(not isinstance(c, str) or c not in frame.columns for c in columns):
        return False
    keys = frame[columns]
    if keys.isna().any().any():
        return False  # which rows GX leaves out with a missing key part: let GX say
    return not bool(keys.duplicated().any())


def _unique_holds(frame: pd.DataFrame, expectation: Any) -> bool:
    """GX: no present value repeated (``~column.duplicated(keep=False)`` on present values)."""
    values = _column(frame, expectation.column)
    present = None if values is None else _present_plain(values)
    return present is not None and not bool(present.duplicated(keep=False).any())


def _regex_holds(frame: pd.DataFrame, expectation: Any) -> bool:
    """GX: every present value matches (``column.astype(str).str.contains(regex)``)."""
    values, regex = _column(frame, expectation.column), expectation.regex
    if values is None or not isinstance(regex, str):
        return False
    present = values[values.notna()]
    try:
        return bool(present.astype(str).str.contains(regex).all())
    except (re.error, TypeError, ValueError):
        return False  # GX would report the check as not run: let it


def _pair_greater_holds(frame: pd.DataFrame, expectation: Any) -> bool:
    """GX: column A above (``or_equal``: at least) column B on every row where both are present
    (``ignore_row_if="either_value_is_missing"`` only)."""
    if expectation.ignore_row_if != "either_value_is_missing":
        return False
    if not isinstance(expectation.or_equal, bool | None):
        return False
    column_a = _numeric(frame, expectation.column_A)
    column_b = _numeric(frame, expectation.column_B)
    if column_a is None or column_b is None:
        return False
    both = (column_a.notna() & column_b.notna()).to_numpy(dtype=bool)
    values_a, values_b = _present_floats(column_a[both]), _present_floats(column_b[both])
    if values_a is None or values_b is None:
        return False
    above = values_a >= values_b if expectation.or_equal else values_a > values_b
    return bool(above.all())


HOLDS: dict[str, Callable[[pd.DataFrame, Any], bool]] = {
    "ExpectColumnValuesToBeBetween": _between_holds,
    "ExpectColumnValuesToBeInSet": _in_set_holds,
    "ExpectColumnValuesToNotBeNull": _not_null_holds,
    "ExpectCompoundColumnsToBeUnique": _compound_unique_holds,
    "ExpectColumnValuesToBeUnique": _unique_holds,
    "ExpectColumnValuesToMatchRegex": _regex_holds,
    "ExpectColumnPairValuesAToBeGreaterThanB": _pair_greater_holds,
}  # expectation class -> whether it holds on every row of a frame


def all_hold(frame: pd.DataFrame, checks: Sequence[Check]) -> bool:
    """True only when every check's expectation certainly holds on ``frame`` (non-empty);
    False when one fails or cannot be decided here (the caller then runs GX)."""
    if frame.empty:
        return False
    for check in checks:
        expectation = check.build()
        holds = HOLDS.get(type(expectation).__name__)
        if holds is None or not _plain(expectation) or not holds(frame, expectation):
            return False
    return True
