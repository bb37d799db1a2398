"""Train: the win model from stored history — load, fit, evaluate, register, promote.

Each stage is a plain function (``train_until`` chains them for backfills and the CLI) and a
task of the same body (the ``train-model`` flow orders them).
"""

from __future__ import annotations

import subprocess
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from prefect import task
from prefect.cache_policies import NONE
from sqlalchemy import Connection

from config import Settings
from raceday import __version__
from raceday.errors import InputError
from raceday.features import FEATURE_COLUMNS, build_features, feature_set_name
from raceday.metrics import winner_log_loss
from raceday.model import (
    FitResult,
    ModelInputs,
    NotEnoughData,
    ScorerOptions,
    TimeSplit,
    WinModel,
    fit_win_model,
    model_predictions,
    runners_with_features,
    time_split,
)
from raceday.model_eval import evaluate_predictions
from raceday.pipeline import betting_odds
from raceday.store import registry
from raceday.store.catalogs.races import read_odds, read_races, read_win_results, settled_race_count
from tasks.common import engine_for, logger, stage_run
from tasks.features import SettledRuns, runs_and_cards

FLOW = "train-model"


def code_version() -> str:
    """``git describe`` of the checkout when there is one, else the package version."""
    try:
        described = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--tags"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        described = ""
    return f"raceday {__version__}" + (f" ({described})" if described else "")


def scorer_options(settings: Settings) -> ScorerOptions:
    """The scorer's options from settings."""
    train = settings.train
    return ScorerOptions(
        max_iter=train.max_iter,
        learning_rate=train.learning_rate,
        max_leaf_nodes=train.max_leaf_nodes,
        min_samples_leaf=train.min_samples_leaf,
        l2_regularization=train.l2_regularization,
        threads=train.threads,
    )


def settled_runners(
    connection: Connection,
    settings: Settings,
    start: date,
    end: date,
    settled_runs: SettledRuns | None = None,
) -> pd.DataFrame:
    """Every priced runner of the settled races dated ``start``..``end`` with its result,
    bet-time market probability and point-in-time features (one as-of pass over the store;
    the settled runs from ``settled_runs`` when given)."""
    history, cards = runs_and_cards(connection, start, end, settled_runs)
    features = build_features(history, cards, settings.features.people_window_days)
    races = read_races(connection, start, end)
    settled = set(races.loc[races["has_results"].fillna(False).astype(bool), "race_id"])
    results = read_win_results(connection, start, end)
    results = results[results["race_id"].isin(settled)]
    dates = races[["race_id", "race_date"]]
    final = results.assign(snapshot_at="final", popularity=pd.NA)
    odds = betting_odds(read_odds(connection, start, end), final)
    card = results[["race_id", "umaban", "finish_pos"]].merge(dates, on="race_id")
    return runners_with_features(card, odds, features)


def preflight(runners: pd.DataFrame, split: TimeSplit, min_races: int) -> None:
    """One clear error when a window holds fewer than ``min_races`` settled races."""
    parts = split.part(runners["race_date"])
    for part in ("train", "blend", "eval"):
        races = runners.loc[parts == part, "race_id"].nunique()
        if races < min_races:
            start, end = getattr(split, f"{part}_start"), getattr(split, f"{part}_end")
            raise InputError(_short_window(part, start, end, races, min_races))


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
                raise InputError(_short_window(part, start, end, races, train.min_races))


def _short_window(part: str, start: date, end: date, races: int, needed: int) -> str:
    return (
        f"the {part} window {start}..{end} has {races} settled races, {needed} needed: "
        "store more history (raceday run / backfill) or use a later --until"
    )


def load_training_set(
    settings: Settings, until: date, settled_runs: SettledRuns | None = None
) -> tuple[TimeSplit, pd.DataFrame]:
    """The split ending on ``until`` and its runners, checked to be enough."""
    train = settings.train
    split = time_split(until, train.train_days, train.blend_days, train.evaluate_days)
    with engine_for(settings).connect() as connection:
        runners = settled_runners(connection, settings, split.train_start, until, settled_runs)
    preflight(runners, split, train.min_races)
    return split, runners


def fit_and_evaluate(
    settings: Settings, split: TimeSplit, runners: pd.DataFrame, until: date
) -> tuple[FitResult, dict[str, Any]]:
    """Fit the two stages and evaluate the held-out window."""
    try:
        fitted = fit_win_model(
            runners, split, registry.version_name(until), scorer_options(settings)
        )
    except NotEnoughData as error:
        raise InputError(str(error)) from None
    return fitted, evaluate_predictions(fitted.held_out)


