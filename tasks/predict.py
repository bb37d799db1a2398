"""Predict: win probabilities for the day's selected races (rollout stage cap).

The model is the latest promoted version trained strictly before the day
(:func:`raceday.store.registry.version_for_day`); with none yet, or without the day's features,
the market itself (``market-v1``) with a logged warning.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from config import Settings
from data_checks.derived import check_predictions
from data_checks.validate import ValidatedDay
from raceday.arrow_text import text_isin
from raceday.model.rollout import select_races
from raceday.model.win import MARKET_MODEL_VERSION, predictions_or_market
from raceday.store import registry
from raceday.store.catalogs.predictions import write_predictions
from tasks.common import engine_for, logger, record_checked, stage, stage_run


@stage("predict")
def predict(
    settings: Settings,
    card: ValidatedDay,
    race_date: date,
    features: pd.DataFrame | None = None,
    model_day: date | None = None,
) -> pd.DataFrame:
    """Predictions for the races the rollout stage takes, by the model promoted for the day.

    ``model_day`` (default ``race_date``) picks the model: a backfill chunk predicts all its days
    with the model promoted before its first day, so no day sees a model trained on its results.
    """
    with stage_run(settings, "predict", race_date) as record:
        selected = select_races(card.races, settings.races_per_day)
        runners = card.runners[text_isin(card.runners["race_id"], selected["race_id"])]
        record.about_races(runners)
        with engine_for(settings).begin() as connection:
            model, why = registry.model_for_day(connection, model_day or race_date)
            predictions, fallback = predictions_or_market(
                model, why, runners, card.odds, features, settings.train.score_threads
            )
            if fallback is not None:
                logger().warning("predicting with %s: %s", MARKET_MODEL_VERSION, fallback)
            checked = check_predictions(predictions, gx_result=settings.validation.data_docs)
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
