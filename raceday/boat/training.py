"""A boat version for the registry (``raceday train --sport boat --until D``): the split of the
stored history that ends on ``D``, the fit on its older days (:func:`raceday.boat.model.
fit_boat_model`: the scorer, then the blends), the judgement on the newest days held out, and
the head-to-head with the version in use on the same races.

The baseline a version must beat is what the day would bet on without it: the morning market
where a race is priced, the lane prior where it has no odds (``p_baseline``). The store's side
is :mod:`raceday.store.registry`; the stages are ``tasks/boat_train.py``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any, Final

import numpy as np
import pandas as pd

from raceday.boat.evaluate import comparison
from raceday.boat.features import DESIGN_COLUMNS
from raceday.boat.model import MIN_SCORER_RACES, BoatModel, fit_boat_model, predict_boats
from raceday.errors import InputError
from raceday.model.metrics import uniform_log_loss, winner_log_loss
from raceday.model.registry import window_remedy

BASELINE: Final = "the market (the lane prior where no odds)"


@dataclass(frozen=True)
class BoatSplit:
    """The days a version is fitted on and the newest days it is judged on (both inclusive)."""

    fit_start: date
    fit_end: date
    eval_start: date
    eval_end: date

    def to_dict(self) -> dict[str, str]:
        return {name: day.isoformat() for name, day in asdict(self).items()}

    def window(self, race_date: pd.Series, part: str) -> pd.Series:
        """Which rows of ``race_date`` fall in ``part`` (``fit`` or ``eval``)."""
        day = pd.to_datetime(race_date).dt.normalize()
        start, end = getattr(self, f"{part}_start"), getattr(self, f"{part}_end")
        return day.between(pd.Timestamp(start), pd.Timestamp(end))


def boat_split(until: date, train_days: int, evaluate_days: int) -> BoatSplit:
    """The ``evaluate_days`` ending on ``until`` held out; the ``train_days`` before fitted on."""
    eval_start = until - timedelta(days=evaluate_days - 1)
    fit_end = eval_start - timedelta(days=1)
    return BoatSplit(fit_end - timedelta(days=train_days - 1), fit_end, eval_start, until)


WINDOW_SETTINGS: Final = {  # the setting of each window's length (config/settings.py: boat)
    "fit": "RACEDAY_BOAT__TRAIN_DAYS",
    "eval": "RACEDAY_BOAT__EVALUATE_DAYS",
}
NEED_SETTING: Final = "RACEDAY_BOAT__MIN_RACES"


def short_window(part: str, start: date, end: date, races: int, needed: int) -> str:
    """One line: the boat window short of races, and what mends it (one venue's 12 races a day
    hold out 167 races in 14 days, never 300: :func:`raceday.model.registry.window_remedy`)."""
    return (
        f"the boat {part} window {start}..{end} has {races} settled races, {needed} needed: "
        "store more boat history (raceday backfill --sport boat) or use a later --until; "
        + window_remedy(WINDOW_SETTINGS[part], NEED_SETTING, start, end, races, needed)
    )


def check_windows(races: dict[str, int], split: BoatSplit, min_races: int) -> None:
    """One clear error when the fit or the eval window holds fewer than ``min_races``."""
    for part in ("fit", "eval"):
        if races[part] < min_races:
            start, end = getattr(split, f"{part}_start"), getattr(split, f"{part}_end")
            raise InputError(short_window(part, start, end, races[part], min_races))


def window_races(rows: pd.DataFrame, split: BoatSplit) -> dict[str, int]:
    """The races of ``rows`` in each window."""
    return {
        part: int(rows.loc[split.window(rows["race_date"], part).to_numpy(), "race_id"].nunique())
        for part in ("fit", "eval")
    }


@dataclass(frozen=True)
class BoatFit:
    """A fitted version, its held-out rows (features, for an incumbent to score) and their
    predictions with the outcome and the baseline (:func:`held_out_predictions`)."""

    model: BoatModel
    split: BoatSplit
    eval_rows: pd.DataFrame
    held_out: pd.DataFrame
    fit_races: int


def held_out_predictions(model: BoatModel, rows: pd.DataFrame) -> pd.DataFrame:
    """``model``'s probabilities of ``rows`` (training rows: features, odds, ``won``) with
    ``finish_pos`` (1 for the winner), ``umaban`` (= boat, as the metrics key it) and
    ``p_baseline`` (the market where the race is priced, else the prior)."""
    rows = rows.reset_index(drop=True)
    predicted = predict_boats(model, rows)
    won = rows["won"].astype("float64").to_numpy() > 0.5
    priced = np.isfinite(predicted["p_market"].to_numpy())
    baseline = np.where(priced, predicted["p_market"], predicted["p_prior"])
    return predicted.assign(
        umaban=predicted["boat"],
        finish_pos=pd.array(np.where(won, 1, 0), dtype="Int64"),
        p_baseline=baseline,
    )


def fit_boat_version(rows: pd.DataFrame, split: BoatSplit, min_races: int) -> BoatFit:
    """The version of ``split.eval_end`` fitted on the fit window's rows and judged on the eval
    window's; InputError when a window is short or the scorer has too few races."""
    races = window_races(rows, split)
    check_windows(races, split, min_races)
    fit_rows = rows[split.window(rows["race_date"], "fit").to_numpy()]
    eval_rows = rows[split.window(rows["race_date"], "eval").to_numpy()].reset_index(drop=True)
    model = fit_boat_model(fit_rows, split.eval_end)
    if model.coefficients is None:
        raise InputError(
            f"the boat fit window {split.fit_start}..{split.fit_end} has {model.scorer_races} "
            f"single-winner races in its older two thirds, {MIN_SCORER_RACES} needed: store "
            "more boat history or use a later --until"
        )
    return BoatFit(model, split, eval_rows, held_out_predictions(model, eval_rows), races["fit"])


