"""Measured, not claimed: the first-3F estimator's error against known truth, per method and layer.

Truth is either the simulator's truth table (every finisher: the first 600 m above 1200 m, the
first segment up to 1200 m) or, on real data, the rows where a first 3F is measured — each hidden
from the estimator while it is scored:

- above 1200 m, the race leader's ``zenhan_3f``, credited to the runner with the best early
  position; the race's anchor is removed, so ``leader`` cannot score there;
- up to 1200 m, ``T_total - T_last``; the last 3F is removed, so ``ml`` / ``ratio`` score.

References and fitted layers are learned from the days before the evaluated period only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Final, Literal

import numpy as np
import pandas as pd

from raceday.codec import decode_races, decode_runners
from raceday.first3f.layers import (
    CLIP_S,
    SHORT_RACE_MAX_M,
    First3FModel,
    class_rank,
    early_position,
    estimate_first3f,
    first3f_layers,
    first_segment_s,
    known_going,
    race_front_segment,
    relative_position,
    venue_feature,
)
from raceday.first3f.model import (
    FitOptions,
    first3f_model_version,
    fit_first3f_model,
    known_rows,
    leader_rows,
    without_empty_columns,
)
from raceday.pipeline import runner_view
from raceday.ratings.reference_times import lookup_references
from raceday.ratings.standards import learn_reference_times
from raceday.sources.base import RawDay

TruthKind = Literal["simulator", "real"]
RUNNER_KEY: Final = ["race_id", "umaban"]
DISTANCE_BANDS: Final = (
    (0, 1000, "<=1000m"),
    (1001, 1200, "1001-1200m"),
    (1201, 1400, "1201-1400m"),
    (1401, 1800, "1401-1800m"),
    (1801, 10_000, ">=1801m"),
)
# Layers compared side by side (raw values, before the leader floor and the [30, 45] clip).
LAYERS: Final = (
    "baseline", "ratio", "ml", "distance_ratio", "adjusted", "adjusted_fitted", "pace", "leader",
)  # fmt: skip
TRUTH_TRAINED_LAYER: Final = "ml_truth"  # simulator only: learned from the truth table
# Not a pipeline layer: what an ML layer above 1200 m could learn from real data (leader rows).
LEADER_TRAINED_LAYER: Final = "ml_leaders"


def error_stats(estimate: pd.Series, truth: pd.Series) -> dict[str, float | int | None]:
    """Count, mean absolute error, 90th percentile absolute error and mean error (seconds)."""
    error = (estimate - truth).dropna()
    if error.empty:
        return {"n": 0, "mae_s": None, "p90_s": None, "bias_s": None}
    absolute = error.abs()
    return {
        "n": len(error),
        "mae_s": round(float(absolute.mean()), 3),
        "p90_s": round(float(absolute.quantile(0.9)), 3),
        "bias_s": round(float(error.mean()), 3),
    }


def distance_band(distance_m: pd.Series) -> pd.Series:
    """The reporting band of each distance (an ordered categorical, shortest first)."""
    distance = pd.to_numeric(distance_m).astype("float64")
    names = [name for _low, _high, name in DISTANCE_BANDS]
    conditions = [distance.between(low, high).to_numpy() for low, high, _name in DISTANCE_BANDS]
    band = np.select(conditions, names, default="")
    return pd.Series(pd.Categorical(band, categories=names, ordered=True), index=distance_m.index)


def simulator_truth(truth: pd.DataFrame) -> pd.DataFrame:
    """The simulator's truth per finisher: first 600 m above 1200 m, first segment up to 1200 m."""
    long = truth["distance_m"] > SHORT_RACE_MAX_M
    value = truth["true_first3f_s"].where(long, truth["true_first_segment_s"])
    return pd.DataFrame(
        {"race_id": truth["race_id"], "umaban": truth["umaban"], "true_s": value}
    ).dropna(subset=["true_s"])


def real_truth(view: pd.DataFrame) -> pd.DataFrame:
    """Measured first 3Fs of real data: leader rows above 1200 m, T - L3F up to 1200 m."""
    known = view.reset_index(drop=True)
    finished = pd.to_numeric(known["finish_time_s"], errors="coerce").notna()
    rows = known[finished].reset_index(drop=True)
    segment = first_segment_s(rows)
    frame = pd.DataFrame(
        {
            "race_id": rows["race_id"],
            "umaban": rows["umaban"],
            "distance_m": pd.to_numeric(rows["distance_m"]).astype("float64"),
            "segment_s": segment,
            "front_segment_s": race_front_segment(rows["race_id"], segment),
            "early": early_position(rows),
            "leader_first3f_s": pd.to_numeric(rows["leader_first3f_s"]).astype("float64"),
        }
    )
    leaders = leader_rows(frame)
    short = frame[(frame["distance_m"] <= SHORT_RACE_MAX_M) & frame["segment_s"].notna()]
    return pd.concat(
        [
            leaders[RUNNER_KEY].assign(true_s=leaders["target_s"]),
            short[RUNNER_KEY].assign(true_s=short["segment_s"]),
        ],
        ignore_index=True,
    )


