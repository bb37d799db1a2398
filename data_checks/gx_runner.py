"""Runs a list of checks as one Great Expectations suite over a whole frame.

Great Expectations costs ~4 s to import, so it is imported on first use only. Every check names
the rows it rejects through a ``row_id`` column, which is how failures become quarantine rows.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

import pandas as pd

logger = logging.getLogger(__name__)

Scope = Literal["row", "race", "input"]
FAILURE_COLUMNS = ["row_id", "check_name", "scope", "detail"]


@dataclass(frozen=True)
class Check:
    """One expectation: its name, how to build it, what failing costs, and what it protects.

    ``scope`` says what a failure sets aside: ``row`` the failing row only, ``race`` the whole
    race of the failing row (it cannot be priced without it), ``input`` the whole input.
    ``shows`` names columns whose values go into the quarantine detail next to the tested ones.
    """

    name: str
    build: Callable[[], Any]
    protects: str
    scope: Scope = "race"
    shows: tuple[str, ...] = ()


@dataclass(frozen=True)
class SuiteOutcome:
    """What a suite found: failing rows (row_id, check_name, scope, detail) and counts.

    ``row_dates`` (race date by row_id) lets results be recorded per day; ``gx_result`` and
    ``gx_suite`` are Great Expectations' own objects, kept for Data Docs.
    """

    suite: str
    rows_evaluated: int
    failures: pd.DataFrame
    expectations: int
    expectations_failed: int
    failed_checks: tuple[str, ...] = field(default=())
    row_dates: pd.Series | None = field(default=None, repr=False)
    gx_result: Any = field(default=None, repr=False)
    gx_suite: Any = field(default=None, repr=False)

    @property
    def success(self) -> bool:
        """True when every expectation held."""
        return self.expectations_failed == 0


_validating = threading.local()  # this thread's configurations built during one validation


def _memoize_configurations() -> None:
    """Make GX build an expectation's configuration once per validation instead of at every
    read.

    ``Expectation.configuration`` is a property that rebuilds an ``ExpectationConfiguration``
    from the model's fields each time it is read, and a validation reads it ≈ 100 times per
    expectation (each kwarg looked up reads it anew): about half of GX's time on a day's
    suites. Inside :func:`_one_validation` (this thread only) the first build of each
    expectation object is kept and handed out again (no expectation changes while it is
    validated: GX validates copies it makes from the suite). Outside, GX is unchanged."""
    from great_expectations.expectations.expectation import Expectation

    build: Callable[[Any], Any] = Expectation.__dict__["configuration"].fget
    if getattr(build, "raceday_memoized", False):
        return

    def configuration(self: Any) -> Any:
        memo: dict[int, tuple[Any, Any]] | None = getattr(_validating, "memo", None)
        if memo is None:
            return build(self)
        kept = memo.get(id(self))
        if kept is None or kept[0] is not self:
            kept = (self, build(self))  # holding ``self`` keeps its id unique
            memo[id(self)] = kept
        return kept[1]

    configuration.raceday_memoized = True  # type: ignore[attr-defined]
    memoized = property(configuration, doc=build.__doc__)
    Expectation.configuration = memoized  # type: ignore[method-assign,assignment]


_PLAIN_SCALARS = (str, int, bool, type(None))  # exact types: GX's JSON conversion keeps them


def _plain_json(value: Any) -> bool:
    """True when GX's ``convert_to_json_serializable`` would hand ``value`` back as it is (a
    tuple as a list, which JSON writes alike): exact ``str``, ``int``, ``bool``, ``None``, a
    float that is not NaN (GX writes NaN as ``None``), and lists, tuples and ``str``-keyed
    dicts of those. Anything else (a subclass, a set, a numpy scalar, a date) is not."""
    kind = type(value)
    if kind in _PLAIN_SCALARS:
        return True
    if kind is float:
        return bool(value == value)
    if kind is list or kind is tuple:
        return all(_plain_json(item) for item in value)
    if kind is dict:
        return all(type(key) is str and _plain_json(item) for key, item in value.items())
    return False


def _fast_metric_ids() -> None:
    """Make GX's metric ids (``IDDict.to_id``) skip its JSON conversion where it changes nothing.

    Every ``MetricConfiguration`` GX builds (≈ 34 per expectation per validation) names its
    domain and value kwargs by ``to_id``: the MD5 of ``json.dumps`` of the kwargs after
    ``convert_to_json_serializable``, a chain of type tests per value (``None`` alone passes
    through ``np.issubdtype`` three times) that is ≈ 10 % of a day's validation. Kwargs made
    only of plain JSON values (:func:`_plain_json`) are dumped as they are, which is the same
    text and so the same id; any other goes GX's way. Inside :func:`_one_validation` only."""
    from great_expectations.core.id_dict import IDDict

    to_id: Callable[..., Any] = IDDict.to_id
    if getattr(to_id, "raceday_fast", False):
        return

    def fast_to_id(self: Any, id_keys: Any = None, id_ignore_keys: Any = None) -> Any:
        validating = getattr(_validating, "memo", None) is not None
        if id_keys is None and id_ignore_keys is None and validating:
            keys = set(self.keys()) - set(self._id_ignore_keys)
            if len(keys) > 1:  # none or one key: GX's short forms
                kwargs = {key: self[key] for key in keys}
                if _plain_json(kwargs):
                    text = json.dumps(kwargs, sort_keys=True)
                    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()
        return to_id(self, id_keys, id_ignore_keys)

    fast_to_id.raceday_fast = True  # type: ignore[attr-defined]
    fast_to_id.gx_to_id = to_id  # type: ignore[attr-defined]  # GX's own, to compare with
    IDDict.to_id = fast_to_id  # type: ignore[method-assign]


