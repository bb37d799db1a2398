"""Catalog of data quality records: rows set aside by validation, and each suite's outcome."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

import pandas as pd
from sqlalchemy import Connection, and_, delete

from raceday.store.models import Quarantine, ValidationResult, table_of
from raceday.store.repository import insert_rows, read_rows, replace_rows

QUARANTINE = table_of(Quarantine)
VALIDATION = table_of(ValidationResult)


def write_quarantine(
    connection: Connection,
    quarantine: pd.DataFrame,
    start: date,
    end: date,
    stage: str,
    run_id: str,
    race_ids: Collection[str] | None = None,
) -> int:
    """Replace the quarantine rows of a stage for ``start``..``end`` (only of ``race_ids``
    when given: a race decided at race time replaces its own rows, not its day's)."""
    scope = and_(
        QUARANTINE.c.race_date >= start,
        QUARANTINE.c.race_date <= end,
        QUARANTINE.c.stage == stage,
    )
    if race_ids is not None:
        scope = and_(scope, QUARANTINE.c.race_id.in_(list(race_ids)))
    connection.execute(delete(QUARANTINE).where(scope))
    rows = quarantine.assign(
        race_date=pd.to_datetime(quarantine["race_date"]).fillna(pd.Timestamp(start)),
        stage=stage,
        run_id=run_id,
    )
    return insert_rows(connection, QUARANTINE, rows)


def read_quarantine(connection: Connection, start: date, end: date) -> pd.DataFrame:
    """Quarantined rows dated ``start``..``end``."""
    return read_rows(connection, QUARANTINE, start=start, end=end)


BOAT_STAGE_PREFIX = "boat-"  # the boat stages' names (boat-card, boat-results, ...)


def quarantine_of_sport(quarantine: pd.DataFrame, *, boat: bool) -> pd.DataFrame:
    """The shared quarantine's rows of one sport: the boat stages' (``boat``; their ``umaban``
    holding the boat, named so) or the horse stages'."""
    of_boats = quarantine["stage"].astype("string").str.startswith(BOAT_STAGE_PREFIX)
    rows = quarantine[of_boats.fillna(False).to_numpy(dtype=bool) == boat]
    rows = rows.reset_index(drop=True)
    return rows.rename(columns={"umaban": "boat"}) if boat else rows


def write_validation_results(connection: Connection, results: pd.DataFrame) -> int:
    """Store the latest validation outcome per (race_date, suite)."""
    return replace_rows(connection, VALIDATION, results, ["race_date", "suite"])


def read_validation_results(connection: Connection, start: date, end: date) -> pd.DataFrame:
    """The latest validation outcome of each suite, dated ``start``..``end``."""
    return read_rows(connection, VALIDATION, start=start, end=end)
