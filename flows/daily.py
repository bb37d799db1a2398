"""The race day: ``predict_day`` in the morning, ``settle_day`` at night, ``daily_run`` both.

predict: ingest → validate card → features → predict → stake (bet slip)
settle:  ingest → validate results → reference times → first 3F → indexes → settle → record
         → monitor (alerts) → report
daily:   ingest → screen (card and results validated before any write: a day with nothing
         valid in either is refused with nothing stored) → predict's stages → settle's stages
The day is ingested venue by venue (lanes: one ``ingest-venue-<code>`` task run each, read at
once, retried on its own); a venue still down is quarantined and alerted, the others go on and
the run ends ``completed-with-warnings``. Everything after ingest is joint across venues.
A failed run alerts at once through its ``on_failure`` hook. Without a date (a scheduled run),
the day is today in Asia/Tokyo. A day is run by one run at a time (a run lock in the store).
The store is the settings' (``RACEDAY_DB_URL`` on a worker, ``config.use_store`` for the CLI's
``--db``), never a parameter: flow-run parameters are stored in Prefect's database and shown
in its UI, and a store URL may hold a password.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
from prefect import flow

from config import Settings, load_settings
from data_checks.validate import ValidatedDay
from raceday.lanes import COMPLETED_WITH_WARNINGS, day_status
from raceday.ledger import void_summary
from raceday.pipeline import runner_view
from raceday.sources.base import RawDay, venues_down
from tasks.alerts import alert_on_flow_failure
from tasks.common import day_lock, io_task_options
from tasks.derive import first3f, indexes, reference_times
from tasks.features import day_features
from tasks.ingest import ingest, ingest_by_venue
from tasks.monitor import monitor_day
from tasks.predict import predict
from tasks.record import record_day, report_day, settle
from tasks.stake import stake
from tasks.store import history_gap, prepare_store
from tasks.validate import screen_day, today_in_japan, validate_and_store


def _ingest(settings: Settings, start: date, end: date, flow_name: str) -> RawDay:
    result: RawDay = ingest.with_options(**io_task_options(settings))(
        settings, start, end, flow_name
    )
    return result


def _settle_stages(
    settings: Settings,
    raw: RawDay,
    start: date,
    end: date,
    flow_name: str,
    screened: ValidatedDay | None = None,
) -> ValidatedDay:
    valid = validate_and_store(settings, raw, start, end, "results", flow_name, screened)
    plan, references = reference_times(settings, start, end, flow_name)
    view = runner_view(valid.races, valid.runners)
    estimates = first3f(settings, view, end, references, plan, flow_name)
    _indexes = indexes(settings, view, end, references, plan, estimates, flow_name)
    return valid


def prepare_history(settings: Settings, race_date: date, flow_name: str) -> None:
    """Upgrade the schema; warm an empty store up with the days before ``race_date``."""
    prepare_store(settings)
    gap = history_gap(settings, race_date)
    if gap is not None:
        start, end = gap
        _history = _settle_stages(
            settings, _ingest(settings, start, end, flow_name), start, end, flow_name
        )


def _record(settings: Settings, race_date: date, offered: int, flow_name: str) -> dict[str, Any]:
    summary = record_day(settings, race_date, offered, flow_name)
    _alerts = monitor_day(settings, race_date, flow_name)
    return report_day(settings, race_date, summary, flow_name).to_dict()


def _outcome(raw: RawDay, settled: pd.DataFrame | None = None) -> dict[str, Any]:
    """The run's status, the venues left out and the bets voided at night
    (``completed-with-warnings`` when any, with a line each in ``warnings``)."""
    down = venues_down(raw)
    voided = void_summary(settled)
    warnings = [f"venues down (quarantined, alerted): {', '.join(down)}"] if down else []
    if voided["voided_bets"]:
        warnings.append(
            f"{voided['voided_bets']} bets voided (refunded) on {voided['voided_races']} "
            "races set aside at night"
        )
    status = COMPLETED_WITH_WARNINGS if warnings else day_status(raw)
    return {"status": status, "venues_down": down, **voided, "warnings": warnings}


def _predict_stages(
    settings: Settings,
    raw: RawDay,
    race_date: date,
    flow_name: str,
    screened: ValidatedDay | None = None,
) -> int:
    card = validate_and_store(settings, raw, race_date, race_date, "card", flow_name, screened)
    _features = day_features(settings, card, race_date, flow_name)
    predictions = predict(settings, card, race_date, flow_name, _features)
    _bets = stake(settings, predictions, card, race_date, flow_name)
    return len(card.races)


@flow(name="predict-day", log_prints=False, on_failure=[alert_on_flow_failure])
def predict_day(
    race_date: date | None = None,
    races: int | None = None,
    source: str | None = None,
) -> dict[str, Any]:
    """Morning: the race card and odds snapshot → predictions, bets and the bet slip."""
    settings = load_settings(races=races, source=source)
    race_date = race_date or today_in_japan()
    with day_lock(settings, race_date, "predict-day"):
        prepare_history(settings, race_date, "predict-day")
        raw = ingest_by_venue(settings, race_date, race_date, "predict-day")
        offered = _predict_stages(settings, raw, race_date, "predict-day")
        return {"date": race_date.isoformat(), "races_offered": offered, **_outcome(raw)}


@flow(name="settle-day", log_prints=False, on_failure=[alert_on_flow_failure])
def settle_day(
    race_date: date | None = None,
    races: int | None = None,
    source: str | None = None,
) -> dict[str, Any]:
    """Night: results → first 3F, indexes, settlement, performance and the daily report."""
    settings = load_settings(races=races, source=source)
    race_date = race_date or today_in_japan()
    with day_lock(settings, race_date, "settle-day"):
        prepare_history(settings, race_date, "settle-day")
        raw = ingest_by_venue(settings, race_date, race_date, "settle-day")
        valid = _settle_stages(settings, raw, race_date, race_date, "settle-day")
        settled = settle(settings, race_date, "settle-day")
        return {
            **_record(settings, race_date, len(valid.races), "settle-day"),
            **_outcome(raw, settled),
        }


@flow(name="daily-run", log_prints=False, on_failure=[alert_on_flow_failure])
def daily_run(
    race_date: date | None = None,
    races: int | None = None,
    source: str | None = None,
) -> dict[str, Any]:
    """A whole race day in one run: predict and stake on the card, then settle and record."""
    settings = load_settings(races=races, source=source)
    race_date = race_date or today_in_japan()
    with day_lock(settings, race_date, "daily-run"):
        prepare_history(settings, race_date, "daily-run")
        raw = ingest_by_venue(settings, race_date, race_date, "daily-run")
        # The day's decision before any write: a day refused at night stores no bet.
        day = screen_day(settings, raw, race_date, race_date, ("card", "results"), "daily-run")
        offered = _predict_stages(settings, raw, race_date, "daily-run", day["card"])
        _valid = _settle_stages(settings, raw, race_date, race_date, "daily-run", day["results"])
        settled = settle(settings, race_date, "daily-run")
        return {**_record(settings, race_date, offered, "daily-run"), **_outcome(raw, settled)}
