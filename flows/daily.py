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
Each stage runs as a task run (``flows/chain.py`` orders them); a flow run is named after
its day (``daily-run-2026-12-03``). The store is the settings' (``RACEDAY_DB_URL`` on a
worker, ``config.use_store`` for the CLI's ``--db``), never a parameter: flow-run
parameters are stored in Prefect's database and shown in its UI, and a store URL may hold
a password.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pandas as pd

from config import Settings, load_settings
from flows.alerting import alerting_flow, day_run_name
from flows.chain import daily_chain, predict_chain, prepare_history, record_chain, settle_chain
from raceday.pipeline import today_in_japan
from raceday.sources.base import RawDay, venues_down
from raceday.sources.lanes import COMPLETED_WITH_WARNINGS, day_status
from raceday.staking.ledger import void_summary
from tasks.common import AsTasks, day_lock
from tasks.ingest import ingest_by_venue


@contextmanager
def day_run(
    race_date: date | None, races: int | None, source: str | None
) -> Iterator[tuple[Settings, date, AsTasks, RawDay]]:
    """Every day's run begins alike: its settings, its day (today in Japan when scheduled),
    the day's run lock, the store's schema and history made ready, and the day ingested."""
    settings = load_settings(races=races, source=source)
    race_date = race_date or today_in_japan()
    run = AsTasks(settings)
    with day_lock(settings, race_date):
        prepare_history(run, settings, race_date)
        yield settings, race_date, run, ingest_by_venue(settings, race_date, race_date)


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


@alerting_flow("predict-day", day_run_name)
def predict_day(
    race_date: date | None = None,
    races: int | None = None,
    source: str | None = None,
) -> dict[str, Any]:
    """Morning: the race card and odds snapshot → predictions, bets and the bet slip."""
    with day_run(race_date, races, source) as (settings, day, run, raw):
        morning = predict_chain(run, settings, raw, day)
        return {"date": day.isoformat(), "races_offered": len(morning.card.races), **_outcome(raw)}


@alerting_flow("settle-day", day_run_name)
def settle_day(
    race_date: date | None = None,
    races: int | None = None,
    source: str | None = None,
) -> dict[str, Any]:
    """Night: results → first 3F, indexes, settlement, performance and the daily report."""
    with day_run(race_date, races, source) as (settings, day, run, raw):
        valid = settle_chain(run, settings, raw, day, day)
        summary, settled = record_chain(run, settings, day, len(valid.races))
        return {**summary.to_dict(), **_outcome(raw, settled)}


@alerting_flow("daily-run", day_run_name)
def daily_run(
    race_date: date | None = None,
    races: int | None = None,
    source: str | None = None,
) -> dict[str, Any]:
    """A whole race day in one run: predict and stake on the card, then settle and record."""
    with day_run(race_date, races, source) as (settings, day, run, raw):
        summary, settled = daily_chain(run, settings, raw, day)
        return {**summary.to_dict(), **_outcome(raw, settled)}
