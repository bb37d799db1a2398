"""Fitting the first-3F layers on history: only from what real data has, point in time.

Real NAR data measures a first 3F in two places, and only these train anything here:

- the race leader's first 600 m (``nvd_ra.zenhan_3f``) above 1200 m, credited to the runner
  with the best early position (``leader`` rows);
- every runner's ``T_total - T_last`` at 1200 m, which *is* its first 600 m (``1200 m`` rows),
  and at shorter distances its (distance - 600) m time (``short`` rows).

Fitted: the pace layer (intercept, speed coefficient, early-position slope) on leader and
1200 m rows; the leader layer's early-position deficit on 1200 m rows; the seed's speed
coefficient refitted on leader rows (its own definition, reported next to 0.3); the <= 1200 m
ML layer on short rows. The last days of the history are held out: a fitted layer is used only
when it beats the layer beneath it there, then it is refitted on the whole history.
"""

from __future__ import annotations

import base64
import json
import logging
import pickle
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any, Final

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from raceday.first3f.layers import (
    CLIP_S,
    HALF_RATIO,
    SEED_SPEED_COEFFICIENT,
    SHORT_ML_CATEGORICAL,
    SHORT_ML_FEATURES,
    SHORT_RACE_MAX_M,
    First3FModel,
    LeaderDeficit,
    PaceCoefficients,
    Regressor,
    early_position,
    first_segment_s,
    race_front_segment,
    short_ml_features,
)
from raceday.ratings.reference_times import lookup_references

logger = logging.getLogger(__name__)

EXACT_600_M: Final = 1200  # at 1200 m, T_total - T_last is the first 600 m itself


def first3f_model_version(history_end: date) -> str:
    """The version id of first-3F parameters fitted on history up to ``history_end``."""
    return f"f3f-{history_end:%Y%m%d}"


@dataclass(frozen=True)
class FitOptions:
    """How the layers are fitted (defaults from ``config.Settings.first3f``)."""

    holdout_fraction: float = 0.2
    min_rows: int = 200
    ml_enabled: bool = True
    ml_max_rows: int = 100_000
    ml_max_iter: int = 100
    ml_threads: int = 1
    random_state: int = 0


def known_rows(history: pd.DataFrame, references: pd.DataFrame) -> pd.DataFrame:
    """History runners with a finish time (in order, index reset), with the columns fits read."""
    frame = history[pd.to_numeric(history["finish_time_s"], errors="coerce").notna()]
    frame = frame.reset_index(drop=True)
    refs = lookup_references(frame, references, ["leader_first3f", "total"])
    segment = first_segment_s(frame)
    return pd.DataFrame(
        {
            "race_id": frame["race_id"],
            "race_date": pd.to_datetime(frame["race_date"]),
            "distance_m": pd.to_numeric(frame["distance_m"]).astype("float64"),
            "finish_time_s": frame["finish_time_s"].astype("float64"),
            "segment_s": segment,
            "front_segment_s": race_front_segment(frame["race_id"], segment),
            "early": early_position(frame),
            "leader_first3f_s": pd.to_numeric(frame["leader_first3f_s"]).astype("float64"),
            "base_s": refs["leader_first3f"],
            "speed_index_s": refs["total"] - frame["finish_time_s"].astype("float64"),
        }
    )


def leader_rows(known: pd.DataFrame) -> pd.DataFrame:
    """Above 1200 m, the runner with the best early position (ties: fastest segment) per race,
    with the race leader's measured first 3F as its target."""
    long = known[
        (known["distance_m"] > SHORT_RACE_MAX_M)
        & known["leader_first3f_s"].between(*CLIP_S)
        & known["early"].notna()
    ]
    ordered = long.sort_values(["race_id", "early", "segment_s"], na_position="last")
    leaders = ordered.drop_duplicates("race_id")
    return leaders.assign(target_s=leaders["leader_first3f_s"])