def hide_truth(view: pd.DataFrame) -> pd.DataFrame:
    """Real data with its measured first 3Fs hidden: no anchor above 1200 m, no last 3F below."""
    distance = pd.to_numeric(view["distance_m"]).astype("float64")
    long = distance > SHORT_RACE_MAX_M
    return view.assign(
        leader_first3f_s=view["leader_first3f_s"].where(~long),
        last3f_s=view["last3f_s"].where(long),
    )


@dataclass(frozen=True)
class EvalData:
    """What an evaluation reads: history to learn from, the period to score, and its truth."""

    history: pd.DataFrame  # runner view rows before the period
    period: pd.DataFrame  # runner view rows of the period
    truth: pd.DataFrame  # race_id, umaban, true_s (the period)
    kind: TruthKind
    history_truth: pd.DataFrame | None = None  # simulator only: truth of the history


def _fitted_adjusted(
    layers: pd.DataFrame, period: pd.DataFrame, refs: pd.DataFrame, model: First3FModel
) -> pd.Series:
    """The seed's formula with its intercept and coefficient refitted on leader rows."""
    intercept = model.details.get("fitted_seed_intercept_s")
    coefficient = model.details.get("fitted_seed_coefficient")
    if intercept is None or coefficient is None:
        return pd.Series(np.nan, index=period.index)
    values = lookup_references(period, refs, ["leader_first3f", "total"])
    total = pd.to_numeric(period["finish_time_s"], errors="coerce").astype("float64")
    fitted = values["leader_first3f"] + intercept - coefficient * (values["total"] - total)
    return fitted.clip(*CLIP_S).where(layers["adjusted"].notna())


def _truth_features(frame: pd.DataFrame, leader_values: pd.Series) -> pd.DataFrame:
    """Features of the simulator-only ML layer (everything observable, plus the leader layer)."""
    segment = first_segment_s(frame)
    front = race_front_segment(frame["race_id"], segment)
    field_size = pd.to_numeric(frame["field_size"]).astype("float64")
    columns: dict[str, pd.Series] = {
        "distance_m": pd.to_numeric(frame["distance_m"]).astype("float64"),
        "venue": venue_feature(frame),
        "class_rank": class_rank(frame["class_code"]),
        "finish_time_s": pd.to_numeric(frame["finish_time_s"]).astype("float64"),
        "last3f_s": pd.to_numeric(frame["last3f_s"]).astype("float64"),
        "segment_behind_s": segment - front,
        "field_size": field_size,
        "going_code": known_going(frame),
        "early_position": early_position(frame),
        "leader_first3f_s": pd.to_numeric(frame["leader_first3f_s"]).astype("float64"),
        "leader_layer_s": leader_values,
    }
    for corner in ("corner_3", "corner_4"):
        columns[f"{corner}_position"] = relative_position(
            pd.to_numeric(frame[corner]).astype("float64"), field_size
        )
    return pd.DataFrame(columns, index=frame.index)


def _truth_trained_layer(
    data: EvalData, refs: pd.DataFrame, model: First3FModel, period_leader: pd.Series
) -> pd.Series:
    """Simulator only: a regressor of the residual of ``leader`` learned from the truth table."""
    from sklearn.ensemble import HistGradientBoostingRegressor
    from threadpoolctl import threadpool_limits

    assert data.history_truth is not None
    history = data.history.merge(simulator_truth(data.history_truth), on=RUNNER_KEY, how="inner")
    long = pd.to_numeric(history["distance_m"]) > SHORT_RACE_MAX_M
    history = history[long].reset_index(drop=True)
    leader = first3f_layers(history, refs, model)["leader"]
    usable = leader.notna()
    if usable.sum() < 100:
        return pd.Series(np.nan, index=data.period.index)
    features = _truth_features(history, leader)[usable]
    residual = (history["true_s"] - leader)[usable]
    regressor = HistGradientBoostingRegressor(max_iter=200, random_state=0)
    wanted = period_leader.notna()
    with threadpool_limits(limits=1):
        regressor.fit(without_empty_columns(features), residual)
        predicted = regressor.predict(_truth_features(data.period, period_leader)[wanted])
    out = pd.Series(np.nan, index=data.period.index, dtype="float64")
    out[wanted] = period_leader[wanted] + predicted
    return out


