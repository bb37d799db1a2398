"""Monitor: evaluate the rules on a day's performance record and raise the alerts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection

from config import Settings
from raceday.boat.monitoring import BOAT_SCOPE, as_boat_alert, boat_monitor_inputs
from raceday.errors import InputError
from raceday.japan_time import today_in_japan
from raceday.monitoring.rules import (
    USUAL_DAY_WEEKS,
    Alert,
    calendar_expectation,
    evaluate,
    nothing_to_monitor,
    race_day_by_history,
)
from raceday.run_status import outcome
from raceday.sport import other_sport_venues
from raceday.store.catalogs import boat as boat_catalog
from raceday.store.catalogs.monitoring import load_monitor_inputs
from raceday.store.catalogs.races import history_bounds, race_days
from raceday.store.catalogs.runs import read_runs
from tasks.alerts import raise_alerts
from tasks.common import engine_for, logger, stage, stage_run


def read_racing_calendar(path: Path | None) -> pd.DataFrame | None:
    """The racing calendar CSV (``race_date[, keibajo_code]``), or None when not configured."""
    if path is None:
        return None
    if not path.is_file():
        raise InputError(
            f"racing calendar {path} does not exist (RACEDAY_MONITOR__RACING_CALENDAR)"
        )
    calendar = pd.read_csv(path, dtype={"keibajo_code": "string"})
    if "race_date" not in calendar.columns:
        raise InputError(f"racing calendar {path} has no race_date column")
    return calendar


def unmonitorable(settings: Settings, race_date: date) -> str | None:
    """Why the day cannot be monitored (no race stored on or before it), or None: a monitor
    of such a day would only raise a false ``no_races``. Where boat days are recorded by then,
    it says to monitor them with ``--sport boat``."""
    with engine_for(settings).connect() as connection:
        first, _last = history_bounds(connection, race_date + timedelta(days=1))
        reason = nothing_to_monitor(race_date, first)
        if reason is None or boat_catalog.first_recorded_day(connection, race_date) is None:
            return reason
    return f"{reason}; boat days are recorded: use --sport boat"


def boat_day_to_monitor(settings: Settings, race_date: date) -> dict[str, Any]:
    """What :func:`boat_monitor_day` reads of a boat day beside the store, as the day's own
    stage passes it its summary: its races recorded (none for a day not recorded after the
    first: ``no_races`` speaks). InputError, one line, before the first recorded boat day."""
    with engine_for(settings).connect() as connection:
        first = boat_catalog.first_recorded_day(connection, race_date)
        row = boat_catalog.read_performance(connection, race_date, race_date)
    if first is None:
        raise InputError(
            f"nothing to monitor for {race_date}: no boat day is recorded on or before that day "
            "(run or backfill it first: raceday run --sport boat)"
        )
    races = int(row["races"].iloc[0]) if len(row) else 0
    return {"date": race_date.isoformat(), "sport": "boat", "races": races, "warnings": []}


@dataclass(frozen=True)
class RacingExpected:
    """Whether the day has racing, the venues listed for it (empty: any), and why, in words."""

    expected: bool
    venues: frozenset[str]
    because: str


def racing_expected(settings: Settings, connection: Connection, race_date: date) -> RacingExpected:
    """The racing calendar's word on the day when one is set, else the store's history before
    the day (:func:`raceday.monitoring.rules.race_day_by_history`)."""
    calendar = read_racing_calendar(settings.monitor.racing_calendar)
    if calendar is not None:
        expected, venues = calendar_expectation(calendar, race_date, other_sport_venues())
        return RacingExpected(expected, venues, "the racing calendar lists it")
    first, _last = history_bounds(connection, race_date)
    looked_back = race_date - timedelta(weeks=USUAL_DAY_WEEKS)
    raced = race_days(connection, looked_back, race_date - timedelta(days=1))
    expected, because = race_day_by_history(race_date, raced, first)
    return RacingExpected(expected, frozenset(), because)


@stage("monitor")
def monitor_day(settings: Settings, race_date: date) -> list[Alert]:
    """Evaluate every monitor rule for the day; deliver and store the alerts (de-duplicated)."""
    limits = settings.monitor_thresholds()
    with stage_run(settings, "monitor", race_date) as record:
        with engine_for(settings).connect() as connection:
            racing = racing_expected(settings, connection, race_date)
            inputs = load_monitor_inputs(
                connection,
                race_date,
                limits,
                racing_expected=racing.expected,
                expected_venues=racing.venues,
                racing_expected_because=racing.because,
            )
        alerts = evaluate(inputs, limits)
        record.rows_out = len(alerts)
        record.message = _raised(settings, alerts)
    return alerts


# Boat days recorded before the day that the rolling window and the anomaly rule may read:
# 500 races are 4 days of the whole country's program, a few weeks of a venue's.
BOAT_HISTORY_DAYS = 120


@stage("boat-monitor")
def boat_monitor_day(
    settings: Settings, summary: dict[str, Any], race_date: date
) -> dict[str, Any]:
    """The monitor rules on a recorded boat day (:mod:`raceday.boat.monitoring`), raised as a
    horse day's are (delivered, stored, de-duplicated) with the scope ``boat`` and their message
    saying so; the day's summary with its alerts and the status they make."""
    limits = settings.monitor_thresholds()
    with stage_run(settings, "boat-monitor", race_date) as record:
        with engine_for(settings).connect() as connection:
            start = race_date - timedelta(days=BOAT_HISTORY_DAYS)
            performance = boat_catalog.read_performance(connection, start, race_date)
            runs = read_runs(connection, race_date)
        inputs = boat_monitor_inputs(
            race_date,
            performance,
            span=limits.rolling_span,
            initial_bankroll_yen=settings.bankroll_yen,
            runs=runs[runs["flow_name"].astype(str).str.startswith("boat")],
            races_by_venue={BOAT_SCOPE: int(summary.get("races", 0))},
            racing_expected=True,
        )
        alerts = [as_boat_alert(alert) for alert in evaluate(inputs, limits)]
        record.rows_out = len(alerts)
        record.message = _raised(settings, alerts)
    payloads = [alert.payload() for alert in alerts]
    return {**summary, **outcome(payloads, summary.get("warnings", []))}


def _raised(settings: Settings, alerts: list[Alert]) -> str:
    """Deliver and store ``alerts`` (de-duplicated; a past day's stay quiet), log each; the
    stage's line: how many were sent, repeated, kept quiet."""
    quiet_before = today_in_japan() - timedelta(days=settings.alerts.quiet_after_days)
    outcomes = raise_alerts(settings, alerts, now=datetime.now(), quiet_before=quiet_before)
    actions = [decision.action for decision, _delivery in outcomes]
    for alert in alerts:
        logger().warning("alert %s (%s): %s", alert.rule, alert.severity, alert.message)
    return (
        f"{len(alerts)} alert(s): {actions.count('send') + actions.count('retry')} sent, "
        f"{actions.count('repeat')} repeats, {actions.count('quiet')} quiet"
    )
