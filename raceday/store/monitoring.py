"""Store IO of the performance record, the monitors and the report (one place, like catalog).

Day-keyed writes delete the day's rows and insert them again in the caller's transaction, so a
re-run replaces a day exactly (a venue or race no longer present leaves with it).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection, and_, delete, func, select, update

from raceday.monitor import MonitorInputs, Thresholds
from raceday.performance import ALL_SCOPE, ROLLING_SPANS, SCORE_COLUMNS
from raceday.pipeline import FINAL_ODDS_SNAPSHOT
from raceday.report import ReportInputs, race_table, top_runners_by_composite
from raceday.store import catalog
from raceday.store.models import (
    Alert,
    CalibrationBin,
    Performance,
    PipelineRun,
    Prediction,
    RaceScore,
    RollingPerformance,
    ValidationResult,
    table_of,
)
from raceday.store.repository import conform, insert_rows, read_rows, replace_rows

ALERTS = table_of(Alert)
CALIBRATION = table_of(CalibrationBin)
PERFORMANCE = table_of(Performance)
RACE_SCORES = table_of(RaceScore)
ROLLING = table_of(RollingPerformance)
RUNS = table_of(PipelineRun)
VALIDATION = table_of(ValidationResult)
PREDICTIONS = table_of(Prediction)


# --- the performance record -------------------------------------------------------------------


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


def read_runs(connection: Connection, race_date: date) -> pd.DataFrame:
    """pipeline_runs rows of a day."""
    return read_rows(connection, RUNS, start=race_date, end=race_date)


def flow_stage_seconds(connection: Connection, flow_name: str, race_date: date) -> float:
    """Stage time recorded so far by a flow for a day."""
    query = select(func.coalesce(func.sum(RUNS.c.duration_s), 0.0)).where(
        and_(RUNS.c.flow_name == flow_name, RUNS.c.race_date == race_date)
    )
    return float(connection.execute(query).scalar() or 0.0)


def model_in_service_since(connection: Connection, model_version: str) -> date | None:
    """The first race day a model version predicted."""
    query = select(func.min(PREDICTIONS.c.race_date)).where(
        PREDICTIONS.c.model_version == model_version
    )
    found = connection.execute(query).scalar()
    return found if isinstance(found, date) else None


def races_by_venue(connection: Connection, race_date: date) -> dict[str, int]:
    """Stored races of a day per keibajo_code."""
    races = catalog.read_races(connection, race_date, race_date)
    return {str(k): int(v) for k, v in races.groupby("keibajo_code").size().items()}


# --- alerts -----------------------------------------------------------------------------------


def latest_alerts(connection: Connection, fingerprints: list[str]) -> pd.DataFrame:
    """The most recent stored alert of each fingerprint."""
    columns = ["id", "fingerprint", "delivery", "raised_at", "repeats", "attempts"]
    if not fingerprints:
        return pd.DataFrame(columns=columns)
    frames = []
    for start in range(0, len(fingerprints), 500):
        chunk = fingerprints[start : start + 500]
        rows = connection.execute(
            select(*(ALERTS.c[name] for name in columns)).where(ALERTS.c.fingerprint.in_(chunk))
        ).fetchall()
        frames.append(pd.DataFrame(rows, columns=columns))
    found = pd.concat(frames, ignore_index=True)
    return (
        found.sort_values(["fingerprint", "raised_at", "id"])
        .drop_duplicates("fingerprint", keep="last")
        .reset_index(drop=True)
    )


def insert_alert(connection: Connection, row: dict[str, Any]) -> int:
    """Store a new alert; returns its id."""
    result = connection.execute(ALERTS.insert().values(**row))
    key = result.inserted_primary_key
    return int(key[0]) if key is not None else 0


def update_alert(connection: Connection, alert_id: int, values: dict[str, Any]) -> None:
    """Update a stored alert (a repeat, or the outcome of a retried delivery)."""
    connection.execute(update(ALERTS).where(ALERTS.c.id == alert_id).values(**values))


def bump_repeat(connection: Connection, alert_id: int, seen_at: datetime) -> None:
    """Count one more sighting of an alert already notified."""
    connection.execute(
        update(ALERTS)
        .where(ALERTS.c.id == alert_id)
        .values(repeats=ALERTS.c.repeats + 1, last_seen_at=seen_at)
    )


def read_alerts(connection: Connection, start: date, end: date) -> pd.DataFrame:
    """Alerts about race days ``start``..``end``, newest first."""
    frame = read_rows(connection, ALERTS, start=start, end=end)
    return frame.sort_values("raised_at", ascending=False).reset_index(drop=True)


# --- what the monitors and the report read ----------------------------------------------------


def load_monitor_inputs(
    connection: Connection,
    race_date: date,
    limits: Thresholds,
    *,
    racing_expected: bool,
    expected_venues: frozenset[str] = frozenset(),
) -> MonitorInputs:
    """The day's performance, rolling windows, runs and races, and the model in service."""
    daily = read_daily(
        connection, race_date - timedelta(days=limits.anomaly_window_days + 1), race_date
    )
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
        racing_expected=racing_expected,
        expected_venues=expected_venues,
        model_version=version,
        model_in_service_since=model_in_service_since(connection, version) if version else None,
    )


