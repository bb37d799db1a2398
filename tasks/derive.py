"""Derived frames of settled races: reference times, first-3F estimates and indexes."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pandas as pd

from config import Settings
from data_checks.derived import check_first3f
from raceday.first3f.layers import estimate_first3f
from raceday.first3f.model import FitOptions
from raceday.pipeline import ReferencePlan, reference_plan
from raceday.ratings.indexes import compute_indexes, track_variants
from raceday.ratings.standards import learn_reference_times
from raceday.store.catalogs.learned_versions import (
    read_reference_times,
    reference_history,
    write_reference_times,
)
from raceday.store.catalogs.races import RunnerWindow, history_bounds
from raceday.store.catalogs.ratings import write_by_runner, write_track_variants
from raceday.store.learned import first3f_model_for
from tasks.common import engine_for, logger, record_checked, stage, stage_run


@stage("reference-times")
def reference_times(
    settings: Settings, start: date, end: date, window: RunnerWindow | None = None
) -> tuple[ReferencePlan, pd.DataFrame]:
    """Reference times for races dated ``start``..``end``: learned once per version, reused.
    ``window``: the history window a backfill holds (moved, not read again)."""
    with stage_run(settings, "reference_times", end) as record:
        with engine_for(settings).begin() as connection:
            _first, last = history_bounds(connection, before=start)
            plan = reference_plan(start, end, last, settings.history.reference_window_days)
            references = read_reference_times(connection, plan.version)
            if references.empty:
                history = (
                    window.between(connection, plan.history_start, plan.history_end)
                    if window is not None and not plan.bootstrap
                    else reference_history(connection, plan.history_start, plan.history_end)
                )
                references = learn_reference_times(history)
                plan = replace(plan, window=history)  # the first-3F model learns from it too
                write_reference_times(
                    connection,
                    plan.version,
                    references,
                    plan.history_start,
                    plan.history_end,
                    int(history["race_id"].nunique()) if not history.empty else 0,
                )
        record.rows_out = len(references)
        record.message = plan.version + (" (bootstrap)" if plan.bootstrap else "")
    logger().info("reference times %s: %d cells", plan.version, len(references))
    return plan, references


@stage("first3f")
def first3f(
    settings: Settings,
    runners: pd.DataFrame,
    end: date,
    references: pd.DataFrame,
    plan: ReferencePlan,
) -> pd.DataFrame:
    """First-3F estimates for settled runners (runner rows with race columns), every layer.

    The fitted layers come from the same history as the reference times (before the day),
    fitted once per version and stored.
    """
    with stage_run(settings, "first3f", end) as record:
        record.about_races(runners)
        with engine_for(settings).begin() as connection:
            model = first3f_model_for(
                connection,
                references,
                plan.history_start,
                plan.history_end,
                FitOptions(**settings.first3f.model_dump()),
                history=plan.window,
            )
            estimates = estimate_first3f(runners, references, model).assign(
                reference_version=plan.version, model_version=model.version
            )
            checked = check_first3f(estimates, gx_result=settings.validation.data_docs)
            estimates = record_checked(settings, connection, checked, "first3f", end)
            write_by_runner(connection, "first3f", estimates)
        record.rows_in, record.rows_out = len(runners), len(estimates)
        methods = estimates["method"].value_counts()
        record.message = f"{model.version}: " + ", ".join(
            f"{method} {count}" for method, count in methods.items()
        )
    logger().info("first 3F with %s: %s", model.version, record.message)
    return estimates


@stage("indexes")
def indexes(
    settings: Settings,
    runners: pd.DataFrame,
    end: date,
    references: pd.DataFrame,
    plan: ReferencePlan,
    estimates: pd.DataFrame,
) -> pd.DataFrame:
    """Track variants of the days, then speed / ten / agari / composite indexes for settled
    runners (with race columns)."""
    with stage_run(settings, "indexes", end) as record:
        record.about_races(runners)
        with engine_for(settings).begin() as connection:
            variants = track_variants(runners, references).assign(reference_version=plan.version)
            write_track_variants(connection, variants)
            computed = compute_indexes(runners, estimates, references, variants).assign(
                reference_version=plan.version
            )
            write_by_runner(connection, "indexes", computed)
        record.rows_in, record.rows_out = len(runners), len(computed)
        record.message = f"{len(variants)} track variants"
    return computed