def single_winner_races(held_out: pd.DataFrame) -> pd.DataFrame:
    """The rows of races with exactly one winner (dead heats and races without one left out)."""
    winners = held_out["finish_pos"].eq(1).groupby(held_out["race_id"].to_numpy()).transform("sum")
    return held_out[(winners == 1).to_numpy()]


def held_out_evaluation(held_out: pd.DataFrame) -> dict[str, Any]:
    """The blend against the baseline on every held-out race with one winner, and prior, market,
    model and blend compared on the races the market prices (``raceday.boat.evaluate``)."""
    scored = single_winner_races(held_out)
    out: dict[str, Any] = {"races": int(scored["race_id"].nunique())}
    if scored.empty:
        return out
    blend, baseline = winner_log_loss(scored, "p_final"), winner_log_loss(scored, "p_baseline")
    uniform = uniform_log_loss(scored)
    return {
        **out,
        "blend_log_loss": blend,
        "baseline_log_loss": baseline,
        "uniform_log_loss": uniform,
        "blend_pseudo_r2": 1.0 - blend / uniform,
        "baseline_pseudo_r2": 1.0 - baseline / uniform,
        "priced": comparison(scored),
    }


def head_to_head(
    fitted: BoatFit, incumbent: BoatModel, incumbent_fit_end: date
) -> tuple[float, float, float, int] | None:
    """(candidate, incumbent, baseline) log loss and races on the held-out days the incumbent
    was not fitted on; None when there are none."""
    later = pd.to_datetime(fitted.eval_rows["race_date"]) > pd.Timestamp(incumbent_fit_end)
    if not later.any():
        return None
    rows = fitted.eval_rows[later.to_numpy()]
    theirs = held_out_predictions(incumbent, rows)
    ours = fitted.held_out[later.to_numpy()].reset_index(drop=True)
    compared = single_winner_races(ours.assign(p_incumbent=theirs["p_final"].to_numpy()))
    if compared.empty:
        return None
    return (
        winner_log_loss(compared, "p_final"),
        winner_log_loss(compared, "p_incumbent"),
        winner_log_loss(compared, "p_baseline"),
        int(compared["race_id"].nunique()),
    )


def version_meta(
    fitted: BoatFit, evaluation: dict[str, Any], *, code_version: str, source: str
) -> dict[str, Any]:
    """The registry's metadata of a boat version: windows, counts, coefficients, blends,
    held-out metrics, code."""
    model = fitted.model
    coefficients = model.coefficients or ()
    return {
        "sport": "boat",
        "trained_until": fitted.split.eval_end.isoformat(),
        "split": fitted.split.to_dict(),
        "counts": {
            "fit_races": fitted.fit_races,
            "scorer_races": model.scorer_races,
            "eval_races": evaluation["races"],
        },
        "features": list(DESIGN_COLUMNS),
        "coefficients": dict(zip(DESIGN_COLUMNS, coefficients, strict=True)),
        "market_blend": None if model.market_blend is None else asdict(model.market_blend),
        "prior_blend": None if model.prior_blend is None else asdict(model.prior_blend),
        "metrics": evaluation,
        "code_version": code_version,
        "source": source,
    }
