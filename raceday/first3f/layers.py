"""The first-3F (前半3F) estimator of seed 003, every layer, vectorised over whole runner frames.

Layers, in order of preference (every value carries its ``method``; nothing is silently NaN):

1. ``actual``: a measured per-runner first 3F (``measured_first3f_s``), as is.
2. ``baseline`` (<= 1200 m): ``T_total - T_last``, the time to the start of the last 600 m (for
   1000 m a 400 m time: ``first_segment_m`` says so).
3. ``leader`` (>= 1201 m, race leader's ``nvd_ra.zenhan_3f`` present): every runner spends the
   same share of its first segment (``T_total - T_last``) on the first 600 m as the front of the
   race: ``L * segment / front_segment``; without its own segment, ``L`` plus its early-position
   deficit. Never faster than ``L``.
4. ``ml`` (<= 1200 m without a last 3F): a regressor learned from history, used only when it beat
   ``ratio`` on held-out days.
5. ``pace`` (>= 1201 m, 展開補正): ``base + a - c * speed_index + b * early_position`` with
   ``early_position`` 0 (front) .. 1 (back) at the first corner run near 600 m; a, b, c fitted
   on history, used only when it beat ``adjusted`` on held-out days.
6. ``adjusted`` (>= 1201 m, the seed's layer): ``clip(base - 0.3 * speed_index, 30, 45)`` with
   ``speed_index = standard - T_total``.
7. ``ratio`` (<= 1200 m without a last 3F): ``0.5 * T_total``.
8. fallbacks: ``base`` (the base time alone: no finish time), ``distance_ratio``
   (``T_total * 600 / distance``), else ``unavailable`` (NaN, said explicitly); a runner that
   never started (取消, 除外) is ``not_started`` (NaN).

Estimates above 1200 m are clipped to [30, 45] s and never faster than the race leader.
Reference times are learned by :mod:`raceday.ratings.standards` (and looked up through
:mod:`raceday.ratings.reference_times`), the fitted parameters by :mod:`raceday.first3f.model`, both
from history before the day.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pandas.api.types import is_numeric_dtype
from threadpoolctl import threadpool_limits

from raceday.codec import GOING_CODES, venue_numbers
from raceday.ratings.reference_times import lookup_references
from raceday.sport import class_ranks

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]

SHORT_RACE_MAX_M: Final = 1200
LAST_SEGMENT_M: Final = 600
SEED_SPEED_COEFFICIENT: Final = 0.3
CLIP_S: Final = (30.0, 45.0)
HALF_RATIO: Final = 0.5
NOT_STARTED_CODES: Final = (1, 2)  # ijo_kubun_code 取消 (scratched), 除外 (excluded at the gate)
# The first corner run near the 600 m point: corner 2, else 1; races <= 1300 m run only 3 and 4.
EARLY_CORNERS: Final = ("corner_2", "corner_1", "corner_3")
METHOD_PRIORITY: Final = (
    "actual", "baseline", "leader", "ml", "pace", "adjusted", "ratio", "base", "distance_ratio",
)  # fmt: skip
REFERENCE_KINDS: Final = ["leader_first3f", "total", "first_segment"]
# Each circuit's class ladder (raceday.sport): the higher the number, the lower the class.
CLASS_RANKS: Final = class_ranks()
SHORT_ML_FEATURES: Final = [
    "distance_m", "venue", "class_rank", "finish_time_s", "field_size", "going_code",
    "corner_3_position", "corner_4_position", "leader_first3f_s", "ref_first_segment_s",
    "ref_total_s", "speed_index_s",
]  # fmt: skip
SHORT_ML_CATEGORICAL: Final = ["venue"]


class Regressor(Protocol):
    """What the ML layer needs from a fitted scikit-learn regressor."""

    def predict(self, X: Any) -> Any:
        """Predicted values for the rows of ``X``."""
        ...


@dataclass(frozen=True)
class PaceCoefficients:
    """The pace layer: ``base + intercept_s - speed_coefficient * SI + position_s * early``."""

    intercept_s: float
    speed_coefficient: float
    position_s: float


@dataclass(frozen=True)
class LeaderDeficit:
    """Seconds behind the race leader at 600 m: ``max(0, intercept_s + position_s * early)``."""

    intercept_s: float
    position_s: float


@dataclass(frozen=True)
class First3FModel:
    """Parameters fitted on history for the pace, leader and ML layers (one version)."""

    version: str
    pace: PaceCoefficients | None = None
    leader_deficit: LeaderDeficit | None = None
    short_ml: Regressor | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


def _segment_m(distance: FloatArray) -> IntArray:
    short = distance <= SHORT_RACE_MAX_M  # an unknown distance (NaN) counts as 600 m
    return np.where(short, distance - LAST_SEGMENT_M, LAST_SEGMENT_M).astype(np.int64)


def first_segment_m(distance_m: pd.Series) -> pd.Series:
    """Length of the segment a first-3F value measures: distance - 600 m up to 1200 m, else 600."""
    distance = pd.to_numeric(distance_m).to_numpy(dtype="float64", na_value=np.nan)
    return pd.Series(_segment_m(distance), index=distance_m.index, dtype="int64")


def seed_adjusted(
    base_first3f_s: pd.Series,
    standard_time_s: pd.Series,
    finish_time_s: pd.Series,
    coefficient: float = SEED_SPEED_COEFFICIENT,
) -> pd.Series:
    """Seed 003's >= 1201 m formula: ``clip(base - coefficient * (standard - T), 30, 45)``."""
    speed_index = standard_time_s - finish_time_s
    return (base_first3f_s - coefficient * speed_index).clip(*CLIP_S)


