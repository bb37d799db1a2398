"""Boat training: a boat version from stored history — load, fit, register (and promote when it
beats the baseline and the version in use) — and the model a boat day predicts with.

The three stages are ordered by ``flows/train.py: boat_train_chain``; :func:`model_of_day` is
what the ``boat-predict`` stage asks for its model (docs/BOAT.md, "Training").
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, time, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Connection

from config import Settings
from raceday.boat.history import training_rows
from raceday.boat.model import BoatModel, as_fresh, fit_boat_model
from raceday.boat.training import (
    BASELINE,
    BoatFit,
    BoatSplit,
    boat_split,
    check_windows,
    fit_boat_version,
    head_to_head,
    held_out_evaluation,
    version_meta,
)
from raceday.model.registry import Registered
from raceday.sources.timeline import at_time
from raceday.store import registry
from raceday.store.catalogs import boat as catalog
from tasks.common import engine_for, logger, stage, stage_run
from tasks.train import retrain_due as retrain_due_of


def split_of(settings: Settings, until: date) -> BoatSplit:
    return boat_split(until, settings.boat.train_days, settings.boat.evaluate_days)


def check_boat_history(settings: Settings, until: date) -> None:
    """Preflight (two counts, no Prefect): both windows of the split ending on ``until`` hold
    ``boat.min_races`` settled races, else one clear error."""
    split = split_of(settings, until)
    with engine_for(settings).connect() as connection:
        races = {
            part: catalog.settled_race_count(
                connection, getattr(split, f"{part}_start"), getattr(split, f"{part}_end")
            )
            for part in ("fit", "eval")
        }
    check_windows(races, split, settings.boat.min_races)


def retrain_due(settings: Settings, last_day: date) -> bool:
    """Whether a boat backfill trains the version of ``last_day`` (the horses' cadence,
    ``train.backfill_retrain_days``, on the boat family and its windows)."""
    return retrain_due_of(settings, last_day, registry.BOAT_FAMILY, check_boat_history)


def model_of_day(
    connection: Connection,
    race_date: date,
    history: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
    at: time,
) -> tuple[BoatModel, str]:
    """The latest promoted boat version trained strictly before ``race_date``; without one, a
    model fitted now on ``history`` (entries, results, odds of the days before it), named
    ``…-fresh``. And why, in one line."""
    registered, why = registry.boat_model_for_day(connection, race_date)
    if registered is not None:
        return registered, f"registered version {registered.version}"
    entries, results, odds = history
    fitted = fit_boat_model(training_rows(entries, results, odds, at), race_date - timedelta(1))
    return as_fresh(fitted), f"{why}: fitted on the days before"


def register_boat_version(
    settings: Settings, fitted: BoatFit, evaluation: dict[str, Any]
) -> Registered:
    """Store the version with its metadata; promote it when its blend beats the baseline and
    the boat version promoted before it on the same held-out races."""
    model, until = fitted.model, fitted.split.eval_end
    meta = version_meta(
        fitted, evaluation, code_version=registry.code_version(), source=settings.source
    )
    with engine_for(settings).begin() as connection:
        incumbent = registry.version_for_day(connection, until, registry.BOAT_FAMILY)
        candidate_ll = float(evaluation["blend_log_loss"])
        baseline_ll = float(evaluation["baseline_log_loss"])
        incumbent_ll: float | None = None
        compared = int(evaluation["races"])
        if incumbent is not None:
            head = _incumbent_head_to_head(connection, incumbent, fitted)
            if head is not None:
                candidate_ll, incumbent_ll, baseline_ll, compared = head
        decision = registry.promotion_decision(
            candidate_ll, baseline_ll, incumbent, incumbent_ll, market=BASELINE
        )
        meta["promotion"] = {**asdict(decision), "incumbent": incumbent, "races": compared}
        registry.register_model(connection, model, until, meta, evaluation["blend_log_loss"])
        if decision.promote:
            registry.promote(connection, model.version)
    return Registered(model.version, decision.promote, decision.reason, incumbent, compared)


def _incumbent_head_to_head(
    connection: Connection, incumbent: str, fitted: BoatFit
) -> tuple[float, float, float, int] | None:
    """The head-to-head with ``incumbent`` (None: it cannot be loaded, or no common races)."""
    try:
        model = registry.load_boat_model(connection, incumbent)
    except (KeyError, ValueError, TypeError) as error:
        logger().warning("boat incumbent %s not comparable: %s", incumbent, error)
        return None
    meta = registry.model_meta(connection, incumbent) or {}
    fit_end = date.fromisoformat(str(meta.get("split", {}).get("fit_end", date.min)))
    return head_to_head(fitted, model, fit_end)


@stage("boat-train-load")
def load_boat_training(settings: Settings, until: date) -> tuple[BoatSplit, pd.DataFrame]:
    """The training rows of the split ending on ``until`` (each with the features and the
    morning market of its own day)."""
    split = split_of(settings, until)
    with stage_run(settings, "boat-train-load", until) as record:
        with engine_for(settings).connect() as connection:
            entries, results, odds = catalog.read_history(
                connection, split.fit_start, until + timedelta(days=1)
            )
        rows = training_rows(entries, results, odds, at_time(settings.live.morning_odds_at))
        record.rows_in, record.rows_out = len(entries), len(rows)
    return split, rows


@stage("boat-train-fit")
def fit_boat_training(
    settings: Settings, split: BoatSplit, rows: pd.DataFrame
) -> tuple[BoatFit, dict[str, Any]]:
    """Fit the scorer and the blends on the fit window; judge the eval window."""
    with stage_run(settings, "boat-train-fit", split.eval_end) as record:
        fitted = fit_boat_version(rows, split, settings.boat.min_races)
        evaluation = held_out_evaluation(fitted.held_out)
        record.rows_in, record.rows_out = len(rows), len(fitted.held_out)
    logger().info(
        "boat held out %d races: blend %s vs baseline %s", evaluation["races"],
        evaluation.get("blend_log_loss"), evaluation.get("baseline_log_loss"),
    )  # fmt: skip
    return fitted, evaluation


@stage("boat-train-register")
def register_boat_training(
    settings: Settings, fitted: BoatFit, evaluation: dict[str, Any]
) -> Registered:
    """Register the boat version and decide its promotion."""
    with stage_run(settings, "boat-train-register", fitted.split.eval_end) as record:
        registered = register_boat_version(settings, fitted, evaluation)
        record.message = f"{registered.version}: {registered.reason}"[:2000]
    verdict = "promoted" if registered.promoted else "not promoted"
    logger().info("%s %s: %s", registered.version, verdict, registered.reason)
    return registered


def boat_training_summary(
    fitted: BoatFit, evaluation: dict[str, Any], registered: Registered
) -> dict[str, Any]:
    """What ``raceday train --sport boat`` prints (``--json``)."""
    model = fitted.model
    return {
        "sport": "boat",
        "version": model.version,
        "until": fitted.split.eval_end.isoformat(),
        "split": fitted.split.to_dict(),
        "counts": {"fit_races": fitted.fit_races, "scorer_races": model.scorer_races},
        "market_blend": None if model.market_blend is None else asdict(model.market_blend),
        "prior_blend": None if model.prior_blend is None else asdict(model.prior_blend),
        "evaluation": evaluation,
        "promoted": registered.promoted,
        "reason": registered.reason,
        "incumbent": registered.incumbent,
        "compared_races": registered.compared_races,
    }
