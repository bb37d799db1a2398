"""Derived frames of settled races: reference times, first-3F estimates and indexes."""

from __future__ import annotations

import time
from concurrent.futures import Future
from dataclasses import dataclass, replace
from datetime import date

import pandas as pd
from sqlalchemy import Connection

from config import Settings
from data_checks.derived import check_first3f
from raceday.first3f.layers import First3FModel, estimate_first3f, unavailable_note
from raceday.first3f.model import FitOptions, first3f_model_version, fit_first3f_model
from raceday.pipeline import ReferencePlan, reference_plan
from raceday.ratings.indexes import compute_indexes, track_variants
from raceday.ratings.standards import learn_reference_times
from raceday.store.catalogs.learned_versions import (
    read_first3f_model,
    read_reference_times,
    reference_history,
    write_reference_times,
)
from raceday.store.catalogs.races import RunnerWindow, history_bounds
from raceday.store.catalogs.ratings import write_by_runner, write_track_variants
from raceday.store.learned import first3f_model_for
from tasks.common import engine_for, in_background, logger, record_checked, stage, stage_run


@dataclass(frozen=True)
class LearnedWindow:
    """What a window of history teaches a chunk, learned off its stage (:func:`learn_beside`):
    the plan (with the window's runner rows), its reference times and its first-3F model."""

    plan: ReferencePlan
    references: pd.DataFrame
    model: First3FModel


def learn_beside(
    settings: Settings, start: date, end: date, window: RunnerWindow
) -> Future[LearnedWindow] | None:
    """The reference times and the first-3F model that races dated ``start``..``end`` will
    need, learned on a thread of their own from the history window before ``start`` (held by
    a backfill: ``window``, moved there, and read there on a connection of its own: the days
    it adds are stored, the chunk's stages write only later days), so that the chunk's ingest
    and validation run beside them (the booster's fit runs in compiled code, without the GIL;
    the read shares it). The window is the thread's until the future is done. They depend
    only on days before ``start``, all stored: the same versions as :func:`reference_times`
    and :func:`first3f` learn in turn, which take them from the future (and store them).

    None when there is nothing to learn: the versions are stored already (a chunk run again),
    or the store has no history before ``start`` (the warm-up learns from the chunk itself)."""
    with engine_for(settings).begin() as connection:
        plan = _plan(connection, settings, start, end)
        model_version = first3f_model_version(plan.history_end)
        if (
            plan.bootstrap
            or not read_reference_times(connection, plan.version).empty
            or read_first3f_model(connection, model_version) is not None
        ):
            return None
    options = FitOptions(**settings.first3f.model_dump())

    def learn() -> LearnedWindow:
        clock = time.perf_counter()
        with engine_for(settings).connect() as connection:
            history = window.between(connection, plan.history_start, plan.history_end)
        references = learn_reference_times(history)
        model = fit_first3f_model(history, references, model_version, options)
        logger().info(
            "%s and %s learned beside the chunk's validation in %.1f s",
            plan.version, model_version, time.perf_counter() - clock,
        )  # fmt: skip
        return LearnedWindow(replace(plan, window=history), references, model)

    return in_background(learn, f"learn-{plan.version}")


@stage("reference-times")
def reference_times(
    settings: Settings,
    start: date,
    end: date,
    window: RunnerWindow | None = None,
    learned: Future[LearnedWindow] | None = None,
) -> tuple[ReferencePlan, pd.DataFrame]:
    """Reference times for races dated ``start``..``end``: learned once per version, reused.
    ``window``: the history window a backfill holds (moved, not read again); ``learned``: the
    version learned beside the chunk's earlier stages (:func:`learn_beside`), waited for."""
    with stage_run(settings, "reference_times", end) as record:
        with engine_for(settings).begin() as connection:
            plan = _plan(connection, settings, start, end)
            references = read_reference_times(connection, plan.version)
            if references.empty:
                plan, references = _learned(connection, plan, window, learned)
                history = plan.window if plan.window is not None else pd.DataFrame()
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


def learns_from_itself(settings: Settings, start: date, end: date) -> bool:
    """Whether races dated ``start``..``end`` learn their reference times and first-3F model
    from themselves: no settled history stored before ``start`` (an empty store's first days).
    Their version is then the one of ``end`` — the version the days after ``end`` learn from
    the window before them."""
    with engine_for(settings).connect() as connection:
        return _plan(connection, settings, start, end).bootstrap


def _plan(connection: Connection, settings: Settings, start: date, end: date) -> ReferencePlan:
    """Which window races dated ``start``..``end`` learn from (the stored history before
    ``start``): one answer for :func:`learn_beside` and :func:`reference_times`."""
    _first, last = history_bounds(connection, before=start)
    return reference_plan(start, end, last, settings.history.reference_window_days)


def _learned(
    connection: Connection,
    plan: ReferencePlan,
    window: RunnerWindow | None,
    learned: Future[LearnedWindow] | None,
) -> tuple[ReferencePlan, pd.DataFrame]:
    """The reference times of ``plan``'s version, not stored yet: as learned beside the chunk
    (``learned``, when it learned this version), else learned now from the window (``window``
    held by a backfill, else read). The plan returned holds the window's rows (the first-3F
    model learns from them too) and, when it was fitted beside, the first-3F model."""
    ahead = learned.result() if learned is not None else None
    if ahead is not None and ahead.plan == plan:
        return replace(plan, window=ahead.plan.window, first3f_model=ahead.model), ahead.references
    history = (
        window.between(connection, plan.history_start, plan.history_end)
        if window is not None and not plan.bootstrap
        else reference_history(connection, plan.history_start, plan.history_end)
    )
    return replace(plan, window=history), learn_reference_times(history)


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
                fitted=plan.first3f_model,
            )
            estimates = estimate_first3f(runners, references, model).assign(
                reference_version=plan.version, model_version=model.version
            )
            if (note := unavailable_note(estimates)) is not None:
                logger().warning("%s, races to %s", note, end)
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