def _array(runners: pd.DataFrame, column: str) -> FloatArray:
    """A column as a float64 array (NaN for missing), all NaN when the frame lacks it."""
    if column not in runners.columns:
        return np.full(len(runners), np.nan)
    values = runners[column]
    if not is_numeric_dtype(values.dtype):  # text columns (keibajo_code): parse once
        values = pd.to_numeric(values, errors="coerce")
    return np.asarray(values.to_numpy(dtype="float64", na_value=np.nan))


def _float(runners: pd.DataFrame, column: str) -> pd.Series:
    """A column as float64 (NaN for missing), or all NaN when the frame lacks it."""
    return pd.Series(_array(runners, column), index=runners.index)


def venue_feature(runners: pd.DataFrame) -> pd.Series:
    """The venue as the ML layers' categorical feature: its code as a number
    (:func:`raceday.codec.venue_numbers`: ``44`` -> 44, ``G0`` -> 676), NaN when unknown."""
    if "keibajo_code" not in runners.columns:
        return pd.Series(np.nan, index=runners.index, dtype="float64")
    return venue_numbers(runners["keibajo_code"])


def _relative(position: FloatArray, field_size: FloatArray) -> FloatArray:
    spread = np.where(field_size > 1, field_size - 1, np.nan)
    return np.clip((position - 1) / spread, 0.0, 1.0)


def relative_position(position: pd.Series, field_size: pd.Series) -> pd.Series:
    """Position in the field as 0 (front) .. 1 (back): ``(position - 1) / (field_size - 1)``."""
    values = _relative(
        position.to_numpy(dtype="float64", na_value=np.nan),
        field_size.to_numpy(dtype="float64", na_value=np.nan),
    )
    return pd.Series(values, index=position.index)


def _early(runners: pd.DataFrame) -> FloatArray:
    position = _array(runners, EARLY_CORNERS[0])
    for corner in EARLY_CORNERS[1:]:
        position = np.where(np.isnan(position), _array(runners, corner), position)
    return _relative(position, _array(runners, "field_size"))


def early_position(runners: pd.DataFrame) -> pd.Series:
    """Relative position at the first corner run near 600 m (corner 2, else 1, else 3)."""
    return pd.Series(_early(runners), index=runners.index)


def _segment(runners: pd.DataFrame) -> FloatArray:
    total, last = _array(runners, "finish_time_s"), _array(runners, "last3f_s")
    return np.where((last > 0) & (last < total), total - last, np.nan)


def first_segment_s(runners: pd.DataFrame) -> pd.Series:
    """Each runner's time to the start of the last 600 m: ``T_total - T_last`` (NaN if unknown)."""
    return pd.Series(_segment(runners), index=runners.index)


def _front(race_id: pd.Series, segment: FloatArray) -> FloatArray:
    codes, uniques = pd.factorize(race_id)
    fastest = np.full(len(uniques) + 1, np.inf)  # the extra slot (-1) takes rows without an id
    np.fmin.at(fastest, codes, segment)
    front = fastest[codes]
    return np.where(np.isinf(front), np.nan, front)


def race_front_segment(race_id: pd.Series, segment_s: pd.Series) -> pd.Series:
    """The fastest first segment of each runner's race (the front of the race at distance - 600)."""
    return pd.Series(_front(race_id, segment_s.to_numpy(dtype="float64")), index=segment_s.index)


def class_rank(class_code: pd.Series) -> pd.Series:
    """A class as its rank on its circuit's ladder (NAR A1 = 1 .. C4 = 12, JRA OP = 1 .. NEW = 6);
    unknown classes are NaN."""
    return class_code.astype("string").map(CLASS_RANKS).astype("float64")