def _long_features(frame: pd.DataFrame, refs: pd.DataFrame) -> pd.DataFrame:
    """Observable features of a runner above 1200 m, without the race leader's time."""
    values = lookup_references(frame, refs, ["leader_first3f", "total"])
    field_size = pd.to_numeric(frame["field_size"]).astype("float64")
    total = pd.to_numeric(frame["finish_time_s"]).astype("float64")
    columns: dict[str, pd.Series] = {
        "distance_m": pd.to_numeric(frame["distance_m"]).astype("float64"),
        "venue": venue_feature(frame),
        "class_rank": class_rank(frame["class_code"]),
        "finish_time_s": total,
        "last3f_s": pd.to_numeric(frame["last3f_s"]).astype("float64"),
        "field_size": field_size,
        "going_code": known_going(frame),
        "early_position": early_position(frame),
        "base_s": values["leader_first3f"],
        "speed_index_s": values["total"] - total,
    }
    for corner in ("corner_3", "corner_4"):
        columns[f"{corner}_position"] = relative_position(
            pd.to_numeric(frame[corner]).astype("float64"), field_size
        )
    return pd.DataFrame(columns, index=frame.index)


def _leader_trained_layer(data: EvalData, refs: pd.DataFrame, period: pd.DataFrame) -> pd.Series:
    """A regressor trained on the only first 3Fs real data has above 1200 m (the leaders'),
    applied to every runner: what an ML layer there would learn (the pipeline does not use it)."""
    from sklearn.ensemble import HistGradientBoostingRegressor
    from threadpoolctl import threadpool_limits

    history = data.history
    finished = pd.to_numeric(history["finish_time_s"], errors="coerce").notna()
    finishers = history[finished].reset_index(drop=True)
    leaders = leader_rows(known_rows(history, refs))  # indexed like ``finishers``
    out = pd.Series(np.nan, index=period.index, dtype="float64")
    if len(leaders) < 100:
        return out
    wanted = (pd.to_numeric(period["distance_m"]) > SHORT_RACE_MAX_M) & pd.to_numeric(
        period["finish_time_s"], errors="coerce"
    ).notna()
    regressor = HistGradientBoostingRegressor(max_iter=100, random_state=0)
    with threadpool_limits(limits=1):
        training = without_empty_columns(_long_features(finishers.loc[leaders.index], refs))
        regressor.fit(training, leaders["target_s"])
        if wanted.any():
            out[wanted] = regressor.predict(_long_features(period[wanted], refs))
    return out.clip(*CLIP_S)


def _layer_frame(data: EvalData, refs: pd.DataFrame, model: First3FModel) -> pd.DataFrame:
    """Every layer on the period: long-race layers as the pipeline sees the data (anchor hidden
    on real data), short-race fallbacks with the last 3F hidden."""
    period = hide_truth(data.period) if data.kind == "real" else data.period
    layers = first3f_layers(period, refs, model)
    hidden_short = first3f_layers(hide_truth(data.period), refs, model)
    layers["ratio"] = hidden_short["ratio"]
    layers["ml"] = hidden_short["ml"]
    layers["adjusted_fitted"] = _fitted_adjusted(layers, period, refs, model)
    layers[LEADER_TRAINED_LAYER] = _leader_trained_layer(data, refs, period)
    if data.kind == "simulator" and data.history_truth is not None:
        layers[TRUTH_TRAINED_LAYER] = _truth_trained_layer(data, refs, model, layers["leader"])
    return layers


def _grouped(scored: pd.DataFrame, by: str, value: str) -> dict[str, dict[str, Any]]:
    return {
        str(name): error_stats(group[value], group["true_s"])
        for name, group in scored.groupby(by, sort=True, observed=True)
    }


