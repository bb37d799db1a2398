"""The boat win model: a per-race conditional logit on point-in-time boat features
(``raceday.boat.features``), blended with the market where odds exist, else with the lane prior.

Fitted on the days before the race day, in time order: the scorer (the conditional logit,
``raceday.model.condlogit``) on the older two thirds of the history's days, Benter's blends
(``c ∝ exp(alpha ln f + beta ln g)``, ``g`` the market's or the prior's probabilities) on the
newer third, which the scorer never saw. Too little history for a scorer: the market where it
prices the race, else the prior. Six probabilities per race (fewer only when a boat is
withdrawn before the odds: it has none), summing to 1 in every race.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, replace
from datetime import date
from typing import Final

import numpy as np
import pandas as pd

from raceday.boat.features import DESIGN_COLUMNS
from raceday.model.condlogit import (
    BlendParameters,
    FloatArray,
    RaceGroups,
    apply_blend,
    fit_blend,
    fit_conditional_logit,
    races_with_one_winner,
    softmax,
)

MIN_SCORER_RACES: Final = 200  # single-winner races the conditional logit is fitted on, at least
MIN_BLEND_RACES: Final = 100  # and the blends
SCORER_SHARE: Final = 2 / 3  # the older share of the history's days the scorer learns from
# A race the market prices: two boats with odds at least (one boat is no market), whose 1/odds
# sum to 1 at least (a whole field's sum 1/(1 - takeout) = 1.33; under 1, a boat that sells is
# missing, not withdrawn). A race it does not price is predicted from the lane prior, not bet.
MIN_PRICED_BOATS: Final = 2
MIN_BOOK: Final = 1.0
FALLBACK_VERSION: Final = "boat-market-prior"
MODEL_FAMILY: Final = "boat-clogit"  # a version's name: the family and its last day of data
FRESH_SUFFIX: Final = "-fresh"  # a model fitted the morning of its day, never registered
PREDICTION_COLUMNS: Final = [
    "model_version", "race_id", "boat", "race_date", "p_prior", "p_market", "p_model",
    "p_final", "odds_at",
]  # fmt: skip


@dataclass(frozen=True)
class BoatModel:
    """A fitted boat model: the scorer's coefficients (None: not enough history) on
    ``columns`` (the ``DESIGN_COLUMNS`` it was fitted with) and the two blends (None: not enough
    races to fit it)."""

    version: str
    coefficients: tuple[float, ...] | None
    market_blend: BlendParameters | None
    prior_blend: BlendParameters | None
    scorer_races: int
    columns: tuple[str, ...] = DESIGN_COLUMNS

    def to_bytes(self) -> bytes:
        """The artifact stored in the registry."""
        return pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)

    @staticmethod
    def from_bytes(blob: bytes) -> BoatModel:
        """A model from its stored artifact (only ever our own registry's rows); ValueError when
        it was fitted on other design columns than this code builds (retrain it)."""
        model = pickle.loads(blob)
        if not isinstance(model, BoatModel):
            raise TypeError(f"not a BoatModel artifact: {type(model).__name__}")
        if tuple(model.columns) != DESIGN_COLUMNS:
            raise ValueError(
                f"model {model.version} was fitted on other features ({', '.join(model.columns)})"
                ": retrain it"
            )
        return model


def version_name(until: date) -> str:
    """``boat-clogit-YYYYMMDD``: the family and the last day of data the version saw."""
    return f"{MODEL_FAMILY}-{until:%Y%m%d}"


def model_source(version: str | None) -> str | None:
    """What predicted a day, from its version's name: ``registered`` (a promoted version),
    ``fresh`` (fitted that morning) or ``market-prior`` (too little history for either)."""
    if version is None:
        return None
    if version == FALLBACK_VERSION:
        return "market-prior"
    return "fresh" if version.endswith(FRESH_SUFFIX) else "registered"


def as_fresh(model: BoatModel) -> BoatModel:
    """``model`` named as fitted the morning of its day (``boat-clogit-YYYYMMDD-fresh``), so a
    stored prediction tells a registered version from a fresh fit; the fallback keeps its name."""
    if model.coefficients is None:
        return model
    return replace(model, version=f"{model.version}{FRESH_SUFFIX}")


def market_probabilities(race_id: pd.Series, win_odds: pd.Series) -> pd.Series:
    """1/odds normalised per race over the boats with odds (the takeout removed; a boat
    without odds, 欠場, is out of the market: NaN); NaN for the whole race when it is not priced
    (:func:`race_priced`)."""
    odds = pd.to_numeric(win_odds, errors="coerce").astype("float64")
    inverse = 1.0 / odds.where(odds > 0)
    by_race = race_id.astype("string").to_numpy()
    total = inverse.groupby(by_race).transform("sum")
    priced = race_priced(inverse.notna().groupby(by_race).transform("sum"), total)
    return (inverse / total).where(priced).astype("float64")


def race_priced(boats_with_odds: pd.Series, book: pd.Series) -> pd.Series:
    """Whether a race's market prices it: at least ``MIN_PRICED_BOATS`` boats with odds whose
    1/odds sum (the book) reaches ``MIN_BOOK``. A pool pays back less than it takes in, so a
    book under 1 says boats that sell are missing from it (their odds unreadable, not
    withdrawn): the others' shares would be overstated."""
    return (boats_with_odds >= MIN_PRICED_BOATS) & (book >= MIN_BOOK)


def design_matrix(features: pd.DataFrame) -> FloatArray:
    """The scorer's design: ``DESIGN_COLUMNS`` as a float matrix (missing as 0)."""
    values = features[list(DESIGN_COLUMNS)].astype("float64").fillna(0.0)
    return np.asarray(values.to_numpy(), dtype=np.float64)


def _blend_or_none(
    p_model: FloatArray, p_other: FloatArray, groups: RaceGroups, won: FloatArray
) -> BlendParameters | None:
    """Benter's blend of the model with ``p_other`` over the races it prices whole (None:
    fewer than ``MIN_BLEND_RACES`` single-winner races to fit on)."""
    unpriced = groups.sum((~np.isfinite(p_other)).astype(np.float64))[groups.codes] > 0
    keep = ~unpriced
    if not keep.any():
        return None
    kept, kept_won = groups.subset(keep), won[keep].astype(bool)
    single = races_with_one_winner(kept, kept_won)
    if np.unique(kept.codes[single]).size < MIN_BLEND_RACES:
        return None
    return fit_blend(p_model[keep], p_other[keep], kept, kept_won, np.ones(keep.sum(), bool))


def fit_boat_model(training: pd.DataFrame, until: date) -> BoatModel:
    """The model of the day after ``until`` from ``training``: history boats that ran for the
    bettor (not refunded) with their features, ``p_prior``, ``p_market`` (morning odds; NaN
    when none), ``won`` and ``race_date``."""
    days = np.sort(pd.to_datetime(training["race_date"]).dt.normalize().unique())
    version = version_name(until)
    if len(days) < 3:
        return BoatModel(FALLBACK_VERSION, None, None, None, 0)
    cut = days[int(len(days) * SCORER_SHARE)]
    older = (pd.to_datetime(training["race_date"]) < cut).to_numpy()
    won = training["won"].astype("float64").fillna(0.0).to_numpy() > 0.5
    groups = RaceGroups.of(training["race_id"].astype("string"))
    design = design_matrix(training)
    scorer_groups = groups.subset(older)
    single = races_with_one_winner(scorer_groups, won[older])
    scorer_races = int(np.unique(scorer_groups.codes[single]).size)
    if scorer_races < MIN_SCORER_RACES:
        return BoatModel(FALLBACK_VERSION, None, None, None, scorer_races)
    coefficients = fit_conditional_logit(design[older], scorer_groups, won[older])
    newer = ~older
    newer_groups = groups.subset(newer)
    p_model = softmax(design[newer] @ coefficients, newer_groups)
    newer_won = won[newer].astype(np.float64)
    p_market = training["p_market"].astype("float64").to_numpy()[newer]
    p_prior = training["p_prior"].astype("float64").to_numpy()[newer]
    return BoatModel(
        version,
        tuple(float(value) for value in coefficients),
        _blend_or_none(p_model, p_market, newer_groups, newer_won),
        _blend_or_none(p_model, p_prior, newer_groups, newer_won),
        scorer_races,
    )


def priced_boats(card: pd.DataFrame, odds: pd.DataFrame) -> pd.DataFrame:
    """The card's boats with their decision odds (``win_odds``, ``odds_at``); a boat without
    odds in a race others have odds for was withdrawn before them (no sale): left out."""
    known = odds[["race_id", "boat", "win_odds", "published_at"]].rename(
        columns={"published_at": "odds_at"}
    )
    merged = card.merge(known, on=["race_id", "boat"], how="left")
    race_priced = merged["win_odds"].notna().groupby(merged["race_id"].to_numpy()).transform("any")
    keep = merged["win_odds"].notna() | ~race_priced
    return merged[keep.to_numpy()].reset_index(drop=True)


def _blended(
    p_model: FloatArray, p_other: FloatArray, groups: RaceGroups, blend: BlendParameters | None
) -> FloatArray:
    if blend is None:
        return p_model
    rated = np.ones(len(p_model), dtype=bool)
    return apply_blend(p_model, p_other, groups, rated, blend)


def predict_boats(model: BoatModel, boats: pd.DataFrame) -> pd.DataFrame:
    """The day's probabilities (``PREDICTION_COLUMNS``, and the ``win_odds`` they were
    decided on) of ``boats``: :func:`priced_boats`
    with the features of :func:`raceday.boat.features.card_features` (``p_prior`` included)."""
    race_id = boats["race_id"].astype("string")
    groups = RaceGroups.of(race_id)
    p_prior = boats["p_prior"].astype("float64")
    p_prior = (p_prior / p_prior.groupby(race_id.to_numpy()).transform("sum")).to_numpy()
    p_market = market_probabilities(race_id, boats["win_odds"]).to_numpy()
    has_market = np.isfinite(p_market)
    if model.coefficients is None:
        p_model = np.full(len(boats), np.nan)
        p_final = np.where(has_market, p_market, p_prior)
    else:
        p_model = softmax(design_matrix(boats) @ np.asarray(model.coefficients), groups)
        with_market = _blended(p_model, np.where(has_market, p_market, p_prior), groups,
                               model.market_blend)  # fmt: skip
        with_prior = _blended(p_model, p_prior, groups, model.prior_blend)
        p_final = np.where(has_market, with_market, with_prior)
    p_final = p_final / groups.sum(p_final)[groups.codes]  # exact sums after floating error
    return pd.DataFrame(
        {
            "model_version": model.version,
            "race_id": race_id,
            "boat": boats["boat"].astype("Int64"),
            "race_date": pd.to_datetime(boats["race_date"]),
            "p_prior": p_prior,
            "p_market": p_market,
            "p_model": p_model,
            "p_final": p_final,
            "odds_at": pd.to_datetime(boats["odds_at"]),
            "win_odds": pd.to_numeric(boats["win_odds"], errors="coerce").astype("float64"),
        }
    )[[*PREDICTION_COLUMNS, "win_odds"]]