def exact_600m_rows(known: pd.DataFrame) -> pd.DataFrame:
    """1200 m runners: ``T_total - T_last`` is their first 600 m."""
    rows = known[(known["distance_m"] == EXACT_600_M) & known["segment_s"].notna()]
    return rows.assign(target_s=rows["segment_s"])


def _pace_design(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    usable = rows.dropna(subset=["base_s", "speed_index_s", "early", "target_s"])
    design = np.column_stack(
        [np.ones(len(usable)), -usable["speed_index_s"], usable["early"]]
    ).astype("float64")
    return design, (usable["target_s"] - usable["base_s"]).to_numpy(dtype="float64")


def fit_pace(rows: pd.DataFrame, min_rows: int) -> PaceCoefficients | None:
    """Least squares of ``target - base`` on ``1, -speed_index, early_position``."""
    design, target = _pace_design(rows)
    if len(target) < min_rows or np.ptp(design[:, 2]) == 0:
        return None
    (intercept, speed, position), *_ = np.linalg.lstsq(design, target, rcond=None)
    return PaceCoefficients(float(intercept), float(speed), float(position))


def pace_values(rows: pd.DataFrame, pace: PaceCoefficients) -> pd.Series:
    """The pace layer on training-style rows (base_s, speed_index_s, early)."""
    value = (
        rows["base_s"]
        + pace.intercept_s
        - pace.speed_coefficient * rows["speed_index_s"]
        + pace.position_s * rows["early"]
    )
    return value.clip(*CLIP_S)


def fit_seed_coefficient(leaders: pd.DataFrame, min_rows: int) -> tuple[float, float] | None:
    """The seed's formula refitted where it is defined (the leader): intercept, coefficient."""
    usable = leaders.dropna(subset=["base_s", "speed_index_s"])
    if len(usable) < min_rows:
        return None
    design = np.column_stack([np.ones(len(usable)), -usable["speed_index_s"]])
    target = (usable["target_s"] - usable["base_s"]).to_numpy(dtype="float64")
    (intercept, coefficient), *_ = np.linalg.lstsq(design, target, rcond=None)
    return float(intercept), float(coefficient)


def fit_leader_deficit(rows: pd.DataFrame, min_rows: int) -> LeaderDeficit | None:
    """Seconds behind the race's front at 600 m against early position, on 1200 m rows."""
    usable = rows.dropna(subset=["early", "front_segment_s"])
    if len(usable) < min_rows or usable["early"].nunique() < 2:
        return None
    behind = (usable["segment_s"] - usable["front_segment_s"]).to_numpy(dtype="float64")
    design = np.column_stack([np.ones(len(usable)), usable["early"]])
    (intercept, position), *_ = np.linalg.lstsq(design, behind, rcond=None)
    return LeaderDeficit(float(intercept), float(position))


def short_rows(history: pd.DataFrame) -> pd.DataFrame:
    """<= 1200 m runners with a first segment: what the ML layer learns from."""
    distance = pd.to_numeric(history["distance_m"]).astype("float64")
    segment = first_segment_s(history)
    keep = (distance <= SHORT_RACE_MAX_M) & segment.notna()
    return history[keep].assign(target_s=segment[keep]).reset_index(drop=True)


def ml_trainable(features: pd.DataFrame, target: pd.Series, min_rows: int) -> str | None:
    """Why the booster cannot learn from these rows (None when it can): too few rows, a target
    of one value, or no feature that varies."""
    if len(features) < min_rows:
        return f"{len(features)} rows (< {min_rows})"
    if target.nunique() < 2:
        return "a target of one value"
    if not (features.nunique() >= 2).any():
        return "no feature with two distinct values"
    return None


def without_empty_columns(features: pd.DataFrame) -> pd.DataFrame:
    """The features with every all-missing column set to 0.0: the booster cannot bin a column
    without a value, and never splits on a constant one (so predictions ignore it)."""
    empty = features.columns[features.isna().all()]
    return features.assign(**{name: 0.0 for name in empty}) if len(empty) else features


def fit_short_ml(
    rows: pd.DataFrame, references: pd.DataFrame, options: FitOptions
) -> Regressor | None:
    """A gradient-boosted regressor of the first segment from everything but the last 3F.

    None (with a warning) when the rows cannot train it. A feature column without any value
    (no leader times at all: every ``zenhan_3f`` is ``000``) is trained as a constant, which the
    booster never splits on; it cannot bin an all-missing column.
    """
    from sklearn.ensemble import HistGradientBoostingRegressor

    if len(rows) < options.min_rows:
        return None
    recent = rows.sort_values("race_date").tail(options.ml_max_rows)
    features = short_ml_features(recent, references).astype("float64")
    target = recent["target_s"].astype("float64")
    reason = ml_trainable(features, target, options.min_rows)
    if reason is not None:
        logger.warning("first-3F ML layer skipped: %s", reason)
        return None
    features = without_empty_columns(features)
    model = HistGradientBoostingRegressor(
        max_iter=options.ml_max_iter,
        categorical_features=[SHORT_ML_FEATURES.index(name) for name in SHORT_ML_CATEGORICAL],
        random_state=options.random_state,
    )
    with threadpool_limits(limits=options.ml_threads):
        model.fit(features, target.to_numpy(dtype="float64"))
    regressor: Regressor = model
    return regressor


def _mae(estimate: pd.Series, target: pd.Series) -> float | None:
    error = (estimate - target).abs().dropna()
    return round(float(error.mean()), 4) if len(error) else None


def _holdout_split(dates: pd.Series, fraction: float) -> pd.Timestamp | None:
    """The first held-out date: the last ``fraction`` of distinct dates (None if too few)."""
    distinct = np.sort(dates.dropna().unique())
    n_held = int(np.floor(len(distinct) * fraction))
    if n_held < 1 or n_held >= len(distinct):
        return None
    return pd.Timestamp(distinct[len(distinct) - n_held])


def _pace_wins(
    rows: pd.DataFrame, cut: pd.Timestamp, options: FitOptions, holdout: dict[str, float | None]
) -> bool:
    """Fit the pace layer before ``cut``; True when it beats ``adjusted`` from ``cut`` on."""
    usable = rows.dropna(subset=["base_s", "speed_index_s", "early"])
    train, held = usable[usable["race_date"] < cut], usable[usable["race_date"] >= cut]
    seed = (held["base_s"] - SEED_SPEED_COEFFICIENT * held["speed_index_s"]).clip(*CLIP_S)
    holdout["adjusted"] = _mae(seed, held["target_s"])
    trial = fit_pace(train, options.min_rows)
    if trial is None:
        return False
    holdout["pace"] = _mae(pace_values(held, trial), held["target_s"])
    return _beats(holdout["pace"], holdout["adjusted"])


def _ml_wins(
    short: pd.DataFrame,
    references: pd.DataFrame,
    cut: pd.Timestamp,
    options: FitOptions,
    holdout: dict[str, float | None],
) -> bool:
    """Fit the ML layer before ``cut``; True when it beats ``ratio`` from ``cut`` on."""
    dates = pd.to_datetime(short["race_date"])
    train, held = short[dates < cut], short[dates >= cut]
    holdout["ratio"] = _mae(HALF_RATIO * held["finish_time_s"].astype("float64"), held["target_s"])
    trial = fit_short_ml(train, references, options)
    if trial is None or held.empty:
        return False
    with threadpool_limits(limits=options.ml_threads):
        predicted = trial.predict(short_ml_features(held, references).astype("float64"))
    holdout["ml"] = _mae(pd.Series(np.asarray(predicted), index=held.index), held["target_s"])
    return _beats(holdout["ml"], holdout["ratio"])


def fit_first3f_model(
    history: pd.DataFrame,
    references: pd.DataFrame,
    version: str,
    options: FitOptions = FitOptions(),
) -> First3FModel:
    """Fit every layer on ``history`` (runner rows with race columns) and gate it on held-out days.

    ``references`` must be learned from the same history (no later day).
    """
    known = known_rows(history, references)
    leaders, at_600 = leader_rows(known), exact_600m_rows(known)
    paced_rows = pd.concat([leaders, at_600], ignore_index=True)
    short = short_rows(history)
    cut = _holdout_split(known["race_date"], options.holdout_fraction)
    holdout: dict[str, float | None] = {}
    pace_used = ml_used = False
    if cut is not None:
        pace_used = _pace_wins(paced_rows, cut, options, holdout)
        ml_used = options.ml_enabled and _ml_wins(short, references, cut, options, holdout)
    seed_fit = fit_seed_coefficient(leaders, options.min_rows)
    pace = fit_pace(paced_rows, options.min_rows) if pace_used else None
    short_ml = fit_short_ml(short, references, options) if ml_used else None
    details: dict[str, Any] = {
        "n_leader_rows": len(leaders),
        "n_1200m_rows": len(at_600),
        "n_short_rows": len(short),
        "holdout_from": cut.date().isoformat() if cut is not None else None,
        "holdout_mae_s": holdout,
        "pace_used": pace is not None,
        "ml_used": short_ml is not None,
        "seed_coefficient": SEED_SPEED_COEFFICIENT,
        "fitted_seed_intercept_s": seed_fit[0] if seed_fit else None,
        "fitted_seed_coefficient": seed_fit[1] if seed_fit else None,
    }
    return First3FModel(
        version=version,
        pace=pace,
        leader_deficit=fit_leader_deficit(at_600, options.min_rows),
        short_ml=short_ml,
        details=details,
    )


def _beats(candidate: float | None, incumbent: float | None) -> bool:
    return candidate is not None and (incumbent is None or candidate < incumbent)


# --- storage ------------------------------------------------------------------------------------


def ml_library() -> str:
    """The library a pickled ML layer was written with (a different one cannot be trusted)."""
    import sklearn

    return f"scikit-learn {sklearn.__version__}"


def model_to_record(
    model: First3FModel,
    reference_version: str,
    history_start: date | None,
    history_end: date | None,
) -> dict[str, Any]:
    """One ``first3f_models`` row: parameters as JSON, the ML layer pickled (base64 text)."""
    params = {
        "pace": asdict(model.pace) if model.pace else None,
        "leader_deficit": asdict(model.leader_deficit) if model.leader_deficit else None,
        "details": dict(model.details),
    }
    blob = None
    if model.short_ml is not None:
        blob = base64.b64encode(pickle.dumps(model.short_ml, protocol=pickle.HIGHEST_PROTOCOL))
    details = model.details
    return {
        "version": model.version,
        "reference_version": reference_version,
        "history_start": history_start,
        "history_end": history_end,
        "n_leader_rows": int(details.get("n_leader_rows", 0)),
        "n_1200m_rows": int(details.get("n_1200m_rows", 0)),
        "n_short_rows": int(details.get("n_short_rows", 0)),
        "params": json.dumps(params, sort_keys=True),
        "ml_model": blob.decode("ascii") if blob is not None else None,
        "ml_library": ml_library() if blob is not None else None,
        "created_at": datetime.now(),
    }


def model_from_record(record: Mapping[str, Any]) -> First3FModel | None:
    """The model of a stored row; None when its ML layer was pickled by another library version.

    Only rows this pipeline wrote into its own store are ever unpickled.
    """
    params = json.loads(record["params"])
    short_ml = None
    if record.get("ml_model"):
        if record.get("ml_library") != ml_library():
            logger.warning(
                "first-3F model %s was written with %s, not %s: it must be refitted",
                record["version"],
                record.get("ml_library"),
                ml_library(),
            )
            return None
        short_ml = pickle.loads(base64.b64decode(record["ml_model"]))  # our own store's rows only
    pace, deficit = params.get("pace"), params.get("leader_deficit")
    return First3FModel(
        version=str(record["version"]),
        pace=PaceCoefficients(**pace) if pace else None,
        leader_deficit=LeaderDeficit(**deficit) if deficit else None,
        short_ml=short_ml,
        details=params.get("details", {}),
    )