def _bets_view(
    bets: pd.DataFrame, races: pd.DataFrame, runners: pd.DataFrame, venue_names: dict[str, str]
) -> pd.DataFrame:
    columns = [
        "venue", "race", "umaban", "horse", "p_final", "odds_at_bet", "edge", "stake_yen",
        "final_odds", "payout_yen", "refund_yen",
    ]  # fmt: skip
    if bets.empty:
        return pd.DataFrame(columns=columns)
    view = bets.merge(races[["race_id", "keibajo_code", "race_bango"]], on="race_id", how="left")
    view = view.merge(
        runners[["race_id", "umaban", "horse_name"]], on=["race_id", "umaban"], how="left"
    )
    return (
        view.assign(
            venue=view["keibajo_code"].map(venue_names).fillna(view["keibajo_code"]),
            race=view["race_bango"],
            horse=view["horse_name"],
        )
        .sort_values(["venue", "race", "umaban"])[columns]
        .reset_index(drop=True)
    )


def load_report_inputs(
    connection: Connection,
    race_date: date,
    *,
    limits: Thresholds,
    venue_names: dict[str, str],
    initial_bankroll_yen: int,
    policy: str,
    data_docs: Path,
    history_days: int = 90,
    calibration_days: int = 30,
) -> ReportInputs:
    """Everything the daily report of ``race_date`` shows, read from the store."""
    races = catalog.read_races(connection, race_date, race_date)
    runners = catalog.read_runners(connection, race_date, race_date)
    scores = read_race_scores(connection, race_date, race_date)
    odds = catalog.read_odds(connection, race_date, race_date)
    bets = catalog.read_bets(connection, race_date, race_date, policy=policy)
    calibration_start = race_date - timedelta(days=calibration_days - 1)
    final_only = not odds.empty and bool((odds["snapshot_at"] == FINAL_ODDS_SNAPSHOT).all())
    return ReportInputs(
        race_date=race_date,
        performance=read_day_performance(connection, race_date),
        daily_history=read_daily(connection, race_date - timedelta(days=history_days), race_date),
        rolling=read_rolling(connection, race_date, race_date),
        rolling_history=read_rolling(
            connection, race_date - timedelta(days=history_days), race_date
        ),
        calibration=read_calibration(connection, calibration_start, race_date),
        calibration_label=f"{calibration_start} to {race_date}",
        races=race_table(scores, races, runners, venue_names),
        bets=_bets_view(bets, races, runners, venue_names),
        validation=read_rows(connection, VALIDATION, start=race_date, end=race_date),
        quarantine=catalog.read_quarantine(connection, race_date, race_date),
        runs=read_runs(connection, race_date),
        alerts=read_alerts(connection, race_date, race_date),
        thresholds=limits,
        venue_names=venue_names,
        initial_bankroll_yen=initial_bankroll_yen,
        data_docs=data_docs,
        data_docs_exists=data_docs.is_file(),
        odds_source=FINAL_ODDS_SNAPSHOT if final_only else "snapshot",
        top_runners=top_runners_by_composite(
            catalog.read_indexes(connection, race_date, race_date), runners, races
        ),
    )
