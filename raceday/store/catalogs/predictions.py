"""Catalog of predictions: each runner's win probabilities by model version."""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import Connection, func, inspect, select

from raceday.store.catalogs.races import RUNNER_KEY
from raceday.store.models import Prediction, table_of
from raceday.store.repository import read_rows, replace_rows

PREDICTIONS = table_of(Prediction)


def write_predictions(connection: Connection, predictions: pd.DataFrame) -> int:
    """Store predictions by (model_version, race_id, umaban)."""
    return replace_rows(connection, PREDICTIONS, predictions, ["model_version", *RUNNER_KEY])


def read_predictions(
    connection: Connection, start: date, end: date, model_version: str | None = None
) -> pd.DataFrame:
    """Stored predictions dated ``start``..``end`` (optionally of one model version)."""
    where = {"model_version": model_version} if model_version else None
    return read_rows(connection, PREDICTIONS, start=start, end=end, where=where)


def model_in_service_since(connection: Connection, model_version: str) -> date | None:
    """The first race day a model version predicted."""
    query = select(func.min(PREDICTIONS.c.race_date)).where(
        PREDICTIONS.c.model_version == model_version
    )
    found = connection.execute(query).scalar()
    return found if isinstance(found, date) else None


def day_decided(connection: Connection, race_date: date) -> bool:
    """Whether a decision of ``race_date`` is stored: a prediction of that day, of any model
    version (its morning ran); a store without its schema yet holds none."""
    if not inspect(connection).has_table(PREDICTIONS.name):
        return False
    query = select(PREDICTIONS.c.race_date).where(PREDICTIONS.c.race_date == race_date).limit(1)
    return connection.execute(query).first() is not None
