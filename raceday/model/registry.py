"""The registry's logic: whether a training window is enough, what a version records about
itself, and what a training reports (the store's side is ``raceday.store.registry``)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any, Final

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


WINDOW_SETTINGS: Final = {  # the setting of each window's length (config/sections.py: train)
    "train": "RACEDAY_TRAIN__TRAIN_DAYS",
    "blend": "RACEDAY_TRAIN__BLEND_DAYS",
    "eval": "RACEDAY_TRAIN__EVALUATE_DAYS",
}
NEED_SETTING: Final = "RACEDAY_TRAIN__MIN_RACES"


def short_window(part: str, start: date, end: date, races: int, needed: int) -> str:
    """One line: the window short of races, and what mends it (:func:`window_remedy`, where
    the window holds some: an empty one lies before the history, which only more of it fills)."""
    line = (
        f"the {part} window {start}..{end} has {races} settled races, {needed} needed: "
        "store more history (raceday run / backfill) or use a later --until"
    )
    if not races:
        return line
    return f"{line}; " + window_remedy(
        WINDOW_SETTINGS[part], NEED_SETTING, start, end, races, needed
    )


def window_remedy(
    window_setting: str, need_setting: str, start: date, end: date, races: int, needed: int
) -> str:
    """What fills a window that more history or a later --until never does: a source of few
    venues or few race days (weekends only: ~430 races in 45 days; one boat venue: 167 in 14)
    needs a longer window or a smaller need. Names both settings, and the days that would hold
    ``needed`` races at the window's rate."""
    days = (end - start).days + 1
    rate = f"; about {math.ceil(days * needed / races)} days at this rate" if races else ""
    return (
        f"with few venues or race days, a longer window or a smaller need: {window_setting} "
        f"(now {days}{rate}) or {need_setting} (now {needed})"
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


@dataclass(frozen=True)
class CoveredRange:
    """The days of a range a model was in use on (``start``..``end``), and the days before them
    that none was, with why (``not_covered``: None when every day was)."""

    start: date
    end: date
    not_covered: str | None = None


def covered_range(start: date, end: date, first: tuple[str, date] | None) -> CoveredRange:
    """The part of ``start``..``end`` a promoted model was in use on, given ``first``, the first
    promoted version and its last day of training data (a version is in use from the day after
    it, never on its own training days): the days from the first it covers; one clear error
    naming it (or saying none is promoted) when it covers none of the range."""
    if first is None:
        raise InputError(
            f"no model promoted before {start}: run `raceday train --until D` with D before it"
        )
    version, trained_until = first
    first_day = trained_until + timedelta(days=1)
    if first_day <= start:
        return CoveredRange(start, end)
    if first_day > end:
        raise InputError(
            f"no model promoted before {end}: the first, {version}, is in use from {first_day} "
            f"(trained until {trained_until}); judge a range ending on or after it"
        )
    return CoveredRange(
        first_day,
        end,
        f"{start}..{trained_until} not judged: no model was promoted before {first_day} "
        f"(the first, {version}, was trained until {trained_until}); judged {first_day}..{end}",
    )
