"""Predict: win probabilities for the day's selected races (rollout stage cap).

The model is the latest promoted version trained strictly before the day
(:func:`raceday.store.registry.version_for_day`); with none yet, or without the day's features,
the market itself (``market-v1``) with a logged warning.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
from prefect import task
from prefect.cache_policies import NONE
from sqlalchemy import Connection

from config import Settings
from data_checks.derived import check_predictions
from data_checks.validate import ValidatedDay
from raceday.model import MARKET_MODEL_VERSION, WinModel, market_predictions, predict_card
from raceday.rollout import select_races
from raceday.store import registry
from raceday.store.catalogs.predictions import write_predictions
from tasks.common import engine_for, logger, stage_run
from tasks.validate import record_checked


def model_for_day(connection: Connection, race_date: date) -> tuple[WinModel | None, str]:
    """The promoted model for ``race_date`` (or None) and why, in one line."""
    version = registry.version_for_day(connection, race_date)
    if version is None:
        return None, f"no model promoted before {race_date}"
    try:
        return registry.load_model(connection, version), version
    except (KeyError, ValueError, TypeError) as error:
        return None, f"model {version} cannot be loaded ({error})"


def day_predictions(
    connection: Connection,
    runners: pd.DataFrame,
    odds: pd.DataFrame,
    features: pd.DataFrame | None,
    model_day: date,
) -> pd.DataFrame:
    """The model promoted for ``model_day``'s predictions of the runners; the market's when it
    cannot be used."""
    model, why = model_for_day(connection, model_day)
    if model is not None and features is None:
        model, why = None, f"no features for {model_day}"
    if model is None:
        logger().warning("predicting with %s: %s", MARKET_MODEL_VERSION, why)
        return market_predictions(runners, odds)
    return predict_card(model, runners, odds, features if features is not None else pd.DataFrame())


@task(name="predict", cache_policy=NONE)
def predict(
    settings: Settings,
    card: ValidatedDay,
    race_date: date,
    flow_name: str,
    features: pd.DataFrame | None = None,
    model_day: date | None = None,
) -> pd.DataFrame:
    """Predictions for the races the rollout stage takes, by the model promoted for the day.

    ``model_day`` (default ``race_date``) picks the model: a backfill chunk predicts all its days
    with the model promoted before its first day, so no day sees a model trained on its results.
    """
    with stage_run(settings, flow_name, "predict", race_date) as record:
        selected = select_races(card.races, settings.races_per_day)
        runners = card.runners[card.runners["race_id"].isin(selected["race_id"])]
        record.about_races(runners)
        with engine_for(settings).begin() as connection:
            predictions = day_predictions(
                connection, runners, card.odds, features, model_day or race_date
            )
            checked = check_predictions(predictions)
            predictions = record_checked(settings, connection, checked, "predict", race_date)
            write_predictions(connection, predictions)
        record.rows_in, record.rows_out = len(runners), len(predictions)
        version = predictions["model_version"].iloc[0] if len(predictions) else "-"
        record.message = f"{selected['race_id'].nunique()} of {len(card.races)} races, {version}"
    logger().info(
        "predicted %d races (%d offered, stage %s)",
        predictions["race_id"].nunique(),
        len(card.races),
        settings.stage,
    )
    return predictions