@dataclass(frozen=True)
class _Inputs:
    """The columns every layer reads, decoded once into float arrays."""

    distance: FloatArray
    total: FloatArray
    segment: FloatArray
    short: BoolArray
    long: BoolArray
    early: FloatArray
    leader: FloatArray  # the race leader's first 3F where plausible and above 1200 m
    base: FloatArray  # leader_first3f reference
    standard: FloatArray  # total reference
    first_segment_ref: FloatArray

    @property
    def speed_index(self) -> FloatArray:
        """Standard time minus the runner's finish time (positive = faster than standard)."""
        return self.standard - self.total


def _inputs(runners: pd.DataFrame, references: pd.DataFrame) -> _Inputs:
    distance = _array(runners, "distance_m")
    long = distance > SHORT_RACE_MAX_M
    leader = _array(runners, "leader_first3f_s")
    plausible = (leader >= CLIP_S[0]) & (leader <= CLIP_S[1]) & long
    refs = lookup_references(runners, references, REFERENCE_KINDS)
    return _Inputs(
        distance=distance,
        total=_array(runners, "finish_time_s"),
        segment=_segment(runners),
        short=distance <= SHORT_RACE_MAX_M,
        long=long,
        early=_early(runners),
        leader=np.where(plausible, leader, np.nan),
        base=refs["leader_first3f"].to_numpy(dtype="float64"),
        standard=refs["total"].to_numpy(dtype="float64"),
        first_segment_ref=refs["first_segment"].to_numpy(dtype="float64"),
    )


def short_ml_features(runners: pd.DataFrame, references: pd.DataFrame) -> pd.DataFrame:
    """Features of the <= 1200 m ML layer (no last 3F: it serves runners that lack one)."""
    refs = lookup_references(runners, references, REFERENCE_KINDS)
    field_size = _float(runners, "field_size")
    total = _float(runners, "finish_time_s")
    return pd.DataFrame(
        {
            "distance_m": _float(runners, "distance_m"),
            "venue": venue_feature(runners),
            "class_rank": class_rank(runners["class_code"]),
            "finish_time_s": total,
            "field_size": field_size,
            "going_code": known_going(runners),
            "corner_3_position": relative_position(_float(runners, "corner_3"), field_size),
            "corner_4_position": relative_position(_float(runners, "corner_4"), field_size),
            "leader_first3f_s": _float(runners, "leader_first3f_s"),
            "ref_first_segment_s": refs["first_segment"],
            "ref_total_s": refs["total"],
            "speed_index_s": refs["total"] - total,
        },
        index=runners.index,
    )[SHORT_ML_FEATURES]


def known_going(runners: pd.DataFrame) -> pd.Series:
    """Going 1-4 as a number; unknown (0, NA, another code) NaN."""
    going = _float(runners, "going_code")
    return going.where(going.isin(GOING_CODES))


def _only(mask: BoolArray, values: FloatArray) -> FloatArray:
    return np.where(mask, values, np.nan)


def pace_layer(inputs: _Inputs, pace: PaceCoefficients) -> FloatArray:
    """``clip(base + a - c * speed_index + b * early_position, 30, 45)`` above 1200 m."""
    value = (
        inputs.base
        + pace.intercept_s
        - pace.speed_coefficient * inputs.speed_index
        + pace.position_s * inputs.early
    )
    return _only(inputs.long, np.clip(value, *CLIP_S))


def leader_layer(race_id: pd.Series, inputs: _Inputs, deficit: LeaderDeficit | None) -> FloatArray:
    """The race leader's first 3F scaled by each runner's first segment (else plus its deficit)."""
    front = _front(race_id, inputs.segment)
    share = np.where(front > inputs.leader, inputs.leader * inputs.segment / front, np.nan)
    if deficit is not None:
        behind = np.maximum(deficit.intercept_s + deficit.position_s * inputs.early, 0.0)
        share = np.where(np.isnan(share), inputs.leader + behind, share)
    return _only(inputs.long, share)


def _ml_layer(
    runners: pd.DataFrame, references: pd.DataFrame, inputs: _Inputs, model: First3FModel | None
) -> FloatArray:
    """The <= 1200 m regressor on runners with a finish time but no last 3F."""
    out = np.full(len(runners), np.nan)
    if model is None or model.short_ml is None:
        return out
    wanted = inputs.short & ~np.isnan(inputs.total) & np.isnan(inputs.segment)
    if wanted.any():
        features = short_ml_features(runners[wanted], references).astype("float64")
        # A handful of rows: one thread (OpenMP oversubscription costs more than it saves).
        with threadpool_limits(limits=1):
            out[wanted] = np.asarray(model.short_ml.predict(features), dtype="float64")
    return out


