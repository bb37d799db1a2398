"""The registry's logic: whether a training window is enough, what a version records about
itself, and what a training reports (the store's side is ``raceday.store.registry``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import pandas as pd

from raceday.errors import InputError
from raceday.model.win import FitResult, ModelInputs, ScorerOptions, TimeSplit, WinModel
from raceday.ratings.features import FEATURE_COLUMNS


@dataclass(frozen=True)
class Registered:
    """What the registry did with a new version."""

    version: str
    promoted: bool
    reason: str
    incumbent: str | None
    compared_races: int


def check_windows(runners: pd.DataFrame, split: TimeSplit, min_races: int) -> None:
    """One clear error when a window holds fewer than ``min_races`` settled races."""
    parts = split.part(runners["race_date"])
    for part in ("train", "blend", "eval"):
        races = runners.loc[parts == part, "race_id"].nunique()
        if races < min_races:
            start, end = getattr(split, f"{part}_start"), getattr(split, f"{part}_end")
            raise InputError(short_window(part, start, end, races, min_races))


def short_window(part: str, start: date, end: date, races: int, needed: int) -> str:
    return (
        f"the {part} window {start}..{end} has {races} settled races, {needed} needed: "
        "store more history (raceday run / backfill) or use a later --until"
    )


def version_meta(
    until: date,
    split: TimeSplit,
    fitted: FitResult,
    evaluation: dict[str, Any],
    *,
    feature_set: str,
    scorer: ScorerOptions,
    code_version: str,
    source: str,
) -> dict[str, Any]:
    """The registry's metadata of a version: data, features, parameters, metrics, code."""
    model: WinModel = fitted.model
    inputs: ModelInputs = model.inputs
    return {
        "trained_until": until.isoformat(),
        "split": split.to_dict(),
        "counts": fitted.counts,
        "feature_set": feature_set,
        "features": {
            "point_in_time": list(FEATURE_COLUMNS),
            "field_relative": list(inputs.field_relative),
            "categorical": list(inputs.categorical),
        },
        "params": {
            "scorer": asdict(scorer),
            "trees": model.trees,
            "kappa": model.kappa,
            "alpha": model.blend.alpha,
            "beta": model.blend.beta,
            "blend_races": model.blend.races,
        },
        "metrics": {key: value for key, value in evaluation.items() if key != "calibration"},
        "code_version": code_version,
        "source": source,
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