def _cache_expectation_types() -> None:
    """Make GX name an expectation class's type (``ExpectColumnValuesToBeInSet`` →
    ``expect_column_values_to_be_in_set``) once per class name instead of by two regular
    expressions at every configuration it builds (≈ 2 % of a day's validation): the name is a
    pure function of the class name, so the cached one is the same string."""
    from great_expectations.expectations import expectation

    if hasattr(expectation.camel_to_snake, "cache_info"):
        return
    expectation.camel_to_snake = cache(expectation.camel_to_snake)


@contextlib.contextmanager
def _one_validation() -> Iterator[None]:
    """The scope in which GX's configurations are built once (:func:`_memoize_configurations`)
    and its metric ids made the short way (:func:`_fast_metric_ids`)."""
    _validating.memo = {}
    try:
        yield
    finally:
        _validating.memo = None


@cache
def _context() -> Any:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    _memoize_configurations()
    _fast_metric_ids()
    _cache_expectation_types()
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


@cache
def _batch_definition(asset_name: str) -> Any:
    context = _context()
    try:
        source = context.data_sources.get("raceday")
    except (KeyError, ValueError):
        source = context.data_sources.add_pandas("raceday")
    asset = source.add_dataframe_asset(asset_name)
    return asset.add_batch_definition_whole_dataframe("whole")


def gx_context() -> Any:
    """The process's ephemeral Great Expectations context (created lazily)."""
    return _context()


def _json_value(value: Any) -> Any:
    if value is None or (not isinstance(value, str | bytes) and pd.isna(value)):
        return None
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def build_suite(suite_name: str, checks: list[Check]) -> Any:
    """The checks as a Great Expectations suite; each expectation's meta names its check."""
    import great_expectations as gx

    expectations = []
    for check in checks:
        expectation = check.build()
        expectation.meta = {"check": check.name, "protects": check.protects, "scope": check.scope}
        expectation.notes = (
            f"{check.name} (sets aside the {check.scope}): protects {check.protects}"
        )
        expectations.append(expectation)
    return gx.ExpectationSuite(name=suite_name, expectations=expectations)


_registered: dict[str, tuple[str, Any]] = {}


def _registered_suite(suite_name: str, checks: list[Check]) -> Any:
    """The suite registered in the context, rebuilt only when its checks change (it is slow)."""
    built = [check.build() for check in checks]
    signature = repr(
        [(check.name, check.scope, repr(e)) for check, e in zip(checks, built, strict=True)]
    )
    cached = _registered.get(suite_name)
    if cached is not None and cached[0] == signature:
        return cached[1]
    context = _context()
    with contextlib.suppress(Exception):  # first use: there is nothing to delete
        context.suites.delete(suite_name)
    suite = context.suites.add(build_suite(suite_name, checks))
    _registered[suite_name] = (signature, suite)
    return suite


def _failure_rows(
    result: Any, by_name: dict[str, Check], shown: pd.DataFrame | None
) -> tuple[list[dict[str, Any]], list[str]]:
    rows: list[dict[str, Any]] = []
    failed: list[str] = []
    for expectation_result in result.results:
        name = expectation_result.expectation_config.meta["check"]
        check = by_name[name]
        if expectation_result.success:
            continue
        failed.append(name)
        info = expectation_result.exception_info or {}
        if info.get("raised_exception"):
            logger.warning("check %s could not run: %s", name, info.get("exception_message"))
        tested = _tested_columns(expectation_result.expectation_config.kwargs)
        for unexpected in expectation_result.result.get("unexpected_index_list") or []:
            row_id = int(unexpected["row_id"])
            values = {
                k: _json_value(v)
                for k, v in unexpected.items()
                if k != "row_id" and (k not in NAMING_COLUMNS or k in tested)
            }
            if check.shows and shown is not None:
                for column in check.shows:
                    values.setdefault(column, _json_value(shown.at[row_id, column]))
            rows.append(
                {
                    "row_id": row_id,
                    "check_name": name,
                    "scope": check.scope,
                    "detail": json.dumps(values, ensure_ascii=False, default=str),
                }
            )
    return rows, failed


