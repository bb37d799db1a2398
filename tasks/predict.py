"""Predict: win probabilities for the day's selected races (rollout stage cap)."""

from __future__ import annotations

from datetime import date

import pandas as pd
from prefect import task
from prefect.cache_policies import NONE

from config import Settings
from data_checks.derived import check_predictions
from data_checks.validate import ValidatedDay
from raceday.model import market_predictions
from raceday.rollout import select_races
from raceday.store import catalog
from tasks.common import engine_for, logger, stage_run
from tasks.validate import record_checked


@task(name="predict", cache_policy=NONE)
def predict(
    settings: Settings, card: ValidatedDay, race_date: date, flow_name: str
) -> pd.DataFrame:
    """Predictions for the races the rollout stage takes (market-v1 until a model is promoted)."""
    with stage_run(settings, flow_name, "predict", race_date) as record:
        selected = select_races(card.races, settings.races_per_day)
        runners = card.runners[card.runners["race_id"].isin(selected["race_id"])]
        predictions = market_predictions(runners, card.odds)
        with engine_for(settings).begin() as connection:
            checked = check_predictions(predictions)
            predictions = record_checked(settings, connection, checked, "predict", race_date)
            catalog.write_predictions(connection, predictions)
        record.rows_in, record.rows_out = len(runners), len(predictions)
        record.message = f"{selected['race_id'].nunique()} of {len(card.races)} races"
    logger().info(
        "predicted %d races (%d offered, stage %s)",
        predictions["race_id"].nunique(),
        len(card.races),
        settings.stage,
    )
    return predictions