@dataclass(frozen=True)
class Registered:
    """What the registry did with a new version."""

    version: str
    promoted: bool
    reason: str
    incumbent: str | None
    compared_races: int


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
    meta = version_meta(settings, until, split, fitted, evaluation)
    with engine_for(settings).begin() as connection:
        incumbent = registry.version_for_day(connection, until)  # trained strictly before
        candidate_ll = float(evaluation["blend"]["log_loss"])
        market_ll = float(evaluation["market"]["log_loss"])
        incumbent_ll: float | None = None
        compared = int(evaluation["races"])
        if incumbent is not None:
            try:
                head_to_head = _incumbent_log_loss(
                    connection, incumbent, fitted.held_out, settings.train.threads
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


def version_meta(
    settings: Settings,
    until: date,
    split: TimeSplit,
    fitted: FitResult,
    evaluation: dict[str, Any],
) -> dict[str, Any]:
    """The registry's metadata of a version: data, features, parameters, metrics, code."""
    model: WinModel = fitted.model
    inputs: ModelInputs = model.inputs
    return {
        "trained_until": until.isoformat(),
        "split": split.to_dict(),
        "counts": fitted.counts,
        "feature_set": feature_set_name(settings.features.people_window_days),
        "features": {
            "point_in_time": list(FEATURE_COLUMNS),
            "field_relative": list(inputs.field_relative),
            "categorical": list(inputs.categorical),
        },
        "params": {
            "scorer": asdict(scorer_options(settings)),
            "kappa": model.kappa,
            "alpha": model.blend.alpha,
            "beta": model.blend.beta,
            "blend_races": model.blend.races,
        },
        "metrics": {key: value for key, value in evaluation.items() if key != "calibration"},
        "code_version": code_version(),
        "source": settings.source,
    }


def training_summary(
    until: date,
    split: TimeSplit,
    fitted: FitResult,
    evaluation: dict[str, Any],
    registered: Registered,
) -> dict[str, Any]:
    """What ``raceday train`` prints (``--json``)."""
    model = fitted.model
    return {
        "version": model.version,
        "until": until.isoformat(),
        "split": split.to_dict(),
        "counts": fitted.counts,
        "kappa": round(model.kappa, 6),
        "alpha": round(model.blend.alpha, 6),
        "beta": round(model.blend.beta, 6),
        "evaluation": evaluation,
        "promoted": registered.promoted,
        "reason": registered.reason,
        "incumbent": registered.incumbent,
    }


def train_until(
    settings: Settings,
    until: date,
    flow_name: str = FLOW,
    settled_runs: SettledRuns | None = None,
) -> dict[str, Any]:
    """Train, evaluate and register the version of ``until`` (the three stage bodies, no
    Prefect needed); a backfill passes the settled runs it holds."""
    split, runners = load_training_task.fn(settings, until, flow_name, settled_runs)
    fitted, evaluation = fit_task.fn(settings, split, runners, until, flow_name)
    registered = register_task.fn(settings, until, split, fitted, evaluation, flow_name)
    return training_summary(until, split, fitted, evaluation, registered)


@task(name="train-load", cache_policy=NONE)
def load_training_task(
    settings: Settings,
    until: date,
    flow_name: str = FLOW,
    settled_runs: SettledRuns | None = None,
) -> tuple[TimeSplit, pd.DataFrame]:
    """Load the training set of the split ending on ``until``."""
    with stage_run(settings, flow_name, "train_load", until) as record:
        split, runners = load_training_set(settings, until, settled_runs)
        record.rows_out = len(runners)
    logger().info("training set %s..%s: %d runners", split.train_start, until, len(runners))
    return split, runners


@task(name="train-fit", cache_policy=NONE)
def fit_task(
    settings: Settings, split: TimeSplit, runners: pd.DataFrame, until: date, flow_name: str = FLOW
) -> tuple[FitResult, dict[str, Any]]:
    """Fit the scorer, temperature and blend; evaluate the held-out window."""
    with stage_run(settings, flow_name, "train_fit", until) as record:
        fitted, evaluation = fit_and_evaluate(settings, split, runners, until)
        record.rows_in, record.rows_out = len(runners), len(fitted.held_out)
    logger().info(
        "held out %d races: blend ΔR² %s vs market", evaluation["races"], evaluation["delta_r2"]
    )
    return fitted, evaluation


@task(name="train-register", cache_policy=NONE)
def register_task(
    settings: Settings,
    until: date,
    split: TimeSplit,
    fitted: FitResult,
    evaluation: dict[str, Any],
    flow_name: str = FLOW,
) -> Registered:
    """Register the version and decide its promotion."""
    with stage_run(settings, flow_name, "train_register", until) as record:
        registered = register_version(settings, until, split, fitted, evaluation)
        record.message = f"{registered.version}: {registered.reason}"[:2000]
    verdict = "promoted" if registered.promoted else "not promoted"
    logger().info("%s %s: %s", registered.version, verdict, registered.reason)
    return registered


def simulator_truth(
    settings: Settings, runners: pd.DataFrame, start: date, end: date, races_per_day: int | None
) -> pd.Series | None:
    """The simulator's true win probabilities of ``runners`` (renormalised over them per race);
    None unless the source is the simulator and its races are the stored ones."""
    if settings.source != "sim":
        return None
    from raceday.model_eval import truth_probabilities
    from raceday.sources.simulator import SimulatorConfig, simulate_days

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
    ``start``: the latest promoted one trained before it."""
    with engine_for(settings).connect() as connection:
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
    if runners.empty or not runners["finish_pos"].astype("Float64").eq(1).any():
        raise InputError(f"no settled races stored in {start}..{end}")
    predicted = model_predictions(model, runners)
    frame = runners.assign(
        p_model=predicted["p_model"].to_numpy(), p_final=predicted["p_final"].to_numpy()
    )
    truth = simulator_truth(settings, frame, start, end, races_per_day)
    if truth is not None:
        frame = frame.assign(p_truth=truth)
    fitted_until = date.fromisoformat(str(meta["split"]["blend_end"]))
    return {
        "version": name,
        "period": {"start": start.isoformat(), "end": end.isoformat()},
        "trained_until": str(meta["trained_until"]),
        "fitted_until": fitted_until.isoformat(),
        "out_of_sample": fitted_until < start,
        "source": settings.source,
        **evaluate_predictions(frame),
    }
