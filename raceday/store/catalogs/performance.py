"""Catalog of the performance record: per-day and per-venue performance, race scores, rolling
windows and calibration counts.

Day-keyed writes delete the day's rows and insert them again in the caller's transaction, so a
re-run replaces a day exactly (a venue or race no longer present leaves with it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd
from sqlalchemy import Connection, delete, func, select

from raceday.monitoring.performance import (
    ALL_SCOPE,
    ROLLING_SPANS,
    SCORE_COLUMNS,
    races_cancelled,
    races_set_aside,
)
from raceday.store.catalogs.quality import QUARANTINE
from raceday.store.catalogs.races import RACES
from raceday.store.models import (
    CalibrationBin,
    Performance,
    RaceScore,
    RollingPerformance,
    table_of,
)
from raceday.store.repository import conform, insert_rows, read_rows, replace_rows

PERFORMANCE = table_of(Performance)
RACE_SCORES = table_of(RaceScore)
ROLLING = table_of(RollingPerformance)
CALIBRATION = table_of(CalibrationBin)


def write_day_record(
    connection: Connection,
    race_date: date,
    performance: pd.DataFrame,
    scores: pd.DataFrame,
    calibration: pd.DataFrame,
) -> int:
    """Replace a day's performance rows, race scores and calibration counts."""
    return write_day_records(
        connection,
        [race_date],
        performance,
        scores,
        calibration.assign(perf_date=pd.Timestamp(race_date)),
    )


def write_day_records(
    connection: Connection,
    days: list[date],
    performance: pd.DataFrame,
    scores: pd.DataFrame,
    calibration: pd.DataFrame,
) -> int:
    """Replace the performance rows, race scores and calibration counts (``perf_date`` set) of
    ``days`` in one pass: a day without rows here ends without any."""
    connection.execute(delete(PERFORMANCE).where(PERFORMANCE.c.perf_date.in_(days)))
    connection.execute(delete(RACE_SCORES).where(RACE_SCORES.c.race_date.in_(days)))
    connection.execute(delete(CALIBRATION).where(CALIBRATION.c.perf_date.in_(days)))
    written = insert_rows(connection, PERFORMANCE, performance)
    insert_rows(connection, RACE_SCORES, scores)
    insert_rows(connection, CALIBRATION, calibration)
    return written


def as_read_scores(scores: pd.DataFrame) -> pd.DataFrame:
    """Race scores as :func:`read_race_scores` returns them once written."""
    return conform(scores, RACE_SCORES)[SCORE_COLUMNS].reset_index(drop=True)


def as_read_daily(performance: pd.DataFrame) -> pd.DataFrame:
    """The scope-``all`` rows of ``performance`` as :func:`read_daily` returns them once written."""
    rows = conform(performance[performance["scope"] == ALL_SCOPE], PERFORMANCE)
    return rows.sort_values("perf_date").reset_index(drop=True)


def write_rolling(connection: Connection, rolling: pd.DataFrame) -> int:
    """Store rolling windows by (perf_date, span)."""
    return replace_rows(connection, ROLLING, rolling, ["perf_date", "span"])


def read_race_scores(connection: Connection, start: date | None, end: date) -> pd.DataFrame:
    """Race scores dated ``start``..``end``."""
    return read_rows(connection, RACE_SCORES, start=start, end=end)[SCORE_COLUMNS]


def nth_last_race_date(connection: Connection, end: date, count: int) -> date | None:
    """The date of the ``count``-th most recent scored race up to ``end`` (None if fewer)."""
    query = (
        select(RACE_SCORES.c.race_date)
        .where(RACE_SCORES.c.race_date <= end)
        .order_by(RACE_SCORES.c.race_date.desc(), RACE_SCORES.c.race_id.desc())
        .limit(1)
        .offset(count - 1)
    )
    found = connection.execute(query).scalar()
    return found if isinstance(found, date) else None


def first_race_score_date(connection: Connection) -> date | None:
    """The earliest day with race scores."""
    found = connection.execute(select(func.min(RACE_SCORES.c.race_date))).scalar()
    return found if isinstance(found, date) else None


def read_daily(connection: Connection, start: date | None, end: date) -> pd.DataFrame:
    """Scope-``all`` performance rows dated ``start``..``end``, in date order."""
    frame = read_rows(
        connection, PERFORMANCE, start=start, end=end, date_column="perf_date",
        where={"scope": ALL_SCOPE},
    )  # fmt: skip
    return frame.sort_values("perf_date").reset_index(drop=True)


@dataclass(frozen=True)
class RacesJudged:
    """What validation made of a range's races (:func:`races_judged_between`)."""

    set_aside: int
    offered: int
    cancelled: int
    stored: pd.DataFrame = field(compare=False)  # race_id, race_date, keibajo_code, class_code


def races_judged_between(connection: Connection, start: date, end: date) -> RacesJudged:
    """The races validation set aside over ``start``..``end``, the races offered (stored, or
    set aside and not stored) and those the provider cancelled (neither), as a day's record
    counts them (:func:`raceday.monitoring.performance.races_set_aside`), from the races and
    quarantine stored: a day whose every race was set aside, which records no performance row,
    counts too (a backfill's summary missed such a day whole); and the races stored, with
    their day, venue and class."""
    columns = ["race_id", "race_date", "keibajo_code", "class_code"]
    races = read_rows(connection, RACES, start=start, end=end, only=columns)
    quarantine = read_rows(connection, QUARANTINE, start=start, end=end)
    aside = races_set_aside(races, quarantine)
    stored = set(races["race_id"].astype(str))
    offered = len(stored) + int((~aside.isin(stored)).sum())
    return RacesJudged(len(aside), offered, len(races_cancelled(quarantine)), races)


def read_day_performance(connection: Connection, race_date: date) -> pd.DataFrame:
    """Every performance row of one day (scope all first, then venues)."""
    frame = read_rows(
        connection, PERFORMANCE, start=race_date, end=race_date, date_column="perf_date"
    )
    return frame.sort_values("scope", key=lambda s: s != ALL_SCOPE, kind="stable").reset_index(
        drop=True
    )


def read_rolling(connection: Connection, start: date, end: date) -> pd.DataFrame:
    """Rolling windows dated ``start``..``end``."""
    frame = read_rows(connection, ROLLING, start=start, end=end, date_column="perf_date")
    order = frame["span"].map({span: index for index, span in enumerate(ROLLING_SPANS)})
    return (
        frame.assign(_order=order)
        .sort_values(["perf_date", "_order"])
        .drop(columns="_order")
        .reset_index(drop=True)
    )


def read_calibration(connection: Connection, start: date, end: date) -> pd.DataFrame:
    """Calibration counts dated ``start``..``end``."""
    return read_rows(connection, CALIBRATION, start=start, end=end, date_column="perf_date")