def _layer_arrays(
    runners: pd.DataFrame, references: pd.DataFrame, model: First3FModel | None
) -> dict[str, FloatArray]:
    inputs = _inputs(runners, references)
    short, long, total = inputs.short, inputs.long, inputs.total
    measured = _array(runners, "measured_first3f_s")
    no_time = np.isnan(total)
    nan = np.full(len(runners), np.nan)
    return {
        "actual": np.where(measured > 0, measured, np.nan),
        "baseline": _only(short, inputs.segment),
        "leader": leader_layer(runners["race_id"], inputs, model.leader_deficit if model else None),
        "ml": _ml_layer(runners, references, inputs, model),
        "pace": pace_layer(inputs, model.pace) if model and model.pace else nan,
        "adjusted": _only(
            long, np.clip(inputs.base - SEED_SPEED_COEFFICIENT * inputs.speed_index, *CLIP_S)
        ),
        "ratio": _only(short, HALF_RATIO * total),
        "base": _only(
            no_time,
            np.where(short, inputs.first_segment_ref, _only(long, np.clip(inputs.base, *CLIP_S))),
        ),
        "distance_ratio": _only(long, np.clip(total * LAST_SEGMENT_M / inputs.distance, *CLIP_S)),
    }


def first3f_layers(
    runners: pd.DataFrame, references: pd.DataFrame, model: First3FModel | None = None
) -> pd.DataFrame:
    """Every layer's raw value for every runner (NaN where a layer does not apply).

    ``runners`` needs race_id, keibajo_code, distance_m, class_code, finish_time_s and
    last3f_s; corner_1..4, field_size, going_code, leader_first3f_s, abnormal_code and
    measured_first3f_s are used when present.
    """
    return pd.DataFrame(_layer_arrays(runners, references, model), index=runners.index)


def _choose(layers: dict[str, FloatArray], n_rows: int) -> tuple[FloatArray, IntArray]:
    """The value and the position in METHOD_PRIORITY of the most preferred layer with a value
    (``len(METHOD_PRIORITY)`` = unavailable)."""
    value = np.full(n_rows, np.nan)
    chosen = np.full(n_rows, len(METHOD_PRIORITY), dtype=np.int64)
    for position in range(len(METHOD_PRIORITY) - 1, -1, -1):  # least preferred first
        candidate = layers[METHOD_PRIORITY[position]]
        present = ~np.isnan(candidate)
        value = np.where(present, candidate, value)
        chosen = np.where(present, position, chosen)
    return value, chosen


def unavailable_note(estimates: pd.DataFrame) -> str | None:
    """The warning a stage logs for the runners of ``estimates`` (:func:`estimate_first3f`) no
    layer could serve; None when every runner has a value or never started. Said by the stage
    whose runners they are, not by the estimator: reference times estimate their whole history
    window to learn from it, and a day's log then named the window's runners as the day's."""
    unavailable = int(estimates["method"].eq("unavailable").sum())
    if not unavailable:
        return None
    return (
        f"first 3F unavailable for {unavailable} of {len(estimates)} runners (no finish time and"
        " no reference cell for their venue x surface x distance: history too thin)"
    )


def estimate_first3f(
    runners: pd.DataFrame, references: pd.DataFrame, model: First3FModel | None = None
) -> pd.DataFrame:
    """First-3F estimate, segment length and method for every runner row (with race columns).

    Without ``model`` only the seed's own layers (and the leader's share) apply.
    """
    layers = _layer_arrays(runners, references, model)
    value, chosen = _choose(layers, len(runners))
    distance = _array(runners, "distance_m")
    leader = _array(runners, "leader_first3f_s")
    plausible = (leader >= CLIP_S[0]) & (leader <= CLIP_S[1])
    # Above 1200 m nobody is faster than the race's measured leader, and the seed's clip holds.
    estimated = (distance > SHORT_RACE_MAX_M) & (chosen != METHOD_PRIORITY.index("actual"))
    floor = np.where(plausible, leader, CLIP_S[0])
    value = np.where(estimated, np.clip(value, floor, CLIP_S[1]), value)
    not_started = np.isin(_array(runners, "abnormal_code"), NOT_STARTED_CODES)
    value = np.where(not_started, np.nan, value)
    chosen = np.where(not_started, len(METHOD_PRIORITY) + 1, chosen)
    names = pd.array([*METHOD_PRIORITY, "unavailable", "not_started"], dtype="string")
    return pd.DataFrame(
        {
            "race_id": runners["race_id"],
            "umaban": runners["umaban"],
            "race_date": runners["race_date"],
            "first3f_s": pd.Series(value, index=runners.index),
            "first_segment_m": pd.Series(_segment_m(distance), index=runners.index),
            "method": pd.Series(names.take(chosen), index=runners.index),
        }
    )
