"""What the monitors and the daily report read of a day, gathered across the catalogs.

The report's own shaping (race and bet tables, top runners) is done by its caller on the
frames returned here: the store does not depend on the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import Connection

from raceday.monitoring.performance import races_cancelled_by_venue
from raceday.monitoring.rules import ANOMALY_LOOKBACK_FACTOR, MonitorInputs, Thresholds
from raceday.store.catalogs.alerts import read_alerts
from raceday.store.catalogs.bets import read_bets
from raceday.store.catalogs.performance import (
    read_calibration,
    read_daily,
    read_day_performance,
    read_race_scores,
    read_rolling,
)
from raceday.store.catalogs.predictions import model_in_service_since
from raceday.store.catalogs.quality import read_quarantine, read_validation_results
from raceday.store.catalogs.races import races_by_venue, read_odds, read_races, read_runners
from raceday.store.catalogs.ratings import read_indexes
from raceday.store.catalogs.runs import read_runs
from raceday.store.registry import family_of, latest_trained_until


def load_monitor_inputs(
    connection: Connection,
    race_date: date,
    limits: Thresholds,
    *,
    racing_expected: bool,
    expected_venues: frozenset[str] = frozenset(),
    racing_expected_because: str = "the racing calendar lists it",
) -> MonitorInputs:
    """The day's performance, rolling windows, runs and races, and the model in service."""
    lookback = limits.anomaly_window_days * ANOMALY_LOOKBACK_FACTOR + 1
    daily = read_daily(connection, race_date - timedelta(days=lookback), race_date)
    today = daily[pd.to_datetime(daily["perf_date"]) == pd.Timestamp(race_date)]
    version = (
        str(today["model_version"].iloc[0])
        if not today.empty and pd.notna(today["model_version"].iloc[0])
        else None
    )
    return MonitorInputs(
        race_date=race_date,
        daily=daily,
        rolling=read_rolling(connection, race_date, race_date),
        runs=read_runs(connection, race_date),
        races_by_venue=races_by_venue(connection, race_date),
        races_cancelled_by_venue=races_cancelled_by_venue(
            read_quarantine(connection, race_date, race_date)
        ),
        racing_expected=racing_expected,
        racing_expected_because=racing_expected_because,
        expected_venues=expected_venues,
        model_version=version,
        model_in_service_since=model_in_service_since(connection, version) if version else None,
        last_trained_until=_last_trained_before(connection, version, race_date),
    )


def _last_trained_before(
    connection: Connection, version: str | None, race_date: date
) -> date | None:
    """The newest training data of any version of ``version``'s family (promoted or not) a
    model of ``race_date`` could use (trained strictly before it); None without a family."""
    family = family_of(version) if version else None
    if family is None:
        return None
    return latest_trained_until(connection, race_date - timedelta(days=1), family)


@dataclass(frozen=True)
class ReportDay:
    """Everything the daily report of a day shows, as stored."""

    races: pd.DataFrame
    runners: pd.DataFrame
    odds: pd.DataFrame
    scores: pd.DataFrame  # race scores of the day
    bets: pd.DataFrame  # the day's bets of the report's policy
    indexes: pd.DataFrame
    performance: pd.DataFrame  # every scope of the day, scope all first
    daily_history: pd.DataFrame  # scope-all rows of the days before, up to the day
    rolling: pd.DataFrame
    rolling_history: pd.DataFrame
    calibration: pd.DataFrame  # counts of calibration_start..the day
    calibration_start: date
    validation: pd.DataFrame
    quarantine: pd.DataFrame
    runs: pd.DataFrame
    alerts: pd.DataFrame


def read_report_day(
    connection: Connection,
    race_date: date,
    *,
    policy: str,
    history_days: int = 90,
    calibration_days: int = 30,
) -> ReportDay:
    """What the daily report of ``race_date`` shows, read from the store."""
    history_start = race_date - timedelta(days=history_days)
    calibration_start = race_date - timedelta(days=calibration_days - 1)
    return ReportDay(
        races=read_races(connection, race_date, race_date),
        runners=read_runners(connection, race_date, race_date),
        odds=read_odds(connection, race_date, race_date),
        scores=read_race_scores(connection, race_date, race_date),
        bets=read_bets(connection, race_date, race_date, policy=policy),
        indexes=read_indexes(connection, race_date, race_date),
        performance=read_day_performance(connection, race_date),
        daily_history=read_daily(connection, history_start, race_date),
        rolling=read_rolling(connection, race_date, race_date),
        rolling_history=read_rolling(connection, history_start, race_date),
        calibration=read_calibration(connection, calibration_start, race_date),
        calibration_start=calibration_start,
        validation=read_validation_results(connection, race_date, race_date),
        quarantine=read_quarantine(connection, race_date, race_date),
        runs=read_runs(connection, race_date),
        alerts=read_alerts(connection, race_date, race_date),
    )
