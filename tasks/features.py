"""Features: point-in-time past-performance features for a day's card or a date range."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from config import Settings
from data_checks.validate import ValidatedDay
from raceday.pipeline import runner_view
from raceday.ratings.features import build_features, feature_set_name
from raceday.store.catalogs.ratings import (
    SettledRuns,
    read_feature_history,
    read_people_window,
    read_runs_and_cards,
    write_features,
)
from tasks.common import engine_for, logger, stage, stage_run


@stage("features")
def day_features(settings: Settings, card: ValidatedDay, race_date: date) -> pd.DataFrame:
    """Features of the day's card from stored runs strictly before the day (the card's horses'
    runs and the people window's daily counts); stored as the model sees them, replacing those of
    the card's races only (a race stored before and set aside now keeps its features)."""
    window = settings.features.people_window_days
    feature_set = feature_set_name(window)
    with stage_run(settings, "features", race_date) as record:
        cards = runner_view(card.races, card.runners)
        with engine_for(settings).begin() as connection:
            history = read_feature_history(
                connection, before=race_date, horse_ids=cards["horse_id"].dropna().astype(str)
            )
            people = read_people_window(connection, race_date - timedelta(days=window), race_date)
            features = build_features(history, cards, window, people)
            races = card.races["race_id"].astype(str)  # the races it stores: not those set aside
            write_features(connection, features, feature_set, race_date, race_date, races=races)
        record.rows_in, record.rows_out = len(history), len(features)
        record.message = feature_set
    logger().info(
        "features %s: %d runners from %d past runs", feature_set, len(features), len(history)
    )
    return features


@stage("features-range")
def range_features(
    settings: Settings,
    start: date,
    end: date,
    settled: SettledRuns | None = None,
) -> pd.DataFrame:
    """Features of every stored runner dated ``start``..``end`` in one as-of pass; stored."""
    window = settings.features.people_window_days
    feature_set = feature_set_name(window)
    with stage_run(settings, "features_range", end) as record:
        with engine_for(settings).begin() as connection:
            if settled is None:
                history, cards = read_runs_and_cards(connection, start, end)
                features = build_features(history, cards, window)
                record.rows_in = len(history)
            else:  # from the runs held, and kept for the trainings
                features = settled.features(connection, start, end, window)
                # the settled runs up to ``end`` (what they could read), however many are held
                record.rows_in = settled.runs_through
            write_features(connection, features, feature_set, start, end)
        record.rows_out = len(features)
        record.message = f"{feature_set} {start}..{end}"
    logger().info("features %s %s..%s: %d runners", feature_set, start, end, len(features))
    if settled is not None:
        logger().info("settled runs: %s", settled.holding())
    return features
