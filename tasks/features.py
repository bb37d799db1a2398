"""Features: point-in-time past-performance features for a day's card or a date range."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
from prefect import task
from prefect.cache_policies import NONE

from config import Settings
from data_checks.validate import ValidatedDay
from raceday.features import build_features, feature_set_name
from raceday.pipeline import runner_view
from raceday.store import catalog
from tasks.common import engine_for, logger, stage_run


@task(name="features", cache_policy=NONE)
def day_features(
    settings: Settings, card: ValidatedDay, race_date: date, flow_name: str
) -> pd.DataFrame:
    """Features of the day's card from stored runs strictly before the day (the card's horses'
    runs and the people window's daily counts); stored as the model sees them."""
    window = settings.features.people_window_days
    feature_set = feature_set_name(window)
    with stage_run(settings, flow_name, "features", race_date) as record:
        cards = runner_view(card.races, card.runners)
        with engine_for(settings).begin() as connection:
            history = catalog.read_feature_history(
                connection, before=race_date, horse_ids=cards["horse_id"].dropna().astype(str)
            )
            people = catalog.read_people_window(
                connection, race_date - timedelta(days=window), race_date
            )
            features = build_features(history, cards, window, people)
            catalog.write_features(connection, features, feature_set, race_date, race_date)
        record.rows_in, record.rows_out = len(history), len(features)
        record.message = feature_set
    logger().info(
        "features %s: %d runners from %d past runs", feature_set, len(features), len(history)
    )
    return features


@task(name="features-range", cache_policy=NONE)
def range_features(settings: Settings, start: date, end: date, flow_name: str) -> pd.DataFrame:
    """Features of every stored runner dated ``start``..``end`` in one as-of pass; stored."""
    window = settings.features.people_window_days
    feature_set = feature_set_name(window)
    with stage_run(settings, flow_name, "features_range", end) as record:
        with engine_for(settings).begin() as connection:
            history, cards = catalog.read_runs_and_cards(connection, start, end)
            features = build_features(history, cards, window)
            catalog.write_features(connection, features, feature_set, start, end)
        record.rows_in, record.rows_out = len(history), len(features)
        record.message = f"{feature_set} {start}..{end}"
    logger().info("features %s %s..%s: %d runners", feature_set, start, end, len(features))
    return features