def evaluate_first3f(data: EvalData, options: FitOptions | None = None) -> dict[str, Any]:
    """Error of every method and layer over the period, learned only from the history."""
    options = options or FitOptions()
    if data.history.empty:
        raise ValueError("no history before the evaluated period to learn reference times from")
    refs = learn_reference_times(data.history)
    history_end = pd.to_datetime(data.history["race_date"]).max().date()
    model = fit_first3f_model(data.history, refs, first3f_model_version(history_end), options)
    period = hide_truth(data.period) if data.kind == "real" else data.period
    estimates = estimate_first3f(period, refs, model)
    layers = _layer_frame(data, refs, model)
    frame = data.period[RUNNER_KEY].assign(
        band=distance_band(data.period["distance_m"]).array,
        first3f_s=estimates["first3f_s"].to_numpy(),
        method=estimates["method"].to_numpy(),
    )
    frame = pd.concat([frame, layers.add_prefix("layer_")], axis=1)
    scored = frame.merge(data.truth, on=RUNNER_KEY, how="inner")
    with_estimate = scored[scored["first3f_s"].notna()]
    layer_names = [
        name
        for name in (*LAYERS, LEADER_TRAINED_LAYER, TRUTH_TRAINED_LAYER)
        if f"layer_{name}" in scored
    ]
    return {
        "truth": data.kind,
        "runners": len(with_estimate),
        "methods": _grouped(with_estimate, "method", "first3f_s"),
        "overall": error_stats(with_estimate["first3f_s"], with_estimate["true_s"]),
        "bands": {
            str(band): _grouped(group, "method", "first3f_s")
            for band, group in with_estimate.groupby("band", sort=True, observed=True)
        },
        "layers": {
            name: {
                **error_stats(scored[f"layer_{name}"], scored["true_s"]),
                "bands": _grouped(scored, "band", f"layer_{name}"),
            }
            for name in layer_names
        },
        "coefficients": _coefficients(model, data, refs),
        "model": {"version": model.version, **_model_summary(model)},
    }


def _model_summary(model: First3FModel) -> dict[str, Any]:
    return {
        "pace": None if model.pace is None else vars(model.pace),
        "leader_deficit": None if model.leader_deficit is None else vars(model.leader_deficit),
        **{key: value for key, value in model.details.items()},
    }


def _coefficients(model: First3FModel, data: EvalData, refs: pd.DataFrame) -> dict[str, Any]:
    """The seed's 0.3 next to the speed coefficients fitted here."""
    out: dict[str, Any] = {
        "seed": model.details.get("seed_coefficient"),
        "fitted_on_leader_rows": _rounded(model.details.get("fitted_seed_coefficient")),
        "pace_layer": None if model.pace is None else _rounded(model.pace.speed_coefficient),
    }
    if data.kind == "simulator" and data.history_truth is not None:
        out["fitted_on_simulator_truth"] = _rounded(_truth_coefficient(data, refs))
    return out


def _truth_coefficient(data: EvalData, refs: pd.DataFrame) -> float | None:
    """Simulator only: the per-runner slope of the first 3F on the speed index (with intercept)."""
    assert data.history_truth is not None
    history = data.history.merge(simulator_truth(data.history_truth), on=RUNNER_KEY, how="inner")
    history = history[pd.to_numeric(history["distance_m"]) > SHORT_RACE_MAX_M]
    values = lookup_references(history, refs, ["leader_first3f", "total"])
    speed_index = values["total"] - history["finish_time_s"].astype("float64")
    target = history["true_s"] - values["leader_first3f"]
    usable = speed_index.notna() & target.notna()
    if usable.sum() < 100:
        return None
    design = np.column_stack([np.ones(int(usable.sum())), -speed_index[usable]])
    (_intercept, coefficient), *_ = np.linalg.lstsq(design, target[usable], rcond=None)
    return float(coefficient)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(float(value), 3)


def eval_data_from_raw(
    raw: RawDay, start: date, end: date, truth: pd.DataFrame | None = None
) -> EvalData:
    """Decode raw tables and split them: history before ``start``, the period ``start..end``.

    With ``truth`` (the simulator's table) the period is scored against it; without, against
    real data's own measured rows (hidden from the estimator).
    """
    races = decode_races(raw.nvd_ra)
    runners = decode_runners(raw.nvd_se)
    view = runner_view(races, runners)
    view = view[view["race_date"].notna() & view["distance_m"].notna() & view["umaban"].notna()]
    day = pd.to_datetime(view["race_date"]).dt.date
    history = view[day < start].reset_index(drop=True)
    period = view[(day >= start) & (day <= end)].reset_index(drop=True)
    if truth is None:
        return EvalData(history, period, real_truth(period), "real")
    truth_day = pd.to_datetime(truth["race_date"]).dt.date
    return EvalData(
        history,
        period,
        simulator_truth(truth[(truth_day >= start) & (truth_day <= end)]),
        "simulator",
        history_truth=truth[truth_day < start],
    )
