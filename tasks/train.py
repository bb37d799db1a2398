"""Train: the win model from stored history — load, fit, evaluate, register, promote.

The three stages (load, fit, register) are ordered by ``flows/chain.py: train_chain``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import Connection

from config import Settings
from raceday.arrow_text import text_isin
from raceday.errors import InputError
from raceday.model.evaluate import evaluate_predictions
from raceday.model.metrics import winner_log_loss
from raceday.model.registry import (
    Registered,
    check_windows,
    covered_range,
    short_window,
    version_meta,
)
from raceday.model.win import (
    FitResult,
    NotEnoughData,
    TimeSplit,
    fit_win_model,
    model_predictions,
    runners_with_features,
    time_split,
)
from raceday.pipeline import betting_odds
from raceday.ratings.features import build_features, feature_set_name
from raceday.store import registry
from raceday.store.catalogs.races import (
    in_key_order,
    race_sources,
    read_odds,
    read_races,
    read_win_results,
    settled_race_count,
)
from raceday.store.catalogs.ratings import SettledRuns, read_runs_and_cards
from tasks.common import engine_for, logger, stage, stage_run


def settled_runners(
    connection: Connection,
    settings: Settings,
    start: date,
    end: date,
    settled_runs: SettledRuns | None = None,
) -> pd.DataFrame:
    """Every priced runner of the settled races dated ``start``..``end`` with its result,
    bet-time market probability and point-in-time features (one as-of pass over the store;
    the settled runs, and the features already built from them, from ``settled_runs`` when
    given)."""
    window = settings.features.people_window_days
    if settled_runs is None:
        history, cards = read_runs_and_cards(connection, start, end)
        features = build_features(history, cards, window)
    else:  # the chunks' features as they built them; the history only of the days not built
        features = settled_runs.features(connection, start, end, window)
    races = read_races(connection, start, end)
    settled = races.loc[races["has_results"].fillna(False).astype(bool), "race_id"]
    results = read_win_results(connection, start, end)
    results = results[text_isin(results["race_id"], settled)]
    dates = races[["race_id", "race_date"]]
    final = results.assign(snapshot_at="final", popularity=pd.NA)
    odds = betting_odds(read_odds(connection, start, end), final)
    card = results[["race_id", "umaban", "finish_pos"]].merge(dates, on="race_id")
    # in key order: the fit depends on the rows' order, which the store's physical order (how
    # the rows were written: chunk by chunk or by several workers at once) must not decide
    card = in_key_order(card)
    return runners_with_features(card, odds, features)


def check_history(settings: Settings, until: date) -> None:
    """Preflight (a few counts, no Prefect): every window of the split ending on ``until``
    holds ``min_races`` settled races, else one clear error."""
    train = settings.train
    split = time_split(until, train.train_days, train.blend_days, train.evaluate_days)
    with engine_for(settings).connect() as connection:
        for part in ("train", "blend", "eval"):
            start, end = getattr(split, f"{part}_start"), getattr(split, f"{part}_end")
            races = settled_race_count(connection, start, end)
            if races < train.min_races:
                raise InputError(short_window(part, start, end, races, train.min_races))


def load_training_set(
    settings: Settings, until: date, settled_runs: SettledRuns | None = None
) -> tuple[TimeSplit, pd.DataFrame]:
    """The split ending on ``until`` and its runners, checked to be enough."""
    train = settings.train
    split = time_split(until, train.train_days, train.blend_days, train.evaluate_days)
    with engine_for(settings).connect() as connection:
        runners = settled_runners(connection, settings, split.train_start, until, settled_runs)
    check_windows(runners, split, train.min_races)
    return split, runners


def fit_and_evaluate(
    settings: Settings, split: TimeSplit, runners: pd.DataFrame, until: date
) -> tuple[FitResult, dict[str, Any]]:
    """Fit the two stages and evaluate the held-out window."""
    try:
        fitted = fit_win_model(
            runners,
            split,
            registry.version_name(until),
            settings.train.scorer_options(),
            settings.train.score_threads,
        )
    except NotEnoughData as error:
        raise InputError(str(error)) from None
    return fitted, evaluate_predictions(fitted.held_out)


def _incumbent_log_loss(
    connection: Connection, incumbent: str, held_out: pd.DataFrame, threads: int = 1
) -> tuple[float, float, float, int] | None:
    """(candidate, incumbent, market) log loss and races on the held-out days the incumbent did
    not fit on; None when there are none."""
    meta = registry.model_meta(connection, incumbent) or {}
    fitted_until = pd.Timestamp(meta.get("split", {}).get("blend_end", date.min))
    rows = held_out[pd.to_datetime(held_out["race_date"]) > fitted_until]
    if rows.empty:
        return None
    model = registry.load_model(connection, incumbent)
    theirs = model_predictions(model, rows, threads)
    compared = rows.assign(p_incumbent=theirs["p_final"].to_numpy())
    races = int(compared.loc[compared["won"], "race_id"].nunique())
    return (
        winner_log_loss(compared, "p_final"),
        winner_log_loss(compared, "p_incumbent"),
        winner_log_loss(compared, "p_market"),
        races,
    )


def register_version(
    settings: Settings,
    until: date,
    split: TimeSplit,
    fitted: FitResult,
    evaluation: dict[str, Any],
) -> Registered:
    """Store the version with its metadata; promote it when it beats the market and the
    promoted version trained before it on the same held-out races."""
    model = fitted.model
    meta = version_meta(
        until,
        split,
        fitted,
        evaluation,
        feature_set=feature_set_name(settings.features.people_window_days),
        scorer=settings.train.scorer_options(),
        code_version=registry.code_version(),
        source=settings.source,
    )
    with engine_for(settings).begin() as connection:
        incumbent = registry.version_for_day(connection, until)  # trained strictly before
        candidate_ll = float(evaluation["blend"]["log_loss"])
        market_ll = float(evaluation["market"]["log_loss"])
        incumbent_ll: float | None = None
        compared = int(evaluation["races"])
        if incumbent is not None:
            try:
                head_to_head = _incumbent_log_loss(
                    connection, incumbent, fitted.held_out, settings.train.score_threads
                )
            except ValueError as error:  # stored by another scikit-learn: cannot be scored
                logger().warning("incumbent %s not comparable: %s", incumbent, error)
                head_to_head = None
            if head_to_head is not None:
                candidate_ll, incumbent_ll, market_ll, compared = head_to_head
        decision = registry.promotion_decision(candidate_ll, market_ll, incumbent, incumbent_ll)
        meta["promotion"] = {**asdict(decision), "incumbent": incumbent, "races": compared}
        registry.register_model(connection, model, until, meta, evaluation["blend"]["log_loss"])
        if decision.promote:
            registry.promote(connection, model.version)
    return Registered(model.version, decision.promote, decision.reason, incumbent, compared)


@stage("train-load")
def load_training_task(
    settings: Settings,
    until: date,
    settled_runs: SettledRuns | None = None,
) -> tuple[TimeSplit, pd.DataFrame]:
    """Load the training set of the split ending on ``until``."""
    with stage_run(settings, "train_load", until) as record:
        split, runners = load_training_set(settings, until, settled_runs)
        record.rows_out = len(runners)
    logger().info("training set %s..%s: %d runners", split.train_start, until, len(runners))
    return split, runners


@stage("train-fit")
def fit_task(
    settings: Settings, split: TimeSplit, runners: pd.DataFrame, until: date
) -> tuple[FitResult, dict[str, Any]]:
    """Fit the scorer, temperature and blend; evaluate the held-out window."""
    with stage_run(settings, "train_fit", until) as record:
        fitted, evaluation = fit_and_evaluate(settings, split, runners, until)
        record.rows_in, record.rows_out = len(runners), len(fitted.held_out)
    logger().info(
        "held out %d races: blend ΔR² %s vs market", evaluation["races"], evaluation["delta_r2"]
    )
    return fitted, evaluation


@stage("train-register")
def register_task(
    settings: Settings,
    until: date,
    split: TimeSplit,
    fitted: FitResult,
    evaluation: dict[str, Any],
) -> Registered:
    """Register the version and decide its promotion."""
    with stage_run(settings, "train_register", until) as record:
        registered = register_version(settings, until, split, fitted, evaluation)
        record.message = f"{registered.version}: {registered.reason}"[:2000]
    verdict = "promoted" if registered.promoted else "not promoted"
    logger().info("%s %s: %s", registered.version, verdict, registered.reason)
    return registered


def simulator_truth(
    settings: Settings,
    runners: pd.DataFrame,
    start: date,
    end: date,
    races_per_day: int | None,
    stored_from: set[str],
) -> pd.Series | None:
    """The simulator's true win probabilities of ``runners`` (renormalised over them per race);
    None unless every race of the period was stored from the simulator (``stored_from``: the
    races' sources) and its races are the stored ones. The settings' source does not say: a
    store filled from files is evaluated with the default source, and its race ids (date,
    venue, number) are the simulator's too."""
    if stored_from != {"sim"}:
        return None
    from raceday.model.evaluate import truth_probabilities
    from raceday.simulate.config import SimulatorConfig
    from raceday.simulate.days import simulate_days

    config = SimulatorConfig(
        seed=settings.simulator.seed,
        races_per_day=races_per_day or settings.simulator.races_per_day,
    )
    truth = simulate_days(start, end, config).truth
    matched = runners[["race_id", "umaban"]].merge(
        truth[["race_id", "umaban"]], on=["race_id", "umaban"], how="inner"
    )
    if len(matched) < 0.99 * len(runners):
        logger().warning(
            "simulated truth covers %d of %d runners: another seed or races per day", len(matched),
            len(runners),
        )  # fmt: skip
        return None
    return truth_probabilities(runners, truth)


def evaluate_model(
    settings: Settings,
    start: date,
    end: date,
    version: str | None = None,
    races_per_day: int | None = None,
) -> dict[str, Any]:
    """Score a registered version on the settled races ``start``..``end`` against the market
    (and the simulator's truth). By default the version a backfill would have used on
    ``start``: the latest promoted one trained before it; when the first promoted version came
    later, the days before it are not judged (``not_judged`` says which and why) and the rest
    are, by that version, from the first day it was in use (:func:`covered_range`)."""
    requested = {"start": start.isoformat(), "end": end.isoformat()}
    not_covered = None
    with engine_for(settings).connect() as connection:
        if version is None:  # each day only by a version in use on it: none before the first
            covered = covered_range(start, end, registry.first_promoted(connection))
            start, not_covered = covered.start, covered.not_covered
        name = version or registry.version_for_day(connection, start)
        if name is None:
            raise InputError(
                f"no model promoted before {start}: run `raceday train --until D` with D before it"
            )
        meta = registry.model_meta(connection, name)
        if meta is None:
            raise InputError(f"no model version {name!r} in the registry (see the train output)")
        try:
            model = registry.load_model(connection, name)
        except ValueError as error:
            raise InputError(str(error)) from None
        runners = settled_runners(connection, settings, start, end)
        stored_from = race_sources(connection, start, end)
    if runners.empty or not runners["finish_pos"].astype("Float64").eq(1).any():
        raise InputError(f"no settled races stored in {start}..{end}")
    predicted = model_predictions(model, runners)
    frame = runners.assign(
        p_model=predicted["p_model"].to_numpy(), p_final=predicted["p_final"].to_numpy()
    )
    truth = simulator_truth(settings, frame, start, end, races_per_day, stored_from)
    if truth is not None:
        frame = frame.assign(p_truth=truth)
    fitted_until = date.fromisoformat(str(meta["split"]["blend_end"]))
    return {
        "version": name,
        "period": {"start": start.isoformat(), "end": end.isoformat()},  # the days judged
        "requested": requested,
        "not_judged": not_covered,
        "trained_until": str(meta["trained_until"]),
        "fitted_until": fitted_until.isoformat(),
        "out_of_sample": fitted_until < start,
        "source": ", ".join(sorted(stored_from)),  # as the races were stored, not the settings'
        **evaluate_predictions(frame),
    }


def retrain_due(
    settings: Settings,
    last_day: date,
    family: str = registry.HORSE_FAMILY,
    check: Callable[[Settings, date], None] | None = None,
) -> bool:
    """Whether a backfill trains the ``family``'s version of ``last_day``: retraining is on
    (``train.backfill_retrain_days``), the family's newest version is that many days old or
    more, and ``check`` (the family's history check, the horses' by default) finds enough races
    in every window."""
    every = settings.train.backfill_retrain_days
    if every == 0:
        return False
    with engine_for(settings).connect() as connection:
        newest = registry.latest_trained_until(connection, last_day, family)
    if newest is not None and (last_day - newest).days < every:
        return False
    try:
        (check or check_history)(settings, last_day)
    except InputError as short:
        logger().info("no %s retraining after %s: %s", family, last_day, short)
        return False
    return True