NAMING_COLUMNS = ("race_id", "umaban")  # name a failing row on its Data Docs page
DOCS_UNEXPECTED_ROWS = 50  # failing rows a Data Docs page lists per expectation


def _naming_columns(frame: pd.DataFrame) -> list[str]:
    """``row_id`` and the columns of ``frame`` that name a race and a runner."""
    return ["row_id", *[column for column in NAMING_COLUMNS if column in frame.columns]]


def _tested_columns(kwargs: dict[str, Any]) -> set[str]:
    """The columns an expectation tests (its ``column``, ``column_A/B`` or ``column_list``)."""
    names = {kwargs.get(key) for key in ("column", "column_A", "column_B")}
    return {str(name) for name in names if name} | set(kwargs.get("column_list") or [])


def _columns_used(suite: Any, frame: pd.DataFrame) -> list[str]:
    """The columns a suite's expectations read, and those naming a row (GX copies what it is
    given: give it only these)."""
    names: list[str] = _naming_columns(frame)
    for expectation in suite.expectations:
        for attribute in ("column", "column_A", "column_B"):
            value = getattr(expectation, attribute, None)
            if isinstance(value, str):
                names.append(value)
        names.extend(getattr(expectation, "column_list", None) or [])
    return list(dict.fromkeys(names))


def _name_failing_rows(result: Any, detail: Any) -> None:
    """Put the failing rows, named by race and runner, into the result Data Docs shows (its
    ``BASIC`` results only count them: "4 unexpected values"), at most
    ``DOCS_UNEXPECTED_ROWS`` per expectation."""
    by_check = {item.expectation_config.meta["check"]: item for item in detail.results}
    for item in result.results:
        failing = by_check.get(item.expectation_config.meta["check"])
        if item.success or failing is None:
            continue
        detail_result = failing.result
        for key in ("unexpected_index_list", "unexpected_list"):
            item.result[key] = (detail_result.get(key) or [])[:DOCS_UNEXPECTED_ROWS]
        item.result["partial_unexpected_counts"] = detail_result.get("partial_unexpected_counts")
        item.result["unexpected_index_column_names"] = detail_result.get(
            "unexpected_index_column_names"
        )


def run_suite(suite_name: str, frame: pd.DataFrame, checks: list[Check]) -> SuiteOutcome:
    """Validate ``frame`` (which has a ``row_id`` column) against ``checks`` in one GX run.

    The suite runs once with GX's ``BASIC`` result (counts and examples, what Data Docs shows);
    only when expectations fail are those run again for the ``COMPLETE`` list of failing rows.
    Clean days, the usual case, pay for one cheap pass.
    """
    row_dates = frame.set_index("row_id")["race_date"] if "race_date" in frame.columns else None
    if frame.empty:
        empty = pd.DataFrame(columns=FAILURE_COLUMNS)
        return SuiteOutcome(suite_name, 0, empty, len(checks), 0, row_dates=row_dates)
    suite = _registered_suite(suite_name, checks)
    batch = _batch_definition(f"{suite_name}_frame").get_batch(
        batch_parameters={"dataframe": frame[_columns_used(suite, frame)]}
    )
    with _one_validation():
        result = batch.validate(suite, result_format={"result_format": "BASIC"})
    failed = [item.expectation_config.meta["check"] for item in result.results if not item.success]
    rows: list[dict[str, Any]] = []
    if failed:
        failing_checks = [check for check in checks if check.name in failed]
        failing_suite = _registered_suite(f"{suite_name}_failed", failing_checks)
        with _one_validation():
            detail = batch.validate(
                failing_suite,
                result_format={
                    "result_format": "COMPLETE",
                    "unexpected_index_column_names": _naming_columns(frame),
                },
            )
        _name_failing_rows(result, detail)
        shown_columns = sorted({column for check in failing_checks for column in check.shows})
        shown = frame.set_index("row_id")[shown_columns] if shown_columns else None
        rows, _failed = _failure_rows(detail, {check.name: check for check in checks}, shown)
    return SuiteOutcome(
        suite=suite_name,
        rows_evaluated=len(frame),
        failures=pd.DataFrame(rows, columns=FAILURE_COLUMNS),
        expectations=len(checks),
        expectations_failed=len(failed),
        failed_checks=tuple(failed),
        row_dates=row_dates,
        gx_result=result,
        gx_suite=suite,
    )
