"""Test-only probabilities with an edge: the simulator's truth, blurred, as a stand-in model;
and simulated days decoded and stored for the stake, settle and record stages.

The pipeline never reads the truth; tests inject these predictions where a promoted model's
would come from, so that the stake, settle and record stages have bets to work on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from config import Settings
from data_checks.validate import QUARANTINE_COLUMNS, ValidatedDay
from raceday.codec import decode_races, decode_runners
from raceday.model.win import PREDICTION_COLUMNS, implied_probabilities, normalise_per_race
from raceday.odds_snapshots import decode_odds_snapshot
from raceday.pipeline import betting_odds
from raceday.simulate.days import SimulatedDays
from raceday.sources.base import card_only
from raceday.sources.timeline import CardTiming, card_odds
from raceday.store.catalogs.predictions import write_predictions
from raceday.store.catalogs.races import write_odds, write_races_and_runners
from raceday.store.engine import make_engine

NOISY_ORACLE_VERSION = "noisy-oracle-test"
MORNING = CardTiming()  # the daily run's odds


def noisy_truth_predictions(
    runners: pd.DataFrame,
    odds: pd.DataFrame,
    truth: pd.DataFrame,
    *,
    noise_sd: float = 0.25,
    seed: int = 7,
    model_version: str = NOISY_ORACLE_VERSION,
) -> pd.DataFrame:
    """Predictions (``PREDICTION_COLUMNS``) whose p_final is the true win probability with
    log-normal noise, renormalised per race, for the runners that have bet-time odds (a runner
    that will not start is priced at its market probability)."""
    priced = runners[["race_id", "umaban", "race_date"]].merge(
        odds[["race_id", "umaban", "win_odds"]], on=["race_id", "umaban"]
    )
    priced = priced[priced["win_odds"].notna() & (priced["win_odds"] >= 1.0)]
    priced = priced.merge(
        truth[["race_id", "umaban", "true_win_prob", "started"]].astype({"race_id": "string"}),
        on=["race_id", "umaban"],
        how="left",
    ).reset_index(drop=True)
    p_market = implied_probabilities(priced["race_id"], priced["win_odds"])
    rng = np.random.default_rng(seed)
    # Nobody knows in the morning who will be excluded at the gate: a non-starter's truth (0)
    # would be a leak, so the stand-in model prices it like the market does.
    started = priced["started"].astype("boolean").fillna(False).astype(bool)
    true_p = priced["true_win_prob"].where(started, p_market).fillna(0.0).clip(lower=1e-6)
    blurred = np.exp(np.log(true_p) + rng.normal(0.0, noise_sd, len(priced)))
    p_model = normalise_per_race(priced["race_id"], pd.Series(blurred, index=priced.index))
    return pd.DataFrame(
        {
            "model_version": model_version,
            "race_id": priced["race_id"],
            "umaban": priced["umaban"],
            "race_date": priced["race_date"],
            "p_market": p_market,
            "p_model": p_model,
            "p_final": p_model,
        }
    )[PREDICTION_COLUMNS]


@dataclass(frozen=True)
class Days:
    """The 90 days decoded once: each morning's card (results blanked) and the results."""

    cards: dict[date, ValidatedDay]
    races: pd.DataFrame
    runners: pd.DataFrame
    odds: pd.DataFrame
    predictions: pd.DataFrame


def decode_days(simulated: SimulatedDays, timing: CardTiming = MORNING) -> Days:
    """The simulated days decoded, each card with the odds its decisions see under ``timing``."""
    raw = simulated.raw
    card = card_only(raw)
    card_races, card_runners = decode_races(card.nvd_ra), decode_runners(card.nvd_se)
    runners = decode_runners(raw.nvd_se)
    odds = betting_odds(decode_odds_snapshot(card_odds(card, timing).nvd_o1), runners)
    predictions = noisy_truth_predictions(card_runners, odds, simulated.truth)
    empty = pd.DataFrame(columns=QUARANTINE_COLUMNS)
    cards = {}
    for day, races in card_races.groupby(card_races["race_date"].dt.date):
        ids = races["race_id"]
        cards[day] = ValidatedDay(
            races.reset_index(drop=True),
            card_runners[card_runners["race_id"].isin(ids)].reset_index(drop=True),
            odds[odds["race_id"].isin(ids)].reset_index(drop=True),
            empty,
            (),
        )
    return Days(cards, decode_races(raw.nvd_ra), runners, odds, predictions)


def store_days(settings: Settings, days: Days) -> None:
    """Results, bet-time odds and predictions of every day, stored in one go.

    Storing results up front changes nothing for staking (the stake stage reads only the card
    it is given and the ledger); it makes every day settleable whenever settle runs.
    """
    with make_engine(settings.database_url).begin() as connection:
        write_races_and_runners(connection, days.races, days.runners, has_results=True, source="t")
        write_odds(connection, days.odds, days.runners)
        write_predictions(connection, days.predictions)
